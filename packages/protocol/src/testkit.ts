// Helpers shared by the *.test.ts files: not part of the package's API (index.ts does not
// export it).
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { type FieldTable, type FieldValue, TypedValue } from "./field-table.js";
import { FrameReader } from "./frame-reader.js";
import type { BasicProperties } from "./generated/methods.js";

// ---------------------------------------------------------------- the spec, read independently

export interface SpecArgument {
  name: string;
  type?: string;
  domain?: string;
  "default-value"?: unknown;
}
export interface SpecMethod {
  id: number;
  name: string;
  arguments: SpecArgument[];
  content?: boolean;
  synchronous?: boolean;
}
export interface SpecClass {
  id: number;
  name: string;
  methods: SpecMethod[];
  properties?: { name: string; type: string }[];
}
export interface Spec {
  domains: [string, string][];
  classes: SpecClass[];
}

export const spec: Spec = JSON.parse(
  readFileSync(new URL("../../../spec/amqp-rabbitmq-0.9.1.json", import.meta.url), "utf8"),
);
const domains = new Map(spec.domains);
export const argType = (a: SpecArgument): string => a.type ?? domains.get(a.domain!)!;
export const camel = (s: string): string => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

// ---------------------------------------------------------------- bytes

export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
export const unhex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

export interface Frame {
  type: number;
  channel: number;
  payload: Buffer;
}

/** Runs chunks through one FrameReader, copying each frame's payload. */
export function readFrames(chunks: Iterable<Buffer>, frameMax = 0): Frame[] {
  const reader = new FrameReader(frameMax);
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    reader.push(chunk, (type, channel, buf, start, end) => {
      frames.push({ type, channel, payload: Buffer.from(buf.subarray(start, end)) });
    });
  }
  if (reader.pending) throw new Error("reader left with a partial frame");
  return frames;
}

/** Splits buf at the given offsets (sorted, within [0, length]). */
export function splitAt(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of cuts) {
    out.push(buf.subarray(prev, c));
    prev = c;
  }
  out.push(buf.subarray(prev));
  return out;
}

// ---------------------------------------------------------------- arbitraries

/** A shortstr: valid Unicode, at most 255 bytes of UTF-8. */
export const shortstr = (maxLength = 30): fc.Arbitrary<string> =>
  fc.string({ unit: "grapheme", maxLength }).filter((s) => Buffer.byteLength(s) <= 255);

const int64 = fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n);

/**
 * Field values in the form decodeMethod/readTable hands them out, so that encode → decode
 * gives back an equal value (and decode → encode the same bytes).
 */
export const scalarFieldValue: fc.Arbitrary<FieldValue> = fc.oneof(
  fc.boolean(),
  fc.integer({ min: -128, max: 127 }).map((v) => new TypedValue("b", v)),
  fc.integer({ min: 0, max: 255 }).map((v) => new TypedValue("B", v)),
  fc.integer({ min: -32768, max: 32767 }).map((v) => new TypedValue("s", v)),
  fc.integer({ min: 0, max: 65535 }).map((v) => new TypedValue("u", v)),
  fc.integer({ min: -0x80000000, max: 0x7fffffff }).filter((v) => !Object.is(v, -0)), // I
  fc.integer({ min: 0, max: 0xffffffff }).map((v) => new TypedValue("i", v)),
  int64.map((v) => new TypedValue("l", v)),
  int64.map((v) => new TypedValue("L", v)),
  fc.float().map((v) => new TypedValue("f", v)),
  fc.double().map((v) => (Number.isSafeInteger(v) ? new TypedValue("d", v) : v)),
  fc
    .record(
      { scale: fc.integer({ min: 0, max: 255 }), value: fc.integer({ min: 0, max: 0xffffffff }) },
      { noNullPrototype: true },
    )
    .map((d) => new TypedValue("D", d)),
  fc.string({ unit: "grapheme", maxLength: 40 }), // S
  fc.bigInt(0n, 2n ** 64n - 1n).map((v) => new TypedValue("T", v)),
  fc.uint8Array({ maxLength: 40 }).map((b) => new TypedValue("x", Buffer.from(b))),
  fc.constant(null), // V
);

const { value: fieldValue, table: fieldTable } = fc.letrec<{
  value: FieldValue;
  table: FieldTable;
  array: FieldValue[];
}>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalarFieldValue,
    tie("array"),
    tie("table"),
  ),
  array: fc.array(tie("value"), { maxLength: 6, depthIdentifier: "field" }),
  table: fc
    .uniqueArray(fc.tuple(shortstr(12), tie("value")), {
      maxLength: 6,
      selector: ([k]) => k,
      depthIdentifier: "field",
    })
    .map((entries) => {
      const t: FieldTable = {};
      for (const [k, v] of entries)
        Object.defineProperty(t, k, { value: v, enumerable: true, writable: true, configurable: true });
      return t;
    }),
}));

export { fieldTable, fieldValue };

/** Any subset of the 14 basic properties. */
export const basicProperties: fc.Arbitrary<BasicProperties> = fc.record(
  {
    contentType: shortstr(),
    contentEncoding: shortstr(),
    headers: fieldTable,
    deliveryMode: fc.integer({ min: 0, max: 255 }),
    priority: fc.integer({ min: 0, max: 255 }),
    correlationId: shortstr(),
    replyTo: shortstr(),
    expiration: fc.oneof(fc.nat().map(String), shortstr()),
    messageId: shortstr(),
    timestamp: fc.oneof(fc.integer({ min: 0, max: 2 ** 32 }), fc.maxSafeNat()),
    type: shortstr(),
    userId: shortstr(),
    appId: shortstr(),
    clusterId: shortstr(),
  },
  { requiredKeys: [], noNullPrototype: true },
);

export const PROPERTY_NAMES = [
  "contentType",
  "contentEncoding",
  "headers",
  "deliveryMode",
  "priority",
  "correlationId",
  "replyTo",
  "expiration",
  "messageId",
  "timestamp",
  "type",
  "userId",
  "appId",
  "clusterId",
] as const;
