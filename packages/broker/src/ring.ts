/**
 * A growable ring buffer of messages with a parallel per-entry number (a queue uses it for
 * the delivery count and enqueue sequence), so queue operations allocate nothing per message.
 */
export class Ring<T> {
  private items: (T | undefined)[];
  private nums: Float64Array;
  private seqs: Float64Array;
  private head = 0;
  length = 0;

  constructor(capacity = 16) {
    this.items = new Array(capacity);
    this.nums = new Float64Array(capacity);
    this.seqs = new Float64Array(capacity);
  }

  private grow(): void {
    const cap = this.items.length;
    const items = new Array<T | undefined>(cap * 2);
    const nums = new Float64Array(cap * 2);
    const seqs = new Float64Array(cap * 2);
    for (let i = 0; i < this.length; i++) {
      const j = (this.head + i) & (cap - 1);
      items[i] = this.items[j];
      nums[i] = this.nums[j]!;
      seqs[i] = this.seqs[j]!;
    }
    this.items = items;
    this.nums = nums;
    this.seqs = seqs;
    this.head = 0;
  }

  push(item: T, num: number, seq: number): void {
    if (this.length === this.items.length) this.grow();
    const j = (this.head + this.length) & (this.items.length - 1);
    this.items[j] = item;
    this.nums[j] = num;
    this.seqs[j] = seq;
    this.length++;
  }

  unshift(item: T, num: number, seq: number): void {
    if (this.length === this.items.length) this.grow();
    this.head = (this.head - 1) & (this.items.length - 1);
    this.items[this.head] = item;
    this.nums[this.head] = num;
    this.seqs[this.head] = seq;
    this.length++;
  }

  /** The number and sequence of the head entry; valid until the next mutation. */
  get headNum(): number {
    return this.nums[this.head]!;
  }

  get headSeq(): number {
    return this.seqs[this.head]!;
  }

  peek(): T | undefined {
    return this.length === 0 ? undefined : this.items[this.head];
  }

  /** Removes the head; read headNum/headSeq before calling. */
  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.length--;
    return item;
  }

  at(i: number): T | undefined {
    return i < this.length ? this.items[(this.head + i) & (this.items.length - 1)] : undefined;
  }

  clear(): T[] {
    const out: T[] = [];
    while (this.length > 0) out.push(this.shift()!);
    return out;
  }
}
