import { NackError, ReturnedError } from "./errors.js";
import type { Message, ReturnFields } from "./message.js";

/** One publish() awaiting its confirm. */
export interface TrackedPublish {
  resolve(): void;
  reject(err: Error): void;
  readonly exchange: string;
  readonly routingKey: string;
  readonly mandatory: boolean;
  /** Date.now() after which it rejects with a TimeoutError; 0: never. */
  readonly deadline: number;
  /** Set when a basic.return was matched to it: it rejects when the broker acks it. */
  returned?: Message<ReturnFields>;
}

/** A waitForConfirms() call: settles once every publish up to `upTo` is confirmed. */
interface Waiter {
  resolve(): void;
  reject(err: Error): void;
  upTo: number;
  nacked: number;
}

/**
 * Publisher-confirm bookkeeping for one channel in confirm mode.
 *
 * Every publish takes the next sequence number (the delivery tag the broker will ack or
 * nack). Outstanding sequence numbers sit in a Map, which iterates in insertion order, that
 * is ascending, so an ack with `multiple` pops from the front and "everything up to N is
 * confirmed" is a look at the first key. Fire-and-forget publishes store nothing; publish()
 * stores a TrackedPublish. waitForConfirms() waits for the sequence number current at the
 * time of the call.
 */
export class ConfirmTracker {
  private next = 1;
  private readonly pending = new Map<number, TrackedPublish | undefined>();
  private waiters: Waiter[] = [];
  private failed: Error | undefined;
  /** Sequence numbers of tracked publishes with a deadline, ascending (so are their deadlines). */
  private timed: number[] = [];
  private timedHead = 0;

  /** Records a publish; returns its sequence number. */
  add(d?: TrackedPublish): number {
    const seq = this.next++;
    if (this.failed) {
      d?.reject(this.failed);
      return seq;
    }
    this.pending.set(seq, d);
    if (d && d.deadline > 0) this.timed.push(seq);
    return seq;
  }

  /** Number of publishes not yet acked or nacked. */
  get outstanding(): number {
    return this.pending.size;
  }

  /** True while some tracked publish has a deadline. */
  get hasDeadlines(): boolean {
    return this.timedHead < this.timed.length;
  }

  ack(tag: number, multiple: boolean): void {
    this.settle(tag, multiple, false);
  }

  nack(tag: number, multiple: boolean): void {
    this.settle(tag, multiple, true);
  }

  /**
   * A basic.return arrived: the broker sends it before the ack of the same publish, and
   * returns come in publish order, so it belongs to the oldest tracked mandatory publish to
   * the same exchange and routing key that has not been returned yet.
   */
  returned(m: Message<ReturnFields>): void {
    for (const d of this.pending.values()) {
      if (
        d?.mandatory &&
        !d.returned &&
        d.exchange === m.fields.exchange &&
        d.routingKey === m.fields.routingKey
      ) {
        d.returned = m;
        return;
      }
    }
  }

  /** Resolves when every publish so far is confirmed; rejects if any of them was nacked. */
  wait(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const upTo = this.next - 1;
    if (this.lowest() > upTo) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ upTo, nacked: 0, resolve, reject }));
  }

  /**
   * Rejects the tracked publishes whose deadline has passed. Their sequence numbers stay
   * outstanding (the broker may still confirm them), so they keep their place in the window.
   */
  expire(now: number, timeoutError: () => Error): void {
    const timed = this.timed;
    while (this.timedHead < timed.length) {
      const seq = timed[this.timedHead]!;
      const d = this.pending.get(seq);
      if (d && d.deadline > now) break;
      this.timedHead++;
      if (d) {
        this.pending.set(seq, undefined);
        d.reject(timeoutError());
      }
    }
    if (this.timedHead > 1024 && this.timedHead * 2 > timed.length) {
      this.timed = timed.slice(this.timedHead);
      this.timedHead = 0;
    }
  }

  /** The channel is gone: nothing more will be confirmed. */
  fail(err: Error): void {
    this.failed = err;
    for (const d of this.pending.values()) d?.reject(err);
    this.pending.clear();
    this.timed = [];
    this.timedHead = 0;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(err);
  }

  private lowest(): number {
    const first = this.pending.keys().next();
    return first.done ? Number.POSITIVE_INFINITY : first.value;
  }

  private settle(tag: number, multiple: boolean, nack: boolean): void {
    let firstNacked = 0;
    if (multiple) {
      for (const [seq, d] of this.pending) {
        if (seq > tag) break;
        this.pending.delete(seq);
        if (nack && firstNacked === 0) firstNacked = seq;
        if (d) finish(d, seq, nack);
      }
    } else if (this.pending.has(tag)) {
      const d = this.pending.get(tag);
      this.pending.delete(tag);
      if (nack) firstNacked = tag;
      if (d) finish(d, tag, nack);
    }
    if (this.waiters.length === 0) return;
    const low = this.lowest();
    this.waiters = this.waiters.filter((w) => {
      if (firstNacked !== 0 && firstNacked <= w.upTo && w.nacked === 0) w.nacked = firstNacked;
      if (low <= w.upTo) return true;
      if (w.nacked) w.reject(new NackError(w.nacked));
      else w.resolve();
      return false;
    });
  }
}

function finish(d: TrackedPublish, seq: number, nack: boolean): void {
  if (nack) d.reject(new NackError(seq));
  else if (d.returned) d.reject(new ReturnedError(d.returned));
  else d.resolve();
}
