import fs from "node:fs";
import { alignedBuffer, wordView, xxh32Words } from "./checksum.js";
import { writeAll } from "./files.js";
import { PUB, REC_HEADER, recordQid, recordSize, recordType } from "./record.js";

/*
 * Index file of a closed segment: what recovery needs from it without its message bodies.
 *
 *   header:  "WRNIDX01" | seq u32 | segment size u32 | body words u32 | check u32
 *   body:    items, each starting with a word w:
 *            w < 0   a run of PUB records: count = w & 0x7fffffff, then qid, then count offsets
 *            w > 0   any other record (ENQ, DEL, QDECL, DLV), copied whole: w = its size in
 *                    bytes, then its bytes
 *   check    XXH32 of the body words
 *
 * Replaying the items in order is replaying the segment (records other than PUB go through
 * the same code as in a scan, so record types added later are indexed too). A PUB costs 4
 * bytes instead of its body: opening a store of 1 KiB messages reads ~1/250 of its bytes.
 * The file is a cache, written without fsync: it is used only when its checksum holds and
 * the segment has exactly the size the index was made for, otherwise the segment is scanned.
 */

const MAGIC = "WRNIDX01";
const HEADER = 24;
const RUN = 0x80000000;

/** Collects a segment's records as they are appended (or scanned), in order. */
export class SegmentIndexBuilder {
  private w: Int32Array;
  private n = 0;
  private runQid = -1;
  private runAt = -1;

  /** capacity: words to start with (a segment's index is about the size of the last one's). */
  constructor(capacity = 1024) {
    this.w = new Int32Array(Math.max(1024, capacity));
  }

  /** The record at buf[pos] (words: the 4-aligned view of buf) sits at offset off of the segment. */
  add(buf: Buffer, words: Int32Array, pos: number, off: number): void {
    if (recordType(buf, pos) === PUB) this.addPub(recordQid(buf, pos), off);
    else this.addRecord(words, pos, recordSize(buf, pos));
  }

  /**
   * A PUB record of queue qid at offset off. The writer calls this (and addRecord) directly
   * with what it just wrote, so the publish path reads nothing back from the buffer.
   */
  addPub(qid: number, off: number): void {
    let w = this.w;
    let n = this.n;
    if (qid !== this.runQid || w[this.runAt] === (RUN | 0x7fffffff)) {
      if (n + 3 > w.length) w = this.grow(3);
      this.runAt = n;
      w[n++] = RUN | 0;
      w[n++] = qid;
      this.runQid = qid;
    } else if (n + 1 > w.length) w = this.grow(1);
    w[this.runAt] = w[this.runAt]! + 1;
    w[n++] = off;
    this.n = n;
  }

  /** Any other record, size bytes at words[pos / 4] (pos 4-aligned), copied whole. */
  addRecord(words: Int32Array, pos: number, size: number): void {
    if (this.n + 1 + size / 4 > this.w.length) this.grow(1 + size / 4);
    this.runQid = -1;
    this.w[this.n++] = size;
    this.w.set(words.subarray(pos >>> 2, (pos + size) >>> 2), this.n);
    this.n += size / 4;
  }

  /** Writes the index of segment seq (segSize bytes) to file, through a temp file and rename. */
  write(file: string, seq: number, segSize: number): void {
    // The body goes out straight from the builder's array: no copy of a segment's index.
    const header = Buffer.alloc(HEADER);
    header.write(MAGIC, 0, "latin1");
    header.writeUInt32LE(seq, 8);
    header.writeUInt32LE(segSize, 12);
    header.writeUInt32LE(this.n, 16);
    header.writeUInt32LE(xxh32Words(this.w, 0, this.n), 20);
    const tmp = `${file}.tmp`;
    const fd = fs.openSync(tmp, "w");
    try {
      writeAll(fd, header, 0);
      writeAll(fd, Buffer.from(this.w.buffer, this.w.byteOffset, this.n * 4), HEADER);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  }

  /** Words collected so far (a size hint for the next segment's builder). */
  get length(): number {
    return this.n;
  }

  /** Makes room for words more; returns the (new) array. */
  private grow(words: number): Int32Array {
    const next = new Int32Array(Math.max(this.w.length * 2, this.n + words));
    next.set(this.w.subarray(0, this.n));
    return (this.w = next);
  }
}

/** What replaying an index calls: runs of PUBs, and other records in the index's buffer. */
export interface IndexVisitor {
  pubs(qid: number, offsets: Int32Array): void;
  record(buf: Buffer, pos: number): void;
}

/**
 * Replays the index file of segment seq, which must be segSize bytes. Returns false, having
 * called nothing, when there is no usable index (missing, damaged, or made for other contents).
 */
export function replayIndex(file: string, seq: number, segSize: number, v: IndexVisitor): boolean {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch {
    return false;
  }
  if (data.length < HEADER || data.length % 4 !== 0 || data.toString("latin1", 0, 8) !== MAGIC) return false;
  const buf = data.byteOffset % 4 === 0 ? data : alignedCopy(data);
  const words = wordView(buf);
  const n = buf.readUInt32LE(16);
  if (buf.readUInt32LE(8) !== seq || buf.readUInt32LE(12) !== segSize || HEADER + n * 4 !== buf.length) {
    return false;
  }
  if (xxh32Words(words, HEADER / 4, HEADER / 4 + n) !== buf.readUInt32LE(20)) return false;
  // Check the structure before calling anything, so a bad index never half-replays.
  const end = HEADER / 4 + n;
  for (let i = HEADER / 4; i < end;) {
    const w = words[i]!;
    const step = w < 0 ? 2 + (w & 0x7fffffff) : 1 + w / 4;
    if (w === 0 || (w > 0 && (w % 4 !== 0 || w < REC_HEADER + 4)) || i + step > end) return false;
    i += step;
  }
  for (let i = HEADER / 4; i < end;) {
    const w = words[i]!;
    if (w < 0) {
      const count = w & 0x7fffffff;
      v.pubs(words[i + 1]!, words.subarray(i + 2, i + 2 + count));
      i += 2 + count;
    } else {
      v.record(buf, (i + 1) * 4);
      i += 1 + w / 4;
    }
  }
  return true;
}

function alignedCopy(b: Buffer): Buffer {
  const a = alignedBuffer(b.length);
  b.copy(a);
  return a;
}
