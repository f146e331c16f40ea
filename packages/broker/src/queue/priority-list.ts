import type { MessageList } from "../ring.js";
import type { TailFile } from "../store/tail-file.js";
import { PagedList, SPILL_AFTER } from "./paged-list.js";

/** A level's window is never smaller than this (its tail file is read a quarter at a time). */
const MIN_LEVEL_WINDOW = 1024;

/**
 * The window of each of `levels` levels: twice the plain queue's window shared among them,
 * as a power of two between MIN_LEVEL_WINDOW and SPILL_AFTER, so a deep queue with priorities
 * 0-10 keeps 2,048 entries per level in memory (~0.6 MB in all) and one with 256 levels
 * 1,024 each (~7 MB), whatever its depth.
 */
export function levelWindow(levels: number): number {
  let w = SPILL_AFTER;
  while (w > MIN_LEVEL_WINDOW && w * levels > 2 * SPILL_AFTER) w >>= 1;
  return w;
}

/**
 * Priority queue (x-max-priority ≤ 255) as one PagedList per level: highest priority first,
 * FIFO within a level, a requeued entry back at its place in its level. Each level spills its
 * paged-out tail to a tail file of its own past its window, so a deep priority queue keeps in
 * memory only its windows. Push, restore and shift are O(1) plus a scan over at most 256
 * levels when the top level empties, whatever the number of messages.
 */
export class PriorityList<T> implements MessageList<T> {
  private readonly levels: PagedList<T>[];
  private top = -1;
  length = 0;

  /** openTail: as for PagedList (one tail file per level, opened when the level spills). */
  constructor(
    readonly maxPriority: number,
    openTail: (block: number) => TailFile | undefined = () => undefined,
  ) {
    const window = levelWindow(maxPriority + 1);
    this.levels = Array.from({ length: maxPriority + 1 }, () => new PagedList<T>(openTail, window));
  }

  get bytes(): number {
    let n = 0;
    for (const l of this.levels) n += l.bytes;
    return n;
  }

  get tailLength(): number {
    let n = 0;
    for (const l of this.levels) n += l.tailLength;
    return n;
  }

  private level(p: number): number {
    return p > this.maxPriority ? this.maxPriority : Math.max(p, 0);
  }

  push(item: T | undefined, p: number, count: number, seq: number, exp: number, id: number): void {
    const l = this.level(p);
    this.levels[l]!.push(item, l, count, seq, exp, id);
    if (l > this.top) this.top = l;
    this.length++;
  }

  restore(item: T | undefined, p: number, count: number, seq: number, exp: number, id: number): void {
    const l = this.level(p);
    this.levels[l]!.restore(item, l, count, seq, exp, id);
    if (l > this.top) this.top = l;
    this.length++;
  }

  private get head(): PagedList<T> {
    return this.levels[Math.max(this.top, 0)]!;
  }

  peek(): T | undefined {
    return this.length === 0 ? undefined : this.head.peek();
  }
  get headCount(): number {
    return this.head.headCount;
  }
  get headSeq(): number {
    return this.head.headSeq;
  }
  get headExp(): number {
    return this.head.headExp;
  }
  get headId(): number {
    return this.head.headId;
  }

  /** The last n pushes may sit at the tail of any level: look at the last n of each. */
  forEachTail(n: number, fn: (item: T) => void): void {
    for (const l of this.levels) if (l.length > 0) l.forEachTail(n, fn);
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.head.shift();
    this.length--;
    while (this.top >= 0 && this.levels[this.top]!.length === 0) this.top--;
    return item;
  }
}
