import { isUtf8 } from "node:buffer";
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ProtocolError } from "./errors.js";
import {
  decodeShortString,
  decodeStrictString,
  type FieldTable,
  type FieldValue,
  fieldInteger,
  readArray,
  readTable,
  TypedValue,
  typed,
  writeArray,
  writeTable,
} from "./field-table.js";
import { ReplyCode } from "./generated/methods.js";
import { fieldTable, fieldValue, hex } from "./testkit.js";
import { Writer } from "./writer.js";

function encodeTable(t: FieldTable | undefined): Buffer {
  const w = new Writer(8);
  writeTable(w, t);
  return w.toBuffer();
}
function decodeTable(b: Buffer): FieldTable {
  assert.equal(b.readUInt32BE(0), b.length - 4, "table size prefix");
  return readTable(b, 4, b.length);
}
/** Encodes a single value as the table {v: value} and returns the bytes after "v". */
function encodeValue(v: FieldValue): string {
  return hex(encodeTable({ v }).subarray(6));
}

test("every field type round-trips, with RabbitMQ's errata widths and signedness", () => {
  const cases: [FieldValue, string][] = [
    [true, "7401"],
    [false, "7400"],
    [new TypedValue("b", -2), "62fe"],
    [new TypedValue("B", 254), "42fe"],
    [new TypedValue("s", -2), "73fffe"], // s: signed 16-bit (errata), not a short string
    [new TypedValue("u", 65534), "75fffe"],
    [-2, "49fffffffe"],
    [new TypedValue("i", 0xfffffffe), "69fffffffe"],
    [new TypedValue("l", -2n), "6cfffffffffffffffe"], // l: signed 64-bit
    [new TypedValue("L", -2n), "4cfffffffffffffffe"], // L: signed 64-bit too
    [new TypedValue("f", 1.5), "663fc00000"],
    [-2.5, "64c004000000000000"],
    [new TypedValue("d", 3), "644008000000000000"],
    [new TypedValue("D", { scale: 2, value: 0xfffffffe }), "4402fffffffe"],
    ["é", "5300000002c3a9"],
    [[1, "a", null], "410000000c4900000001530000000161" + "56"],
    [new TypedValue("T", 2n ** 64n - 1n), "54ffffffffffffffff"],
    [{ k: false }, "4600000004016b7400"],
    [new TypedValue("x", Buffer.from([0, 0xff])), "780000000200ff"],
    [null, "56"],
  ];
  const types = new Set<string>();
  for (const [value, bytes] of cases) {
    assert.equal(encodeValue(value), bytes, `encode ${bytes}`);
    types.add(bytes.slice(0, 2));
    assert.deepStrictEqual(decodeTable(encodeTable({ v: value })), { v: value }, `decode ${bytes}`);
  }
  // t b B s u I i l L f d D S A T F x V
  assert.deepEqual(
    [...types].map((t) => String.fromCharCode(Number.parseInt(t, 16))).sort(),
    [..."tbBsuIilLfdDSATFxV"].sort(),
  );
});

test("plain JS values pick their wire type", () => {
  assert.equal(encodeValue(7), "4900000007");
  assert.equal(encodeValue(-0x80000000), "4980000000");
  assert.equal(encodeValue(0x80000000), "6c0000000080000000");
  assert.equal(encodeValue(2 ** 53 - 1), "6c001fffffffffffff");
  assert.equal(encodeValue(2 ** 60), "6443b0000000000000"); // not a safe integer: a double
  assert.equal(encodeValue(0.5), "643fe0000000000000");
  assert.equal(encodeValue(-5n), "6cfffffffffffffffb");
  assert.equal(encodeValue(new Date(1_700_000_000_999)), "54000000006553f100");
  assert.equal(encodeValue(Buffer.from("hi")), "78000000026869");
  assert.equal(encodeValue(undefined as unknown as FieldValue), ""); // dropped from tables
  assert.equal(encodeValue([undefined]), "41000000015" + "6"); // void in arrays
  assert.equal(hex(encodeTable(undefined)), "00000000");
  assert.equal(hex(encodeTable({})), "00000000");
});

test("typed helpers and fieldInteger", () => {
  const t: FieldTable = {
    byte: typed.byte(-1),
    ubyte: typed.ubyte(255),
    short: typed.short(-300),
    ushort: typed.ushort(60000),
    int: typed.int(-7),
    uint: typed.uint(4e9),
    long: typed.long(2 ** 40),
    float: typed.float(0.25),
    double: typed.double(1),
    decimal: typed.decimal(3, 1234),
    timestamp: typed.timestamp(1_700_000_000),
    bytes: typed.bytes(Buffer.from([1])),
  };
  assert.deepStrictEqual(decodeTable(encodeTable(t)), { ...t, int: -7 });
  const back = decodeTable(encodeTable(t));
  assert.equal(fieldInteger(back["byte"]!), -1);
  assert.equal(fieldInteger(back["uint"]!), 4e9);
  assert.equal(fieldInteger(back["long"]!), 2 ** 40);
  assert.equal(fieldInteger(back["double"]!), 1);
  assert.equal(fieldInteger(back["float"]!), undefined);
  assert.equal(fieldInteger("5"), undefined);
  assert.equal(fieldInteger(12n), 12);
  // A negative decimal value (python3-amqp writes them) is its two's complement, read back unsigned.
  assert.deepStrictEqual(decodeTable(encodeTable({ d: typed.decimal(2, -314) })), {
    d: new TypedValue("D", { scale: 2, value: 0xfffffec6 }),
  });
});

test("a __proto__ key is an ordinary key", () => {
  const b = Buffer.from("0000000f095f5f70726f746f5f5f4600000000", "hex");
  const t = readTable(b, 4, b.length);
  assert.equal(Object.getPrototypeOf(t), Object.prototype);
  assert.deepEqual(Object.keys(t), ["__proto__"]);
  assert.deepEqual(encodeTable(t), b);
});

test("malformed tables: unknown type is SYNTAX_ERROR, overruns are FRAME_ERROR", () => {
  const isCode = (code: number) => (e: unknown) => e instanceof ProtocolError && e.code === code;
  const table = (body: string) => Buffer.from(body, "hex");
  // key "k", type 'Z'
  assert.throws(() => readTable(table("016b5a"), 0, 3), isCode(ReplyCode.SYNTAX_ERROR));
  assert.throws(() => readArray(table("00"), 0, 1), isCode(ReplyCode.SYNTAX_ERROR));
  // key runs past the end
  assert.throws(() => readTable(table("056b"), 0, 2), isCode(ReplyCode.FRAME_ERROR));
  // key without a value
  assert.throws(() => readTable(table("016b"), 0, 2), isCode(ReplyCode.FRAME_ERROR));
  // I with 3 bytes
  assert.throws(() => readTable(table("016b49000000"), 0, 6), isCode(ReplyCode.FRAME_ERROR));
  // S claiming 4 GiB
  assert.throws(() => readTable(table("016b53ffffffff00"), 0, 8), isCode(ReplyCode.FRAME_ERROR));
  // nested table whose size runs past the outer one
  assert.throws(() => readTable(table("016b460000000500"), 0, 8), isCode(ReplyCode.FRAME_ERROR));
  // S length field cut short
  assert.throws(() => readTable(table("016b530000"), 0, 5), isCode(ReplyCode.FRAME_ERROR));
});

test("property: arbitrary nested tables round-trip, and re-encode to the same bytes", () => {
  fc.assert(
    fc.property(fieldTable, (t) => {
      const bytes = encodeTable(t);
      const back = decodeTable(bytes);
      assert.deepStrictEqual(back, t);
      assert.deepEqual(encodeTable(back), bytes);
    }),
    { numRuns: 1000 },
  );
});

test("property: arbitrary arrays round-trip", () => {
  fc.assert(
    fc.property(fc.array(fieldValue, { maxLength: 8 }), (arr) => {
      const w = new Writer(4);
      writeArray(w, arr);
      const b = w.toBuffer();
      assert.equal(b.readUInt32BE(0), b.length - 4);
      assert.deepStrictEqual(readArray(b, 4, b.length), arr);
    }),
    { numRuns: 500 },
  );
});

test("property: decoding any table prefix never throws anything but a ProtocolError", () => {
  fc.assert(
    fc.property(fieldTable, fc.nat(), (t, n) => {
      const b = encodeTable(t);
      const cut = 4 + (n % Math.max(1, b.length - 4));
      try {
        readTable(b, 4, cut);
      } catch (e) {
        assert.ok(e instanceof ProtocolError, String(e));
        assert.ok(e.code === ReplyCode.FRAME_ERROR || e.code === ReplyCode.SYNTAX_ERROR);
      }
    }),
    { numRuns: 500 },
  );
});

/** decodeShortString's contract: Buffer#toString for valid UTF-8, a FRAME_ERROR for anything else. */
function expectedShortString(b: Buffer, start: number, end: number): string | "refused" {
  return isUtf8(b.subarray(start, end)) ? b.toString("utf8", start, end) : "refused";
}

function decodedOrRefused(
  b: Buffer,
  start: number,
  end: number,
  decode = decodeShortString,
): string | "refused" {
  try {
    return decode(b, start, end);
  } catch (e) {
    assert.ok(e instanceof ProtocolError && e.code === ReplyCode.FRAME_ERROR);
    return "refused";
  }
}

test("property: decodeShortString (cached) agrees with Buffer#toString, and refuses malformed UTF-8", () => {
  const seen: Buffer[] = [];
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 40 }).map((b) => b.map((x) => x & 0x7f)),
        fc.constantFrom(
          ...["x-death", "x-match", "amq.topic", "a", "b", ""].map((s) => new Uint8Array(Buffer.from(s))),
        ),
      ),
      fc.nat(),
      (bytes, pick) => {
        const b = Buffer.concat([Buffer.from([0xff]), bytes, Buffer.from([0x41])]);
        assert.equal(decodedOrRefused(b, 1, 1 + bytes.length), expectedShortString(b, 1, 1 + bytes.length));
        assert.equal(
          decodedOrRefused(b, 1, 1 + bytes.length, decodeStrictString),
          expectedShortString(b, 1, 1 + bytes.length),
        );
        // Re-decode an earlier string: whatever has been cached since must not leak in.
        seen.push(b);
        const old = seen[pick % seen.length]!;
        assert.equal(decodedOrRefused(old, 1, old.length - 1), expectedShortString(old, 1, old.length - 1));
      },
    ),
    { numRuns: 5000 },
  );
  // Many distinct same-length keys (every slot collides sooner or later).
  for (let i = 0; i < 5000; i++) {
    const b = Buffer.from(`key-${String(i).padStart(5, "0")}`);
    assert.equal(decodeShortString(b, 0, b.length), b.toString());
    const c = Buffer.from(`key-${String(4999 - i).padStart(5, "0")}`);
    assert.equal(decodeShortString(c, 0, c.length), c.toString());
  }
});
