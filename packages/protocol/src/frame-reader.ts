import { frameError } from "./errors.js";
import { FRAME_END, FRAME_MIN_SIZE } from "./generated/methods.js";

/**
 * Splits a byte stream into frames, whatever the chunking.
 *
 *   +------+---------+-------------+----------------+-----------+
 *   | type | channel |    size     |    payload     | frame-end |
 *   |  u8  |   u16   |     u32     |   size bytes   |   0xCE    |
 *   +------+---------+-------------+----------------+-----------+
 *
 * A frame that lies inside one chunk is handed over as a range of that chunk (no copy); one
 * that straddles chunks is assembled once into a buffer of its exact size.
 */
export type FrameHandler = (type: number, channel: number, buf: Buffer, start: number, end: number) => void;

const EMPTY = Buffer.alloc(0);

export class FrameReader {
  /** The largest frame accepted, header and end byte included; 0 means no limit yet. */
  frameMax: number;
  /** Bytes of an incomplete frame carried over from the previous chunk. */
  private partial: Buffer = EMPTY;
  private partialLen = 0;

  constructor(frameMax = 0) {
    this.frameMax = frameMax;
  }

  /** Feeds a chunk; calls onFrame for each complete frame, in order. */
  push(chunk: Buffer, onFrame: FrameHandler): void {
    let off = 0;
    if (this.partialLen > 0) {
      off = this.fillPartial(chunk, onFrame);
      if (off < 0) return;
    }
    const len = chunk.length;
    while (len - off >= 7) {
      const size = chunk.readUInt32BE(off + 3);
      this.checkSize(size);
      const total = size + 8;
      if (len - off < total) break;
      const end = off + 7 + size;
      if (chunk[end] !== FRAME_END) throw frameError(`bad frame end marker 0x${chunk[end]!.toString(16)}`);
      onFrame(chunk[off]!, chunk.readUInt16BE(off + 1), chunk, off + 7, end);
      off = end + 1;
    }
    if (off < len) this.stash(chunk, off);
  }

  /** True when some bytes of an incomplete frame are buffered. */
  get pending(): boolean {
    return this.partialLen > 0;
  }

  private checkSize(size: number): void {
    if (this.frameMax > 0 && size + 8 > this.frameMax) {
      throw frameError(`frame size ${size + 8} exceeds negotiated frame_max ${this.frameMax}`);
    }
  }

  private stash(chunk: Buffer, off: number): void {
    const rest = chunk.length - off;
    // Until the header is known, keep a small buffer; once it is, size it to the frame.
    let cap = FRAME_MIN_SIZE;
    if (rest >= 7) cap = chunk.readUInt32BE(off + 3) + 8;
    this.partial = Buffer.allocUnsafe(Math.max(cap, rest));
    chunk.copy(this.partial, 0, off);
    this.partialLen = rest;
  }

  /** Completes the carried-over frame from chunk; returns the offset after it, or -1 if chunk ran out. */
  private fillPartial(chunk: Buffer, onFrame: FrameHandler): number {
    let off = 0;
    if (this.partialLen < 7) {
      const take = Math.min(7 - this.partialLen, chunk.length);
      chunk.copy(this.partial, this.partialLen, 0, take);
      this.partialLen += take;
      off = take;
      if (this.partialLen < 7) return -1;
      const size = this.partial.readUInt32BE(3);
      this.checkSize(size);
      if (this.partial.length < size + 8) {
        const bigger = Buffer.allocUnsafe(size + 8);
        this.partial.copy(bigger, 0, 0, 7);
        this.partial = bigger;
      }
    }
    const size = this.partial.readUInt32BE(3);
    const total = size + 8;
    const take = Math.min(total - this.partialLen, chunk.length - off);
    chunk.copy(this.partial, this.partialLen, off, off + take);
    this.partialLen += take;
    off += take;
    if (this.partialLen < total) return -1;
    const frame = this.partial;
    this.partial = EMPTY;
    this.partialLen = 0;
    if (frame[7 + size] !== FRAME_END)
      throw frameError(`bad frame end marker 0x${frame[7 + size]!.toString(16)}`);
    onFrame(frame[0]!, frame.readUInt16BE(1), frame, 7, 7 + size);
    return off;
  }
}
