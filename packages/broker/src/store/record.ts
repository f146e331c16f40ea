import { alignedBuffer, wordView, xxh32Words } from "./checksum.js";

/*
 * Segment file = 16-byte header, then records back to back, each starting 4-aligned.
 *
 *   header:  "WRNSEG01" | seq u32 | 0 u32
 *
 *   record (integers little-endian):
 *    0        4        8    9    10   11   12
 *    +--------+--------+----+----+----+----+---------------------------+-------+
 *    | check  |  len   |type| a  | b  | 0  | fields ...                | 0 pad |
 *    +--------+--------+----+----+----+----+---------------------------+-------+
 *    check  XXH32 of the words from byte 4 to the padded end (len .. pad)
 *    len    bytes from `type` to the end of the fields, unpadded; the record occupies
 *           8 + align4(len) bytes
 *
 *   PUB   1  a = exchange bytes, b = routing-key bytes
 *            | qid u32 | propsLen u32 | exchange | routingKey | rawProps | body |
 *            the message body; also puts it in queue qid. Its (seq, offset) is its identity.
 *   ENQ   2  | qid u32 | bodySeq u32 | bodyOff u32 |       fanout: one more queue holds it
 *   DEL   3  | qid u32 | entry* |   queue qid is done with these messages; each entry is three
 *            varints: zigzag(bodySeq - prev bodySeq), zigzag((bodyOff - prev bodyOff) / 4),
 *            recSeq - bodySeq, where recSeq is the segment of the PUB/ENQ being cancelled
 *   QDECL 4  | qid u32 | name utf8 |   qid means this queue from here to the end of the segment
 *   DLV   5  | qid u32 | entry* |   queue qid delivered these messages (to a consumer that must
 *            ack); each entry is two varints, zigzag(bodySeq - prev bodySeq) and
 *            zigzag((bodyOff - prev bodyOff) / 4). Only the redelivered flag at recovery reads it.
 *
 * qids are local to a segment (each segment declares the ones it uses before using them),
 * so deleting any segment never orphans a name.
 */

export const SEGMENT_MAGIC = "WRNSEG01";
export const SEGMENT_HEADER = 16;
export const REC_HEADER = 8;

export const PUB = 1;
export const ENQ = 2;
export const DEL = 3;
export const QDECL = 4;
export const DLV = 5;

/** Minimum `len` per type (type byte + fixed fields). */
const MIN_LEN = [0, 12, 16, 8, 8, 8];

/** Arithmetic, not bitwise: lengths read from damaged bytes go past 2^31. */
export function align4(n: number): number {
  const r = n % 4;
  return r === 0 ? n : n + 4 - r;
}

/** Appends records to a growable, 4-aligned buffer and checksums each one. */
export class RecordWriter {
  buf: Buffer;
  words: Int32Array;
  len = 0;

  constructor(capacity = 1 << 20) {
    this.buf = alignedBuffer(capacity);
    this.words = wordView(this.buf);
  }

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = alignedBuffer(Math.max(this.buf.length * 2, align4(this.len + n)));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
    this.words = wordView(next);
  }

  /** Drops the contents; shrinks back if one huge message grew the buffer. */
  reset(capacity: number): void {
    this.len = 0;
    if (this.buf.length > capacity * 4) {
      this.buf = alignedBuffer(capacity);
      this.words = wordView(this.buf);
    }
  }

  writeSegmentHeader(seq: number): void {
    this.ensure(SEGMENT_HEADER);
    const p = this.len;
    this.buf.write(SEGMENT_MAGIC, p, "latin1");
    this.buf.writeUInt32LE(seq, p + 8);
    this.buf.writeUInt32LE(0, p + 12);
    this.len += SEGMENT_HEADER;
  }

  /** Pads, checksums and commits the record started at pos with the given len. */
  private finish(pos: number, len: number): void {
    const end = pos + REC_HEADER + align4(len);
    for (let k = pos + REC_HEADER + len; k < end; k++) this.buf[k] = 0;
    const w = pos >>> 2;
    this.words[w + 1] = len;
    this.words[w] = xxh32Words(this.words, w + 1, end >>> 2);
    this.len = end;
  }

  private start(type: number, a: number, b: number, qid: number): number {
    const p = this.len;
    this.buf[p + 8] = type;
    this.buf[p + 9] = a;
    this.buf[p + 10] = b;
    this.buf[p + 11] = 0;
    this.words[(p >>> 2) + 3] = qid;
    return p;
  }

  /** Returns the record's position in the buffer. */
  writePub(qid: number, exchange: string, routingKey: string, props: Buffer, body: Buffer): number {
    // Strings are at most 255 UTF-8 bytes (AMQP shortstr), so 3 * length bounds them.
    this.ensure(REC_HEADER + 12 + 3 * (exchange.length + routingKey.length) + props.length + body.length + 4);
    const buf = this.buf;
    let q = this.len + 20;
    const exLen = buf.write(exchange, q, "utf8");
    q += exLen;
    const rkLen = buf.write(routingKey, q, "utf8");
    q += rkLen;
    if (exLen > 255 || rkLen > 255) throw new RangeError("exchange or routing key longer than 255 bytes");
    q += props.copy(buf, q);
    q += body.copy(buf, q);
    const p = this.start(PUB, exLen, rkLen, qid);
    this.words[(p >>> 2) + 4] = props.length;
    this.finish(p, q - p - REC_HEADER);
    return p;
  }

  writeEnq(qid: number, bodySeq: number, bodyOff: number): number {
    this.ensure(REC_HEADER + 16);
    const p = this.start(ENQ, 0, 0, qid);
    this.words[(p >>> 2) + 4] = bodySeq;
    this.words[(p >>> 2) + 5] = bodyOff;
    this.finish(p, 16);
    return p;
  }

  /** entries: flat (bodySeq, bodyOff, recSeq) triples in [from, to). */
  writeDel(qid: number, entries: number[], from: number, to: number): number {
    return this.writeEntries(DEL, qid, entries, from, to);
  }

  /** entries: flat (bodySeq, bodyOff) pairs in [from, to). */
  writeDlv(qid: number, entries: number[], from: number, to: number): number {
    return this.writeEntries(DLV, qid, entries, from, to);
  }

  /** A DEL (triples) or DLV (pairs) record: delta-coded varints, 2-5 bytes per entry. */
  private writeEntries(type: number, qid: number, entries: number[], from: number, to: number): number {
    const stride = entryStride(type);
    this.ensure(REC_HEADER + 8 + (to - from) * 5 + 4);
    const p = this.start(type, 0, 0, qid);
    let q = p + 16;
    let prevSeq = 0;
    let prevOff = 0;
    for (let i = from; i < to; i += stride) {
      const seq = entries[i]!;
      const off = entries[i + 1]!;
      q = writeVarint(this.buf, q, zigzag(seq - prevSeq));
      q = writeVarint(this.buf, q, zigzag((off - prevOff) / 4));
      if (stride === 3) q = writeVarint(this.buf, q, entries[i + 2]! - seq);
      prevSeq = seq;
      prevOff = off;
    }
    this.finish(p, q - p - REC_HEADER);
    return p;
  }

  writeQdecl(qid: number, name: string): number {
    this.ensure(REC_HEADER + 8 + 3 * name.length + 4);
    const p = this.start(QDECL, 0, 0, qid);
    const n = this.buf.write(name, p + 16, "utf8");
    this.finish(p, 8 + n);
    return p;
  }
}

function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

// Values reach 2^33, past 32-bit bitwise operators, hence the arithmetic.
function writeVarint(buf: Buffer, p: number, v: number): number {
  while (v >= 128) {
    buf[p++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  buf[p++] = v;
  return p;
}

/** Numbers per entry: DEL (bodySeq, bodyOff, recSeq), DLV (bodySeq, bodyOff). */
function entryStride(type: number): number {
  return type === DEL ? 3 : 2;
}

/**
 * Calls fn for each entry of the DEL or DLV record at pos: (bodySeq, bodyOff, recSeq), where
 * a DLV entry's recSeq is its bodySeq.
 */
export function forEachDelEntry(
  buf: Buffer,
  pos: number,
  fn: (bodySeq: number, bodyOff: number, recSeq: number) => void,
): void {
  const end = pos + REC_HEADER + buf.readUInt32LE(pos + 4);
  const stride = entryStride(recordType(buf, pos));
  let q = pos + 16;
  let seq = 0;
  let off = 0;
  const vals = [0, 0, 0];
  while (q < end) {
    for (let k = 0; k < stride; k++) {
      let v = 0;
      let mul = 1;
      let b: number;
      do {
        b = buf[q++]!;
        v += (b & 127) * mul;
        mul *= 128;
      } while (b & 128 && q < end);
      vals[k] = v;
    }
    const z0 = vals[0]!;
    const z1 = vals[1]!;
    seq += z0 % 2 === 0 ? z0 / 2 : -(z0 + 1) / 2;
    off += (z1 % 2 === 0 ? z1 / 2 : -(z1 + 1) / 2) * 4;
    fn(seq, off, stride === 3 ? seq + vals[2]! : seq);
  }
}

/** Where the fields of a PUB record lie in its buffer (filled in place by pubLayout). */
export class PubLayout {
  exStart = 0;
  rkStart = 0;
  propsStart = 0;
  bodyStart = 0;
  end = 0;
}

/** Fills out with the field positions of the PUB record at pos; decodes nothing. */
export function pubLayout(buf: Buffer, pos: number, out: PubLayout): void {
  const exStart = pos + 20;
  out.exStart = exStart;
  out.rkStart = exStart + buf[pos + 9]!;
  out.propsStart = out.rkStart + buf[pos + 10]!;
  out.bodyStart = out.propsStart + buf.readUInt32LE(pos + 16);
  out.end = pos + REC_HEADER + buf.readUInt32LE(pos + 4);
}

export function recordType(buf: Buffer, pos: number): number {
  return buf[pos + 8]!;
}

export function recordQid(buf: Buffer, pos: number): number {
  return buf.readUInt32LE(pos + 12);
}

/** Size on disk of the record at pos (header checked by the caller). */
export function recordSize(buf: Buffer, pos: number): number {
  return REC_HEADER + align4(buf.readUInt32LE(pos + 4));
}

/**
 * A cheap plausibility test of the header at pos (type, length, fields fit in [pos, end)),
 * used to skip garbage quickly before paying for a checksum.
 */
function plausible(buf: Buffer, pos: number, end: number): boolean {
  if (pos + REC_HEADER + 4 > end) return false;
  const type = buf[pos + 8]!;
  if (type < PUB || type > DLV) return false;
  const len = buf.readUInt32LE(pos + 4);
  if (len < MIN_LEN[type]! || pos + REC_HEADER + align4(len) > end) return false;
  if (type === ENQ) return len === 16;
  if (type === PUB) return 12 + buf[pos + 9]! + buf[pos + 10]! + buf.readUInt32LE(pos + 16) <= len;
  return true;
}

export function recordValid(buf: Buffer, words: Int32Array, pos: number, end: number): boolean {
  if (!plausible(buf, pos, end)) return false;
  const w = pos >>> 2;
  const stop = (pos + recordSize(buf, pos)) >>> 2;
  return xxh32Words(words, w + 1, stop) === words[w]! >>> 0;
}

/** A valid record whose successor is also plausible: random bytes almost never pass the
 * two header checks, so the checksum (which costs the record's length) is rarely paid. */
function resyncPoint(buf: Buffer, words: Int32Array, p: number, end: number): boolean {
  if (!plausible(buf, p, end)) return false;
  const next = p + recordSize(buf, p);
  if (next !== end && !plausible(buf, next, end)) return false;
  return recordValid(buf, words, p, end);
}

export interface ScanResult {
  /** End of the last valid record. */
  goodEnd: number;
  skippedBytes: number;
  skippedRecords: number;
}

/**
 * Walks the records in buf[start, end), calling onRecord(pos) for each valid one. A bad
 * record whose length still leads to a plausible next header is skipped alone; otherwise the
 * scan looks for the next aligned position holding a valid record (a torn write or a smashed
 * length), and if there is none the rest is a damaged tail.
 */
export function scanRecords(
  buf: Buffer,
  words: Int32Array,
  start: number,
  end: number,
  onRecord: (pos: number) => void,
): ScanResult {
  let pos = start;
  let goodEnd = start;
  let skippedBytes = 0;
  let skippedRecords = 0;
  while (pos < end) {
    if (recordValid(buf, words, pos, end)) {
      onRecord(pos);
      pos += recordSize(buf, pos);
      goodEnd = pos;
      continue;
    }
    if (plausible(buf, pos, end)) {
      const next = pos + recordSize(buf, pos);
      if (next === end || recordValid(buf, words, next, end)) {
        skippedRecords++;
        skippedBytes += next - pos;
        pos = next;
        continue;
      }
    }
    let p = pos + 4;
    while (p < end && !resyncPoint(buf, words, p, end)) p += 4;
    skippedRecords++;
    skippedBytes += Math.min(p, end) - pos;
    pos = p;
  }
  return { goodEnd, skippedBytes, skippedRecords };
}
