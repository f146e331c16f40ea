import type { Message } from "../message.js";
import type { MessageStore, SyncCallback } from "./message-store.js";

/** Keeps nothing: messages live only in the queues that hold them. */
export class MemoryStore implements MessageStore {
  readonly durable = false;
  enqueue(_queue: string, _msg: Message): void {}
  remove(_queue: string, _msg: Message): void {}
  removeId(_queue: string, _id: number): void {}
  delivered(_queue: string, _id: number): void {}
  dropQueue(_queue: string): void {}
  sync(cb: SyncCallback): void {
    cb();
  }
  load(id: number): Message {
    throw new Error(`memory store holds no message ${id}`);
  }
  async close(): Promise<void> {}
}
