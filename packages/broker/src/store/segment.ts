/**
 * Message ids are record positions: (segment slot) * SPAN + byte offset of the PUB record, so
 * load(id) needs no lookup table. The slot is the segment's sequence number modulo SLOTS,
 * which keeps ids below 2^53 forever: slots only collide between two live segments 2^26
 * segments (petabytes of writes) apart, which the store refuses rather than mixes up.
 */
export const SPAN = 2 ** 27;
export const SLOTS = 2 ** 26;
/** Largest segment size: records must start below SPAN. */
export const MAX_SEGMENT_SIZE = 2 ** 26;

export function slotOf(seq: number): number {
  return seq % SLOTS;
}

export function makeId(seq: number, offset: number): number {
  return slotOf(seq) * SPAN + offset;
}

export function idSlot(id: number): number {
  return Math.floor(id / SPAN);
}

export function idOffset(id: number): number {
  return id % SPAN;
}

/** One segment file and what the store knows about it. */
export class Segment {
  readonly slot: number;
  /** Open descriptor, or -1 (old segments are opened on demand for reads). */
  fd = -1;
  /** Bytes appended, including those still in memory. */
  size: number;
  /** Bytes known to be in the file (written, maybe not yet synced). */
  written: number;
  /**
   * Live references: +1 for each queue membership whose PUB/ENQ record is here and +1 for
   * each one whose body is here. At 0 nothing in the segment is needed except possibly its
   * DEL records, see deps.
   */
  live = 0;
  /**
   * Older segments holding PUB/ENQ records that this segment's DEL records cancel: while
   * one of them exists, deleting this segment would bring those messages back at recovery.
   */
  deps: Set<number> | undefined;
  /** Unlink under way: no new reference may point here. */
  doomed = false;
  /** Its still-needed DEL records are being copied to the head. */
  carrying = false;

  constructor(
    readonly seq: number,
    readonly path: string,
    size: number,
  ) {
    this.slot = slotOf(seq);
    this.size = size;
    this.written = size;
  }

  addDep(seq: number): void {
    if (seq === this.seq) return;
    if (this.deps === undefined) this.deps = new Set();
    this.deps.add(seq);
  }
}
