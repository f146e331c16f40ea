import fs from "node:fs";
import { alignedBuffer, wordView } from "./checksum.js";
import { REC_HEADER, recordSize } from "./record.js";
import type { Segment } from "./segment.js";

/**
 * Where a record was found: buffer, its word view, record position, end of valid bytes. One
 * is filled in place per lookup, so paging a message in allocates no result object.
 */
export class RecordAt {
  buf: Buffer = EMPTY;
  words: Int32Array = new Int32Array(0);
  pos = 0;
  limit = 0;

  set(buf: Buffer, words: Int32Array, pos: number, limit: number): void {
    this.buf = buf;
    this.words = words;
    this.pos = pos;
    this.limit = limit;
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Synchronous record reads for paging, through one read-ahead window so loading a queue in
 * order costs one pread per window rather than one per message. Older segments are opened on
 * demand and closed least-recently-used first.
 */
export class SegmentReader {
  private seg: Segment | undefined;
  private start = 0;
  private len = 0;
  private readonly buf: Buffer;
  private readonly words: Int32Array;
  private readonly open = new Set<Segment>();

  constructor(
    readAhead: number,
    private readonly maxOpenFiles: number,
    /** The writer still needs seg's descriptor (bytes to write, or an fsync under way). */
    private readonly busy: (seg: Segment) => boolean = (s) => s.written < s.size,
  ) {
    this.buf = alignedBuffer(readAhead);
    this.words = wordView(this.buf);
  }

  /** Puts the record at off in seg (written bytes only) into at; the caller checks validity. */
  read(seg: Segment, off: number, at: RecordAt): void {
    if (this.seg === seg && off >= this.start && off + REC_HEADER <= this.start + this.len) {
      const pos = off - this.start;
      if (off + recordSize(this.buf, pos) <= this.start + this.len)
        return at.set(this.buf, this.words, pos, this.len);
    }
    const fd = this.fdFor(seg);
    // Only bytes known to be in the file: the window must never cache a hole.
    const avail = seg.written - off;
    this.seg = seg;
    this.start = off;
    this.len = readInto(fd, this.buf, Math.min(this.buf.length, avail), off);
    if (this.len >= REC_HEADER) {
      const size = recordSize(this.buf, 0);
      if (size > this.len && size <= avail) {
        const big = alignedBuffer(size);
        return at.set(big, wordView(big), 0, readInto(fd, big, size, off));
      }
    }
    at.set(this.buf, this.words, 0, this.len);
  }

  /**
   * Lets the reader close seg's descriptor when it needs room (a segment the writer has
   * moved past; the writer keeps its descriptor until then).
   */
  release(seg: Segment): void {
    this.open.add(seg);
  }

  /** seg is being deleted: close its descriptor, drop cached bytes. */
  forget(seg: Segment): void {
    if (seg.fd >= 0) fs.closeSync(seg.fd);
    seg.fd = -1;
    this.open.delete(seg);
    if (this.seg === seg) this.seg = undefined;
  }

  private fdFor(seg: Segment): number {
    if (seg.fd < 0) {
      seg.fd = fs.openSync(seg.path, "r");
      this.open.add(seg);
    }
    if (this.open.delete(seg)) this.open.add(seg);
    if (this.open.size > this.maxOpenFiles) {
      for (const s of this.open) {
        if (s === seg || this.busy(s)) continue;
        this.forget(s);
        break;
      }
    }
    return seg.fd;
  }
}

function readInto(fd: number, buf: Buffer, n: number, off: number): number {
  let got = 0;
  while (got < n) {
    const r = fs.readSync(fd, buf, got, n - got, off + got);
    if (r === 0) break;
    got += r;
  }
  return got;
}
