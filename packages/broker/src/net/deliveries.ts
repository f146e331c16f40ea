import { ChannelError, METHOD_IDS, ReplyCode } from "@warren/protocol";
import type { Delivered, Queue } from "../queue/queue.js";
import { UnackedWindow } from "./unacked-window.js";

/** How often unacked deliveries are checked against the consumer timeout. */
const TIMEOUT_TICK_MS = 250;

/** A delivery awaiting its ack. */
interface Unacked extends Delivered {
  /** Consumer-timeout clock tick at delivery. */
  readonly tick: number;
}

/** How a client settles deliveries: basic.ack, basic.nack or basic.reject. */
export type SettleKind = "ack" | "nack" | "reject";

const SETTLE_METHOD = { ack: "basic.ack", nack: "basic.nack", reject: "basic.reject" } as const;

/** What becomes of settled deliveries: acked, returned by the client, restored because the channel went, or rejected. */
export type Settlement = "ack" | "requeue" | "restore" | "reject";

/** The settlement a client's ack, nack or reject asks for. */
export function settlementOf(kind: SettleKind, requeue: boolean): Settlement {
  return kind === "ack" ? "ack" : requeue ? "requeue" : "reject";
}

/**
 * A channel's delivery tags and the deliveries awaiting an ack, with the consumer-timeout
 * clock. It settles deliveries with their queues, which keep their own counters; the channel
 * decides when (ack, nack, reject, recover, close, commit).
 */
export class Deliveries {
  private tag = 0;
  /** Not a Map: see UnackedWindow for why (GC). */
  private readonly unacked = new UnackedWindow<Unacked>();
  private ticks = 0;
  private clock: NodeJS.Timeout | undefined;

  /**
   * @param channel the channel's number, for the timeout's reply text
   * @param timeoutMs the consumer timeout of queues without their own x-consumer-timeout
   * @param cap unacked deliveries a channel without any prefetch may hold (see belowCap)
   * @param onTimeout a delivery exceeded its consumer timeout: the channel closes with this error
   */
  constructor(
    private readonly channel: number,
    private readonly timeoutMs: number,
    private readonly cap: number,
    private readonly onTimeout: (err: ChannelError) => void,
  ) {}

  /** Deliveries stopped at the cap; a settlement should let the channel's queues deliver again. */
  capped = false;

  /**
   * Without any prefetch, RabbitMQ hands a consumer the whole backlog. Warren stops at the cap:
   * beyond it messages wait in their queue, where they can be paged to disk, instead of here.
   */
  belowCap(): boolean {
    if (this.unacked.size < this.cap) return true;
    this.capped = true;
    return false;
  }

  /** The delivery tag for the next delivery. */
  next(): number {
    return ++this.tag;
  }

  get size(): number {
    return this.unacked.size;
  }

  /** Records a delivery that waits for an ack. */
  add(
    tag: number,
    queue: Queue,
    msg: Delivered["msg"],
    count: number,
    seq: number,
    exp: number,
    consumer: Delivered["consumer"],
  ): void {
    this.unacked.set(tag, { queue, msg, count, seq, exp, consumer, tick: this.ticks });
    this.clock ??= this.startClock();
  }

  /** Records a basic.get that waits for an ack. */
  addGot(tag: number, d: Delivered): void {
    this.unacked.set(tag, { ...d, tick: this.ticks });
    this.clock ??= this.startClock();
  }

  /** A single basic.ack, the common case: settles and returns the queue to drain. */
  ackOne(tag: number): Queue {
    const u = this.unacked.get(tag);
    if (!u) throw unknownTag(tag, "ack");
    this.unacked.delete(tag);
    u.queue.ack(u);
    return u.queue;
  }

  /** 406 unless tag names an unacked delivery (tag 0 with multiple: all of them). */
  check(tag: number, multiple: boolean, kind: SettleKind): void {
    if (multiple && tag === 0) return;
    if (!this.unacked.has(tag)) throw unknownTag(tag, kind);
  }

  /** Removes the deliveries an ack, nack or reject names, in tag order. */
  take(tag: number, multiple: boolean, kind: SettleKind): Delivered[] {
    this.check(tag, multiple, kind);
    if (!multiple) {
      const u = this.unacked.get(tag)!;
      this.unacked.delete(tag);
      return [u];
    }
    return this.unacked.takeUpTo(tag);
  }

  /** Removes every delivery (basic.recover, channel closing). */
  takeAll(): Delivered[] {
    const items = this.unacked.takeUpTo(0);
    this.unacked.clear();
    return items;
  }

  /**
   * Settles taken deliveries with their queues, then lets each queue deliver again: acked or
   * rejected ones leave, the others go back ("requeue": the client returned them; "restore":
   * their channel went away).
   */
  static settle(items: Delivered[], how: Settlement): void {
    const queues = new Set<Queue>();
    const back = new Map<Queue, Delivered[]>();
    for (const d of items) {
      queues.add(d.queue);
      if (how === "requeue" || how === "restore") {
        let l = back.get(d.queue);
        if (!l) back.set(d.queue, (l = []));
        l.push(d);
      } else if (how === "reject") d.queue.reject(d);
      else d.queue.ack(d);
    }
    for (const [q, l] of back) q.requeue(l, how === "requeue");
    for (const q of queues) q.drain();
  }

  /**
   * The consumer-timeout clock: it ticks while the channel lives (ticks stamp deliveries), and
   * a delivery unacked for longer than its queue allows is reported to onTimeout.
   */
  private startClock(): NodeJS.Timeout {
    const t = setInterval(() => {
      this.ticks++;
      let limit = 0;
      const late = (u: Unacked): boolean => {
        limit = u.queue.a.consumerTimeout ?? this.timeoutMs;
        return (this.ticks - u.tick) * TIMEOUT_TICK_MS > limit;
      };
      if (this.unacked.some(late)) {
        this.onTimeout(
          new ChannelError(
            ReplyCode.PRECONDITION_FAILED,
            `delivery acknowledgement on channel ${this.channel} timed out. Timeout value used: ${limit} ms. This timeout value can be configured, see consumers doc guide to learn more`,
          ),
        );
      }
    }, TIMEOUT_TICK_MS);
    t.unref();
    return t;
  }

  /** The channel is gone: the clock stops. */
  stop(): void {
    if (this.clock) clearInterval(this.clock);
    this.clock = undefined;
  }
}

function unknownTag(tag: number, kind: SettleKind): ChannelError {
  return new ChannelError(
    ReplyCode.PRECONDITION_FAILED,
    `unknown delivery tag ${tag}`,
    ...METHOD_IDS[SETTLE_METHOD[kind]],
  );
}
