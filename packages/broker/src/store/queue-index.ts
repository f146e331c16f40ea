import { releasedMemory } from "../resources/released-memory.js";

/**
 * The messages one queue holds in the store, in enqueue order: 12 bytes per message (the
 * message id and the segment of the record that put it in this queue), no objects, so a
 * 10M-message backlog costs ~120-240 MB rather than gigabytes. Removed entries are negated in
 * place (ids are positive) and compacted away once they outnumber the live ones, so acks in
 * any order cost a binary search while FIFO acks just advance the head.
 */
export class QueueIndex {
  private ids: Float64Array;
  private recs: Uint32Array;
  private head = 0;
  private tail = 0;
  /** Live entries. */
  size = 0;
  /**
   * Ids only grow with log position, so a queue's entries are sorted unless an old message
   * was enqueued again later (a dead-letter cycle, say); until the queue drains, lookups then
   * go through a position map, which costs ~50 bytes per entry but only for such queues.
   */
  private sorted = true;
  private positions: Map<number, number> | undefined;

  constructor(
    readonly name: string,
    capacity = 16,
  ) {
    this.ids = new Float64Array(capacity);
    this.recs = new Uint32Array(capacity);
  }

  /** Bytes held by the arrays. */
  get bytes(): number {
    return this.ids.byteLength + this.recs.byteLength + (this.positions?.size ?? 0) * 50;
  }

  push(id: number, recSeq: number): void {
    if (this.tail === this.ids.length) this.makeRoom();
    if (this.tail > this.head && Math.abs(this.ids[this.tail - 1]!) >= id) this.sorted = false;
    this.ids[this.tail] = id;
    this.recs[this.tail] = recSeq;
    this.positions?.set(id, this.tail);
    this.tail++;
    this.size++;
  }

  has(id: number): boolean {
    return this.find(id) >= 0;
  }

  /** Removes id; returns the segment of its enqueue record, or -1 if not present. */
  remove(id: number): number {
    const i = this.find(id);
    if (i < 0) return -1;
    const rec = this.recs[i]!;
    this.ids[i] = -id;
    this.positions?.delete(id);
    this.size--;
    if (i === this.head) {
      while (this.head < this.tail && this.ids[this.head]! < 0) this.head++;
      if (this.head === this.tail) this.clear();
    } else if (this.tail - this.head > 2 * this.size + 1024) {
      this.compact(this.ids.length);
    }
    return rec;
  }

  /** Empty again: forget the order history and give back a drained backlog's memory. */
  private clear(): void {
    this.head = this.tail = 0;
    this.sorted = true;
    this.positions = undefined;
    if (this.ids.length > 4096) {
      releasedMemory(this.ids.byteLength + this.recs.byteLength);
      this.ids = new Float64Array(16);
      this.recs = new Uint32Array(16);
    }
  }

  /** Live (id, recSeq) pairs in enqueue order. */
  forEach(fn: (id: number, recSeq: number) => void): void {
    for (let i = this.head; i < this.tail; i++) {
      const id = this.ids[i]!;
      if (id > 0) fn(id, this.recs[i]!);
    }
  }

  /** Live ids in enqueue order. */
  toArray(): number[] {
    const out: number[] = [];
    this.forEach((id) => out.push(id));
    return out;
  }

  private find(id: number): number {
    const ids = this.ids;
    if (this.size === 0) return -1;
    if (ids[this.head] === id) return this.head;
    if (!this.sorted) {
      if (!this.positions) {
        this.positions = new Map();
        for (let i = this.head; i < this.tail; i++) if (ids[i]! > 0) this.positions.set(ids[i]!, i);
      }
      const p = this.positions.get(id);
      return p !== undefined && ids[p] === id ? p : -1;
    }
    let lo = this.head;
    let hi = this.tail - 1;
    if (Math.abs(ids[hi]!) < id) return -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = Math.abs(ids[mid]!);
      if (v < id) lo = mid + 1;
      else if (v > id) hi = mid - 1;
      else return ids[mid]! > 0 ? mid : -1;
    }
    return -1;
  }

  private makeRoom(): void {
    // Compact in place when at least half the slots are dead; otherwise grow.
    const cap = this.ids.length;
    // Deep queues grow by a quarter, not double, so 10M entries do not carry 6M empty slots.
    this.compact(this.size * 2 <= cap ? cap : cap < 1 << 20 ? cap * 2 : cap + (cap >> 2));
  }

  private compact(capacity: number): void {
    const ids = capacity === this.ids.length ? this.ids : new Float64Array(capacity);
    const recs = capacity === this.recs.length ? this.recs : new Uint32Array(capacity);
    let j = 0;
    for (let i = this.head; i < this.tail; i++) {
      const id = this.ids[i]!;
      if (id > 0) {
        ids[j] = id;
        recs[j] = this.recs[i]!;
        j++;
      }
    }
    this.ids = ids;
    this.recs = recs;
    this.head = 0;
    this.tail = j;
    // Positions moved; rebuilt on the next lookup that needs them.
    this.positions = undefined;
  }
}
