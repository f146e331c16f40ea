import { releasedMemory } from "../resources/released-memory.js";
import { IdChunk } from "./id-chunk.js";

/** Entries per chunk once a queue outgrows its first, growable chunk: 256-512 KiB of ids. */
const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;

/**
 * The messages one queue holds in the store, in enqueue order: 4 bytes per message (its id,
 * as an offset within its chunk, see IdChunk; 8 when ids of a chunk are far apart), no
 * objects, so a 10M-message backlog costs ~40 MB. Entries live in
 * fixed chunks of 64Ki ids once the queue is deep, so growing never copies the backlog nor
 * leaves a stale copy for the garbage collector, and a chunk the head has passed is dropped.
 * The segment of the record that put a message in the queue is almost always the body's own
 * (a PUB, or a fanout ENQ written in the same segment) and is then implied by the id (recSeq
 * 0); only a chunk holding an entry whose ENQ lives elsewhere (a dead-lettered or re-enqueued
 * old message) gets a second column for it. Removed entries are negated in place (ids are
 * positive) and compacted away once they outnumber the live ones, so acks in any order cost a
 * binary search while FIFO acks just advance the head.
 */
export class QueueIndex {
  /** Position p (head <= p < tail) is chunks[(p - base) >> CHUNK_BITS][(p - base) & MASK]. */
  private chunks: IdChunk[] = [];
  private recs: (Uint32Array | undefined)[] = [];
  private base = 0;
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
    private readonly firstCapacity = 16,
  ) {}

  /** Bytes held by the arrays. */
  get bytes(): number {
    let n = (this.positions?.size ?? 0) * 50;
    for (const c of this.chunks) n += c.byteLength;
    for (const r of this.recs) n += r?.byteLength ?? 0;
    return n;
  }

  /** Appends id; recSeq is the segment of its enqueue record, 0 when that is the body's. */
  push(id: number, recSeq: number): void {
    const rel = this.tail - this.base;
    const k = rel >> CHUNK_BITS;
    let c = this.chunks[k];
    if (c === undefined || (rel & MASK) >= c.length) c = this.room(k);
    if (this.tail > this.head && Math.abs(this.at(this.tail - 1)) >= id) this.sorted = false;
    c.set(rel & MASK, id);
    if (recSeq !== 0) (this.recs[k] ??= new Uint32Array(c.length))[rel & MASK] = recSeq;
    else if (this.recs[k]) this.recs[k][rel & MASK] = 0;
    this.positions?.set(id, this.tail);
    this.tail++;
    this.size++;
  }

  /**
   * push(base + offs[i], 0) for each offset: a run of PUB records replayed from a segment
   * index, written chunk by chunk.
   */
  pushOffsets(base: number, offs: Int32Array): void {
    let i = 0;
    while (i < offs.length) {
      if (this.recs.length > 0 || this.positions || !this.sorted) {
        // The rare cases keep to the general path.
        for (; i < offs.length; i++) this.push(base + offs[i]!, 0);
        return;
      }
      if (this.tail > this.head && Math.abs(this.at(this.tail - 1)) >= base + offs[i]!) this.sorted = false;
      const rel = this.tail - this.base;
      const k = rel >> CHUNK_BITS;
      let c = this.chunks[k];
      if (c === undefined || (rel & MASK) >= c.length) c = this.room(k);
      const n = Math.min(offs.length - i, c.length - (rel & MASK));
      c.setRun(rel & MASK, base, offs, i, n);
      i += n;
      this.tail += n;
      this.size += n;
    }
  }

  has(id: number): boolean {
    return this.find(id) >= 0;
  }

  /** Removes id; returns the segment of its enqueue record (0: the body's), or -1 if absent. */
  remove(id: number): number {
    const i = this.find(id);
    if (i < 0) return -1;
    const rel = i - this.base;
    const k = rel >> CHUNK_BITS;
    const rec = this.recs[k]?.[rel & MASK] ?? 0;
    this.chunks[k]!.kill(rel & MASK);
    this.positions?.delete(id);
    this.size--;
    if (i === this.head) {
      while (this.head < this.tail && this.at(this.head) < 0) this.head++;
      if (this.head === this.tail) this.clear();
      else this.dropPassedChunks();
    } else if (this.tail - this.head > 2 * this.size + 1024) {
      this.compact();
    }
    return rec;
  }

  /** Live (id, recSeq) pairs in enqueue order (recSeq 0: the body's segment). */
  forEach(fn: (id: number, recSeq: number) => void): void {
    for (let p = this.head; p < this.tail;) {
      const rel = p - this.base;
      const k = rel >> CHUNK_BITS;
      const c = this.chunks[k]!;
      const r = this.recs[k];
      const end = Math.min(c.length, this.tail - this.base - k * CHUNK);
      for (let j = rel & MASK; j < end; j++) {
        const id = c.get(j);
        if (id > 0) fn(id, r ? r[j]! : 0);
      }
      p = this.base + k * CHUNK + end;
    }
  }

  /**
   * The entries in enqueue order as runs of at most a chunk, without a copy of the whole
   * list: removed entries show as negative ids and must be skipped. A run is valid during
   * its call only.
   */
  forEachRun(fn: (ids: Float64Array) => void): void {
    const scratch = new Float64Array(Math.min(CHUNK, this.tail - this.head));
    for (let p = this.head; p < this.tail;) {
      const rel = p - this.base;
      const k = rel >> CHUNK_BITS;
      const c = this.chunks[k]!;
      const end = Math.min(c.length, this.tail - this.base - k * CHUNK);
      fn(c.run(rel & MASK, end, scratch));
      p = this.base + k * CHUNK + end;
    }
  }

  /** Live ids in enqueue order, 8 bytes each (a deep queue's list in one allocation). */
  toIds(): Float64Array {
    const out = new Float64Array(this.size);
    let n = 0;
    this.forEach((id) => {
      out[n++] = id;
    });
    return out;
  }

  private at(p: number): number {
    const rel = p - this.base;
    return this.chunks[rel >> CHUNK_BITS]!.get(rel & MASK);
  }

  /** A place for chunk k: the first chunk doubles up to CHUNK, later ones come whole. */
  private room(k: number): IdChunk {
    const c = this.chunks[k];
    if (c === undefined) {
      const fresh = new IdChunk(k === 0 ? this.firstCapacity : CHUNK);
      this.chunks[k] = fresh;
      return fresh;
    }
    const bigger = c.grown(Math.min(CHUNK, c.length * 2));
    this.chunks[k] = bigger;
    const r = this.recs[k];
    if (r) (this.recs[k] = new Uint32Array(bigger.length)).set(r);
    return bigger;
  }

  /** Drops the chunks the head has left behind (FIFO acks of a deep queue). */
  private dropPassedChunks(): void {
    const passed = (this.head - this.base) >> CHUNK_BITS;
    if (passed === 0) return;
    let dropped = 0;
    for (const c of this.chunks.splice(0, passed)) dropped += c.byteLength;
    for (const r of this.recs.splice(0, passed)) dropped += r?.byteLength ?? 0;
    releasedMemory(dropped);
    this.base += passed * CHUNK;
  }

  /** Empty again: forget the order history and give back a drained backlog's memory. */
  private clear(): void {
    // Only a drained backlog (more than the small first chunk) is worth reporting as released:
    // a shallow queue empties at every ack.
    const big =
      this.chunks.length > 1 || (this.chunks[0]?.length ?? 0) > 4096 || this.positions !== undefined;
    const before = big ? this.bytes : 0;
    this.head = this.tail = this.base = 0;
    this.sorted = true;
    this.positions = undefined;
    this.recs = [];
    const first = this.chunks[0];
    first?.reset();
    this.chunks = first && first.length <= 4096 ? [first] : [];
    if (big) releasedMemory(before - this.bytes);
  }

  /** Rewrites the live entries from position 0; dead ones outnumbered them. */
  private compact(): void {
    const before = this.bytes;
    const to = new QueueIndex(this.name, this.firstCapacity);
    this.forEach((id, rec) => to.push(id, rec));
    this.chunks = to.chunks;
    this.recs = to.recs;
    this.head = this.base = 0;
    this.tail = to.tail;
    this.sorted = to.sorted;
    // Positions moved; rebuilt on the next lookup that needs them.
    this.positions = undefined;
    releasedMemory(Math.max(0, before - this.bytes));
  }

  private find(id: number): number {
    if (this.size === 0) return -1;
    if (this.at(this.head) === id) return this.head;
    if (!this.sorted) {
      if (!this.positions) {
        this.positions = new Map();
        this.forEachPosition((p, v) => this.positions!.set(v, p));
      }
      const p = this.positions.get(id);
      return p !== undefined && this.at(p) === id ? p : -1;
    }
    let lo = this.head;
    let hi = this.tail - 1;
    if (Math.abs(this.at(hi)) < id) return -1;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      const v = Math.abs(this.at(mid));
      if (v < id) lo = mid + 1;
      else if (v > id) hi = mid - 1;
      else return this.at(mid) > 0 ? mid : -1;
    }
    return -1;
  }

  private forEachPosition(fn: (p: number, id: number) => void): void {
    for (let p = this.head; p < this.tail; p++) {
      const v = this.at(p);
      if (v > 0) fn(p, v);
    }
  }
}
