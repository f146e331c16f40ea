// Round-trips every method of the spec through encodeMethod / writeMethodFrame and back
// through FrameReader / decodeMethod. The argument lists and types are read from the spec
// JSON here, independently of the generated code.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ProtocolError } from "./errors.js";
import { type FieldTable, TypedValue } from "./field-table.js";
import { writeMethodFrame } from "./frame-writer.js";
import {
  decodeMethod,
  encodeMethod,
  FrameType,
  METHOD_IDS,
  METHODS,
  type Method,
  type MethodInit,
  type MethodName,
  ReplyCode,
} from "./generated/methods.js";
import { argType, camel, readFrames, type SpecArgument, type SpecMethod, spec } from "./testkit.js";
import { Writer } from "./writer.js";

interface SpecEntry {
  name: MethodName;
  classId: number;
  method: SpecMethod;
}
const specMethods: SpecEntry[] = spec.classes.flatMap((c) =>
  c.methods.map((m) => ({ name: `${c.name}.${m.name}` as MethodName, classId: c.id, method: m })),
);

const TABLE: FieldTable = {
  str: "value ☃",
  int: -42,
  bool: true,
  nested: { deep: [1, "two", null, new TypedValue("l", 2n ** 40n)] },
  bytes: new TypedValue("x", Buffer.from([0, 255])),
};

/** A value different from the type's default, varied by position so that fields cannot swap. */
function sample(type: string, i: number): unknown {
  switch (type) {
    case "bit":
      return true;
    case "octet":
      return 0xa0 + i;
    case "short":
      return 0xbe00 + i;
    case "long":
      return 0xdead0000 + i;
    case "longlong":
      return 2 ** 53 - 1 - i; // > 32 bits: the high word must survive
    case "timestamp":
      return 1_700_000_000 + i;
    case "shortstr":
      return `s${i}-${"é".repeat(100)}`; // 203 bytes of UTF-8: multi-byte and > 127
    case "longstr":
      return `long ${i} ☃ ${"x".repeat(300)}`;
    case "table":
      return { ...TABLE, i };
    default:
      throw new Error(`unknown type ${type}`);
  }
}

/** Bytes an argument takes on the wire, bits aside. */
function width(type: string, v: unknown): number {
  switch (type) {
    case "octet":
      return 1;
    case "short":
      return 2;
    case "long":
      return 4;
    case "longlong":
    case "timestamp":
      return 8;
    case "shortstr":
      return 1 + Buffer.byteLength(v as string);
    case "longstr":
      return 4 + Buffer.byteLength(v as string);
    default:
      return -1;
  }
}

function build(entry: SpecEntry, pick: (a: SpecArgument, i: number) => unknown): Record<string, unknown> {
  const m: Record<string, unknown> = { name: entry.name };
  entry.method.arguments.forEach((a, i) => {
    m[camel(a.name)] = pick(a, i);
  });
  return m;
}

function encode(m: Record<string, unknown>): Buffer {
  const w = new Writer(16);
  encodeMethod(w, m as unknown as MethodInit);
  return w.toBuffer();
}

function decode(payload: Buffer): Method {
  // Decode from the middle of a larger buffer: offsets must be honoured.
  const padded = Buffer.concat([Buffer.from([0xff, 0xff, 0xff]), payload, Buffer.from([0xee])]);
  return decodeMethod(padded, 3, 3 + payload.length);
}

test("the generated tables list exactly the spec's methods", () => {
  assert.equal(METHODS.size, specMethods.length);
  assert.equal(Object.keys(METHOD_IDS).length, specMethods.length);
  for (const e of specMethods) {
    const info = METHODS.get((e.classId << 16) | e.method.id);
    assert.ok(info, e.name);
    assert.equal(info.name, e.name);
    assert.equal(info.content, !!e.method.content, e.name);
    assert.equal(info.synchronous, !!e.method.synchronous, e.name);
    assert.deepEqual(METHOD_IDS[e.name], [e.classId, e.method.id]);
  }
});

for (const entry of specMethods) {
  test(`${entry.name} round-trips with every argument set`, () => {
    const m = build(entry, (a, i) => sample(argType(a), i));
    const payload = encode(m);

    // Ids first, then the arguments; bits pack into octets, at most 8 to an octet.
    assert.equal(payload.readUInt16BE(0), entry.classId);
    assert.equal(payload.readUInt16BE(2), entry.method.id);
    let expected = 4;
    let bitRun = 0;
    for (const a of entry.method.arguments) {
      const t = argType(a);
      if (t === "bit") {
        if (bitRun % 8 === 0) expected += 1;
        bitRun++;
        continue;
      }
      bitRun = 0;
      if (t !== "table") expected += width(t, m[camel(a.name)]);
    }
    const tables = entry.method.arguments.filter((a) => argType(a) === "table").length;
    if (tables === 0) assert.equal(payload.length, expected);
    else assert.ok(payload.length > expected + 4 * tables);

    assert.deepStrictEqual(decode(payload), m);

    // The same through a method frame and the FrameReader.
    const w = new Writer(8);
    writeMethodFrame(w, 513, m as unknown as MethodInit);
    const frames = readFrames([w.toBuffer()]);
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.type, FrameType.METHOD);
    assert.equal(frames[0]!.channel, 513);
    assert.deepEqual(frames[0]!.payload, payload);
  });

  const bits = entry.method.arguments.filter((a) => argType(a) === "bit");
  if (bits.length > 1) {
    test(`${entry.name}: each bit lands in its own position`, () => {
      for (const only of bits) {
        const m = build(entry, (a, i) => (argType(a) === "bit" ? a === only : sample(argType(a), i)));
        assert.deepStrictEqual(decode(encode(m)), m);
      }
    });
  }

  test(`${entry.name}: absent arguments take the spec's defaults`, () => {
    const decoded = decode(encode({ name: entry.name })) as unknown as Record<string, unknown>;
    for (const a of entry.method.arguments) {
      const t = argType(a);
      const dv = a["default-value"];
      const expected =
        dv !== undefined && typeof dv !== "object"
          ? dv
          : {
              bit: false,
              octet: 0,
              short: 0,
              long: 0,
              longlong: 0,
              timestamp: 0,
              shortstr: "",
              longstr: "",
              table: {},
            }[t];
      assert.deepStrictEqual(decoded[camel(a.name)], expected, `${entry.name} ${a.name}`);
    }
  });

  test(`${entry.name}: truncated or padded payloads are FRAME_ERRORs`, () => {
    const m = build(entry, (a, i) => sample(argType(a), i));
    const payload = encode(m);
    for (let cut = 4; cut < payload.length; cut++) {
      assert.throws(
        () => decodeMethod(payload, 0, cut),
        (e: unknown) => e instanceof ProtocolError && e.code === ReplyCode.FRAME_ERROR,
        `cut at ${cut}`,
      );
    }
    const padded = Buffer.concat([payload, Buffer.from([0])]);
    assert.throws(
      () => decodeMethod(padded, 0, padded.length),
      (e: unknown) => e instanceof ProtocolError && e.code === ReplyCode.FRAME_ERROR,
    );
  });
}

test("unknown class or method ids are COMMAND_INVALID", () => {
  for (const [cls, meth] of [
    [10, 12],
    [60, 0],
    [0, 0],
    [999, 10],
    [0xffff, 0xffff],
  ] as const) {
    const b = Buffer.alloc(8);
    b.writeUInt16BE(cls, 0);
    b.writeUInt16BE(meth, 2);
    assert.throws(
      () => decodeMethod(b, 0, b.length),
      (e: unknown) =>
        e instanceof ProtocolError &&
        e.code === ReplyCode.COMMAND_INVALID &&
        e.classId === cls &&
        e.methodId === meth,
    );
  }
  for (const n of [0, 1, 2, 3]) {
    assert.throws(
      () => decodeMethod(Buffer.alloc(n), 0, n),
      (e: unknown) => e instanceof ProtocolError && e.code === ReplyCode.FRAME_ERROR,
    );
  }
});

test("longlong arguments keep 53 bits; shortstr over 255 bytes is refused by the encoder", () => {
  const m = { name: "basic.ack", deliveryTag: 2 ** 53 - 1, multiple: true } as const;
  assert.deepStrictEqual(decode(encode(m)), m);
  assert.throws(() => encode({ name: "queue.declare", queue: "q".repeat(256) }), RangeError);
});
