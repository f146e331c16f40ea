import type { BasicProperties } from "@warren/protocol";
import { BufferFullError } from "./errors.js";
import type { TrackedPublish } from "./confirm-tracker.js";

/** A publish() on its way out: what to send, and how to settle its promise. */
export interface Outgoing extends TrackedPublish {
  readonly body: Buffer;
  readonly properties: BasicProperties;
}

/** What a waiting publish costs beyond its body (the entry, its promise, its properties). */
const ENTRY_OVERHEAD = 256;

/**
 * The publishes waiting for room in a channel's window, first in first out. Memory is
 * bounded: past `maxBytes` (bodies plus a fixed overhead per entry) push() throws. All
 * entries of a channel share one timeout, so their deadlines ascend and only the head needs
 * checking.
 */
export class PublishQueue {
  private items: Outgoing[] = [];
  private head = 0;
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get length(): number {
    return this.items.length - this.head;
  }

  push(o: Outgoing): void {
    const cost = o.body.length + ENTRY_OVERHEAD;
    if (this.bytes + cost > this.maxBytes && this.length > 0) {
      throw new BufferFullError(
        `${this.length} publishes (${this.bytes} bytes) are already waiting for room: await publish() or wait for the channel's 'drain'`,
      );
    }
    this.bytes += cost;
    this.items.push(o);
  }

  /** The oldest entry, removed. */
  shift(): Outgoing | undefined {
    if (this.head >= this.items.length) return undefined;
    const o = this.items[this.head]!;
    this.items[this.head++] = undefined as unknown as Outgoing;
    this.bytes -= o.body.length + ENTRY_OVERHEAD;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return o;
  }

  /** Rejects the entries whose deadline has passed. */
  expire(now: number, timeoutError: () => Error): void {
    while (this.head < this.items.length) {
      const o = this.items[this.head]!;
      if (o.deadline === 0 || o.deadline > now) return;
      this.shift();
      o.reject(timeoutError());
    }
  }

  /** Rejects every entry. */
  fail(err: Error): void {
    for (let o = this.shift(); o; o = this.shift()) o.reject(err);
  }
}
