import fs from "node:fs";
import { writeAll } from "./files.js";
import path from "node:path";

/** Numbers per entry: three float64s (a queue stores id, sequence and count, expiry). */
const WIDTH = 3;
const ENTRY = WIDTH * 8;
/** Entries per write block: 96 KiB, one write syscall per 4096 paged-out messages. */
export const TAIL_BLOCK = 4096;
/** Bytes per part file: a queue read while it is written gives back the parts it read. */
const PART_BYTES = 64 << 20;

/**
 * A FIFO of fixed-size entries kept in a file instead of memory: the paged-out tail of a deep
 * queue (see queue/paged-list.ts). Entries are appended to a block in memory that is written
 * out whole when full, and read back a block at a time from the front, so a queue of any depth
 * costs two blocks of RAM. The file is scratch space, not a durable record (the segment log is
 * that): it lives in a directory wiped when the store opens, and is unlinked whenever the
 * FIFO empties. I/O is synchronous like the store's load(): one call per block of messages,
 * from the page cache in the common case. If a write fails (disk full), the FIFO keeps
 * further entries in memory instead, as the queue did before it had a tail file.
 */
export class TailFile {
  /** Files oldest first; entries are read from the first and written to the last. */
  private readonly files: TailPart[] = [];
  private made = 0;
  /** Newest entries not yet written out: block[from * WIDTH .. n * WIDTH). */
  private block: Float64Array | undefined;
  private from = 0;
  private n = 0;
  private rbuf: Float64Array | undefined;
  private failed = false;
  length = 0;

  /**
   * prefix: path of the files without the part number (".0", ".1", ... are appended).
   * blockEntries: entries per write and read block (the two blocks are all the RAM it holds).
   */
  constructor(
    private readonly prefix: string,
    private readonly warn: (msg: string) => void,
    private readonly partBytes = PART_BYTES,
    private readonly blockEntries = TAIL_BLOCK,
  ) {}

  push(a: number, b: number, c: number): void {
    let blk = this.block;
    if (!blk) blk = this.block = new Float64Array(this.blockEntries * WIDTH);
    else if (this.n * WIDTH === blk.length) blk = this.writeOut(blk);
    const j = this.n++ * WIDTH;
    blk[j] = a;
    blk[j + 1] = b;
    blk[j + 2] = c;
    this.length++;
  }

  /** Takes up to max entries from the front, oldest first, calling fn for each. */
  shift(max: number, fn: (a: number, b: number, c: number) => void): void {
    let left = Math.min(max, this.length);
    while (left > 0) {
      const f = this.files[0];
      const k = f && f.writeAt > f.readAt ? this.readFile(f, left, fn) : this.takeBlock(left, fn);
      left -= k;
      this.length -= k;
    }
    if (this.length === 0) this.clear();
  }

  /** Empty (or the queue is gone): remove the files, drop the blocks. */
  clear(): void {
    for (const f of this.files.splice(0)) f.remove();
    this.from = this.n = this.length = 0;
    this.block = this.rbuf = undefined;
  }

  /** The block is full: write it out (or, after a failed write, grow it). Returns the block. */
  private writeOut(blk: Float64Array): Float64Array {
    if (this.from > 0) {
      // The front of the block was already read (the files were empty then): close the gap.
      blk.copyWithin(0, this.from * WIDTH, this.n * WIDTH);
      this.n -= this.from;
      this.from = 0;
      if (this.n * WIDTH < blk.length) return blk;
    }
    if (!this.failed) {
      try {
        let f = this.files.at(-1);
        if (!f || f.writeAt * ENTRY >= this.partBytes) {
          if (this.made === 0) fs.mkdirSync(path.dirname(this.prefix), { recursive: true });
          this.files.push((f = new TailPart(`${this.prefix}.${this.made++}`)));
        }
        f.write(blk, this.n);
        this.n = 0;
        return blk;
      } catch (e) {
        this.failed = true;
        this.warn(`queue tail file ${this.prefix}: ${(e as Error).message}; keeping the tail in memory`);
      }
    }
    const bigger = new Float64Array(blk.length * 2);
    bigger.set(blk);
    return (this.block = bigger);
  }

  private readFile(f: TailPart, max: number, fn: (a: number, b: number, c: number) => void): number {
    const k = Math.min(max, f.writeAt - f.readAt, this.blockEntries);
    const v = (this.rbuf ??= new Float64Array(this.blockEntries * WIDTH));
    f.read(v, k);
    for (let j = 0; j < k * WIDTH; j += WIDTH) fn(v[j]!, v[j + 1]!, v[j + 2]!);
    if (f.readAt === f.writeAt) {
      // Read to the end: a finished part goes; the one being written starts over.
      if (this.files.length > 1) this.files.shift()!.remove();
      else f.readAt = f.writeAt = 0;
    }
    return k;
  }

  private takeBlock(max: number, fn: (a: number, b: number, c: number) => void): number {
    const blk = this.block!;
    const k = Math.min(max, this.n - this.from);
    for (let i = this.from; i < this.from + k; i++) {
      const j = i * WIDTH;
      fn(blk[j]!, blk[j + 1]!, blk[j + 2]!);
    }
    this.from += k;
    if (this.from === this.n) this.from = this.n = 0;
    return k;
  }
}

/** One file of a TailFile: entries [readAt, writeAt). */
class TailPart {
  readonly fd: number;
  readAt = 0;
  writeAt = 0;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, "w+");
  }

  write(v: Float64Array, entries: number): void {
    writeAll(this.fd, new Uint8Array(v.buffer, v.byteOffset, entries * ENTRY), this.writeAt * ENTRY);
    this.writeAt += entries;
  }

  read(v: Float64Array, entries: number): void {
    const bytes = Buffer.from(v.buffer, v.byteOffset, entries * ENTRY);
    let got = 0;
    while (got < bytes.length) {
      const r = fs.readSync(this.fd, bytes, got, bytes.length - got, this.readAt * ENTRY + got);
      if (r === 0) throw new Error(`queue tail file ${this.file} is shorter than written`);
      got += r;
    }
    this.readAt += entries;
  }

  remove(): void {
    fs.closeSync(this.fd);
    fs.rmSync(this.file, { force: true });
  }
}
