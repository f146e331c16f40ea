import assert from "node:assert/strict";
import { test } from "node:test";
import { alignedBuffer, wordView, xxh32Words } from "./checksum.js";
import {
  DEL,
  ENQ,
  forEachDelEntry,
  PUB,
  PubLayout,
  pubLayout,
  QDECL,
  RecordWriter,
  recordQid,
  recordSize,
  recordType,
  scanRecords,
} from "./record.js";

test("xxh32 matches the reference implementation on whole words", () => {
  const h = (s: string) => {
    const b = alignedBuffer(s.length);
    b.write(s, "latin1");
    return xxh32Words(wordView(b), 0, s.length / 4)
      .toString(16)
      .padStart(8, "0");
  };
  // xxhsum -H0
  assert.equal(h(""), "02cc5d05");
  assert.equal(h("abcd"), "a3643705");
  assert.equal(h("abcdefgh12345678ABCDEFGHwxyz"), "4a607a26");
});

function sample(): RecordWriter {
  const w = new RecordWriter(64);
  w.writeSegmentHeader(9);
  w.writeQdecl(3, "vhost\u0000queue-é");
  w.writePub(3, "amq.topic", "a.b.c", Buffer.from([0x90, 0, 2]), Buffer.from("hello"));
  w.writeEnq(3, 7, 1024);
  w.writeDel(3, [7, 1024, 7, 7, 64, 9, 2 ** 32 - 1, 2 ** 27 - 4, 2 ** 32 - 1], 0, 9);
  return w;
}

test("records round-trip and are 4-aligned", () => {
  const w = sample();
  const seen: number[] = [];
  const r = scanRecords(w.buf, w.words, 16, w.len, (pos) => {
    assert.equal(pos % 4, 0);
    seen.push(recordType(w.buf, pos));
    assert.equal(recordQid(w.buf, pos), 3);
    const t = recordType(w.buf, pos);
    if (t === QDECL)
      assert.equal(
        w.buf.toString("utf8", pos + 16, pos + 8 + w.buf.readUInt32LE(pos + 4)),
        "vhost\u0000queue-é",
      );
    if (t === PUB) {
      const f = new PubLayout();
      pubLayout(w.buf, pos, f);
      assert.equal(w.buf.toString("utf8", f.exStart, f.rkStart), "amq.topic");
      assert.equal(w.buf.toString("utf8", f.rkStart, f.propsStart), "a.b.c");
      assert.deepEqual(w.buf.subarray(f.propsStart, f.bodyStart), Buffer.from([0x90, 0, 2]));
      assert.equal(w.buf.toString("utf8", f.bodyStart, f.end), "hello");
    }
    if (t === ENQ) assert.deepEqual([w.buf.readUInt32LE(pos + 16), w.buf.readUInt32LE(pos + 20)], [7, 1024]);
    if (t === DEL) {
      const got: number[] = [];
      forEachDelEntry(w.buf, pos, (a, b, c) => got.push(a, b, c));
      assert.deepEqual(got, [7, 1024, 7, 7, 64, 9, 2 ** 32 - 1, 2 ** 27 - 4, 2 ** 32 - 1]);
    }
  });
  assert.deepEqual(seen, [QDECL, PUB, ENQ, DEL]);
  assert.deepEqual(r, { goodEnd: w.len, skippedBytes: 0, skippedRecords: 0 });
});

test("scan skips a damaged record alone and cuts a torn tail", () => {
  const w = sample();
  const positions: number[] = [];
  scanRecords(w.buf, w.words, 16, w.len, (p) => positions.push(p));
  const pub = positions[1]!;
  // Payload damage: the length still leads to the next record.
  w.buf[pub + 30] = w.buf[pub + 30]! ^ 1;
  let types: number[] = [];
  let r = scanRecords(w.buf, w.words, 16, w.len, (p) => types.push(recordType(w.buf, p)));
  assert.deepEqual(types, [QDECL, ENQ, DEL]);
  assert.equal(r.skippedRecords, 1);
  assert.equal(r.skippedBytes, recordSize(w.buf, pub));
  // Smashed length: resynchronise on the next valid record.
  w.buf.writeUInt32LE(0x00ffffff, pub + 4);
  types = [];
  r = scanRecords(w.buf, w.words, 16, w.len, (p) => types.push(recordType(w.buf, p)));
  assert.deepEqual(types, [QDECL, ENQ, DEL]);
  assert.equal(r.skippedBytes, positions[2]! - pub);
  // Torn tail: half of the last record.
  const t = sample();
  const last = positions[3]!;
  types = [];
  r = scanRecords(t.buf, t.words, 16, last + 6, (p) => types.push(recordType(t.buf, p)));
  assert.deepEqual(types, [QDECL, PUB, ENQ]);
  assert.equal(r.goodEnd, last);
  // Zeros (a preallocated or unwritten page) are not records.
  const z = alignedBuffer(4096);
  r = scanRecords(z, wordView(z), 0, z.length, () => assert.fail("record in zeros"));
  assert.deepEqual(r, { goodEnd: 0, skippedBytes: 4096, skippedRecords: 1 });
});
