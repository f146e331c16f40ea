import { frameError } from "./errors.js";
import { FRAME_END, FrameType } from "./generated/methods.js";

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
 *
 * Malformed input throws a ProtocolError with FRAME_ERROR (501), as RabbitMQ does: an unknown
 * frame type, a heartbeat with a payload, a frame larger than frameMax, a bad frame-end octet.
 * The header is checked as soon as its 7 bytes are in, so an oversized frame is refused
 * before any of its payload is buffered. After a throw (from here or from onFrame) the
 * reader's state is unspecified: the connection is to be closed.
 */
export type FrameHandler = (type: number, channel: number, buf: Buffer, start: number, end: number) => void;

const EMPTY = Buffer.alloc(0);
/**
 * A frame straddling chunks gets a buffer of its exact size when it is at most this big;
 * a bigger one (only possible when frameMax is 0 or huge) grows with the bytes that actually
 * arrive, so that a header claiming 4 GiB does not allocate 4 GiB.
 */
const EAGER_ALLOC = 1 << 20;

export class FrameReader {
  /** The largest frame accepted, header and end byte included; 0 means no limit. */
  frameMax: number;
  /** The incomplete frame carried over from the previous chunk (header bytes in `head`). */
  private partial: Buffer = EMPTY;
  private partialLen = 0;
  /** Size of the incomplete frame, header and end byte included; 0 while its header is incomplete. */
  private partialTotal = 0;
  private readonly head = Buffer.alloc(8);

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
      const type = chunk[off]!;
      const size =
        ((chunk[off + 3]! << 24) >>> 0) +
        ((chunk[off + 4]! << 16) | (chunk[off + 5]! << 8) | chunk[off + 6]!);
      this.checkHeader(type, size);
      const end = off + 7 + size;
      if (end >= len) break;
      if (chunk[end] !== FRAME_END) throw badFrameEnd(chunk[end]!);
      onFrame(type, (chunk[off + 1]! << 8) | chunk[off + 2]!, chunk, off + 7, end);
      off = end + 1;
    }
    if (off < len) this.stash(chunk, off);
  }

  /** True when some bytes of an incomplete frame are buffered. */
  get pending(): boolean {
    return this.partialLen > 0;
  }

  /** Validates a frame header; throws FRAME_ERROR. */
  private checkHeader(type: number, size: number): void {
    const max = this.frameMax;
    if (max > 0 && size > max - 8) {
      throw frameError(`frame size ${size + 8} exceeds negotiated frame_max ${max}`);
    }
    switch (type) {
      case FrameType.METHOD:
      case FrameType.HEADER:
      case FrameType.BODY:
        return;
      case FrameType.HEARTBEAT:
        if (size !== 0) throw frameError(`heartbeat frame with a ${size}-byte payload`);
        return;
      default:
        throw frameError(`unknown frame type ${type}`);
    }
  }

  /** Keeps chunk[off..] (less than one frame) for the next push. */
  private stash(chunk: Buffer, off: number): void {
    const rest = chunk.length - off;
    if (rest < 7) {
      chunk.copy(this.head, 0, off);
      this.partial = this.head;
      this.partialTotal = 0;
    } else {
      // push() has checked this header already.
      const total = chunk.readUInt32BE(off + 3) + 8;
      this.partial = Buffer.allocUnsafe(total <= EAGER_ALLOC ? total : Math.max(rest, EAGER_ALLOC));
      chunk.copy(this.partial, 0, off);
      this.partialTotal = total;
    }
    this.partialLen = rest;
  }

  /** Completes the carried-over frame from chunk; returns the offset after it, or -1 if chunk ran out. */
  private fillPartial(chunk: Buffer, onFrame: FrameHandler): number {
    let off = 0;
    const clen = chunk.length;
    if (this.partialTotal === 0) {
      // Still assembling the 7-byte header in `head`.
      const take = Math.min(7 - this.partialLen, clen);
      chunk.copy(this.head, this.partialLen, 0, take);
      this.partialLen += take;
      off = take;
      if (this.partialLen < 7) return -1;
      const head = this.head;
      const size = head.readUInt32BE(3);
      this.checkHeader(head[0]!, size);
      const total = size + 8;
      this.partialTotal = total;
      this.partial = Buffer.allocUnsafe(total <= EAGER_ALLOC ? total : Math.max(7 + clen - off, EAGER_ALLOC));
      head.copy(this.partial, 0, 0, 7);
    }
    const total = this.partialTotal;
    const take = Math.min(total - this.partialLen, clen - off);
    const need = this.partialLen + take;
    if (need > this.partial.length) {
      const bigger = Buffer.allocUnsafe(Math.min(total, Math.max(need, this.partial.length * 2)));
      this.partial.copy(bigger, 0, 0, this.partialLen);
      this.partial = bigger;
    }
    chunk.copy(this.partial, this.partialLen, off, off + take);
    this.partialLen = need;
    off += take;
    if (need < total) return -1;
    const frame = this.partial;
    this.partial = EMPTY;
    this.partialLen = 0;
    this.partialTotal = 0;
    if (frame[total - 1] !== FRAME_END) throw badFrameEnd(frame[total - 1]!);
    onFrame(frame[0]!, frame.readUInt16BE(1), frame, 7, total - 1);
    return off;
  }
}

function badFrameEnd(b: number) {
  return frameError(`bad frame end marker 0x${b.toString(16).padStart(2, "0")}`);
}
