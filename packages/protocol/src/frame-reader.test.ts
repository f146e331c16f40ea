import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ProtocolError } from "./errors.js";
import { FrameReader } from "./frame-reader.js";
import { writeContent, writeDeliver, writeHeartbeat, writeMethodFrame } from "./frame-writer.js";
import { FrameType, ReplyCode } from "./generated/methods.js";
import { encodeRawProperties } from "./properties.js";
import { type Frame, readFrames, splitAt } from "./testkit.js";
import { Writer } from "./writer.js";

/** A reference frame splitter for a whole buffer: the simplest thing that can work. */
function parseWhole(buf: Buffer): Frame[] {
  const frames: Frame[] = [];
  let o = 0;
  while (o < buf.length) {
    const size = buf.readUInt32BE(o + 3);
    assert.equal(buf[o + 7 + size], 0xce);
    frames.push({
      type: buf[o]!,
      channel: buf.readUInt16BE(o + 1),
      payload: buf.subarray(o + 7, o + 7 + size),
    });
    o += 8 + size;
  }
  return frames;
}

/** Method, header, several body frames and heartbeats, interleaved over channels 0, 1, 2 and 65535. */
function stream(): Buffer {
  const w = new Writer(64);
  const props = encodeRawProperties({ contentType: "text/plain", deliveryMode: 2, headers: { k: "v" } });
  writeMethodFrame(w, 1, { name: "basic.publish", exchange: "ex", routingKey: "rk", mandatory: true });
  writeContent(w, 1, props, Buffer.alloc(100, 0xab), 40); // body frames of 32, 32, 32, 4 bytes
  writeHeartbeat(w);
  writeMethodFrame(w, 0, { name: "connection.blocked", reason: "low on memory" });
  writeDeliver(w, 2, "ctag", 7, false, "ex", "rk", props, Buffer.alloc(0), 40); // no body frame
  writeMethodFrame(w, 65535, { name: "basic.ack", deliveryTag: 2 ** 40, multiple: true });
  writeDeliver(w, 2, "ctag", 8, true, "", "q", props, Buffer.from("ce".repeat(33), "hex"), 40);
  writeHeartbeat(w);
  return w.toBuffer();
}

const STREAM = stream();
const EXPECTED = parseWhole(STREAM);

test("the test stream has the frames it should", () => {
  assert.deepEqual(
    EXPECTED.map((f) => `${f.type}/${f.channel}/${f.payload.length}`),
    [
      "1/1/13",
      "2/1/38",
      "3/1/32",
      "3/1/32",
      "3/1/32",
      "3/1/4",
      "8/0/0",
      "1/0/18",
      "1/2/24",
      "2/2/38",
      "1/65535/13",
      "1/2/21",
      "2/2/38",
      "3/2/32",
      "3/2/1",
      "8/0/0",
    ],
  );
  assert.deepEqual(readFrames([STREAM]), EXPECTED);
});

test("split at every byte offset", () => {
  for (let i = 0; i <= STREAM.length; i++) {
    assert.deepEqual(readFrames(splitAt(STREAM, [i])), EXPECTED, `split at ${i}`);
  }
});

test("split three ways at every pair of offsets", () => {
  for (let i = 0; i <= STREAM.length; i++) {
    for (let j = i; j <= STREAM.length; j++) {
      const frames = readFrames(splitAt(STREAM, [i, j]));
      if (frames.length !== EXPECTED.length) assert.deepEqual(frames, EXPECTED, `split at ${i}, ${j}`);
      for (let k = 0; k < frames.length; k++) {
        const a = frames[k]!;
        const b = EXPECTED[k]!;
        if (a.type !== b.type || a.channel !== b.channel || !a.payload.equals(b.payload)) {
          assert.deepEqual(frames, EXPECTED, `split at ${i}, ${j}`);
        }
      }
    }
  }
});

test("one byte at a time, and with empty chunks in between", () => {
  const bytes = [...STREAM].map((b) => Buffer.from([b]));
  assert.deepEqual(readFrames(bytes), EXPECTED);
  assert.deepEqual(readFrames(bytes.flatMap((b) => [Buffer.alloc(0), b])), EXPECTED);
});

test("property: random chunkings give the same frames", () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 0, max: STREAM.length }), { maxLength: 40 }), (cuts) => {
      cuts.sort((a, b) => a - b);
      assert.deepEqual(readFrames(splitAt(STREAM, cuts)), EXPECTED);
    }),
    { numRuns: 2000 },
  );
});

test("a frame inside one chunk is a range of it; a straddling one is assembled to its exact size", () => {
  const r = new FrameReader();
  const seen: [Buffer, number, number][] = [];
  const cut = 30; // inside the header frame
  const first = STREAM.subarray(0, cut);
  r.push(first, (_t, _c, buf, start, end) => seen.push([buf, start, end]));
  assert.equal(seen.length, 1);
  assert.equal(seen[0]![0], first);
  assert.equal(seen[0]![1], 7);
  r.push(STREAM.subarray(cut), (_t, _c, buf, start, end) => seen.push([buf, start, end]));
  const [buf, start, end] = seen[1]!;
  assert.equal(start, 7);
  assert.equal(buf.length, end + 1);
  assert.equal(buf.length, 8 + 38);
});

const isFrameError = (e: unknown) => e instanceof ProtocolError && e.code === ReplyCode.FRAME_ERROR;

function frameOfSize(total: number, type: number = FrameType.BODY): Buffer {
  const b = Buffer.alloc(total, 0x55);
  b[0] = type;
  b.writeUInt16BE(1, 1);
  b.writeUInt32BE(total - 8, 3);
  b[total - 1] = 0xce;
  return b;
}

test("frameMax: a frame of exactly frameMax passes, one byte more is a FRAME_ERROR", () => {
  for (const frameMax of [4096, 131072]) {
    const ok = frameOfSize(frameMax);
    assert.equal(readFrames([ok], frameMax).length, 1);
    assert.equal(readFrames(splitAt(ok, [3, 1000]), frameMax).length, 1);
    const big = frameOfSize(frameMax + 1);
    assert.throws(() => readFrames([big], frameMax), isFrameError);
    // Refused as soon as the header is in, whatever the chunking.
    for (const cut of [1, 6, 7, 8]) {
      const r = new FrameReader(frameMax);
      assert.throws(() => {
        r.push(big.subarray(0, cut), () => assert.fail());
        r.push(big.subarray(cut, 7), () => assert.fail());
      }, isFrameError);
    }
  }
  // frameMax can change between pushes (after connection.tune-ok).
  const r = new FrameReader(0);
  r.push(frameOfSize(10000), () => {});
  r.frameMax = 4096;
  assert.throws(() => r.push(frameOfSize(10000), () => {}), isFrameError);
});

test("bad frame-end octet, unknown frame types and heartbeats with payload are FRAME_ERRORs", () => {
  const badEnd = frameOfSize(20);
  badEnd[19] = 0;
  assert.throws(() => readFrames([badEnd]), isFrameError);
  assert.throws(() => readFrames(splitAt(badEnd, [10])), isFrameError);
  for (const type of [0, 4, 7, 9, 0xce, 0xff]) {
    assert.throws(() => readFrames([frameOfSize(20, type)]), isFrameError, `type ${type}`);
    assert.throws(() => readFrames(splitAt(frameOfSize(20, type), [2])), isFrameError, `type ${type}`);
  }
  assert.throws(() => readFrames([frameOfSize(9, FrameType.HEARTBEAT)]), isFrameError);
  assert.equal(readFrames([frameOfSize(8, FrameType.HEARTBEAT)]).length, 1);
});

test("a header claiming 4 GiB (frameMax 0) buffers only what arrives", () => {
  const r = new FrameReader();
  const head = Buffer.from([3, 0, 1, 0xff, 0xff, 0xff, 0xf0]);
  r.push(head, () => assert.fail());
  for (let i = 0; i < 4; i++) r.push(Buffer.alloc(1 << 16), () => assert.fail());
  assert.ok(r.pending);
  const r2 = new FrameReader();
  r2.push(Buffer.concat([head, Buffer.alloc(100)]), () => assert.fail());
  assert.ok(r2.pending);
});

test("a frame bigger than the eager allocation limit is assembled correctly", () => {
  const w = new Writer();
  const body = Buffer.alloc(3 << 20);
  for (let i = 0; i < body.length; i += 4) body.writeUInt32BE(i, i);
  writeContent(w, 5, encodeRawProperties({}), body, 0);
  writeHeartbeat(w);
  const all = w.toBuffer();
  for (const chunkSize of [65536, 1 << 20, 1000003]) {
    const chunks: Buffer[] = [];
    for (let o = 0; o < all.length; o += chunkSize) chunks.push(all.subarray(o, o + chunkSize));
    const frames = readFrames(chunks);
    assert.equal(frames.length, 3);
    assert.ok(frames[1]!.payload.equals(body));
  }
});
