import { releasedMemory } from "./resources/released-memory.js";

/**
 * A growable ring buffer of messages with parallel numeric columns (delivery count, enqueue
 * sequence, expiry time, store id), so queue operations allocate nothing per message. Deep
 * queues grow by a quarter at a time rather than doubling, so a 10M-message backlog does not
 * carry millions of empty slots.
 */
const SHRINK_ABOVE = 65_536;
const DOUBLE_BELOW = 1 << 20;
const FIRST_CAPACITY = 16;
// Shared by every empty ring; never written (a push grows the ring first).
const EMPTY_ITEMS: never[] = [];
const EMPTY_U32 = new Uint32Array(0);
const EMPTY_F64 = new Float64Array(0);

export class Ring<T> {
  private items: (T | undefined)[];
  private counts: Uint32Array;
  private seqs: Float64Array;
  /** Expiry times; allocated only once an entry has one, so queues without TTLs skip it. */
  private exps: Float64Array | undefined;
  private ids: Float64Array;
  private cap: number;
  private head = 0;
  length = 0;

  /**
   * Columns are allocated on the first push: most queues of a broker with tens of thousands
   * of them (RPC reply queues, idle ones, the levels of a priority queue) hold nothing, and
   * four typed arrays each would cost memory and garbage collection for nothing.
   */
  constructor(private readonly firstCapacity = FIRST_CAPACITY) {
    this.cap = 0;
    this.items = EMPTY_ITEMS;
    this.counts = EMPTY_U32;
    this.seqs = EMPTY_F64;
    this.exps = undefined;
    this.ids = EMPTY_F64;
  }

  /** Bytes held by the slots and columns (8 per item pointer), whatever is in them. */
  get bytes(): number {
    return this.cap * (8 + 4 + 8 + 8 + (this.exps ? 8 : 0));
  }

  /** A drained deep queue gives its memory back. */
  private reset(): void {
    releasedMemory(this.bytes);
    this.cap = 0;
    this.items = EMPTY_ITEMS;
    this.counts = EMPTY_U32;
    this.seqs = EMPTY_F64;
    this.exps = undefined;
    this.ids = EMPTY_F64;
    this.head = 0;
  }

  /** Slots allocated (entries it holds before it grows). */
  get capacity(): number {
    return this.cap;
  }

  /**
   * An empty ring gives its columns back (a list that drained after being deep: see
   * queue/paged-list.ts); the next push starts again from the first capacity.
   */
  release(): void {
    if (this.length === 0 && this.cap > 0) this.reset();
  }

  /** Copies a column into a larger one, unwrapping it so the head lands at 0. */
  private static unwrap<A extends Uint32Array | Float64Array>(
    from: A,
    to: A,
    head: number,
    length: number,
  ): A {
    const first = Math.min(length, from.length - head);
    to.set(from.subarray(head, head + first), 0);
    if (first < length) to.set(from.subarray(0, length - first), first);
    return to;
  }

  private grow(): void {
    const cap = this.cap;
    const next = cap === 0 ? this.firstCapacity : cap < DOUBLE_BELOW ? cap * 2 : cap + (cap >> 2);
    const items = new Array<T | undefined>(next);
    for (let i = 0, j = this.head; i < this.length; i++) {
      items[i] = this.items[j];
      if (++j === cap) j = 0;
    }
    const { head, length } = this;
    this.counts = Ring.unwrap(this.counts, new Uint32Array(next), head, length);
    this.seqs = Ring.unwrap(this.seqs, new Float64Array(next), head, length);
    if (this.exps) this.exps = Ring.unwrap(this.exps, new Float64Array(next), head, length);
    this.ids = Ring.unwrap(this.ids, new Float64Array(next), head, length);
    this.items = items;
    this.cap = next;
    this.head = 0;
  }

  push(item: T | undefined, count: number, seq: number, exp: number, id: number): void {
    if (this.length === this.cap) this.grow();
    let j = this.head + this.length;
    if (j >= this.cap) j -= this.cap;
    this.items[j] = item;
    this.counts[j] = count;
    this.seqs[j] = seq;
    if (exp !== 0 || this.exps) (this.exps ??= new Float64Array(this.cap))[j] = exp;
    this.ids[j] = id;
    this.length++;
  }

  /**
   * Puts a delivered entry back in its place by enqueue sequence, as RabbitMQ restores a
   * requeued message: after the head entries with a lower sequence (requeued before it),
   * before the rest. Only requeued entries can have a sequence below a delivered one's, and
   * they sit at the head, so the walk is as long as the run of requeued entries before it.
   */
  restore(item: T | undefined, count: number, seq: number, exp: number, id: number): void {
    if (this.length === this.cap) this.grow();
    this.head = this.head === 0 ? this.cap - 1 : this.head - 1;
    this.length++;
    let j = this.head;
    for (let k = 1; k < this.length; k++) {
      const next = j + 1 === this.cap ? 0 : j + 1;
      if (this.seqs[next]! >= seq) break;
      this.items[j] = this.items[next];
      this.counts[j] = this.counts[next]!;
      this.seqs[j] = this.seqs[next]!;
      if (this.exps) this.exps[j] = this.exps[next]!;
      this.ids[j] = this.ids[next]!;
      j = next;
    }
    this.items[j] = item;
    this.counts[j] = count;
    this.seqs[j] = seq;
    if (exp !== 0 || this.exps) (this.exps ??= new Float64Array(this.cap))[j] = exp;
    this.ids[j] = id;
  }

  /** Columns of the head entry; valid until the next mutation. */
  get headCount(): number {
    return this.counts[this.head] ?? 0;
  }

  get headSeq(): number {
    return this.seqs[this.head] ?? 0;
  }

  get headExp(): number {
    return this.exps ? (this.exps[this.head] ?? 0) : 0;
  }

  /** Store id of the head entry (entries paged out of memory have only this). */
  get headId(): number {
    return this.ids[this.head] ?? 0;
  }

  peek(): T | undefined {
    return this.length === 0 ? undefined : this.items[this.head];
  }

  /** Calls fn on each of the last n items (the most recently pushed), skipping paged-out ones. */
  forEachTail(n: number, fn: (item: T) => void): void {
    const k = Math.min(n, this.length);
    let j = this.head + this.length - k;
    if (j >= this.cap) j -= this.cap;
    for (let i = 0; i < k; i++) {
      const item = this.items[j];
      if (item !== undefined) fn(item);
      if (++j === this.cap) j = 0;
    }
  }

  /** Removes the head; read the head columns before calling. */
  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    if (++this.head === this.cap) this.head = 0;
    if (--this.length === 0 && this.cap > SHRINK_ABOVE) this.reset();
    return item;
  }
}

/**
 * What a queue keeps its ready messages in: a ring with a tail file (queue/paged-list.ts), or
 * one of those per priority (queue/priority-list.ts). An entry
 * whose item is undefined has been paged out and is known by its store id only.
 */
export interface MessageList<T> {
  readonly length: number;
  /** Bytes the list's slots hold (capacity, not contents): for memory accounting and tests. */
  readonly bytes: number;
  /** Entries held in tail files on disk (none in memory): for tests and statistics. */
  readonly tailLength: number;
  push(item: T | undefined, priority: number, count: number, seq: number, exp: number, id: number): void;
  /** Puts a delivered entry back in its place by sequence (see Ring.restore). */
  restore(item: T | undefined, priority: number, count: number, seq: number, exp: number, id: number): void;
  peek(): T | undefined;
  readonly headCount: number;
  readonly headSeq: number;
  readonly headExp: number;
  readonly headId: number;
  shift(): T | undefined;
  /** Calls fn on (at least) the last n pushed items still in the list. */
  forEachTail(n: number, fn: (item: T) => void): void;
}
