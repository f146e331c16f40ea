/**
 * Strings up to this many UTF-16 units are first tried as ASCII, byte by byte: for the short
 * names AMQP is full of that is several times faster than Buffer.byteLength + buf.write.
 */
const ASCII_FAST_MAX = 64;

/** Writes s at buf[at] if it is all ASCII (room for s.length bytes assumed); false if not. */
function writeAscii(buf: Buffer, s: string, at: number): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return false;
    buf[at + i] = c;
  }
  return true;
}

/**
 * s cut to fit `max` UTF-8 bytes, for texts built from client input (reply texts quote names
 * of up to 255 bytes) that must fit a shortstr. As RabbitMQ does, a cut text ends in "..."
 * (`max` bytes in all); unlike RabbitMQ, the cut never splits a character.
 */
export function truncateUtf8(s: string, max = 255): string {
  if (s.length <= max && (s.length * 3 <= max || Buffer.byteLength(s) <= max)) return s;
  const b = Buffer.from(s, "utf8");
  if (b.length <= max) return s;
  let end = max - 3;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--; // do not split a character
  return `${b.toString("utf8", 0, end)}...`;
}

/**
 * A growable output buffer. Encoders append to it; the owner takes the bytes with
 * `take()` (which hands over the filled part and starts a fresh buffer) or reuses it with
 * `reset()` when the bytes have already been copied out.
 */
export class Writer {
  buf: Buffer;
  pos = 0;

  constructor(initial = 4096) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Makes room for n more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  /** Unsigned 64-bit; numbers beyond 2^53 must be given as bigint. */
  u64(v: number | bigint): void {
    this.ensure(8);
    if (typeof v === "bigint") this.buf.writeBigUInt64BE(v, this.pos);
    else {
      this.buf.writeUInt32BE(Math.floor(v / 0x100000000), this.pos);
      this.buf.writeUInt32BE(v >>> 0, this.pos + 4);
    }
    this.pos += 8;
  }

  i64(v: number | bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64BE(typeof v === "bigint" ? v : BigInt(v), this.pos);
    this.pos += 8;
  }

  shortstr(s: string): void {
    const n = s.length;
    if (n <= ASCII_FAST_MAX) {
      this.ensure(n + 1);
      if (writeAscii(this.buf, s, this.pos + 1)) {
        this.buf[this.pos] = n;
        this.pos += n + 1;
        return;
      }
    }
    const len = Buffer.byteLength(s);
    if (len > 255) throw new RangeError(`shortstr longer than 255 bytes: ${len}`);
    this.ensure(len + 1);
    this.buf[this.pos] = len;
    this.buf.write(s, this.pos + 1, len, "utf8");
    this.pos += len + 1;
  }

  longstr(s: string | Uint8Array): void {
    if (typeof s === "string") {
      const n = s.length;
      if (n <= ASCII_FAST_MAX) {
        this.ensure(n + 4);
        if (writeAscii(this.buf, s, this.pos + 4)) {
          this.buf.writeUInt32BE(n, this.pos);
          this.pos += n + 4;
          return;
        }
      }
      const len = Buffer.byteLength(s);
      this.ensure(len + 4);
      this.buf.writeUInt32BE(len, this.pos);
      this.buf.write(s, this.pos + 4, len, "utf8");
      this.pos += len + 4;
    } else {
      this.ensure(s.length + 4);
      this.buf.writeUInt32BE(s.length, this.pos);
      this.buf.set(s, this.pos + 4);
      this.pos += s.length + 4;
    }
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /**
   * Hands over the written bytes. A small fill (up to a quarter of the buffer) is copied into a
   * buffer of its own size and the writer keeps its buffer; a larger one hands over the buffer
   * and starts over with a new one of the same size.
   *
   * Why the copy: V8 counts every new ArrayBuffer's size as external memory and runs a
   * scavenge ("external memory pressure") after each ~64 MB of it. A broker connection's writer
   * is 64 KiB, and under light load it flushes a few hundred bytes per event-loop turn, so
   * handing over the whole buffer cost 64 KiB of pressure per flush: at 1,000 msg/s that was a
   * scavenge every 0.4 s, 2-5 ms each on a busy 2-core machine, most of the p99 latency. A copy
   * under 4 KiB comes from Node's buffer pool (no new ArrayBuffer), and a larger one costs its own
   * size, so the pressure now follows the bytes sent. Large flushes (saturation) are unchanged.
   */
  take(): Buffer {
    const n = this.pos;
    if (n <= this.buf.length >>> 2) {
      const copy = Buffer.allocUnsafe(n);
      this.buf.copy(copy, 0, 0, n);
      this.pos = 0;
      return copy;
    }
    const out = this.buf.subarray(0, n);
    const spare = this.spare;
    this.spare = undefined;
    this.buf =
      spare !== undefined && spare.length === this.buf.length
        ? spare
        : Buffer.allocUnsafe(Math.max(4096, this.buf.length));
    this.pos = 0;
    return out;
  }

  /**
   * out, a chunk take() handed over, has been written (its socket write completed): the writer
   * may reuse its memory for a later fill. Under saturation every flush hands over the whole
   * buffer, so without this each one costs a new ArrayBuffer, i.e. external memory pressure
   * as large as the bytes sent (a broker draining a deep queue ran a mark-compact every ~100
   * ms for it); with it two buffers alternate. Chunks that are copies are ignored.
   */
  recycle(out: Buffer): void {
    const ab = out.buffer;
    if (out.byteOffset !== 0 || ab.byteLength !== this.buf.length || ab === this.buf.buffer) return;
    if (ab instanceof ArrayBuffer) this.spare = Buffer.from(ab);
  }

  private spare: Buffer | undefined;

  /** A copy of the written bytes; the writer keeps its buffer. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  reset(): void {
    this.pos = 0;
  }
}
