import { isUtf8 } from "node:buffer";
import { frameError, syntaxError } from "./errors.js";
import type { Writer } from "./writer.js";

/**
 * Field tables and arrays, with every type RabbitMQ speaks. RabbitMQ's errata differ from
 * the 0-9-1 spec: `s` is a signed 16-bit short, `l` (and `L`) a signed 64-bit integer, and
 * `x` is a byte array.
 *
 *   table:  +------------+---------------------------------------------+
 *           | size: u32  | ( name: shortstr, type: u8, value )*         |
 *           +------------+---------------------------------------------+
 *   array:  +------------+-------------------+
 *           | size: u32  | ( type: u8, value )* |
 *           +------------+-------------------+
 *
 *   t bool(u8)  b i8  B u8  s i16  u u16  I i32  i u32  l i64  L i64  f f32  d f64
 *   D decimal(scale u8, value u32)  S longstr  A array  T timestamp(u64)  F table
 *   x bytes(longstr)  V void
 *
 * Decoding gives plain JS values for the common types (t → boolean, I → number, d → number
 * unless it is a safe integer, S → string, A → array, F → object, V → null) and a TypedValue
 * for the rest, so that a decoded table encodes back to the same bytes (as long as its keys
 * are not integer-like: JS objects list those first, whatever the wire order).
 */

export type FieldType =
  "t" | "b" | "B" | "s" | "u" | "I" | "i" | "l" | "L" | "f" | "d" | "D" | "S" | "A" | "T" | "F" | "x" | "V";

export interface Decimal {
  scale: number;
  value: number;
}

/** A value that keeps its wire type. */
export class TypedValue {
  constructor(
    readonly type: FieldType,
    readonly value: number | bigint | Decimal | Buffer,
  ) {}
}

export type FieldValue =
  | string
  | boolean
  | number
  | bigint
  | null
  | undefined
  | Date
  | Buffer
  | TypedValue
  | FieldValue[]
  | FieldTable;

export interface FieldTable {
  [key: string]: FieldValue;
}

/** Helpers to build typed values when the default inference is not what the peer expects. */
export const typed = {
  byte: (v: number) => new TypedValue("b", v),
  ubyte: (v: number) => new TypedValue("B", v),
  short: (v: number) => new TypedValue("s", v),
  ushort: (v: number) => new TypedValue("u", v),
  int: (v: number) => new TypedValue("I", v),
  uint: (v: number) => new TypedValue("i", v),
  long: (v: number | bigint) => new TypedValue("l", BigInt(v)),
  float: (v: number) => new TypedValue("f", v),
  double: (v: number) => new TypedValue("d", v),
  decimal: (scale: number, value: number) => new TypedValue("D", { scale, value }),
  timestamp: (seconds: number | bigint) => new TypedValue("T", BigInt(seconds)),
  bytes: (b: Buffer) => new TypedValue("x", b),
};

/** The integer behind a numeric field value of any wire type, or undefined. */
export function fieldInteger(v: FieldValue): number | undefined {
  if (typeof v === "number") return Number.isInteger(v) ? v : undefined;
  if (typeof v === "bigint") return Number(v);
  if (v instanceof TypedValue) {
    if (typeof v.value === "number") return Number.isInteger(v.value) ? v.value : undefined;
    if (typeof v.value === "bigint") return Number(v.value);
  }
  return undefined;
}

// ---------------------------------------------------------------- encoding

export function writeTable(w: Writer, table: FieldTable | undefined): void {
  w.ensure(4);
  const start = w.pos;
  w.pos += 4;
  if (table) {
    for (const key of Object.keys(table)) {
      const v = table[key];
      if (v === undefined) continue;
      w.shortstr(key);
      writeFieldValue(w, v);
    }
  }
  w.buf.writeUInt32BE(w.pos - start - 4, start);
}

export function writeArray(w: Writer, arr: readonly FieldValue[]): void {
  w.ensure(4);
  const start = w.pos;
  w.pos += 4;
  for (const v of arr) writeFieldValue(w, v);
  w.buf.writeUInt32BE(w.pos - start - 4, start);
}

/** Writes one value: its type octet, then its bytes. */
export function writeFieldValue(w: Writer, v: FieldValue): void {
  switch (typeof v) {
    case "string":
      w.u8(0x53); // S
      w.longstr(v);
      return;
    case "boolean":
      w.u8(0x74); // t
      w.u8(v ? 1 : 0);
      return;
    case "number":
      if (Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff) {
        w.u8(0x49); // I
        w.ensure(4);
        w.buf.writeInt32BE(v, w.pos);
        w.pos += 4;
      } else if (Number.isSafeInteger(v)) {
        w.u8(0x6c); // l
        w.i64(v);
      } else {
        w.u8(0x64); // d
        w.ensure(8);
        w.buf.writeDoubleBE(v, w.pos);
        w.pos += 8;
      }
      return;
    case "bigint":
      w.u8(0x6c);
      w.i64(v);
      return;
    case "undefined":
      w.u8(0x56); // V
      return;
    case "object":
      break;
    default:
      throw new TypeError(`cannot encode ${typeof v} in a field table`);
  }
  if (v === null) w.u8(0x56);
  else if (Array.isArray(v)) {
    w.u8(0x41); // A
    writeArray(w, v);
  } else if (v instanceof TypedValue) writeTyped(w, v);
  else if (Buffer.isBuffer(v)) {
    w.u8(0x78); // x
    w.longstr(v);
  } else if (v instanceof Date) {
    w.u8(0x54); // T
    w.u64(Math.floor(v.getTime() / 1000));
  } else {
    w.u8(0x46); // F
    writeTable(w, v as FieldTable);
  }
}

function writeTyped(w: Writer, t: TypedValue): void {
  const { type, value } = t;
  w.u8(type.charCodeAt(0));
  w.ensure(9);
  const b = w.buf;
  const num = value as number;
  switch (type) {
    case "t":
      b[w.pos++] = value ? 1 : 0;
      return;
    case "b":
      w.pos = b.writeInt8(num, w.pos);
      return;
    case "B":
      w.pos = b.writeUInt8(num, w.pos);
      return;
    case "s":
      w.pos = b.writeInt16BE(num, w.pos);
      return;
    case "u":
      w.pos = b.writeUInt16BE(num, w.pos);
      return;
    case "I":
      w.pos = b.writeInt32BE(num, w.pos);
      return;
    case "i":
      w.pos = b.writeUInt32BE(num, w.pos);
      return;
    case "l":
    case "L":
      w.i64(value as bigint | number);
      return;
    case "T":
      w.u64(value as bigint | number);
      return;
    case "f":
      w.pos = b.writeFloatBE(num, w.pos);
      return;
    case "d":
      w.pos = b.writeDoubleBE(num, w.pos);
      return;
    case "D": {
      const d = value as Decimal;
      b[w.pos] = d.scale;
      // RabbitMQ reads the value as unsigned; accept a negative int32 as its two's complement.
      w.pos = b.writeUInt32BE(d.value < 0 && d.value >= -0x80000000 ? d.value >>> 0 : d.value, w.pos + 1);
      return;
    }
    case "x":
    case "S":
      w.longstr(value as Buffer);
      return;
    case "V":
      return;
    default:
      throw new TypeError(`cannot encode typed value of type ${type}`);
  }
}

// ---------------------------------------------------------------- decoding

/**
 * How deeply tables and arrays may nest when decoding. Without a limit, a 128 KiB frame of
 * nested arrays (5 bytes a level) would overflow the stack; deeper input is a SYNTAX_ERROR.
 */
export const MAX_FIELD_DEPTH = 100;

/**
 * Decodes a shortstr method argument (a queue or exchange name, a consumer tag). Names repeat
 * from message to message, so short ASCII strings go through a small direct-mapped cache:
 * hashing and comparing a few bytes in JS is cheaper than Buffer#toString, and the decoded
 * values share their strings. Malformed UTF-8 is refused with FRAME_ERROR, as RabbitMQ does:
 * replacing it would make two different names one, and could turn a 255-byte name into one
 * too long to send back.
 */
export function decodeShortString(buf: Buffer, start: number, end: number): string {
  return cachedString(buf, start, end, true);
}

/**
 * Decodes a table key or a property's shortstr: cached like decodeShortString, but malformed
 * UTF-8 is replaced, not refused (RabbitMQ does not check these).
 */
export function decodeLooseShortString(buf: Buffer, start: number, end: number): string {
  return cachedString(buf, start, end, false);
}

/** A shortstr argument that seldom repeats (a routing key, a reply text): strict, not cached. */
export function decodeStrictString(buf: Buffer, start: number, end: number): string {
  const s = buf.toString("utf8", start, end);
  // Malformed input decodes with U+FFFD; only then is the check needed.
  if (s.includes("\ufffd") && !isUtf8(buf.subarray(start, end)))
    throw frameError("Malformed UTF-8 in shortstr");
  return s;
}

const KEY_CACHE = new Array<string>(1024).fill("");
function cachedString(buf: Buffer, start: number, end: number, strict: boolean): string {
  const n = end - start;
  if (n > 32) return decodeUtf8(buf, start, end, strict);
  let h = n;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c > 0x7f) return decodeUtf8(buf, start, end, strict);
    h = Math.imul(h ^ c, 0x01000193);
  }
  const slot = (h ^ (h >>> 16)) & 1023;
  const cached = KEY_CACHE[slot]!;
  if (cached.length === n) {
    let i = 0;
    while (i < n && cached.charCodeAt(i) === buf[start + i]) i++;
    if (i === n) return cached;
  }
  const key = buf.toString("latin1", start, end);
  KEY_CACHE[slot] = key;
  return key;
}

function decodeUtf8(buf: Buffer, start: number, end: number, strict: boolean): string {
  if (strict && !isUtf8(buf.subarray(start, end))) throw frameError("Malformed UTF-8 in shortstr");
  return buf.toString("utf8", start, end);
}

/**
 * Where readFieldValue left off. Decoding is synchronous, so one module-level cursor is safe
 * and spares an allocation per table or array.
 */
let cursor = 0;

/** Decodes a table body occupying buf[start, end) (after its u32 size). */
export function readTable(buf: Buffer, start: number, end: number, depth = 0): FieldTable {
  if (depth > MAX_FIELD_DEPTH) throw syntaxError(`field table nested deeper than ${MAX_FIELD_DEPTH}`);
  const table: FieldTable = {};
  let pos = start;
  while (pos < end) {
    const klen = buf[pos]!;
    const kstart = pos + 1;
    if (kstart + klen > end) throw frameError("table key runs past the table");
    const key = decodeLooseShortString(buf, kstart, kstart + klen);
    cursor = kstart + klen;
    const value = readFieldValue(buf, end, depth);
    pos = cursor;
    // A key "__proto__" must become an own property, not replace the table's prototype.
    if (key === "__proto__")
      Object.defineProperty(table, key, { value, enumerable: true, writable: true, configurable: true });
    else table[key] = value;
  }
  return table;
}

export function readArray(buf: Buffer, start: number, end: number, depth = 0): FieldValue[] {
  if (depth > MAX_FIELD_DEPTH) throw syntaxError(`field array nested deeper than ${MAX_FIELD_DEPTH}`);
  const arr: FieldValue[] = [];
  cursor = start;
  while (cursor < end) {
    const v = readFieldValue(buf, end, depth);
    arr.push(v);
  }
  return arr;
}

/** Decodes the one value at buf[pos] (type octet first) that must end by `end`. */
export function readFieldValueAt(buf: Buffer, pos: number, end: number): FieldValue {
  cursor = pos;
  return readFieldValue(buf, end, 0);
}

/** Byte widths of the fixed-size types, indexed by type char code; -1 for the others. */
export const FIELD_WIDTHS = new Int8Array(128).fill(-1);
for (const [t, n] of Object.entries({
  t: 1,
  b: 1,
  B: 1,
  s: 2,
  u: 2,
  I: 4,
  i: 4,
  l: 8,
  L: 8,
  f: 4,
  d: 8,
  D: 5,
  T: 8,
  V: 0,
})) {
  FIELD_WIDTHS[t.charCodeAt(0)] = n;
}

/** Decodes the value at `cursor` (type octet first) and moves `cursor` past it. */
function readFieldValue(buf: Buffer, end: number, depth: number): FieldValue {
  if (cursor >= end) throw frameError("field value missing");
  const type = buf[cursor]!;
  const p = cursor + 1;
  const fixed = type < 128 ? FIELD_WIDTHS[type]! : -1;
  if (fixed >= 0) {
    if (p + fixed > end) throw frameError("field value runs past the table");
    cursor = p + fixed;
    switch (type) {
      case 0x74: // t
        return buf[p] !== 0;
      case 0x62: // b
        return new TypedValue("b", buf.readInt8(p));
      case 0x42: // B
        return new TypedValue("B", buf[p]!);
      case 0x73: // s
        return new TypedValue("s", buf.readInt16BE(p));
      case 0x75: // u
        return new TypedValue("u", buf.readUInt16BE(p));
      case 0x49: // I
        return buf.readInt32BE(p);
      case 0x69: // i
        return new TypedValue("i", buf.readUInt32BE(p));
      case 0x6c: // l
        return new TypedValue("l", buf.readBigInt64BE(p));
      case 0x4c: // L
        return new TypedValue("L", buf.readBigInt64BE(p));
      case 0x66: // f
        return new TypedValue("f", buf.readFloatBE(p));
      case 0x64: // d: a plain number only when writeTable would write it back as a double
        return readDouble(buf, p);
      case 0x44: // D
        return new TypedValue("D", { scale: buf[p]!, value: buf.readUInt32BE(p + 1) });
      case 0x54: // T
        return new TypedValue("T", buf.readBigUInt64BE(p));
      default: // V
        return null;
    }
  }
  if (type === 0x53 || type === 0x78 || type === 0x41 || type === 0x46) {
    if (p + 4 > end) throw frameError("field length runs past the table");
    const len = buf.readUInt32BE(p);
    const s = p + 4;
    const e = s + len;
    if (e > end) throw frameError("field value runs past the table");
    let v: FieldValue;
    switch (type) {
      case 0x53:
        v = buf.toString("utf8", s, e);
        break;
      case 0x78:
        v = new TypedValue("x", Buffer.from(buf.subarray(s, e)));
        break;
      case 0x41:
        v = readArray(buf, s, e, depth + 1);
        break;
      default:
        v = readTable(buf, s, e, depth + 1);
    }
    cursor = e; // after any nested read, which moves the cursor itself
    return v;
  }
  throw syntaxError(`unknown field table type ${JSON.stringify(String.fromCharCode(type))}`);
}

function readDouble(buf: Buffer, p: number): FieldValue {
  const d = buf.readDoubleBE(p);
  return Number.isSafeInteger(d) ? new TypedValue("d", d) : d;
}
