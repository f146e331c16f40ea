import type { Message } from "../message.js";
import type { MessageStore } from "./message-store.js";

/**
 * What a store that survives restarts adds to MessageStore: recovery, durable definitions and
 * disk-space facts. Message ids are assigned by `enqueue` and are only meaningful to the store
 * that assigned them.
 */
export interface DurableStore extends MessageStore {
  /** Ready messages per queue, in enqueue order, bodies loaded. Fanout messages are one object. */
  recover(): Map<string, Message[]>;
  /** Same as recover() but ids only, for queues that page bodies in with load(). */
  recoverIds(): Map<string, number[]>;
  /** Stores the definitions document atomically, durable by the next sync callback. */
  saveDefinitions(json: string): void;
  /** The last saved definitions, or undefined if none were ever saved. */
  loadDefinitions(): string | undefined;
  /** Bytes available to this process on the store's filesystem. */
  freeBytes(): Promise<number>;
  /** Set once a write or fsync failed; the store then accepts nothing more. */
  readonly error: Error | undefined;
}
