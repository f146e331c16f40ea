import type { Message } from "../message.js";
import type { MessageStore } from "./message-store.js";
import type { RecoveryReport } from "./recovery.js";

/**
 * What a store that survives restarts adds to MessageStore: recovery, durable definitions and
 * disk-space facts. Message ids are assigned by `enqueue` and are only meaningful to the store
 * that assigned them. Every MessageStore whose `durable` is true is one of these.
 */
export interface DurableStore extends MessageStore {
  readonly durable: true;
  /** Ready messages per queue, in enqueue order, bodies loaded. Fanout messages are one object. */
  recover(): Map<string, Message[]>;
  /** Same as recover() but ids only, for queues that page bodies in with load(). */
  recoverIds(): Map<string, Float64Array>;
  /**
   * recoverIds() without copying: calls fn with each queue's ids in enqueue order, in runs
   * (several calls per queue), where ids that are not positive are removed entries to skip.
   * The runs are the store's own memory: use them before changing the store.
   */
  forEachRecoveredRun(fn: (queue: string, ids: Float64Array) => void): void;
  /**
   * Per queue, the recovered ids that were delivered (and not acked) before the restart: only
   * those go out redelivered. Handed over once.
   */
  recoveredDeliveries(): Map<string, Set<number>>;
  /** What opening the store found: segments read, damaged records skipped. */
  readonly recovery: RecoveryReport;
  /** Stores the definitions document atomically, durable by the next sync callback. */
  saveDefinitions(json: string): void;
  /** The last saved definitions, or undefined if none were ever saved. */
  loadDefinitions(): string | undefined;
  /** Bytes available to this process on the store's filesystem. */
  freeBytes(): Promise<number>;
  /** Set once a write or fsync failed; the store then accepts nothing more. */
  readonly error: Error | undefined;
  /** Running counters since open, for measurements (the broker's WARREN_STORE_STATS=1). */
  stats(): StoreStats;
}

/** A durable store's counters: DurableStore.stats(). */
export interface StoreStats {
  /** Group commits completed. */
  batches: number;
  fsyncs: number;
  bytesWritten: number;
  /** PUB records (message bodies) written. */
  published: number;
  removed: number;
  segments: number;
  segmentsDeleted: number;
  /** Dead segments whose still-needed DEL records were copied forward before deletion. */
  carried: number;
  /** Queue memberships held. */
  liveMessages: number;
  /** Approximate bytes of the in-memory index. */
  indexBytes: number;
}

/** store as a DurableStore when it keeps messages across restarts, else undefined (memory only). */
export function asDurable(store: MessageStore): DurableStore | undefined {
  return store.durable ? (store as DurableStore) : undefined;
}
