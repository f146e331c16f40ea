import { type MessageList, Ring } from "../ring.js";
import { TAIL_BLOCK, type TailFile } from "../store/tail-file.js";

/** Ring entries before new paged-out entries go to the tail file instead (the default window). */
export const SPILL_AFTER = 16_384;
/** Delivery counts up to this are packed with the sequence into one float64. */
const COUNT_SPAN = 256;

/**
 * A FIFO whose paged-out tail lives in a file (store/tail-file.ts) rather than in the ring:
 * once the ring holds SPILL_AFTER entries, further entries known only by their store id go to
 * the tail file (24 bytes each on disk, nothing in memory), and the ring is topped up from it,
 * a block ahead of the head, as the head advances. A deep queue's memory is then its
 * in-memory window whatever its depth. An entry that cannot be paged out (a message the store
 * does not hold) while the tail file is in use brings the whole tail back into the ring first,
 * which keeps the order; queues that mix the two at depth therefore stay in memory.
 */
export class PagedList<T> implements MessageList<T> {
  private readonly ring = new Ring<T>();
  private tail: TailFile | undefined;
  private noTail = false;
  /** Entries read from the tail file at a time: a quarter of the window, at most TAIL_BLOCK. */
  private readonly block: number;
  /** The ring is topped up from the tail file, a block at a time, below this. */
  private readonly refillBelow: number;
  private readonly refill = (id: number, seqCount: number, exp: number): void => {
    this.ring.push(undefined, seqCount % COUNT_SPAN, Math.floor(seqCount / COUNT_SPAN), exp, id);
  };

  /**
   * openTail: the tail file (written `block` entries at a time), or undefined when there is
   * nowhere to put one. window: ring entries before paged-out ones spill (a power of two; a
   * priority queue splits the default among its levels).
   */
  constructor(
    private readonly openTail: (block: number) => TailFile | undefined,
    private readonly window = SPILL_AFTER,
  ) {
    this.block = Math.min(TAIL_BLOCK, window >> 2);
    this.refillBelow = window - this.block;
  }

  get length(): number {
    return this.ring.length + (this.tail?.length ?? 0);
  }

  /** Bytes of the in-memory window (the tail file holds the rest, on disk). */
  get bytes(): number {
    return this.ring.bytes;
  }

  /** Entries of the ready list held in the tail file (none in memory). */
  get tailLength(): number {
    return this.tail?.length ?? 0;
  }

  push(item: T | undefined, _p: number, count: number, seq: number, exp: number, id: number): void {
    const tail = this.tail;
    if (item === undefined && count < COUNT_SPAN) {
      if (tail !== undefined && tail.length > 0) return tail.push(id, seq * COUNT_SPAN + count, exp);
      if (this.ring.length >= this.window && !this.noTail) {
        const t = (this.tail ??= this.openTail(this.block));
        if (t) return t.push(id, seq * COUNT_SPAN + count, exp);
        this.noTail = true;
      }
    } else if (tail !== undefined && tail.length > 0) {
      // Only paged-out entries may follow the tail file's: bring it all back first.
      tail.shift(tail.length, this.refill);
    }
    this.ring.push(item, count, seq, exp, id);
  }

  restore(item: T | undefined, _p: number, count: number, seq: number, exp: number, id: number): void {
    this.ring.restore(item, count, seq, exp, id);
  }

  peek(): T | undefined {
    return this.ring.peek();
  }
  get headCount(): number {
    return this.ring.headCount;
  }
  get headSeq(): number {
    return this.ring.headSeq;
  }
  get headExp(): number {
    return this.ring.headExp;
  }
  get headId(): number {
    return this.ring.headId;
  }

  /**
   * Takes the head. A list drained after its ring reached the window (it was deep) gives the
   * ring's columns back, ~0.45 MB for a plain queue's window, so 1,000 queues that were deep
   * once do not keep 450 MB; a shallow queue keeps its small ring rather than reallocating it
   * whenever it empties.
   */
  shift(): T | undefined {
    const ring = this.ring;
    const item = ring.shift();
    const tail = this.tail;
    if (tail !== undefined && tail.length > 0) {
      if (ring.length < this.refillBelow) tail.shift(this.block, this.refill);
    } else if (ring.length === 0 && ring.capacity >= this.window) ring.release();
    return item;
  }

  /** Tail-file entries are paged out, so only the ring has items to visit. */
  forEachTail(n: number, fn: (item: T) => void): void {
    this.ring.forEachTail(n, fn);
  }
}
