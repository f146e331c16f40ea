import { Message } from "../message.js";
import { PubLayout, pubLayout } from "./record.js";

/** Property bytes up to this length are shared between consecutive loads when they repeat. */
const SHARE_PROPS_UP_TO = 512;
/**
 * Copies of loaded bodies up to SLAB / 8 bytes are cut from slabs of this size: one
 * allocation per ~30 messages of 1 KiB instead of one of Node's 8 KiB pools per 7. Messages
 * loaded one after the other share a slab and, a queue being FIFO, are acked one after the
 * other, so slabs die whole; a message kept long (unacked, requeued) pins at most one slab,
 * and Message.compact() copies a requeued one out of it.
 */
const SLAB = 32 << 10;

/**
 * Turns PUB records into Messages for load(), the per-message step of draining a paged-out
 * queue. The record lives in a buffer that the next read reuses, so the body is copied; the
 * rest is shared when it repeats, which in a queue it nearly always does: the exchange and
 * routing key strings and the property bytes (delivery-mode 2 and little else) are those of
 * the previous message. That leaves two objects per message (the Message and its body) where
 * decoding every field cost eight, which shows in the drain rate and in GC time.
 */
export class MessageDecoder {
  private readonly f = new PubLayout();
  private readonly exchange = new RepeatCache();
  private readonly routingKey = new RepeatCache();
  private readonly props = new RepeatCache();
  private slab: Buffer = Buffer.alloc(0);
  private used = 0;

  /** The message of the (valid) PUB record at buf[pos], with store id id. */
  decode(buf: Buffer, pos: number, id: number): Message {
    const f = this.f;
    pubLayout(buf, pos, f);
    const body = this.copy(buf, f.bodyStart, f.end);
    const msg = new Message(
      this.exchange.string(buf, f.exStart, f.rkStart),
      this.routingKey.string(buf, f.rkStart, f.propsStart),
      f.bodyStart - f.propsStart <= SHARE_PROPS_UP_TO
        ? this.props.bytes(buf, f.propsStart, f.bodyStart)
        : copyOf(buf, f.propsStart, f.bodyStart),
      body,
    );
    msg.id = id;
    return msg;
  }

  /** A copy of buf[start, end) of its own (the read buffer is reused). */
  private copy(buf: Buffer, start: number, end: number): Buffer {
    const n = end - start;
    if (n > SLAB / 8) return copyOf(buf, start, end);
    if (this.used + n > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(SLAB);
      this.used = 0;
    }
    const at = this.used;
    this.used += n;
    buf.copy(this.slab, at, start, end);
    return this.slab.subarray(at, at + n);
  }
}

/**
 * The last byte range seen and what was made of it. Messages never write to their property
 * bytes (a change such as x-delivery-count makes a new buffer), so one copy can be shared.
 */
class RepeatCache {
  private last: Buffer = Buffer.alloc(0);
  private str = "";

  string(buf: Buffer, start: number, end: number): string {
    if (!this.same(buf, start, end)) {
      this.last = copyOf(buf, start, end);
      this.str = buf.toString("utf8", start, end);
    }
    return this.str;
  }

  bytes(buf: Buffer, start: number, end: number): Buffer {
    if (!this.same(buf, start, end)) this.last = copyOf(buf, start, end);
    return this.last;
  }

  private same(buf: Buffer, start: number, end: number): boolean {
    const last = this.last;
    const n = end - start;
    if (n !== last.length) return false;
    // Short ranges (the common case) compare faster here than through a native call.
    if (n > 32) return buf.compare(last, 0, n, start, end) === 0;
    for (let i = 0; i < n; i++) if (buf[start + i] !== last[i]) return false;
    return true;
  }
}

/** A copy of buf[start, end) (from Node's pool when small). */
function copyOf(buf: Buffer, start: number, end: number): Buffer {
  const c = Buffer.allocUnsafe(end - start);
  buf.copy(c, 0, start, end);
  return c;
}
