import { encodeMethod, FRAME_END, FrameType, type MethodInit } from "./generated/methods.js";
import type { Writer } from "./writer.js";

/*
 * Frame writers append whole frames to a Writer, so that a method, its content header and
 * every body frame of a delivery land in one contiguous buffer and go out in one write.
 *
 *   content header payload:
 *   +----------+----------+---------------+-----------------------------------+
 *   | class-id |  weight  |   body-size   | property flags + property list    |
 *   |   u16    | u16 (=0) |      u64      | (kept as raw bytes by the broker) |
 *   +----------+----------+---------------+-----------------------------------+
 */

/** Starts a frame; returns the offset where its size must be patched by endFrame. */
function beginFrame(w: Writer, type: number, channel: number): number {
  w.ensure(7);
  const b = w.buf;
  const p = w.pos;
  b[p] = type;
  b.writeUInt16BE(channel, p + 1);
  w.pos = p + 7;
  return p;
}

function endFrame(w: Writer, start: number): void {
  w.buf.writeUInt32BE(w.pos - start - 7, start + 3);
  w.u8(FRAME_END);
}

/**
 * Appends one method frame. If the method cannot be encoded (a shortstr over 255 bytes), the
 * writer is left as it was and the error thrown: never half a frame in the output.
 */
export function writeMethodFrame(w: Writer, channel: number, method: MethodInit): void {
  const start = beginFrame(w, FrameType.METHOD, channel);
  try {
    encodeMethod(w, method);
  } catch (e) {
    w.pos = start;
    throw e;
  }
  endFrame(w, start);
}

/** Appends a heartbeat frame. */
export function writeHeartbeat(w: Writer): void {
  w.ensure(8);
  const p = w.pos;
  w.buf[p] = FrameType.HEARTBEAT;
  w.buf.writeUInt16BE(0, p + 1);
  w.buf.writeUInt32BE(0, p + 3);
  w.buf[p + 7] = FRAME_END;
  w.pos = p + 8;
}

/** Stores a frame header (type, channel, size) at b[p]. */
function putFrameHeader(b: Buffer, p: number, type: number, channel: number, size: number): void {
  b[p] = type;
  b[p + 1] = channel >>> 8;
  b[p + 2] = channel;
  b[p + 3] = size >>> 24;
  b[p + 4] = size >>> 16;
  b[p + 5] = size >>> 8;
  b[p + 6] = size;
}

function checkChannel(channel: number): void {
  if ((channel & 0xffff) !== channel) throw new RangeError(`channel out of range: ${channel}`);
}

/**
 * Appends a content header (class 60, raw property bytes) and the body split into frames of
 * at most frameMax bytes (frameMax 0 means unlimited).
 */
export function writeContent(
  w: Writer,
  channel: number,
  rawProps: Uint8Array,
  body: Uint8Array,
  frameMax: number,
): void {
  checkChannel(channel);
  const bodyLen = body.length;
  const propsLen = rawProps.length;
  const maxPayload = frameMax > 0 ? frameMax - 8 : bodyLen || 1;
  // (frameMax 1..8 used to loop forever here.)
  if (bodyLen > 0 && maxPayload < 1) throw new RangeError(`frameMax too small for a body frame: ${frameMax}`);
  const bodyFrames = bodyLen === 0 ? 0 : Math.ceil(bodyLen / maxPayload);
  w.ensure(8 + 12 + propsLen + bodyLen + bodyFrames * 8);
  const b = w.buf;
  let p = w.pos;
  putFrameHeader(b, p, FrameType.HEADER, channel, 12 + propsLen);
  b[p + 7] = 0; // class 60, weight 0
  b[p + 8] = 60;
  b[p + 9] = 0;
  b[p + 10] = 0;
  const hi = Math.floor(bodyLen / 0x100000000);
  b[p + 11] = hi >>> 24;
  b[p + 12] = hi >>> 16;
  b[p + 13] = hi >>> 8;
  b[p + 14] = hi;
  b[p + 15] = bodyLen >>> 24;
  b[p + 16] = bodyLen >>> 16;
  b[p + 17] = bodyLen >>> 8;
  b[p + 18] = bodyLen;
  b.set(rawProps, p + 19);
  p += 19 + propsLen;
  b[p++] = FRAME_END;
  for (let off = 0; off < bodyLen; off += maxPayload) {
    const n = Math.min(maxPayload, bodyLen - off);
    putFrameHeader(b, p, FrameType.BODY, channel, n);
    b.set(n === bodyLen ? body : body.subarray(off, off + n), p + 7);
    p += 7 + n;
    b[p++] = FRAME_END;
  }
  w.pos = p;
}

/**
 * Stores s as a shortstr at b[p], assuming room for 1 + 3 * s.length bytes (UTF-8 takes at
 * most 3 bytes per UTF-16 unit); returns the offset after it.
 */
function putShortstr(b: Buffer, p: number, s: string): number {
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) break;
    b[p + 1 + i] = c;
  }
  if (i === n) {
    if (n > 255) throw new RangeError(`shortstr longer than 255 bytes: ${n}`);
    b[p] = n;
    return p + 1 + n;
  }
  const len = b.write(s, p + 1, "utf8");
  if (len > 255) throw new RangeError(`shortstr longer than 255 bytes: ${Buffer.byteLength(s)}`);
  b[p] = len;
  return p + 1 + len;
}

/**
 * basic.deliver, written by hand because it is the broker's hottest path: no method object,
 * no string re-encoding beyond the two names.
 */
export function writeDeliver(
  w: Writer,
  channel: number,
  consumerTag: string,
  deliveryTag: number,
  redelivered: boolean,
  exchange: string,
  routingKey: string,
  rawProps: Uint8Array,
  body: Uint8Array,
  frameMax: number,
): void {
  checkChannel(channel);
  if (!(deliveryTag >= 0 && deliveryTag < 2 ** 64))
    throw new RangeError(`delivery tag out of range: ${deliveryTag}`);
  w.ensure(7 + 4 + 8 + 1 + 3 + 3 * (consumerTag.length + exchange.length + routingKey.length) + 1);
  const b = w.buf;
  const start = w.pos;
  let p = start + 7;
  b[p] = 0; // class 60, method 60
  b[p + 1] = 60;
  b[p + 2] = 0;
  b[p + 3] = 60;
  p = putShortstr(b, p + 4, consumerTag);
  const hi = Math.floor(deliveryTag / 0x100000000);
  b[p] = hi >>> 24;
  b[p + 1] = hi >>> 16;
  b[p + 2] = hi >>> 8;
  b[p + 3] = hi;
  b[p + 4] = deliveryTag >>> 24;
  b[p + 5] = deliveryTag >>> 16;
  b[p + 6] = deliveryTag >>> 8;
  b[p + 7] = deliveryTag;
  b[p + 8] = redelivered ? 1 : 0;
  p = putShortstr(b, p + 9, exchange);
  p = putShortstr(b, p, routingKey);
  putFrameHeader(b, start, FrameType.METHOD, channel, p - start - 7);
  b[p] = FRAME_END;
  w.pos = p + 1;
  writeContent(w, channel, rawProps, body, frameMax);
}

/** A method carrying content (basic.get-ok, basic.return, basic.publish) followed by its content. */
export function writeMethodWithContent(
  w: Writer,
  channel: number,
  method: MethodInit,
  rawProps: Uint8Array,
  body: Uint8Array,
  frameMax: number,
): void {
  writeMethodFrame(w, channel, method);
  writeContent(w, channel, rawProps, body, frameMax);
}
