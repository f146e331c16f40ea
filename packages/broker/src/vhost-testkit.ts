// Helpers for the in-process tests of vhost, exchange and queue rules (vhost.test.ts,
// exchange/exchange.test.ts, queue/queue.test.ts). Not part of the package's API.
import assert from "node:assert/strict";
import {
  AmqpError,
  type BasicProperties,
  type ChannelError,
  type ConnectionError,
  decodeRawProperties,
  encodeRawProperties,
  type FieldTable,
  fieldInteger,
  type TypedValue,
} from "@warren/protocol";
import { Message } from "./message.js";
import { Consumer, type ConsumerOwner } from "./queue/consumer.js";
import type { Delivered, Queue } from "./queue/queue.js";
import { MemoryStore } from "./store/memory-store.js";
import { type PublishResult, VHost } from "./vhost.js";

/** The connection that owns the exclusive queues a test declares; only identity matters. */
export const OWNER = {};

/** A fresh vhost "/" on a memory store. */
export const vhost = (): VHost => new VHost("/", new MemoryStore());

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Publishes a message as a client would, through the one routing path. */
export function publish(
  v: VHost,
  exchange: string,
  key: string,
  body: string,
  props: BasicProperties = {},
): PublishResult {
  return v.publish(new Message(exchange, key, encodeRawProperties(props), Buffer.from(body)));
}

/** Every ready message of q, taken with no-ack. */
export function drainAll(q: Queue): Message[] {
  const out: Message[] = [];
  for (let d = q.get(true); d; d = q.get(true)) out.push(d.msg);
  return out;
}

export const text = (ms: readonly { body: Buffer }[]): string[] => ms.map((m) => m.body.toString());

/** The bodies of every ready message of q, taken with no-ack. */
export const bodies = (q: Queue): string[] => text(drainAll(q));

export const headersOf = (m: Message): FieldTable => decodeRawProperties(m.rawProps).headers ?? {};
/** The x-death entries of a dead-lettered message, most recent first. */
export const deaths = (m: Message): FieldTable[] => (headersOf(m)["x-death"] ?? []) as FieldTable[];
export const num = (v: unknown): number | undefined => fieldInteger(v as TypedValue);

/** Asserts fn throws an AMQP error of this class with this code and exact text. */
export function throwsAmqp(
  fn: () => unknown,
  kind: typeof ChannelError | typeof ConnectionError,
  code: number,
  text: string,
): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AmqpError, String(e));
    assert.ok(e instanceof kind, `${e.name}: ${e.message}`);
    assert.deepEqual([e.code, e.text], [code, text]);
    return true;
  });
}

/**
 * A test double of the channel: records deliveries, honours a per-consumer prefetch and can
 * be paused (socket backpressure). Settling is left to the test: q.ack + q.drain, q.requeue,
 * q.reject, as the channel does.
 */
export class Recorder implements ConsumerOwner {
  readonly got: Delivered[] = [];
  readonly cancelled: string[] = [];
  paused = false;

  canDeliver(c: Consumer): boolean {
    return !this.paused && (c.prefetch === 0 || c.unacked < c.prefetch);
  }

  deliver(c: Consumer, q: Queue, msg: Message, count: number, seq: number, exp: number): boolean {
    this.got.push({ queue: q, msg, count, seq, exp, consumer: c });
    return !c.noAck;
  }

  cancelledByServer(c: Consumer): void {
    this.cancelled.push(c.tag);
  }

  consume(
    q: Queue,
    o: { prefetch?: number; noAck?: boolean; exclusive?: boolean; args?: FieldTable; tag?: string } = {},
  ): Consumer {
    const args = o.args ?? {};
    const exclusive = o.exclusive ?? false;
    const priority = q.consumerPriority(exclusive, args);
    const c = new Consumer(
      o.tag ?? "ctag",
      this,
      q,
      o.noAck ?? false,
      exclusive,
      o.prefetch ?? 0,
      args,
      priority,
    );
    q.addConsumer(c);
    return c;
  }

  bodies(): string[] {
    return text(this.got.map((d) => d.msg));
  }

  /** Bodies with the redelivered flag the channel would set (an earlier delivery). */
  flagged(): string[] {
    return this.got.map((d) => `${d.msg.body.toString()} ${d.count > 0}`);
  }

  /** Acks the deliveries (all so far by default), then lets their queues deliver again. */
  ack(ds: Delivered[] = this.got): void {
    const queues = new Set<Queue>();
    for (const d of ds) {
      d.queue.ack(d);
      queues.add(d.queue);
    }
    for (const q of queues) q.drain();
  }
}
