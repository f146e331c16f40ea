/** Settles one publish's confirm. */
interface Deferred {
  resolve(): void;
  reject(err: Error): void;
}

/** A waitForConfirms() call: settles once every publish up to `upTo` is confirmed. */
interface Waiter extends Deferred {
  upTo: number;
  nacked: number;
}

/**
 * Publisher-confirm bookkeeping for one channel in confirm mode.
 *
 * Every publish takes the next sequence number (the delivery tag the broker will ack or
 * nack). Outstanding sequence numbers sit in a Map, which iterates in insertion order, that
 * is ascending, so an ack with `multiple` pops from the front and "everything up to N is
 * confirmed" is a look at the first key. Plain publishes store no callback; publishConfirm
 * stores one. waitForConfirms() waits for the sequence number current at the time of the call.
 */
export class ConfirmTracker {
  private next = 1;
  private readonly pending = new Map<number, Deferred | undefined>();
  private waiters: Waiter[] = [];
  private failed: Error | undefined;

  /** Records a publish; returns its sequence number. */
  add(d?: Deferred): number {
    const seq = this.next++;
    if (this.failed) d?.reject(this.failed);
    else this.pending.set(seq, d);
    return seq;
  }

  /** Number of publishes not yet acked or nacked. */
  get outstanding(): number {
    return this.pending.size;
  }

  ack(tag: number, multiple: boolean): void {
    this.settle(tag, multiple, undefined);
  }

  nack(tag: number, multiple: boolean): void {
    this.settle(tag, multiple, new Error(`publish nacked by the broker (delivery tag ${tag})`));
  }

  /** Resolves when every publish so far is confirmed; rejects if any of them was nacked. */
  wait(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const upTo = this.next - 1;
    if (this.lowest() > upTo) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ upTo, nacked: 0, resolve, reject }));
  }

  /** The channel is gone: nothing more will be confirmed. */
  fail(err: Error): void {
    this.failed = err;
    for (const d of this.pending.values()) d?.reject(err);
    this.pending.clear();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(err);
  }

  private lowest(): number {
    const first = this.pending.keys().next();
    return first.done ? Number.POSITIVE_INFINITY : first.value;
  }

  private settle(tag: number, multiple: boolean, nack: Error | undefined): void {
    let firstNacked = 0;
    if (multiple) {
      for (const [seq, d] of this.pending) {
        if (seq > tag) break;
        this.pending.delete(seq);
        if (nack) {
          if (firstNacked === 0) firstNacked = seq;
          d?.reject(nack);
        } else d?.resolve();
      }
    } else if (this.pending.has(tag)) {
      const d = this.pending.get(tag);
      this.pending.delete(tag);
      if (nack) {
        firstNacked = tag;
        d?.reject(nack);
      } else d?.resolve();
    }
    if (this.waiters.length === 0) return;
    const low = this.lowest();
    this.waiters = this.waiters.filter((w) => {
      if (firstNacked !== 0 && firstNacked <= w.upTo && w.nacked === 0) w.nacked = firstNacked;
      if (low <= w.upTo) return true;
      if (w.nacked) w.reject(new Error(`publish nacked by the broker (delivery tag ${w.nacked})`));
      else w.resolve();
      return false;
    });
  }
}
