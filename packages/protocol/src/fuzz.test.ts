// Fuzzing: random bytes, and valid frames with flipped bytes, truncations and bad lengths,
// thrown at FrameReader + decodeMethod + decodeContentHeader/decodeProperties + readTable +
// the peeks. Whatever happens, the only thing allowed to come out is a ProtocolError with
// FRAME_ERROR, SYNTAX_ERROR, COMMAND_INVALID or UNEXPECTED_FRAME: never a RangeError, a
// TypeError, a stack overflow or a hang.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ProtocolError } from "./errors.js";
import { MAX_FIELD_DEPTH, readArray, readTable, writeTable } from "./field-table.js";
import { FrameReader } from "./frame-reader.js";
import { writeContent, writeDeliver, writeHeartbeat, writeMethodFrame } from "./frame-writer.js";
import {
  decodeMethod,
  decodeProperties,
  FrameType,
  METHODS,
  type MethodInit,
  ReplyCode,
} from "./generated/methods.js";
import {
  decodeContentHeader,
  encodeRawProperties,
  peekDeliveryMode,
  peekExpiration,
  peekPriority,
  peekReplyTo,
} from "./properties.js";
import { basicProperties, fieldTable, splitAt, unhex } from "./testkit.js";
import { Writer } from "./writer.js";

const ALLOWED = new Set<number>([
  ReplyCode.FRAME_ERROR,
  ReplyCode.SYNTAX_ERROR,
  ReplyCode.COMMAND_INVALID,
  ReplyCode.UNEXPECTED_FRAME,
]);

const stats = { ok: 0, errors: new Map<number, number>() };

/** Runs f; returns normally if it succeeds or throws an allowed ProtocolError, else fails. */
function expectProtocolErrorOrNothing(f: () => void, input: () => string): void {
  try {
    f();
    stats.ok++;
  } catch (e) {
    if (!(e instanceof ProtocolError) || !ALLOWED.has(e.code)) {
      assert.fail(`unexpected ${e instanceof Error ? e.stack : String(e)}\ninput: ${input()}`);
    }
    stats.errors.set(e.code, (stats.errors.get(e.code) ?? 0) + 1);
  }
}

/** Everything the broker does with incoming bytes, short of acting on them. */
function consume(chunks: Buffer[], frameMax: number): void {
  const reader = new FrameReader(frameMax);
  for (const chunk of chunks) {
    reader.push(chunk, (type, _channel, buf, start, end) => {
      if (type === FrameType.METHOD) decodeMethod(buf, start, end);
      else if (type === FrameType.HEADER) {
        const h = decodeContentHeader(buf, start, end);
        const raw = h.rawProperties;
        peekDeliveryMode(raw);
        peekPriority(raw);
        peekExpiration(raw);
        peekReplyTo(raw);
        decodeProperties(raw, 0, raw.length);
      }
    });
  }
}

function check(bytes: Buffer, frameMax = 4096, cuts: number[] = []): void {
  expectProtocolErrorOrNothing(
    () => consume(splitAt(bytes, cuts), frameMax),
    () => `${bytes.toString("hex")} frameMax ${frameMax} cuts ${cuts}`,
  );
  // The payload decoders on their own, on the whole input as if it were one payload.
  expectProtocolErrorOrNothing(
    () => decodeMethod(bytes, 0, bytes.length),
    () => bytes.toString("hex"),
  );
  expectProtocolErrorOrNothing(
    () => decodeProperties(bytes, 0, bytes.length),
    () => bytes.toString("hex"),
  );
  expectProtocolErrorOrNothing(
    () => readTable(bytes, 0, bytes.length),
    () => bytes.toString("hex"),
  );
  expectProtocolErrorOrNothing(
    () => readArray(bytes, 0, bytes.length),
    () => bytes.toString("hex"),
  );
}

// ---------------------------------------------------------------- a corpus of valid streams

const TABLE = {
  s: "str",
  n: -5,
  big: 2 ** 40,
  f: 1.5,
  arr: [true, null, { x: Buffer.from([1, 2]) }],
  nested: { deeper: { deepest: [[]] } },
};

function validMethods(): MethodInit[] {
  return [
    {
      name: "connection.start",
      serverProperties: { product: "warren", capabilities: { "basic.nack": true } },
      mechanisms: "PLAIN",
    },
    { name: "connection.start-ok", clientProperties: TABLE, mechanism: "PLAIN", response: "\0guest\0guest" },
    { name: "connection.tune", channelMax: 2047, frameMax: 131072, heartbeat: 60 },
    { name: "connection.open", virtualHost: "/" },
    {
      name: "connection.close",
      replyCode: 320,
      replyText: "CONNECTION_FORCED - bye",
      classId: 0,
      methodId: 0,
    },
    { name: "channel.open" },
    { name: "exchange.declare", exchange: "ex", type: "topic", durable: true, arguments: TABLE },
    {
      name: "queue.declare",
      queue: "q",
      durable: true,
      arguments: { "x-max-length": 10, "x-queue-type": "quorum" },
    },
    { name: "queue.bind", queue: "q", exchange: "ex", routingKey: "a.#", arguments: TABLE },
    { name: "basic.qos", prefetchCount: 100 },
    { name: "basic.consume", queue: "q", consumerTag: "ctag", noAck: true, arguments: { "x-priority": 5 } },
    { name: "basic.ack", deliveryTag: 123456789, multiple: true },
    { name: "basic.nack", deliveryTag: 2, requeue: false },
    { name: "basic.reject", deliveryTag: 3 },
    { name: "confirm.select" },
    { name: "tx.commit" },
  ];
}

function corpus(): Buffer[] {
  const out: Buffer[] = [];
  const props = encodeRawProperties({
    contentType: "application/json",
    headers: TABLE,
    deliveryMode: 2,
    priority: 4,
    replyTo: "reply",
    expiration: "1000",
    messageId: "id",
    timestamp: 1_700_000_000,
  });
  for (const m of validMethods()) {
    const w = new Writer();
    writeMethodFrame(w, 1, m);
    out.push(w.toBuffer());
  }
  const w = new Writer();
  writeMethodFrame(w, 1, { name: "basic.publish", exchange: "ex", routingKey: "rk", mandatory: true });
  writeContent(w, 1, props, Buffer.alloc(300, 7), 128);
  writeHeartbeat(w);
  writeDeliver(w, 2, "ctag", 9, true, "ex", "rk", props, Buffer.from("body"), 128);
  out.push(w.toBuffer());
  // The known-answer content header (all 14 properties), from amqplib.
  out.push(
    unhex(
      "0200010000" +
        "00ad003c0000000000000000000efffc106170706c69636174696f6e2f6a736f6e04677a69700000002b09782d726574" +
        "72696573620308782d6f726967696e530000000765752d7765737407782d74726163657401020707636f72722d343215" +
        "616d712e7261626269746d712e7265706c792d746f053630303030086d73672d30303031000000006553f1000d6f7264" +
        "65722e637265617465640567756573740b77617272656e2d74657374026331ce",
    ),
  );
  return out;
}
const CORPUS = corpus();

// ---------------------------------------------------------------- mutations

type Mutation =
  | { kind: "flip"; at: number; xor: number }
  | { kind: "set"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "delete"; at: number; n: number }
  | { kind: "insert"; at: number; bytes: number[] }
  | { kind: "length32"; at: number; value: number }
  | { kind: "length8"; at: number; value: number };

const position = fc.nat();
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: position, xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("set" as const), at: position, value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: position }),
  fc.record({ kind: fc.constant("delete" as const), at: position, n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: position,
    bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant("length32" as const),
    at: position,
    value: fc.oneof(
      fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xfffffff7, 0xfffffff8, 0xffffffff),
      fc.integer({ min: 0, max: 0xffffffff }),
    ),
  }),
  fc.record({
    kind: fc.constant("length8" as const),
    at: position,
    value: fc.constantFrom(0, 1, 0x7f, 0xff),
  }),
);

function mutate(input: Buffer, ms: readonly Mutation[]): Buffer {
  let b = Buffer.from(input);
  for (const m of ms) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    switch (m.kind) {
      case "flip":
        b[at]! ^= m.xor;
        break;
      case "set":
        b[at] = m.value;
        break;
      case "truncate":
        b = b.subarray(0, at);
        break;
      case "delete":
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.n)]);
        break;
      case "insert":
        b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
        break;
      case "length32":
        if (at + 4 <= b.length) b.writeUInt32BE(m.value, at);
        break;
      case "length8":
        b[at] = m.value;
        break;
    }
  }
  return b;
}

// ---------------------------------------------------------------- the tests

test("fuzz: purely random bytes", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 400 }),
      fc.constantFrom(0, 4096, 131072),
      fc.array(fc.nat(), { maxLength: 4 }),
      (bytes, frameMax, cuts) => {
        const b = Buffer.from(bytes);
        check(
          b,
          frameMax,
          cuts.map((c) => c % (b.length + 1)).sort((x, y) => x - y),
        );
      },
    ),
    { numRuns: 3000 },
  );
});

test("fuzz: random payloads in well-formed frames, with a real class/method id", () => {
  const keys = [...METHODS.keys()];
  fc.assert(
    fc.property(
      fc.constantFrom(...keys),
      fc.uint8Array({ maxLength: 300 }),
      fc.constantFrom(FrameType.METHOD, FrameType.HEADER, FrameType.BODY),
      (key, args, type) => {
        const payload = Buffer.alloc(4 + args.length);
        payload.writeUInt32BE(type === FrameType.HEADER ? 0x003c0000 : key, 0);
        payload.set(args, 4);
        const frame = Buffer.alloc(payload.length + 8);
        frame[0] = type;
        frame.writeUInt16BE(1, 1);
        frame.writeUInt32BE(payload.length, 3);
        payload.copy(frame, 7);
        frame[frame.length - 1] = 0xce;
        check(frame);
      },
    ),
    { numRuns: 5000 },
  );
});

test("fuzz: mutated valid frames (flipped bytes, truncations, bad lengths)", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...CORPUS),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      fc.constantFrom(0, 4096),
      fc.array(fc.nat(), { maxLength: 3 }),
      (valid, ms, frameMax, cuts) => {
        const b = mutate(valid, ms);
        check(
          b,
          frameMax,
          cuts.map((c) => c % (b.length + 1)).sort((x, y) => x - y),
        );
      },
    ),
    { numRuns: 10000 },
  );
});

test("fuzz: every single-byte corruption of every corpus stream", () => {
  for (const valid of CORPUS) {
    for (let at = 0; at < valid.length; at++) {
      for (const f of [(x: number) => x ^ 0x01, (x: number) => x ^ 0x80, () => 0, () => 0xff]) {
        const b = Buffer.from(valid);
        b[at] = f(b[at]!);
        check(b, 4096);
      }
      check(valid.subarray(0, at), 4096);
    }
  }
});

test("fuzz: mutated encodings of arbitrary tables and properties", () => {
  fc.assert(
    fc.property(fieldTable, fc.array(mutation, { minLength: 1, maxLength: 3 }), (t, ms) => {
      const w = new Writer(16);
      writeTable(w, t);
      const b = mutate(w.toBuffer(), ms);
      expectProtocolErrorOrNothing(
        () => readTable(b, 4, b.length),
        () => b.toString("hex"),
      );
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(basicProperties, fc.array(mutation, { minLength: 1, maxLength: 3 }), (p, ms) => {
      const b = mutate(encodeRawProperties(p), ms);
      expectProtocolErrorOrNothing(
        () => {
          peekDeliveryMode(b);
          peekPriority(b);
          peekExpiration(b);
          peekReplyTo(b);
          decodeProperties(b, 0, b.length);
        },
        () => b.toString("hex"),
      );
    }),
    { numRuns: 3000 },
  );
});

test("deeply nested tables and arrays are a SYNTAX_ERROR, not a stack overflow", () => {
  for (const kind of ["A", "F"] as const) {
    // 25,000 levels fit in a 128 KiB frame.
    const levels = 25_000;
    const per = kind === "A" ? 5 : 7; // A: type + u32; F: key "k" + type + u32
    const b = Buffer.alloc(levels * per);
    for (let i = 0; i < levels; i++) {
      const o = i * per;
      const inner = b.length - o - per;
      if (kind === "A") {
        b[o] = 0x41;
        b.writeUInt32BE(inner, o + 1);
      } else {
        b[o] = 1;
        b[o + 1] = 0x6b;
        b[o + 2] = 0x46;
        b.writeUInt32BE(inner, o + 3);
      }
    }
    const read = () => (kind === "A" ? readArray(b, 0, b.length) : readTable(b, 0, b.length));
    assert.throws(read, (e: unknown) => e instanceof ProtocolError && e.code === ReplyCode.SYNTAX_ERROR);
  }
  // MAX_FIELD_DEPTH levels are fine.
  let t: Record<string, unknown> = {};
  for (let i = 0; i < MAX_FIELD_DEPTH; i++) t = { k: t };
  const w = new Writer();
  writeTable(w, t as never);
  const b = w.toBuffer();
  assert.deepStrictEqual(readTable(b, 4, b.length), t);
});

test("fuzz statistics: the inputs reached every kind of outcome", () => {
  // Not a property of the codec: a check that the fuzzers above exercised success and each
  // error class, so that a broken generator cannot pass silently.
  assert.ok(stats.ok > 1000, `ok ${stats.ok}`);
  for (const code of [ReplyCode.FRAME_ERROR, ReplyCode.SYNTAX_ERROR, ReplyCode.COMMAND_INVALID]) {
    assert.ok((stats.errors.get(code) ?? 0) > 100, `code ${code}: ${stats.errors.get(code)}`);
  }
});
