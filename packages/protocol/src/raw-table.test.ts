import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type FieldValue, readTable, typed } from "./field-table.js";
import { PropertyFlag } from "./generated/methods.js";
import { decodeRawProperties, encodeRawProperties, peekExpiration, peekReplyTo } from "./properties.js";
import {
  arrayItems,
  decodeRawValue,
  encodeRawTable,
  encodeRawValue,
  headersRange,
  propertiesProblem,
  rawShortString,
  rawString,
  rawTableEntries,
  tableEntries,
  tableProblem,
  withRawProperty,
} from "./raw-table.js";
import { basicProperties, fieldTable } from "./testkit.js";

/** A headers table nested `depth` levels deep: {a: {a: ... {leaf: 1}}}, as raw properties. */
function deepHeaders(
  depth: number,
  leaf: Buffer = Buffer.from("I\u0000\u0000\u0000\u0001", "latin1"),
): Buffer {
  let value = Buffer.concat([Buffer.from([4]), Buffer.from("leaf"), leaf]); // one entry
  for (let i = 0; i < depth; i++) {
    const size = Buffer.alloc(4);
    size.writeUInt32BE(value.length);
    value = Buffer.concat([Buffer.from([1, 0x61, 0x46]), size, value]); // "a" F <table>
  }
  const size = Buffer.alloc(4);
  size.writeUInt32BE(value.length);
  return Buffer.concat([Buffer.from([0x20, 0x00]), size, value]); // flags: headers only
}

test("tableProblem accepts any nesting depth without recursion: 20,000 levels", () => {
  const raw = deepHeaders(20_000);
  assert.equal(propertiesProblem(raw), undefined);
  // The JS decoder refuses this depth; the raw helpers still read the top level.
  assert.throws(() => decodeRawProperties(raw));
  const [s, e] = headersRange(raw)!;
  const entries = tableEntries(raw, s, e);
  assert.deepEqual(
    entries.map((x) => x.key),
    ["a"],
  );
  assert.equal(decodeRawValue(entries[0]!.value), undefined, "too deep to decode: undefined, not a throw");
});

test("propertiesProblem names unknown field types at any depth, and values that run past their table", () => {
  const z = deepHeaders(150, Buffer.from("Zxyz", "latin1"));
  assert.match(propertiesProblem(z)!, /unknown field table type "Z"/);
  const top = deepHeaders(0, Buffer.from("Z", "latin1"));
  assert.match(propertiesProblem(top)!, /unknown field table type "Z"/);
  const ok = deepHeaders(3);
  const cut = Buffer.from(ok);
  cut.writeUInt32BE(cut.readUInt32BE(2) + 10, 2); // headers size past the end
  assert.match(propertiesProblem(cut)!, /runs past/);
  const inner = Buffer.from(ok);
  inner.writeUInt32BE(inner.readUInt32BE(9) + 1, 9); // the first nested table one byte too long
  assert.match(propertiesProblem(inner)!, /runs past/);
  assert.match(propertiesProblem(Buffer.from([0x80, 0x00, 5, 0x61]))!, /runs past/); // content-type cut
  assert.equal(propertiesProblem(Buffer.from([0, 0])), undefined);
  assert.equal(propertiesProblem(Buffer.from([0x18, 0, 2, 9])), undefined); // delivery-mode, priority
  assert.match(propertiesProblem(Buffer.from([0x18, 0, 2]))!, /runs past/);
});

test("property: whatever the codec encodes passes propertiesProblem, and the raw views agree with decoding", () => {
  fc.assert(
    fc.property(basicProperties, (p) => {
      const raw = encodeRawProperties(p);
      assert.equal(propertiesProblem(raw), undefined);
      const range = headersRange(raw);
      assert.equal(range !== undefined, p.headers !== undefined);
      if (range) {
        const keys = tableEntries(raw, range[0], range[1]).map((e) => e.key);
        assert.deepEqual(keys, Object.keys(decodeRawProperties(raw).headers!));
      }
    }),
    { numRuns: 300 },
  );
});

test("property: random bytes never make the raw helpers throw", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const raw = Buffer.from(bytes);
      propertiesProblem(raw);
      tableProblem(raw, 0, raw.length);
      tableProblem(raw, 0, raw.length, true);
      tableEntries(raw, 0, raw.length);
      arrayItems(raw);
      rawTableEntries(raw);
      decodeRawValue(raw);
      const r = headersRange(raw);
      if (r) tableEntries(raw, r[0], r[1]);
      withRawProperty(raw, PropertyFlag.replyTo, rawShortString("x"));
    }),
    { numRuns: 2000 },
  );
});

test("withRawProperty sets, replaces and removes one property and copies the rest as bytes", () => {
  fc.assert(
    fc.property(basicProperties, fc.string({ maxLength: 40 }), (p, replyTo) => {
      const raw = encodeRawProperties(p);
      const set = withRawProperty(raw, PropertyFlag.replyTo, rawShortString(replyTo));
      assert.deepEqual(decodeRawProperties(set), { ...decodeRawProperties(raw), replyTo });
      assert.equal(peekReplyTo(set), replyTo);
      const removed = withRawProperty(raw, PropertyFlag.expiration, undefined);
      const expected = decodeRawProperties(raw);
      delete expected.expiration;
      assert.deepEqual(decodeRawProperties(removed), expected);
      assert.equal(peekExpiration(removed), undefined);
    }),
    { numRuns: 300 },
  );
});

test("encodeRawTable of a table's own entries gives back its bytes; raw values decode to the values", () => {
  fc.assert(
    fc.property(fieldTable, (t) => {
      const raw = encodeRawProperties({ headers: t });
      const [s, e] = headersRange(raw)!;
      const entries = tableEntries(raw, s, e);
      assert.deepEqual(encodeRawTable(entries), raw.subarray(s - 4, e));
      const back = readTable(raw, s, e);
      for (const entry of entries) assert.deepEqual(decodeRawValue(entry.value), back[entry.key]);
    }),
    { numRuns: 300 },
  );
});

test("arrays, tables and strings read from raw values", () => {
  const arr: FieldValue = [{ queue: "q", count: typed.long(2) }, "s", 1];
  const v = encodeRawValue(arr);
  const items = arrayItems(v);
  assert.equal(items.length, 3);
  assert.deepEqual(
    rawTableEntries(items[0]!)!.map((x) => x.key),
    ["queue", "count"],
  );
  assert.equal(rawString(rawTableEntries(items[0]!)![0]!.value), "q");
  assert.equal(rawString(items[1]!), "s");
  assert.equal(rawTableEntries(items[1]!), undefined);
  assert.deepEqual(arrayItems(items[2]!), []);
});
