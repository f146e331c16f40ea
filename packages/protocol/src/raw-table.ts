import {
  decodeLooseShortString,
  type FieldValue,
  FIELD_WIDTHS,
  readFieldValueAt,
  writeFieldValue,
} from "./field-table.js";
import { PropertyFlag } from "./generated/methods.js";
import { propertyEnd, propertyListStart, propertyOffset } from "./properties.js";
import { Writer } from "./writer.js";

/*
 * Field tables and properties worked on as bytes, without decoding them.
 *
 * The broker keeps a message's properties exactly as they arrived and forwards them untouched.
 * The few places that must read or change them later (dead-lettering adds x-death, quorum
 * queues add x-delivery-count, direct reply-to rewrites reply-to, the headers exchange reads
 * headers) work on the top level only: every other value is copied as its bytes. That makes
 * them total on anything `propertiesProblem` accepted at publish, however deeply the client
 * nested its tables, and keeps them from paying for values they never look at.
 *
 * A raw value is its type octet followed by its bytes, exactly as inside a table.
 */

/** A top-level table entry: its key and its raw value (type octet first). */
export interface RawEntry {
  readonly key: string;
  readonly value: Buffer;
}

const TABLE = 0x46; // F
const ARRAY = 0x41; // A
const LONGSTR = 0x53; // S
const BYTES = 0x78; // x

/**
 * End offset of the raw value at buf[pos] (type octet first), or -1 when it does not fit in
 * buf[pos, end) or its type is unknown. Nested tables and arrays are skipped by their size,
 * not walked.
 */
export function rawValueEnd(buf: Buffer, pos: number, end: number): number {
  if (pos >= end) return -1;
  const type = buf[pos]!;
  const fixed = type < 128 ? FIELD_WIDTHS[type]! : -1;
  if (fixed >= 0) return pos + 1 + fixed <= end ? pos + 1 + fixed : -1;
  if (type !== LONGSTR && type !== BYTES && type !== ARRAY && type !== TABLE) return -1;
  if (pos + 5 > end) return -1;
  const e = pos + 5 + buf.readUInt32BE(pos + 1);
  return e <= end ? e : -1;
}

/**
 * Why buf[start, end) is not a well-formed table body (or array body, when `array`), or
 * undefined when it is: every key and value fits, every type is known, at any depth. Walks
 * nested values with an explicit stack, so no input can exhaust the call stack.
 */
export function tableProblem(buf: Buffer, start: number, end: number, array = false): string | undefined {
  // ends[i]: where the i-th open table or array ends; arrays[i]: whether it is an array.
  // Module-level and reused (the walk is synchronous): no allocation per published message.
  const ends = ENDS;
  const arrays = ARRAYS;
  ends.length = 0;
  arrays.length = 0;
  ends.push(end);
  arrays.push(array);
  let pos = start;
  while (ends.length > 0) {
    const top = ends.length - 1;
    const e = ends[top]!;
    if (pos === e) {
      ends.pop();
      arrays.pop();
      continue;
    }
    if (!arrays[top]) {
      const klen = buf[pos]!;
      if (pos + 1 + klen > e) return "table key runs past the table";
      pos += 1 + klen;
    }
    const ve = rawValueEnd(buf, pos, e);
    if (ve < 0) {
      const type = pos < e ? buf[pos]! : -1;
      if (type >= 0 && !isKnownType(type))
        return `unknown field table type ${JSON.stringify(String.fromCharCode(type))}`;
      return "field value runs past its table";
    }
    const type = buf[pos]!;
    if (type === TABLE || type === ARRAY) {
      ends.push(ve);
      arrays.push(type === ARRAY);
      pos += 5;
    } else pos = ve;
  }
  return undefined;
}

const ENDS: number[] = [];
const ARRAYS: boolean[] = [];

function isKnownType(t: number): boolean {
  return (t < 128 && FIELD_WIDTHS[t]! >= 0) || t === LONGSTR || t === BYTES || t === ARRAY || t === TABLE;
}

/**
 * Byte ranges of the present properties: spans[2i], spans[2i+1] are the start and end of the
 * i-th property (spec order) in raw, -1 when absent. Undefined when the list runs past raw.
 */
function propertySpans(raw: Buffer): Int32Array | undefined {
  const flags = raw.readUInt16BE(0);
  let o = propertyListStart(raw);
  const spans = new Int32Array(28).fill(-1);
  for (let i = 0; i < 14 && o >= 0; i++) {
    if ((flags & (1 << (15 - i))) === 0) continue;
    spans[2 * i] = o;
    o = spans[2 * i + 1] = propertyEnd(raw, i, o);
  }
  return o < 0 ? undefined : spans;
}

/** Index of the headers property in spec order. */
const HEADERS = 2;

/**
 * Why raw properties (flags and list, as in a content header) are malformed, or undefined:
 * every present property fits and the headers table is well-formed at any depth. The broker
 * checks this once at publish, so nothing that later reads the stored bytes can fail.
 */
export function propertiesProblem(raw: Buffer): string | undefined {
  // Walks the list in place (no allocation: this runs for every publish).
  if (raw.length < 2) return "content header too short for property flags";
  const flags = raw.readUInt16BE(0);
  let o = propertyListStart(raw);
  if (o < 0) return "property flags run past the content header";
  for (let i = 0; i < 14; i++) {
    if ((flags & (1 << (15 - i))) === 0) continue;
    const e = propertyEnd(raw, i, o);
    if (e < 0) return "property list runs past the content header";
    if (i === HEADERS) {
      const problem = tableProblem(raw, o + 4, e);
      if (problem !== undefined) return problem;
    }
    o = e;
  }
  return undefined;
}

/** The headers table body inside raw properties as [start, end), or undefined when absent. */
export function headersRange(raw: Buffer): [number, number] | undefined {
  const o = propertyOffset(raw, PropertyFlag.headers);
  if (o < 0 || o + 4 > raw.length) return undefined;
  const e = o + 4 + raw.readUInt32BE(o);
  return e <= raw.length ? [o + 4, e] : undefined;
}

/**
 * Raw properties with one property set to `value` (its bytes as in the property list: a
 * shortstr with its length octet, a table with its u32 size, ...) or removed when value is
 * undefined. Every other property is copied as it was. Returns raw itself when it is malformed.
 */
export function withRawProperty(raw: Buffer, flag: number, value: Buffer | undefined): Buffer {
  const spans = propertySpans(raw.length >= 2 ? raw : EMPTY_FLAGS);
  if (!spans) return raw;
  const oldFlags = raw.length >= 2 ? raw.readUInt16BE(0) : 0;
  const flags = value === undefined ? oldFlags & ~flag & 0xfffe : (oldFlags | flag) & 0xfffe;
  const parts: Buffer[] = [Buffer.from([flags >> 8, flags & 0xff])];
  for (let i = 0; i < 14; i++) {
    const bit = 1 << (15 - i);
    if (bit === flag) {
      if (value !== undefined) parts.push(value);
    } else if (spans[2 * i]! >= 0) parts.push(raw.subarray(spans[2 * i]!, spans[2 * i + 1]!));
  }
  return Buffer.concat(parts);
}

const EMPTY_FLAGS = Buffer.alloc(2);

/** A shortstr as a property value: length octet and bytes (at most 255 bytes). */
export function rawShortString(s: string): Buffer {
  const b = Buffer.from(s, "utf8");
  if (b.length > 255) throw new RangeError(`shortstr longer than 255 bytes: ${b.length}`);
  return Buffer.concat([Buffer.from([b.length]), b]);
}

/**
 * The top-level entries of the table body buf[start, end), values left raw. Never throws:
 * it stops at the first entry that does not fit (none do in validated properties).
 */
export function tableEntries(buf: Buffer, start: number, end: number): RawEntry[] {
  const out: RawEntry[] = [];
  let pos = start;
  while (pos < end) {
    const klen = buf[pos]!;
    const ks = pos + 1;
    if (ks + klen > end) break;
    const ve = rawValueEnd(buf, ks + klen, end);
    if (ve < 0) break;
    out.push({ key: decodeLooseShortString(buf, ks, ks + klen), value: buf.subarray(ks + klen, ve) });
    pos = ve;
  }
  return out;
}

/** The items of a raw array value (type octet 'A' first), each raw; [] for any other value. */
export function arrayItems(value: Buffer): Buffer[] {
  if (value[0] !== ARRAY || value.length < 5) return [];
  const out: Buffer[] = [];
  const end = Math.min(value.length, 5 + value.readUInt32BE(1));
  let pos = 5;
  while (pos < end) {
    const ve = rawValueEnd(value, pos, end);
    if (ve < 0) break;
    out.push(value.subarray(pos, ve));
    pos = ve;
  }
  return out;
}

/** The entries of a raw table value (type octet 'F' first); undefined for any other value. */
export function rawTableEntries(value: Buffer): RawEntry[] | undefined {
  if (value[0] !== TABLE || value.length < 5) return undefined;
  return tableEntries(value, 5, Math.min(value.length, 5 + value.readUInt32BE(1)));
}

/** The string in a raw longstr value, or undefined for any other value. */
export function rawString(value: Buffer): string | undefined {
  if (value[0] !== LONGSTR || value.length < 5) return undefined;
  return value.toString("utf8", 5, value.length);
}

/**
 * Decodes one raw value. Undefined when it cannot be decoded into JS values (a table nested
 * deeper than MAX_FIELD_DEPTH): callers treat that as "not the value they look for".
 */
export function decodeRawValue(value: Buffer): FieldValue | undefined {
  try {
    return readFieldValueAt(value, 0, value.length);
  } catch {
    return undefined;
  }
}

/** Encodes one value as a raw value (type octet first). */
export function encodeRawValue(v: FieldValue): Buffer {
  const w = new Writer(32);
  writeFieldValue(w, v);
  return w.toBuffer();
}

/** A table (with its u32 size) from entries whose values are raw. */
export function encodeRawTable(entries: readonly RawEntry[]): Buffer {
  const w = new Writer(256);
  w.ensure(4);
  w.pos += 4;
  for (const e of entries) {
    w.shortstr(e.key);
    w.bytes(e.value);
  }
  w.buf.writeUInt32BE(w.pos - 4, 0);
  return w.toBuffer();
}

/** An array value (type octet 'A' first) from raw items. */
export function encodeRawArrayValue(items: readonly Buffer[]): Buffer {
  const size = Buffer.alloc(5);
  size[0] = ARRAY;
  let n = 0;
  for (const i of items) n += i.length;
  size.writeUInt32BE(n, 1);
  return Buffer.concat([size, ...items]);
}
