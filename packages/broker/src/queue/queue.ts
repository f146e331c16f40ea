import type { FieldTable } from "@warren/protocol";
import type { Binding, Destination } from "../exchange/exchange-type.js";
import type { Message } from "../message.js";
import { Ring } from "../ring.js";
import type { MessageStore } from "../store/message-store.js";
import type { Consumer } from "./consumer.js";

/** A delivered message waiting for its ack, as the queue needs it back on requeue. */
export interface Delivered {
  readonly queue: Queue;
  readonly msg: Message;
  /** Deliveries before this one. */
  readonly count: number;
  readonly seq: number;
}

/** Who owns an exclusive queue (a connection); only identity matters here. */
export type QueueOwner = object;

/**
 * A classic queue: a ring of message references, consumers served round-robin, and the
 * message store told about persistent messages. Deliveries happen synchronously when a
 * message arrives and a consumer has room; otherwise `drain` runs when room appears.
 */
export class Queue implements Destination {
  readonly kind = "queue" as const;
  routeMark = 0;
  readonly ready = new Ring<Message>();
  readonly consumers: Consumer[] = [];
  /** Bindings pointing at this queue, with their source exchange name. */
  readonly bindings = new Set<{ exchange: string; binding: Binding }>();
  unacked = 0;
  deleted = false;
  private rr = 0;
  private seq = 0;
  private hadConsumers = false;
  private draining = false;
  /** Set by the vhost: called when an auto-delete queue loses its last consumer. */
  onUnused: ((q: Queue) => void) | undefined;

  constructor(
    readonly name: string,
    readonly durable: boolean,
    readonly exclusiveOwner: QueueOwner | undefined,
    readonly autoDelete: boolean,
    readonly args: FieldTable,
    private readonly store: MessageStore,
  ) {}

  get messageCount(): number {
    return this.ready.length;
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  /** Accepts a routed message. */
  enqueue(msg: Message): void {
    msg.refs++;
    if (this.durable && msg.persistent) this.store.enqueue(this.name, msg);
    const seq = ++this.seq;
    if (this.ready.length === 0 && this.consumers.length > 0) {
      const c = this.pickConsumer();
      if (c) {
        c.owner.deliver(c, this, msg, 0, seq);
        return;
      }
    }
    this.ready.push(msg, 0, seq);
  }

  /** The next consumer with room, round-robin; undefined when none has room. */
  private pickConsumer(): Consumer | undefined {
    const n = this.consumers.length;
    for (let tries = 0; tries < n; tries++) {
      if (this.rr >= n) this.rr = 0;
      const c = this.consumers[this.rr++]!;
      if (c.owner.canDeliver(c)) return c;
    }
    return undefined;
  }

  /** Delivers ready messages while some consumer has room. */
  drain(): void {
    if (this.draining || this.deleted) return;
    this.draining = true;
    try {
      while (this.ready.length > 0 && this.consumers.length > 0) {
        const c = this.pickConsumer();
        if (!c) break;
        const count = this.ready.headNum;
        const seq = this.ready.headSeq;
        const msg = this.ready.shift()!;
        c.owner.deliver(c, this, msg, count, seq);
      }
    } finally {
      this.draining = false;
    }
  }

  /** basic.get: the head message with its delivery count, or undefined. */
  get(): { msg: Message; count: number; seq: number } | undefined {
    if (this.ready.length === 0) return undefined;
    const count = this.ready.headNum;
    const seq = this.ready.headSeq;
    const msg = this.ready.shift()!;
    return { msg, count, seq };
  }

  /** A delivered message was acked (or delivered with no-ack): it leaves the queue for good. */
  settle(msg: Message): void {
    if (this.durable && msg.persistent) this.store.remove(this.name, msg);
    msg.refs--;
  }

  /** Puts delivered messages back at the head, in their original order. */
  requeue(items: Delivered[]): void {
    if (this.deleted) {
      for (const d of items) this.settle(d.msg);
      return;
    }
    items.sort((a, b) => b.seq - a.seq);
    for (const d of items) this.ready.unshift(d.msg, d.count + 1, d.seq);
    this.drain();
  }

  addConsumer(c: Consumer): void {
    this.consumers.push(c);
    this.hadConsumers = true;
    this.drain();
  }

  removeConsumer(c: Consumer): void {
    const i = this.consumers.indexOf(c);
    if (i < 0) return;
    this.consumers.splice(i, 1);
    if (this.rr > i) this.rr--;
    if (this.consumers.length === 0 && this.autoDelete && this.hadConsumers) this.onUnused?.(this);
  }

  /** Drops every ready message; returns how many. */
  purge(): number {
    const n = this.ready.length;
    for (const msg of this.ready.clear()) this.settle(msg);
    return n;
  }

  /** Marks the queue deleted, cancels its consumers, drops its messages; returns the ready count. */
  destroy(): number {
    this.deleted = true;
    const consumers = this.consumers.splice(0);
    for (const c of consumers) c.owner.cancelledByServer(c);
    const n = this.purge();
    if (this.durable) this.store.dropQueue(this.name);
    return n;
  }
}
