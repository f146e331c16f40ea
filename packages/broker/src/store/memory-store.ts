import type { Message } from "../message.js";
import type { MessageStore } from "./message-store.js";

/** Keeps nothing: messages live only in the queues that hold them. */
export class MemoryStore implements MessageStore {
  readonly durable = false;
  enqueue(_queue: string, _msg: Message): void {}
  remove(_queue: string, _msg: Message): void {}
  dropQueue(_queue: string): void {}
  sync(cb: () => void): void {
    cb();
  }
  async close(): Promise<void> {}
}
