import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  writeContent,
  writeDeliver,
  writeHeartbeat,
  writeMethodFrame,
  writeMethodWithContent,
} from "./frame-writer.js";
import { decodeMethod, FrameType } from "./generated/methods.js";
import { decodeContentHeader, decodeRawProperties, encodeRawProperties } from "./properties.js";
import { hex, readFrames } from "./testkit.js";
import { Writer } from "./writer.js";

const PROPS = encodeRawProperties({
  contentType: "application/octet-stream",
  deliveryMode: 2,
  headers: { n: 1 },
});

function content(body: Buffer, frameMax: number, channel = 9, readerMax = frameMax) {
  const w = new Writer(16);
  writeContent(w, channel, PROPS, body, frameMax);
  return readFrames([w.toBuffer()], readerMax);
}

test("writeContent splits the body into frames of exactly frameMax - 8 payload bytes", () => {
  const frameMax = 4096;
  const max = frameMax - 8;
  for (const [len, sizes] of [
    [0, []],
    [1, [1]],
    [max - 1, [max - 1]],
    [max, [max]],
    [max + 1, [max, 1]],
    [3 * max, [max, max, max]],
    [3 * max + 17, [max, max, max, 17]],
  ] as [number, number[]][]) {
    const body = Buffer.alloc(len);
    for (let i = 0; i < len; i++) body[i] = i * 7;
    const frames = content(body, frameMax);
    const [header, ...bodies] = frames;
    assert.equal(header!.type, FrameType.HEADER);
    assert.equal(header!.channel, 9);
    const h = decodeContentHeader(header!.payload, 0, header!.payload.length);
    assert.equal(h.classId, 60);
    assert.equal(h.bodySize, len);
    assert.deepEqual(h.rawProperties, PROPS);
    assert.deepEqual(
      bodies.map((f) => f.payload.length),
      sizes,
      `body of ${len}`,
    );
    for (const f of bodies) {
      assert.equal(f.type, FrameType.BODY);
      assert.equal(f.channel, 9);
    }
    assert.ok(Buffer.concat(bodies.map((f) => f.payload)).equals(body));
  }
});

test("writeContent with frameMax 0 writes the body in one frame", () => {
  const frames = content(Buffer.alloc(200000, 1), 0);
  assert.deepEqual(
    frames.map((f) => f.payload.length),
    [12 + PROPS.length, 200000],
  );
  assert.equal(content(Buffer.alloc(0), 0).length, 1);
});

test("property: writeContent round-trips any body at any frameMax", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 3000 }),
      fc.integer({ min: 9, max: 1200 }),
      fc.integer({ min: 0, max: 65535 }),
      (body, frameMax, channel) => {
        // frameMax here is below the header frame's size: the reader gets no limit.
        const frames = content(Buffer.from(body), frameMax, channel, 0);
        const bodies = frames.slice(1);
        assert.equal(bodies.length, Math.ceil(body.length / (frameMax - 8)));
        for (const f of bodies.slice(0, -1)) assert.equal(f.payload.length, frameMax - 8);
        assert.ok(Buffer.concat(bodies.map((f) => f.payload)).equals(body));
        assert.ok(frames.every((f) => f.channel === channel));
      },
    ),
    { numRuns: 500 },
  );
});

test("writeDeliver writes the same bytes as writeMethodFrame(basic.deliver) + writeContent", () => {
  fc.assert(
    fc.property(
      fc.record({
        channel: fc.integer({ min: 0, max: 65535 }),
        consumerTag: fc.string({ unit: "grapheme", maxLength: 40 }),
        deliveryTag: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.maxSafeNat()),
        redelivered: fc.boolean(),
        exchange: fc.string({ unit: "grapheme", maxLength: 30 }),
        routingKey: fc.string({ unit: "grapheme", maxLength: 60 }),
        body: fc.uint8Array({ maxLength: 600 }),
        frameMax: fc.constantFrom(0, 64, 131),
      }),
      (d) => {
        const body = Buffer.from(d.body);
        const a = new Writer(8);
        writeDeliver(
          a,
          d.channel,
          d.consumerTag,
          d.deliveryTag,
          d.redelivered,
          d.exchange,
          d.routingKey,
          PROPS,
          body,
          d.frameMax,
        );
        const b = new Writer(8);
        writeMethodFrame(b, d.channel, {
          name: "basic.deliver",
          consumerTag: d.consumerTag,
          deliveryTag: d.deliveryTag,
          redelivered: d.redelivered,
          exchange: d.exchange,
          routingKey: d.routingKey,
        });
        writeContent(b, d.channel, PROPS, body, d.frameMax);
        assert.equal(hex(a.toBuffer()), hex(b.toBuffer()));
        const c = new Writer(8);
        writeMethodWithContent(
          c,
          d.channel,
          {
            name: "basic.deliver",
            consumerTag: d.consumerTag,
            deliveryTag: d.deliveryTag,
            redelivered: d.redelivered,
            exchange: d.exchange,
            routingKey: d.routingKey,
          },
          PROPS,
          body,
          d.frameMax,
        );
        assert.equal(hex(c.toBuffer()), hex(b.toBuffer()));
        const [m] = readFrames([a.toBuffer()]);
        assert.deepStrictEqual(decodeMethod(m!.payload, 0, m!.payload.length), {
          name: "basic.deliver",
          consumerTag: d.consumerTag,
          deliveryTag: d.deliveryTag,
          redelivered: d.redelivered,
          exchange: d.exchange,
          routingKey: d.routingKey,
        });
      },
    ),
    { numRuns: 500 },
  );
});

test("frames appended to a writer that grows keep earlier frames intact", () => {
  const w = new Writer(1);
  writeHeartbeat(w);
  writeMethodFrame(w, 1, { name: "channel.open" });
  writeDeliver(w, 1, "c", 1, false, "e", "r", PROPS, Buffer.alloc(5000, 3), 4096);
  writeHeartbeat(w);
  const frames = readFrames([w.toBuffer()], 4096);
  assert.deepEqual(
    frames.map((f) => [f.type, f.payload.length]),
    [
      [8, 0],
      [1, 5],
      [1, 19],
      [2, 12 + PROPS.length],
      [3, 4088],
      [3, 912],
      [8, 0],
    ],
  );
  assert.equal(hex(w.toBuffer().subarray(0, 8)), "08000000000000ce");
  assert.deepStrictEqual(
    decodeRawProperties(decodeContentHeader(frames[3]!.payload, 0, frames[3]!.payload.length).rawProperties),
    {
      contentType: "application/octet-stream",
      deliveryMode: 2,
      headers: { n: 1 },
    },
  );
});

test("take() hands over the bytes and starts a fresh buffer; reset() reuses it", () => {
  const w = new Writer(16);
  writeHeartbeat(w);
  const taken = w.take();
  assert.equal(hex(taken), "08000000000000ce");
  assert.equal(w.pos, 0);
  writeHeartbeat(w);
  assert.notEqual(w.buf.buffer, taken.buffer);
  assert.equal(hex(taken), "08000000000000ce");
  w.reset();
  assert.equal(w.pos, 0);
});

test("take() copies a small fill out and keeps its buffer (no 64 KiB of GC pressure per flush)", () => {
  const w = new Writer(64);
  const own = w.buf;
  writeHeartbeat(w);
  const taken = w.take();
  assert.equal(taken.length, 8);
  assert.equal(w.pos, 0);
  assert.equal(w.buf, own, "a fill of at most a quarter of the buffer keeps the buffer");
  w.bytes(Buffer.alloc(40, 0xff)); // overwrite what was taken: the copy must not change
  assert.equal(hex(taken), "08000000000000ce");
  const big = w.take(); // 40 > 64 / 4: handed over, a new buffer follows
  assert.equal(big.length, 40);
  assert.equal(big.buffer, own.buffer);
  assert.notEqual(w.buf, own);
  assert.equal(w.buf.length, 4096); // never under 4 KiB
});

test("bad arguments to the frame writers are RangeErrors and leave the writer as it was", () => {
  const w = new Writer(8);
  writeHeartbeat(w);
  const before = hex(w.toBuffer());
  const long = "x".repeat(256);
  const longUtf8 = "é".repeat(128); // 128 units, 256 bytes
  for (const f of [
    () => writeDeliver(w, 1, long, 1, false, "", "", PROPS, Buffer.alloc(1), 0),
    () => writeDeliver(w, 1, "", 1, false, longUtf8, "", PROPS, Buffer.alloc(1), 0),
    () => writeDeliver(w, 70000, "", 1, false, "", "", PROPS, Buffer.alloc(1), 0),
    () => writeDeliver(w, 1, "", -1, false, "", "", PROPS, Buffer.alloc(1), 0),
    () => writeContent(w, -1, PROPS, Buffer.alloc(1), 0),
    () => writeContent(w, 1, PROPS, Buffer.alloc(1), 8),
  ]) {
    const pos = w.pos;
    assert.throws(f, RangeError);
    w.pos = pos;
  }
  assert.equal(hex(w.toBuffer()).slice(0, before.length), before);
  // Exactly 255 bytes is fine, in ASCII and in UTF-8.
  const ok = new Writer(8);
  writeDeliver(ok, 1, "x".repeat(255), 1, false, "é".repeat(127) + "x", "", PROPS, Buffer.alloc(0), 8);
  const [m] = readFrames([ok.toBuffer()]);
  assert.deepStrictEqual(decodeMethod(m!.payload, 0, m!.payload.length), {
    name: "basic.deliver",
    consumerTag: "x".repeat(255),
    deliveryTag: 1,
    redelivered: false,
    exchange: "é".repeat(127) + "x",
    routingKey: "",
  });
});
