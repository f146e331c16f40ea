/** Top bit of a packed entry: removed. */
const GONE = 0x80000000;

/**
 * A chunk of a QueueIndex: message ids by position, 4 bytes each as offsets from the chunk's
 * first id while they fit in 31 bits (the ids of a FIFO queue grow with log position, and a
 * chunk's span is a few segments), else 8 bytes each (the chunk widens once, for good: ids
 * far apart, or out of order). A removed entry reads as its negated id.
 */
export class IdChunk {
  private packed: Uint32Array | undefined;
  private wide: Float64Array | undefined;
  /** First id put in the packed chunk; -1 before that. */
  private base = -1;

  constructor(readonly length: number) {
    this.packed = new Uint32Array(length);
  }

  get byteLength(): number {
    return this.packed ? this.packed.byteLength : this.wide!.byteLength;
  }

  /** The id at j, negative if removed. */
  get(j: number): number {
    const p = this.packed;
    if (p === undefined) return this.wide![j]!;
    const v = p[j]!;
    return v >= GONE ? -(this.base + v - GONE) : this.base + v;
  }

  /** Puts id (> 0) at j. */
  set(j: number, id: number): void {
    const p = this.packed;
    if (p !== undefined) {
      if (this.base < 0) this.base = id;
      const d = id - this.base;
      if (d >= 0 && d < GONE) {
        p[j] = d;
        return;
      }
      this.widen();
    }
    this.wide![j] = id;
  }

  /** Puts base + offs[i + x] at j + x for x < n (a run of growing ids). */
  setRun(j: number, base: number, offs: Int32Array, i: number, n: number): void {
    const p = this.packed;
    if (p !== undefined && n > 0) {
      if (this.base < 0) this.base = base + offs[i]!;
      const d = base - this.base;
      if (d + offs[i]! >= 0 && d + offs[i + n - 1]! < GONE) {
        for (let x = 0; x < n; x++) p[j + x] = d + offs[i + x]!;
        return;
      }
    }
    for (let x = 0; x < n; x++) this.set(j + x, base + offs[i + x]!);
  }

  /** Marks the (live) entry at j removed. */
  kill(j: number): void {
    const p = this.packed;
    if (p !== undefined) p[j] = p[j]! + GONE;
    else this.wide![j] = -this.wide![j]!;
  }

  /** Forgets every entry (a drained queue reuses its small first chunk). */
  reset(): void {
    this.base = -1;
    if (this.wide) {
      this.wide = undefined;
      this.packed = new Uint32Array(this.length);
    }
  }

  /** A copy of this chunk, length entries long (longer). */
  grown(length: number): IdChunk {
    const c = new IdChunk(length);
    if (this.packed) {
      c.packed!.set(this.packed);
      c.base = this.base;
    } else {
      c.packed = undefined;
      (c.wide = new Float64Array(length)).set(this.wide!);
    }
    return c;
  }

  /** Entries [from, to) as ids (negative if removed): a view, or scratch filled in. */
  run(from: number, to: number, scratch: Float64Array): Float64Array {
    if (this.wide) return this.wide.subarray(from, to);
    for (let j = from; j < to; j++) scratch[j - from] = this.get(j);
    return scratch.subarray(0, to - from);
  }

  private widen(): void {
    const w = new Float64Array(this.length);
    // Slots not yet written read as base + 0: harmless, they are overwritten before use.
    for (let j = 0; j < this.length; j++) w[j] = this.get(j);
    this.wide = w;
    this.packed = undefined;
  }
}
