import type { Message } from "../message.js";

/**
 * Where persistent messages of durable queues live. The broker calls `enqueue` when a
 * persistent message enters a durable queue and `remove` when it leaves it (ack, drop,
 * purge, delete); `sync` calls back once everything enqueued so far is on stable storage,
 * which is when publisher confirms for those messages may go out. Transient messages and
 * non-durable queues never reach the store.
 */
export interface MessageStore {
  /** True when messages survive a restart. */
  readonly durable: boolean;
  enqueue(queue: string, msg: Message): void;
  remove(queue: string, msg: Message): void;
  /** Queue deleted: forget all its messages. */
  dropQueue(queue: string): void;
  /** Calls cb after everything enqueued or removed so far is durable. */
  sync(cb: () => void): void;
  close(): Promise<void>;
}
