/**
 * Sorted offsets of one segment's PUB records, so recovery can check that an ENQ names a
 * message that exists. Offsets replayed from an index come as runs that are kept by
 * reference and only merged into one array when a lookup needs them: ENQ records (fanout)
 * are rare, so most segments never pay for the copy.
 */
export class OffsetList {
  private a = new Uint32Array(256);
  private n = 0;
  private runs: Int32Array[] = [];

  push(v: number): void {
    if (this.runs.length > 0) this.merge();
    if (this.n === this.a.length) this.grow(1);
    this.a[this.n++] = v;
  }

  /** Appends a run of offsets (higher than those before it); kept by reference. */
  pushRun(v: Int32Array): void {
    this.runs.push(v);
  }

  has(v: number): boolean {
    if (this.runs.length > 0) this.merge();
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const x = this.a[mid]!;
      if (x < v) lo = mid + 1;
      else if (x > v) hi = mid - 1;
      else return true;
    }
    return false;
  }

  private merge(): void {
    let more = 0;
    for (const r of this.runs) more += r.length;
    if (this.n + more > this.a.length) this.grow(more);
    for (const r of this.runs) {
      this.a.set(r, this.n);
      this.n += r.length;
    }
    this.runs = [];
  }

  private grow(more: number): void {
    const b = new Uint32Array(Math.max(this.a.length * 2, this.n + more));
    b.set(this.a.subarray(0, this.n));
    this.a = b;
  }
}
