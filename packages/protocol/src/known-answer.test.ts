// Known-answer vectors: bytes produced by codecs that share no code with ours, pasted here as
// hex. They were made by packages/protocol/scripts/known-answer-vectors.mjs with
//   amqplib 2.3.1 (npm; lib/defs.js encodeMethod / encodeProperties, lib/codec.js encodeTable,
//   lib/frame.js makeBodyFrame) and
//   python3-amqp 5.1.1 (Debian package; amqp.serialization.dumps, amqp.method_framing.frame_writer),
// both run under node v20.20.2 / CPython 3.11.2. Where both libraries can encode a vector
// (connection.start, basic.deliver) the script checked that they agree byte for byte.
// amqplib cannot write an 'L' field, so the second table comes from python3-amqp, which writes
// a big int as 'L' (signed 64-bit, as RabbitMQ reads it).
import assert from "node:assert/strict";
import { test } from "node:test";
import { FIELD_WIDTHS, type FieldTable, readTable, TypedValue, typed, writeTable } from "./field-table.js";
import { writeContent, writeDeliver, writeMethodFrame, writeMethodWithContent } from "./frame-writer.js";
import { type BasicProperties, decodeMethod, FrameType, type MethodInit } from "./generated/methods.js";
import { decodeContentHeader, decodeRawProperties, encodeRawProperties } from "./properties.js";
import { hex, readFrames, unhex } from "./testkit.js";
import { Writer } from "./writer.js";

// ---------------------------------------------------------------- connection.start

/** amqplib 2.3.1 and python3-amqp 5.1.1 (identical): connection.start on channel 0. */
const CONNECTION_START =
  "010000000001f9000a000a0009000001d40770726f6475637453000000085261626269744d510776657273696f6e5300" +
  "000006332e31332e3708706c6174666f726d530000001145726c616e672f4f54502032362e322e350c6361706162696c" +
  "697469657346000000c7127075626c69736865725f636f6e6669726d7374011a65786368616e67655f65786368616e67" +
  "655f62696e64696e677374010a62617369632e6e61636b740116636f6e73756d65725f63616e63656c5f6e6f74696679" +
  "740112636f6e6e656374696f6e2e626c6f636b6564740113636f6e73756d65725f7072696f72697469657374011c6175" +
  "7468656e7469636174696f6e5f6661696c7572655f636c6f73657401107065725f636f6e73756d65725f716f7374010f" +
  "6469726563745f7265706c795f746f74010c636c75737465725f6e616d65530000000d7261626269744077617272656e" +
  "09636f70797269676874530000003c436f707972696768742028632920323030372d323032342042726f6164636f6d20" +
  "496e6320616e642f6f7220697473207375627369646961726965730b696e666f726d6174696f6e53000000394c696365" +
  "6e73656420756e64657220746865204d504c20322e302e20576562736974653a2068747470733a2f2f7261626269746d" +
  "712e636f6d0000000e414d51504c41494e20504c41494e00000005656e5f5553ce";

const CAPABILITIES = {
  publisher_confirms: true,
  exchange_exchange_bindings: true,
  "basic.nack": true,
  consumer_cancel_notify: true,
  "connection.blocked": true,
  consumer_priorities: true,
  authentication_failure_close: true,
  per_consumer_qos: true,
  direct_reply_to: true,
};
const START = {
  name: "connection.start",
  versionMajor: 0,
  versionMinor: 9,
  serverProperties: {
    product: "RabbitMQ",
    version: "3.13.7",
    platform: "Erlang/OTP 26.2.5",
    capabilities: CAPABILITIES,
    cluster_name: "rabbit@warren",
    copyright: "Copyright (c) 2007-2024 Broadcom Inc and/or its subsidiaries",
    information: "Licensed under the MPL 2.0. Website: https://rabbitmq.com",
  },
  mechanisms: "AMQPLAIN PLAIN",
  locales: "en_US",
} as const;

test("connection.start: amqplib/python3-amqp bytes", () => {
  const w = new Writer();
  writeMethodFrame(w, 0, START);
  assert.equal(hex(w.toBuffer()), CONNECTION_START);

  const [f, ...rest] = readFrames([unhex(CONNECTION_START)]);
  assert.equal(rest.length, 0);
  assert.equal(f!.type, FrameType.METHOD);
  assert.equal(f!.channel, 0);
  assert.deepStrictEqual(decodeMethod(f!.payload, 0, f!.payload.length), START);
});

// ---------------------------------------------------------------- basic.publish + content

/** amqplib 2.3.1: basic.publish, content header with all 14 properties, one body frame; channel 1. */
const BASIC_PUBLISH =
  "01000100000023003c0028000009616d712e746f706963116f72646572732e65752e6372656174656401ce0200010000" +
  "00ad003c0000000000000000000efffc106170706c69636174696f6e2f6a736f6e04677a69700000002b09782d726574" +
  "72696573620308782d6f726967696e530000000765752d7765737407782d74726163657401020707636f72722d343215" +
  "616d712e7261626269746d712e7265706c792d746f053630303030086d73672d30303031000000006553f1000d6f7264" +
  "65722e637265617465640567756573740b77617272656e2d74657374026331ce0300010000000e68656c6c6f2c207761" +
  "7272656e21ce";

const PUBLISH = {
  name: "basic.publish",
  ticket: 0,
  exchange: "amq.topic",
  routingKey: "orders.eu.created",
  mandatory: true,
  immediate: false,
} as const;
const ALL_PROPS: BasicProperties = {
  contentType: "application/json",
  contentEncoding: "gzip",
  // amqplib writes a small integer as 'b'.
  headers: { "x-retries": typed.byte(3), "x-origin": "eu-west", "x-trace": true },
  deliveryMode: 2,
  priority: 7,
  correlationId: "corr-42",
  replyTo: "amq.rabbitmq.reply-to",
  expiration: "60000",
  messageId: "msg-0001",
  timestamp: 1700000000,
  type: "order.created",
  userId: "guest",
  appId: "warren-test",
  clusterId: "c1",
};
const PUBLISH_BODY = Buffer.from("hello, warren!");

test("basic.publish + content header + body: amqplib bytes", () => {
  const raw = encodeRawProperties(ALL_PROPS);
  const w = new Writer();
  writeMethodWithContent(w, 1, PUBLISH, raw, PUBLISH_BODY, 131072);
  assert.equal(hex(w.toBuffer()), BASIC_PUBLISH);
  const w2 = new Writer();
  writeMethodFrame(w2, 1, PUBLISH);
  writeContent(w2, 1, raw, PUBLISH_BODY, 0);
  assert.equal(hex(w2.toBuffer()), BASIC_PUBLISH);

  const frames = readFrames([unhex(BASIC_PUBLISH)], 4096);
  assert.deepEqual(
    frames.map((f) => [f.type, f.channel]),
    [
      [FrameType.METHOD, 1],
      [FrameType.HEADER, 1],
      [FrameType.BODY, 1],
    ],
  );
  const [m, h, b] = frames as [(typeof frames)[0], (typeof frames)[0], (typeof frames)[0]];
  assert.deepStrictEqual(decodeMethod(m.payload, 0, m.payload.length), PUBLISH);
  const header = decodeContentHeader(h.payload, 0, h.payload.length);
  assert.equal(header.classId, 60);
  assert.equal(header.weight, 0);
  assert.equal(header.bodySize, PUBLISH_BODY.length);
  assert.deepStrictEqual(decodeRawProperties(header.rawProperties), ALL_PROPS);
  assert.deepEqual(b.payload, PUBLISH_BODY);
});

// ---------------------------------------------------------------- basic.deliver + content

/** amqplib 2.3.1 and python3-amqp 5.1.1 (identical): basic.deliver, header, body; channel 7. */
const BASIC_DELIVER =
  "01000700000034003c003c1a616d712e637461672d5771395a74306d4a336e575f556735735100000100000000050100" +
  "0a7461736b5f7175657565ce02000700000027003c0000000000000000000690c00a746578742f706c61696e02046d2d" +
  "3137000000006553f17bce0300070000000600010203feffce";

const DELIVER = {
  name: "basic.deliver",
  consumerTag: "amq.ctag-Wq9Zt0mJ3nW_Ug5sQ",
  deliveryTag: 2 ** 40 + 5,
  redelivered: true,
  exchange: "",
  routingKey: "task_queue",
} as const;
const DELIVER_PROPS: BasicProperties = {
  contentType: "text/plain",
  deliveryMode: 2,
  messageId: "m-17",
  timestamp: 1700000123,
};
const DELIVER_BODY = Buffer.from([0, 1, 2, 3, 0xfe, 0xff]);

test("basic.deliver + content: amqplib/python3-amqp bytes", () => {
  const raw = encodeRawProperties(DELIVER_PROPS);
  const w = new Writer();
  writeDeliver(
    w,
    7,
    DELIVER.consumerTag,
    DELIVER.deliveryTag,
    true,
    "",
    "task_queue",
    raw,
    DELIVER_BODY,
    131072,
  );
  assert.equal(hex(w.toBuffer()), BASIC_DELIVER);
  const w2 = new Writer();
  writeMethodWithContent(w2, 7, DELIVER as MethodInit, raw, DELIVER_BODY, 4096);
  assert.equal(hex(w2.toBuffer()), BASIC_DELIVER);

  const [m, h, b, ...rest] = readFrames([unhex(BASIC_DELIVER)], 4096);
  assert.equal(rest.length, 0);
  assert.equal(m!.channel, 7);
  assert.deepStrictEqual(decodeMethod(m!.payload, 0, m!.payload.length), DELIVER);
  const header = decodeContentHeader(h!.payload, 0, h!.payload.length);
  assert.equal(header.bodySize, DELIVER_BODY.length);
  assert.deepStrictEqual(decodeRawProperties(header.rawProperties), DELIVER_PROPS);
  assert.deepEqual(b!.payload, DELIVER_BODY);
});

// ---------------------------------------------------------------- field tables

/** amqplib 2.3.1 codec.encodeTable: every type but 'L' (t b B s u I i l f d D S A T F x V). */
const TABLE_AMQPLIB =
  "000000e604626f6f6c7401046279746562fb05756279746542fa0573686f7274738ad0067573686f727475ea6003696e" +
  "744988ca6c000475696e7469ee6b2800046c6f6e676cffffff000000000005666c6f6174663fc0000006646f75626c65" +
  "64c00200000000000007646563696d616c44020000303906737472696e67530000000668c3a96c6c6f05617272617941" +
  "0000000d6201530000000374776f7400560974696d657374616d7054000000006553f100057461626c65460000001606" +
  "6e65737465645300000003796573016e49000000070562797465737800000004deadbeef04766f696456";

/** python3-amqp 5.1.1 serialization.dumps("F", ...): 'L' and the types python writes. */
const TABLE_PYTHON =
  "00000071056c6f6e674c4cbffffffffffffffd03696e7449fffffff90373747253000000017804626f6f6c740006646f" +
  "75626c65643fb999999999999a07646563696d616c4402fffffec602747354000000006553f10003617272410000000f" +
  "49000000014100000000460000000004766f696456";

const AMQPLIB_TABLE: FieldTable = {
  bool: true,
  byte: typed.byte(-5),
  ubyte: typed.ubyte(250),
  short: typed.short(-30000),
  ushort: typed.ushort(60000),
  int: -2000000000,
  uint: typed.uint(4000000000),
  long: new TypedValue("l", -1099511627776n),
  float: typed.float(1.5),
  double: -2.25,
  decimal: typed.decimal(2, 12345),
  string: "h\u00e9llo",
  array: [typed.byte(1), "two", false, null],
  timestamp: new TypedValue("T", 1700000000n),
  table: { nested: "yes", n: 7 },
  bytes: new TypedValue("x", Buffer.from([0xde, 0xad, 0xbe, 0xef])),
  void: null,
};

const PYTHON_TABLE: FieldTable = {
  longL: new TypedValue("L", -(2n ** 62n) - 3n),
  int: -7,
  str: "x",
  bool: false,
  double: 0.1,
  // Decimal("-3.14"): python writes the value as a signed int32; RabbitMQ, and we, read it unsigned.
  decimal: new TypedValue("D", { scale: 2, value: 2 ** 32 - 314 }),
  ts: new TypedValue("T", 1700000000n), // datetime(2023, 11, 14, 22, 13, 20, UTC)
  arr: [1, [], {}],
  void: null,
};

function checkTable(vector: string, table: FieldTable): void {
  const w = new Writer(16);
  writeTable(w, table);
  assert.equal(hex(w.toBuffer()), vector);
  const b = unhex(vector);
  assert.equal(b.readUInt32BE(0), b.length - 4);
  assert.deepStrictEqual(readTable(b, 4, b.length), table);
}

test("field table with every type: amqplib bytes", () => {
  checkTable(TABLE_AMQPLIB, AMQPLIB_TABLE);
});

test("field table with 'L', decimal, timestamp: python3-amqp bytes", () => {
  checkTable(TABLE_PYTHON, PYTHON_TABLE);
  // python3-amqp's own spelling of the negative decimal encodes to the same bytes.
  const w = new Writer(16);
  writeTable(w, { ...PYTHON_TABLE, decimal: typed.decimal(2, -314) });
  assert.equal(hex(w.toBuffer()), TABLE_PYTHON);
});

test("the two tables cover all 18 field types, with the widths FIELD_WIDTHS gives", () => {
  // Each vector's top-level fields are the keys of the table it was made from, in order. The
  // type octet follows each key and a value runs to the next key, so the foreign bytes say
  // both which types they cover and how wide each value is: fixed types must be as wide as
  // FIELD_WIDTHS says, the others (-1) a 4-byte length and that many bytes.
  const types = new Set<string>();
  for (const [vector, table] of [
    [TABLE_AMQPLIB, AMQPLIB_TABLE],
    [TABLE_PYTHON, PYTHON_TABLE],
  ] as const) {
    const b = unhex(vector);
    const keys = Object.keys(table).map((k) => Buffer.concat([Buffer.of(k.length), Buffer.from(k)]));
    let o = 4;
    keys.forEach((key, i) => {
      assert.ok(b.subarray(o, o + key.length).equals(key), `${key.toString("latin1")} at ${o}`);
      const type = b[o + key.length]!;
      const value = o + key.length + 1;
      const next = i + 1 < keys.length ? b.indexOf(keys[i + 1]!, value) : b.length;
      assert.ok(next >= value, `no key after ${key.toString("latin1")}`);
      const t = String.fromCharCode(type);
      const fixed = FIELD_WIDTHS[type]!;
      assert.equal(next - value, fixed >= 0 ? fixed : 4 + b.readUInt32BE(value), `width of '${t}'`);
      types.add(t);
      o = next;
    });
  }
  assert.deepEqual([...types].sort(), [..."tbBsuIilLfdDSATFxV"].sort());
});
