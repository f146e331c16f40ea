import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ProtocolError } from "./errors.js";
import { writeContent } from "./frame-writer.js";
import { type BasicProperties, decodeProperties, PropertyFlag, ReplyCode } from "./generated/methods.js";
import {
  decodeContentHeader,
  decodeRawProperties,
  encodeRawProperties,
  hasHeaders,
  peekDeliveryMode,
  peekExpiration,
  peekPriority,
  peekReplyTo,
  propertyOffset,
} from "./properties.js";
import { basicProperties, PROPERTY_NAMES } from "./testkit.js";
import { Writer } from "./writer.js";

function checkPeeks(raw: Buffer, p: BasicProperties): void {
  assert.equal(peekDeliveryMode(raw), p.deliveryMode ?? 0);
  assert.equal(peekPriority(raw), p.priority ?? -1);
  assert.equal(peekExpiration(raw), p.expiration);
  assert.equal(peekReplyTo(raw), p.replyTo);
  assert.equal(hasHeaders(raw), p.headers !== undefined);
}

test("all 14 properties: flags in spec order, round-trip", () => {
  assert.deepEqual(Object.keys(PropertyFlag), [...PROPERTY_NAMES]);
  PROPERTY_NAMES.forEach((name, i) => {
    assert.equal(PropertyFlag[name], 1 << (15 - i));
  });
  const p: BasicProperties = {
    contentType: "application/json",
    contentEncoding: "gzip",
    headers: { a: 1, b: "two" },
    deliveryMode: 2,
    priority: 9,
    correlationId: "c",
    replyTo: "amq.rabbitmq.reply-to",
    expiration: "60000",
    messageId: "m",
    timestamp: 2 ** 40 + 1,
    type: "t",
    userId: "guest",
    appId: "app",
    clusterId: "cl",
  };
  const raw = encodeRawProperties(p);
  assert.equal(raw.readUInt16BE(0), 0xfffc);
  assert.deepStrictEqual(decodeRawProperties(raw), p);
  checkPeeks(raw, p);
  assert.deepEqual(encodeRawProperties({}), Buffer.from([0, 0]));
  assert.deepStrictEqual(decodeRawProperties(Buffer.from([0, 0])), {});
});

test("property: arbitrary subsets of the basic properties round-trip, and the peeks agree", () => {
  fc.assert(
    fc.property(basicProperties, (p) => {
      const raw = encodeRawProperties(p);
      let flags = 0;
      PROPERTY_NAMES.forEach((name, i) => {
        if (p[name] !== undefined) flags |= 1 << (15 - i);
      });
      assert.equal(raw.readUInt16BE(0), flags);
      const back = decodeRawProperties(raw);
      assert.deepStrictEqual(back, p);
      checkPeeks(raw, back);
      // decodeProperties honours offsets inside a larger buffer.
      const framed = Buffer.concat([Buffer.from([1, 2, 3]), raw, Buffer.from([4])]);
      assert.deepStrictEqual(decodeProperties(framed, 3, 3 + raw.length), p);
    }),
    { numRuns: 2000 },
  );
});

test("property: peeks on truncated properties never throw and never read past the end", () => {
  fc.assert(
    fc.property(basicProperties, fc.nat(), (p, n) => {
      const full = encodeRawProperties(p);
      const raw = Buffer.from(full.subarray(0, n % (full.length + 1)));
      // A peek sees the value or nothing, never a piece of it.
      assert.ok([0, p.deliveryMode].includes(peekDeliveryMode(raw)));
      assert.ok([-1, p.priority].includes(peekPriority(raw)));
      assert.ok([undefined, p.expiration].includes(peekExpiration(raw)));
      assert.ok([undefined, p.replyTo].includes(peekReplyTo(raw)));
      hasHeaders(raw);
      for (const flag of Object.values(PropertyFlag)) assert.ok(propertyOffset(raw, flag) <= raw.length);
      try {
        decodeRawProperties(raw);
      } catch (e) {
        assert.ok(e instanceof ProtocolError && e.code === ReplyCode.FRAME_ERROR, String(e));
      }
    }),
    { numRuns: 1000 },
  );
});

test("continuation flag words are skipped by the decoder and the peeks alike", () => {
  const p: BasicProperties = { deliveryMode: 2, priority: 3, replyTo: "r", expiration: "5" };
  const raw = encodeRawProperties(p);
  // Set bit 0 and insert one extra (empty) flags word.
  const cont = Buffer.concat([raw.subarray(0, 2), Buffer.from([0, 0]), raw.subarray(2)]);
  cont.writeUInt16BE(raw.readUInt16BE(0) | 1, 0);
  assert.deepStrictEqual(decodeRawProperties(cont), p);
  checkPeeks(cont, p);
});

test("decodeContentHeader reads class, weight, body size and leaves the properties raw", () => {
  const w = new Writer(8);
  const raw = encodeRawProperties({ contentType: "text/plain", deliveryMode: 2 });
  writeContent(w, 3, raw, Buffer.alloc(0), 0);
  const frame = w.toBuffer();
  // An empty body: just the header frame.
  assert.equal(frame.length, 8 + 12 + raw.length);
  frame.writeUInt32BE(0x1234, 11); // high word of the body size
  frame.writeUInt32BE(0x89abcdef, 15);
  const h = decodeContentHeader(frame, 7, frame.length - 1);
  assert.equal(h.classId, 60);
  assert.equal(h.weight, 0);
  assert.equal(h.bodySize, 0x1234 * 2 ** 32 + 0x89abcdef);
  assert.deepEqual(h.rawProperties, raw);
  assert.equal(peekDeliveryMode(h.rawProperties), 2);

  const isFrameError = (e: unknown) => e instanceof ProtocolError && e.code === ReplyCode.FRAME_ERROR;
  assert.throws(() => decodeContentHeader(frame, 7, 7 + 13), isFrameError);
  frame.writeUInt32BE(0x200000, 11);
  assert.throws(() => decodeContentHeader(frame, 7, frame.length - 1), isFrameError);
});
