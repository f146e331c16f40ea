/** Slots of a new window; it doubles while dense. */
const INITIAL = 256;
/** A ring bigger than this is replaced by a new one when it empties. */
const SHRINK_ABOVE = 4096;

/**
 * A channel's unacked deliveries by delivery tag, in tag order. Tags only grow, and most are
 * acked soon and roughly in order, so the entries live in a ring indexed by tag (tag − base).
 *
 * Why not a Map: a Map rehashes into a new table as entries come and go (at 10k deliveries/s
 * several times a second), and V8 only learns that an old table is garbage at the next full
 * collection. Until then a table that had been promoted still points at every delivery it held,
 * so acked deliveries, their messages and bodies survived each scavenge and were promoted in
 * turn (3-6 MB per scavenge at 10k msg/s): 10-40 ms scavenges plus a mark-compact every 2 s,
 * which set the p99. A ring slot is cleared the moment its delivery is acked.
 *
 * Memory follows the unacked count, not the tag span: the ring grows only while at least half
 * full; when a few old deliveries stay unacked while thousands of later ones pass, those
 * stragglers move to a small Map (`old`, all of its tags below `base`) instead.
 */
export class UnackedWindow<T> {
  private items: (T | undefined)[] = new Array<T | undefined>(INITIAL);
  private mask = INITIAL - 1;
  /** Ring index of tag `base`. */
  private head = 0;
  /** The tag at `head`; every entry of the ring has a tag in [base, base + span). */
  private base = 0;
  private span = 0;
  /** Entries in the ring. */
  private inRing = 0;
  /** Entries older than `base`, in tag order. */
  private old: Map<number, T> | undefined;

  /** Entries held. */
  get size(): number {
    return this.inRing + (this.old?.size ?? 0);
  }

  /** Slots the ring holds (memory is this plus the stragglers' Map). */
  get capacity(): number {
    return this.items.length;
  }

  /** Adds an entry; tag must be above every tag added before. */
  set(tag: number, value: T): void {
    if (this.inRing === 0) {
      this.base = tag;
      this.span = 0;
    }
    let off = tag - this.base;
    if (off < this.span) throw new RangeError(`delivery tag ${tag} is not above the last one`);
    if (off >= this.items.length) {
      if (this.inRing * 2 >= this.items.length) this.grow(off + 1);
      else {
        this.evict(off - this.items.length + 1);
        if (this.inRing === 0) this.base = tag;
        off = tag - this.base;
      }
    }
    this.items[(this.head + off) & this.mask] = value;
    this.span = off + 1;
    this.inRing++;
  }

  get(tag: number): T | undefined {
    const off = tag - this.base;
    if (off >= 0 && this.inRing > 0) {
      return off < this.span ? this.items[(this.head + off) & this.mask] : undefined;
    }
    return this.old?.get(tag);
  }

  has(tag: number): boolean {
    return this.get(tag) !== undefined;
  }

  /** Removes tag's entry; false if there was none. */
  delete(tag: number): boolean {
    const off = tag - this.base;
    if (off < 0 || this.inRing === 0) {
      if (!this.old?.delete(tag)) return false;
      if (this.old.size === 0) this.old = undefined;
      return true;
    }
    if (off >= this.span) return false;
    const i = (this.head + off) & this.mask;
    if (this.items[i] === undefined) return false;
    this.items[i] = undefined;
    if (--this.inRing === 0) this.emptied();
    else if (off === 0) this.skipEmpty();
    return true;
  }

  /** Removes and returns, in tag order, every entry up to tag (all of them for tag 0). */
  takeUpTo(tag: number, out: T[] = []): T[] {
    if (this.old) {
      for (const [t, v] of this.old) {
        if (tag !== 0 && t > tag) return out;
        out.push(v);
        this.old.delete(t);
      }
      this.old = undefined;
    }
    const end = tag === 0 ? this.span : Math.min(this.span, tag - this.base + 1);
    for (let off = 0; off < end && this.inRing > 0; off++) {
      const i = (this.head + off) & this.mask;
      const v = this.items[i];
      if (v === undefined) continue;
      out.push(v);
      this.items[i] = undefined;
      this.inRing--;
    }
    if (this.inRing === 0) this.emptied();
    else this.skipEmpty();
    return out;
  }

  /** Calls fn for each entry in tag order until it returns true. */
  some(fn: (value: T) => boolean): boolean {
    if (this.old) for (const v of this.old.values()) if (fn(v)) return true;
    for (let off = 0; off < this.span; off++) {
      const v = this.items[(this.head + off) & this.mask];
      if (v !== undefined && fn(v)) return true;
    }
    return false;
  }

  /** Drops every entry. */
  clear(): void {
    this.items = new Array<T | undefined>(INITIAL);
    this.mask = INITIAL - 1;
    this.head = this.base = this.span = this.inRing = 0;
    this.old = undefined;
  }

  /** The ring has no entry left; one that grew for a burst gives its memory back. */
  private emptied(): void {
    this.span = 0;
    if (this.items.length > SHRINK_ABOVE) {
      this.items = new Array<T | undefined>(INITIAL);
      this.mask = INITIAL - 1;
      this.head = 0;
    }
  }

  /** Advances the head past cleared slots (the window is not empty). */
  private skipEmpty(): void {
    while (this.items[this.head] === undefined) {
      this.head = (this.head + 1) & this.mask;
      this.base++;
      this.span--;
    }
  }

  private grow(need: number): void {
    let cap = this.items.length * 2;
    while (cap < need) cap *= 2;
    const items = new Array<T | undefined>(cap);
    for (let off = 0; off < this.span; off++) items[off] = this.items[(this.head + off) & this.mask];
    this.items = items;
    this.mask = cap - 1;
    this.head = 0;
  }

  /** Moves the n oldest slots' entries to `old`, then past any cleared slots. */
  private evict(n: number): void {
    for (let k = 0; k < n && this.inRing > 0; k++) {
      const v = this.items[this.head];
      if (v !== undefined) {
        (this.old ??= new Map()).set(this.base, v);
        this.items[this.head] = undefined;
        this.inRing--;
      }
      this.head = (this.head + 1) & this.mask;
      this.base++;
      this.span--;
    }
    if (this.inRing === 0) this.span = 0;
    else this.skipEmpty();
  }
}
