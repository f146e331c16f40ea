import type { Message } from "../message.js";
import type { TailFile } from "./tail-file.js";

/** Called once a sync completes; err means the data since the last good sync is not durable. */
export type SyncCallback = (err?: Error) => void;

/**
 * Where persistent messages of durable queues live. The broker calls `enqueue` when a
 * persistent message enters a durable queue and `remove` when it leaves it (ack, drop,
 * purge, delete); `sync` calls back once everything enqueued so far is on stable storage,
 * which is when publisher confirms for those messages may go out. Transient messages and
 * non-durable queues never reach the store. Queues are named by opaque keys
 * (`vhost + "\u0000" + queue`).
 */
export interface MessageStore {
  /**
   * True when messages survive a restart (and can be paged out and loaded back); such a store
   * implements DurableStore (see asDurable).
   */
  readonly durable: boolean;
  /** Persists msg for queue; sets msg.id when the store assigns ids. */
  enqueue(queue: string, msg: Message): void;
  remove(queue: string, msg: Message): void;
  /** remove() for a message known only by its id (paged out of memory). */
  removeId(queue: string, id: number): void;
  /**
   * The queue handed message id to a consumer that must ack it (first delivery only): a
   * durable store records it lazily, so a restart flags the message redelivered.
   */
  delivered(queue: string, id: number): void;
  /** Queue deleted: forget all its messages. */
  dropQueue(queue: string): void;
  /** Calls cb, in call order, after everything enqueued or removed so far is durable. */
  sync(cb: SyncCallback): void;
  /** Reads a paged-out message back by id; only stores with `durable` true assign ids. */
  load(id: number): Message;
  close(): Promise<void>;
  /**
   * A scratch file for a deep queue's paged-out tail (queue/paged-list.ts), in a directory
   * wiped at every open; absent on stores without a directory of their own. blockEntries:
   * entries it writes and reads at a time (default TAIL_BLOCK).
   * @internal
   */
  openTail?(blockEntries?: number): TailFile;
}
