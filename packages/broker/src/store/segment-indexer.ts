import { indexPath } from "./files.js";
import type { Segment } from "./segment.js";
import { SegmentIndexBuilder } from "./segment-index.js";

/**
 * The store's side of segment indexes (segment-index.ts): collects the active segment's
 * records as they are appended, and writes a closed segment's index once all its records are
 * synced, so the index never describes a record that is not on disk.
 */
export class SegmentIndexer {
  private current = new SegmentIndexBuilder();
  private readonly closed: { seg: Segment; index: SegmentIndexBuilder }[] = [];

  constructor(
    private readonly dir: string,
    private readonly warn: (msg: string) => void,
  ) {}

  /** A PUB record of queue qid was appended to the active segment at offset off. */
  addPub(qid: number, off: number): void {
    this.current.addPub(qid, off);
  }

  /** Any other record was appended: size bytes at words[pos / 4] (see SegmentIndexBuilder). */
  addRecord(words: Int32Array, pos: number, size: number): void {
    this.current.addRecord(words, pos, size);
  }

  /** seg was the active segment and is now closed. */
  rolled(seg: Segment): void {
    const index = this.current;
    this.closed.push({ seg, index });
    // Sized like the last one, so a segment's index rarely grows by copying (the kernel
    // commits the array's pages only as they are written).
    this.current = new SegmentIndexBuilder(index.length + (index.length >>> 3));
  }

  /** After a commit: writes the indexes of closed segments with nothing left to write or sync. */
  flush(busy: (seg: Segment) => boolean): void {
    const list = this.closed;
    for (let i = 0; i < list.length;) {
      const { seg, index } = list[i]!;
      if (!seg.doomed && busy(seg)) {
        i++;
        continue;
      }
      list.splice(i, 1);
      // A segment being deleted needs no index.
      if (seg.doomed) continue;
      try {
        index.write(indexPath(this.dir, seg.seq), seg.seq, seg.size);
      } catch (e) {
        this.warn(`cannot write the index of ${seg.path}: ${(e as Error).message}`);
      }
    }
  }
}
