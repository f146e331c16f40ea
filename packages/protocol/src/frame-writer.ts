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

/** Appends one method frame. */
export function writeMethodFrame(w: Writer, channel: number, method: MethodInit): void {
  const start = beginFrame(w, FrameType.METHOD, channel);
  encodeMethod(w, method);
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
  const bodyLen = body.length;
  const maxPayload = frameMax > 0 ? frameMax - 8 : bodyLen || 1;
  const bodyFrames = bodyLen === 0 ? 0 : Math.ceil(bodyLen / maxPayload);
  w.ensure(8 + 12 + rawProps.length + bodyLen + bodyFrames * 8);
  const b = w.buf;
  let p = w.pos;
  b[p] = FrameType.HEADER;
  b.writeUInt16BE(channel, p + 1);
  b.writeUInt32BE(12 + rawProps.length, p + 3);
  b.writeUInt32BE(0x003c0000, p + 7); // class 60, weight 0
  b.writeUInt32BE(Math.floor(bodyLen / 0x100000000), p + 11);
  b.writeUInt32BE(bodyLen >>> 0, p + 15);
  b.set(rawProps, p + 19);
  p += 19 + rawProps.length;
  b[p++] = FRAME_END;
  for (let off = 0; off < bodyLen; off += maxPayload) {
    const n = Math.min(maxPayload, bodyLen - off);
    b[p] = FrameType.BODY;
    b.writeUInt16BE(channel, p + 1);
    b.writeUInt32BE(n, p + 3);
    b.set(n === bodyLen ? body : body.subarray(off, off + n), p + 7);
    p += 7 + n;
    b[p++] = FRAME_END;
  }
  w.pos = p;
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
  const start = beginFrame(w, FrameType.METHOD, channel);
  w.u32(0x003c003c);
  w.shortstr(consumerTag);
  w.u64(deliveryTag);
  w.u8(redelivered ? 1 : 0);
  w.shortstr(exchange);
  w.shortstr(routingKey);
  endFrame(w, start);
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
