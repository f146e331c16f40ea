import { frameError } from "./errors.js";
import {
  type BasicProperties,
  decodeProperties,
  encodeProperties,
  PropertyFlag,
} from "./generated/methods.js";
import { Writer } from "./writer.js";

/*
 * Raw properties are the bytes after body-size in a content header:
 *
 *   +-----------------+----------------------------------------------+
 *   | flags u16 (+u16 | present properties in spec order             |
 *   | while bit 0 set)| shortstr | table | octet | timestamp(u64)     |
 *   +-----------------+----------------------------------------------+
 *
 * The broker keeps them as they came and reads single fields with the peek functions below,
 * which walk the list without decoding the rest.
 */

/** Encodes properties to their raw form. */
export function encodeRawProperties(props: BasicProperties): Buffer {
  const w = new Writer(64);
  encodeProperties(w, props);
  return w.toBuffer();
}

/** Decodes raw properties. */
export function decodeRawProperties(raw: Buffer): BasicProperties {
  return decodeProperties(raw, 0, raw.length);
}

// The spec order of the 14 properties and their kinds: 0 shortstr, 1 table, 2 octet, 3 timestamp.
const PROPERTY_KINDS: readonly number[] = [0, 0, 1, 2, 2, 0, 0, 0, 0, 3, 0, 0, 0, 0];

/**
 * Where the property list starts, after the flag words, or -1 when they run past raw. Further
 * flag words (bit 0 set) carry no basic property; they are skipped as decodeProperties does.
 */
export function propertyListStart(raw: Buffer): number {
  if (raw.length < 2) return -1;
  let o = 2;
  if (raw[1]! & 1) {
    do {
      if (o + 2 > raw.length) return -1;
      o += 2;
    } while (raw[o - 1]! & 1);
  }
  return o;
}

/** End of the i-th property (spec order) when it starts at o, or -1 when it runs past raw. */
export function propertyEnd(raw: Buffer, i: number, o: number): number {
  let e: number;
  switch (PROPERTY_KINDS[i]) {
    case 0:
      e = o < raw.length ? o + 1 + raw[o]! : -1;
      break;
    case 1:
      e = o + 4 <= raw.length ? o + 4 + raw.readUInt32BE(o) : -1;
      break;
    case 2:
      e = o + 1;
      break;
    default:
      e = o + 8;
  }
  return e <= raw.length ? e : -1;
}

/** Offset of the property with the given flag bit inside raw, or -1 if absent or malformed. */
export function propertyOffset(raw: Buffer, flag: number): number {
  if (raw.length < 2) return -1;
  const flags = raw.readUInt16BE(0);
  if ((flags & flag) === 0) return -1;
  let o = propertyListStart(raw);
  for (let i = 0; i < 14 && o >= 0; i++) {
    const bit = 1 << (15 - i);
    if (bit === flag) return o;
    if (flags & bit) o = propertyEnd(raw, i, o);
  }
  return -1;
}

/** delivery-mode (2 = persistent), or 0 when absent. */
export function peekDeliveryMode(raw: Buffer): number {
  const o = propertyOffset(raw, PropertyFlag.deliveryMode);
  return o < 0 || o >= raw.length ? 0 : raw[o]!;
}

/** priority, or -1 when absent. */
export function peekPriority(raw: Buffer): number {
  const o = propertyOffset(raw, PropertyFlag.priority);
  return o < 0 || o >= raw.length ? -1 : raw[o]!;
}

/** expiration as its string, or undefined when absent. */
export function peekExpiration(raw: Buffer): string | undefined {
  const o = propertyOffset(raw, PropertyFlag.expiration);
  if (o < 0 || o >= raw.length || o + 1 + raw[o]! > raw.length) return undefined;
  return raw.toString("utf8", o + 1, o + 1 + raw[o]!);
}

/** reply-to, or undefined when absent. */
export function peekReplyTo(raw: Buffer): string | undefined {
  const o = propertyOffset(raw, PropertyFlag.replyTo);
  if (o < 0 || o >= raw.length || o + 1 + raw[o]! > raw.length) return undefined;
  return raw.toString("utf8", o + 1, o + 1 + raw[o]!);
}

/** True when the headers property is present. */
export function hasHeaders(raw: Buffer): boolean {
  return raw.length >= 2 && (raw.readUInt16BE(0) & PropertyFlag.headers) !== 0;
}

/** A content header frame's payload, parsed: see decodeContentHeader. */
export interface ContentHeader {
  classId: number;
  weight: number;
  bodySize: number;
  /** The raw property flags and list: a view into the frame's buffer, not a copy. */
  rawProperties: Buffer;
}

/**
 * Parses a content header payload buf[start, end): class-id u16, weight u16, body-size u64,
 * then the raw properties (at least the u16 flags). Throws a FRAME_ERROR when it is too short
 * or the body size is beyond 2^53 - 1. The properties are left raw, for decodeRawProperties
 * or the peek functions.
 */
export function decodeContentHeader(buf: Buffer, start: number, end: number): ContentHeader {
  if (end - start < 14) throw frameError(`content header too short: ${end - start} bytes`);
  const hi = buf.readUInt32BE(start + 4);
  if (hi > 0x1fffff) throw frameError("content body size beyond 2^53");
  return {
    classId: buf.readUInt16BE(start),
    weight: buf.readUInt16BE(start + 2),
    bodySize: hi * 0x100000000 + buf.readUInt32BE(start + 8),
    rawProperties: buf.subarray(start + 12, end),
  };
}
