// Network fuzzing engine, shared by interop/fuzz.test.mjs (CI-sized run) and bench/fuzz.mjs
// (long runs, replay and reduction of a failure).
//
// Hostile connections: connection number i of a run with seed S gets its own PRNG, seeded from
// (S, i), and builds its whole byte stream (a "script" of steps) from it before connecting, so
// `generateScript(S, i)` always produces the same bytes and any failure can be replayed alone.
// A script is a handshake (valid, split byte by byte, mutated, hostile or cut short) followed by
// actions: valid operations (declares, binds, publishes with content, consumes, gets, acks,
// confirms, tx), the same mutated at the frame level (bit flips, truncated or extended sizes,
// wrong frame types and channels, bad frame-end octets, 4 GB size fields) or the sequence level
// (frames dropped, repeated, swapped), random frames and raw garbage, hostile field tables
// (unknown types, lengths past the end, deep nesting, 0xFFFFFFFF lengths), content headers
// followed by body frames of the wrong size, heartbeats, channel churn, connection-level methods,
// and valid frames written byte by byte with small delays.
//
// The only reaction to the broker is a fixed policy: channel.close is answered with close-ok
// (and, if the script says so, the channel is opened again); connection.close is answered with
// close-ok if the script says so. Everything the broker sends is checked: well-formed frames,
// known server methods, content headers followed by exactly the announced body bytes, no
// unknown reply codes, and a connection.close is followed by the socket closing.
//
// A bystander (an amqplib connection in a worker thread, so the fuzzer's own event loop does not
// distort its timings) publishes with confirms and consumes through its own exclusive queue all
// along, and accounts for every message.
import net from "node:net";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

// ---------------------------------------------------------------------------------- PRNG

/** mulberry32: small, fast, and good enough to drive a fuzzer. */
export class Rng {
  constructor(seed) {
    this.state = seed >>> 0;
  }
  u32() {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  float() {
    return this.u32() / 4294967296;
  }
  /** Integer in [0, n). */
  int(n) {
    return Math.floor(this.float() * n);
  }
  /** Integer in [lo, hi]. */
  range(lo, hi) {
    return lo + this.int(hi - lo + 1);
  }
  chance(p) {
    return this.float() < p;
  }
  pick(a) {
    return a[this.int(a.length)];
  }
  /** entries: [weight, value] pairs. */
  weighted(entries) {
    let total = 0;
    for (const [w] of entries) total += w;
    let x = this.float() * total;
    for (const [w, v] of entries) {
      if ((x -= w) < 0) return v;
    }
    return entries[entries.length - 1][1];
  }
  /** n random bytes; past 1 KiB, a random 1 KiB block repeated (bodies need not be noise). */
  bytes(n) {
    const b = Buffer.allocUnsafe(n);
    const m = Math.min(n, 1024);
    let i = 0;
    for (; i + 4 <= m; i += 4) b.writeUInt32LE(this.u32(), i);
    for (; i < m; i++) b[i] = this.u32() & 0xff;
    if (n > m) b.fill(b.subarray(0, m), m);
    return b;
  }
  /** Mostly short names from a small alphabet, sometimes empty, long or binary. */
  name(max = 12) {
    const r = this.float();
    if (r < 0.05) return "";
    if (r < 0.08) return "x".repeat(this.range(200, 255));
    if (r < 0.1) return this.bytes(this.range(1, 20)).toString("latin1");
    const n = this.range(1, max);
    let s = "";
    for (let i = 0; i < n; i++) s += "abcdefgh.-_#*0123"[this.int(17)];
    return s;
  }
}

/** The seed of hostile connection `index` in a run seeded with `seed`. */
export function connectionSeed(seed, index) {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Boundary values for 8/16/32-bit fields. */
const INTERESTING32 = [
  0, 1, 2, 7, 0x7f, 0x80, 0xff, 0x100, 0xfff, 0x1000, 0x7fff, 0x8000, 0xffff, 0x10000, 0x1fff8, 0x20000,
  0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
];

// ---------------------------------------------------------------------------------- wire encoding

export const PROTOCOL_HEADER = Buffer.from("AMQP\x00\x00\x09\x01", "latin1");
const FRAME_END = 0xce;
const T_METHOD = 1;
const T_HEADER = 2;
const T_BODY = 3;
const T_HEARTBEAT = 8;
/** The broker's frame_max (connection.tune); frames bigger than this are a FRAME_ERROR. */
export const BROKER_FRAME_MAX = 131072;

/** Appends AMQP wire types; every length is whatever the caller says (lies included). */
class Enc {
  parts = [];
  u8(v) {
    this.parts.push(Buffer.from([v & 0xff]));
    return this;
  }
  u16(v) {
    const b = Buffer.allocUnsafe(2);
    b.writeUInt16BE(v & 0xffff);
    this.parts.push(b);
    return this;
  }
  u32(v) {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(v >>> 0);
    this.parts.push(b);
    return this;
  }
  u64(v) {
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64BE(BigInt.asUintN(64, typeof v === "bigint" ? v : BigInt(Math.trunc(v))));
    this.parts.push(b);
    return this;
  }
  raw(b) {
    this.parts.push(b);
    return this;
  }
  shortstr(s) {
    const b = Buffer.isBuffer(s) ? s : Buffer.from(s, "latin1");
    return this.u8(b.length > 255 ? 255 : b.length).raw(b.subarray(0, 255));
  }
  longstr(s) {
    const b = Buffer.isBuffer(s) ? s : Buffer.from(s, "latin1");
    return this.u32(b.length).raw(b);
  }
  bits(...flags) {
    return this.u8(flags.reduce((acc, f, i) => acc | (f ? 1 << i : 0), 0));
  }
  /** A field table from its encoded body (see tableBody / randomTable). */
  table(body) {
    return this.u32(body.length).raw(body);
  }
  buf() {
    return Buffer.concat(this.parts);
  }
}

export function frame(type, channel, payload, end = FRAME_END) {
  const b = Buffer.allocUnsafe(8 + payload.length);
  b[0] = type;
  b.writeUInt16BE(channel & 0xffff, 1);
  b.writeUInt32BE(payload.length, 3);
  payload.copy(b, 7);
  b[7 + payload.length] = end;
  return b;
}

/** A method frame; args is an Enc (or nothing). */
function method(channel, classId, methodId, args) {
  const head = Buffer.allocUnsafe(4);
  head.writeUInt16BE(classId);
  head.writeUInt16BE(methodId, 2);
  return frame(T_METHOD, channel, args ? Buffer.concat([head, args.buf()]) : head);
}

function contentHeader(channel, bodySize, props, classId = 60, weight = 0) {
  const e = new Enc().u16(classId).u16(weight).u64(bodySize).raw(props);
  return frame(T_HEADER, channel, e.buf());
}

/** Body frames carrying `body`, cut at most `max` bytes apiece (or at random when cut is set). */
function bodyFrames(rng, channel, body, max, cut = false) {
  const out = [];
  for (let off = 0; off < body.length;) {
    const n = cut ? Math.min(max, rng.range(1, Math.max(1, body.length - off))) : max;
    out.push(frame(T_BODY, channel, body.subarray(off, off + n)));
    off += n;
  }
  return out;
}

// ---------------------------------------------------------------------------------- field tables

const VALID_TAGS = "tbBsuIilfdDTSxVAF";

/** One field value (tag + value) of a random valid type; nests tables/arrays up to depth. */
function randomValue(rng, depth) {
  const tags = depth > 0 ? VALID_TAGS : VALID_TAGS.slice(0, -2);
  const tag = rng.pick(tags);
  const e = new Enc().u8(tag.charCodeAt(0));
  switch (tag) {
    case "t":
      return e.u8(rng.int(3)).buf(); // 2: not a strict boolean
    case "b":
    case "B":
      return e.u8(rng.u32()).buf();
    case "s":
    case "u":
      return e.u16(rng.u32()).buf();
    case "I":
    case "i":
    case "f":
      return e.u32(rng.chance(0.3) ? rng.pick(INTERESTING32) : rng.u32()).buf();
    case "l":
    case "T":
    case "d":
      return e.u32(rng.u32()).u32(rng.u32()).buf();
    case "D":
      return e
        .u8(rng.chance(0.2) ? 255 : rng.int(10))
        .u32(rng.u32())
        .buf();
    case "S":
    case "x":
      return e.longstr(rng.bytes(rng.int(rng.chance(0.1) ? 2000 : 24))).buf();
    case "V":
      return e.buf();
    case "A": {
      const items = [];
      for (let i = rng.int(4); i > 0; i--) items.push(randomValue(rng, depth - 1));
      return e.longstr(Buffer.concat(items)).buf();
    }
    default:
      return e.longstr(randomTable(rng, depth - 1)).buf();
  }
}

/** A random valid field-table body (no length prefix). */
function randomTable(rng, depth = 2, entries = rng.int(5)) {
  const parts = [];
  for (let i = 0; i < entries; i++) {
    parts.push(new Enc().shortstr(rng.name()).buf(), randomValue(rng, depth));
  }
  return Buffer.concat(parts);
}

/** Table body from [name, value] with JS values: string 'S', integer 'I'/'l', boolean 't', Buffer raw value. */
function tableBody(entries) {
  const e = new Enc();
  for (const [name, v] of entries) {
    e.shortstr(name);
    if (Buffer.isBuffer(v)) e.raw(v);
    else if (typeof v === "boolean") e.u8(0x74).u8(v ? 1 : 0);
    else if (typeof v === "number" && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) {
      e.u8(0x49).u32(v);
    } else if (typeof v === "number") e.u8(0x6c).u64(BigInt(Math.trunc(v)));
    else e.u8(0x53).longstr(String(v));
  }
  return e.buf();
}

/**
 * A table entry nested `depth` levels deep, built in O(depth): kind "F" nests tables, "A"
 * arrays, "mix" alternates. A level inside a table has a one-letter name; a level inside an
 * array has none.
 */
function deepNest(depth, kind) {
  const tags = Array.from({ length: depth }, (_, k) => (kind === "mix" ? (k % 2 ? "A" : "F") : kind));
  const named = tags.map((_, k) => k === 0 || tags[k - 1] === "F");
  const sizes = tags.map((_, k) => (named[k] ? 2 : 0) + 5);
  const b = Buffer.allocUnsafe(sizes.reduce((a, x) => a + x, 0));
  let after = b.length;
  let o = 0;
  for (let k = 0; k < depth; k++) {
    if (named[k]) {
      b[o++] = 1;
      b[o++] = 0x61;
    }
    b[o++] = tags[k].charCodeAt(0);
    after -= sizes[k];
    b.writeUInt32BE(after, o);
    o += 4;
  }
  return b;
}

/** A hostile field table, length prefix included; returns [bytes, label]. */
function badTable(rng) {
  const kind = rng.weighted([
    [3, "unknown-type"],
    [3, "length-past-end"],
    [3, "value-length-past-end"],
    [2, "deep"],
    [2, "ffffffff-table"],
    [3, "ffffffff-value"],
    [1, "many-entries"],
    [1, "truncated-value"],
    [1, "name-past-end"],
    [1, "valid-weird"],
  ]);
  const prefix = rng.chance(0.5) ? randomTable(rng, 1, rng.int(3)) : Buffer.alloc(0);
  let body;
  switch (kind) {
    case "unknown-type": {
      const tag = rng.pick([0, 0x5a, 0x55, 0x4c, 0x58, 0x63, 0x61, 0x7a, 0xff, rng.u32() & 0xff]);
      body = Buffer.concat([
        prefix,
        new Enc()
          .shortstr("k")
          .u8(tag)
          .raw(rng.bytes(rng.int(9)))
          .buf(),
      ]);
      break;
    }
    case "length-past-end": {
      body = Buffer.concat([prefix, randomTable(rng, 1, 1)]);
      const lie = body.length + rng.pick([1, 2, 100, 0x10000, 0x7fffffff]);
      return [new Enc().u32(lie).raw(body).buf(), `table:${kind}`];
    }
    case "value-length-past-end": {
      const tag = rng.pick(["S", "x", "A", "F"]);
      const lie = rng.pick([1, 5, 100, 0x10000, 0x7fffffff]);
      body = Buffer.concat([
        prefix,
        new Enc()
          .shortstr("v")
          .u8(tag.charCodeAt(0))
          .u32(lie)
          .raw(rng.bytes(rng.int(4)))
          .buf(),
      ]);
      break;
    }
    case "deep": {
      const depth = rng.pick([32, 33, 64, 100, 1000, 5000, 15000]);
      body = deepNest(depth, rng.pick(["F", "A", "mix"]));
      return [new Enc().table(body).buf(), `table:deep-${depth}`];
    }
    case "ffffffff-table":
      return [
        new Enc()
          .u32(0xffffffff)
          .raw(prefix)
          .raw(rng.bytes(rng.int(8)))
          .buf(),
        `table:${kind}`,
      ];
    case "ffffffff-value": {
      const tag = rng.pick(["S", "x", "A", "F"]);
      body = Buffer.concat([
        prefix,
        new Enc()
          .shortstr("v")
          .u8(tag.charCodeAt(0))
          .u32(0xffffffff)
          .raw(rng.bytes(rng.int(8)))
          .buf(),
      ]);
      break;
    }
    case "many-entries": {
      const n = rng.pick([1000, 5000]);
      const entries = [];
      for (let i = 0; i < n; i++) entries.push([rng.chance(0.5) ? "dup" : `k${i}`, i]);
      body = tableBody(entries);
      break;
    }
    case "truncated-value": {
      const tag = rng.pick("lTdDIiusf");
      body = Buffer.concat([
        prefix,
        new Enc()
          .shortstr("t")
          .u8(tag.charCodeAt(0))
          .raw(rng.bytes(rng.int(3)))
          .buf(),
      ]);
      break;
    }
    case "name-past-end":
      body = Buffer.concat([prefix, new Enc().u8(rng.range(10, 255)).raw(Buffer.from("abc")).buf()]);
      break;
    default:
      // Valid, but odd: NaN floats, decimals with 255 places, non-0/1 booleans, empty names.
      body = Buffer.concat([
        new Enc().shortstr("").u8(0x74).u8(7).buf(),
        new Enc().shortstr("nan").u8(0x64).u32(0x7ff80000).u32(1).buf(),
        new Enc().shortstr("dec").u8(0x44).u8(255).u32(0xffffffff).buf(),
        new Enc().shortstr("void").u8(0x56).buf(),
        randomTable(rng, 3, 3),
      ]);
  }
  return [new Enc().table(body).buf(), `table:${kind}`];
}

// ---------------------------------------------------------------------------------- properties

const EXPIRATIONS = [
  "0",
  "1",
  "5",
  "50",
  "1000",
  "60000",
  "-1",
  "abc",
  "",
  " 5",
  "1e3",
  "4294967296",
  "99999999999999999999",
];

/** A basic-class property block (flags + fields), valid unless the caller mutates it. */
function randomProps(rng, ctx) {
  if (rng.chance(0.3)) return Buffer.from([0, 0]);
  const e = new Enc();
  let flags = 0;
  const set = (bit, write) => {
    flags |= 1 << bit;
    write();
  };
  if (rng.chance(0.3)) set(15, () => e.shortstr(rng.pick(["text/plain", "application/json", rng.name()])));
  if (rng.chance(0.1)) set(14, () => e.shortstr(rng.name()));
  if (rng.chance(0.35)) {
    set(13, () => {
      const extra = [];
      if (rng.chance(0.2)) extra.push(["x-match", rng.pick(["all", "any", "all-with-x", "bogus"])]);
      if (rng.chance(0.15))
        extra.push([
          "CC",
          new Enc().u8(0x41).longstr(new Enc().u8(0x53).longstr(ctx.pickQueue()).buf()).buf(),
        ]);
      if (rng.chance(0.1)) extra.push(["BCC", new Enc().u8(0x53).longstr(ctx.pickQueue()).buf()]);
      if (rng.chance(0.15))
        extra.push([
          "x-death",
          new Enc()
            .u8(rng.pick([0x41, 0x53, 0x46]))
            .longstr(randomTable(rng, 2, rng.int(3)))
            .buf(),
        ]);
      if (rng.chance(0.1)) extra.push(["x-delivery-count", rng.int(10)]);
      e.table(Buffer.concat([tableBody(extra), randomTable(rng, 2, rng.int(4))]));
    });
  }
  if (rng.chance(0.4)) set(12, () => e.u8(rng.pick([1, 2, 2, 0, 3, 255])));
  if (rng.chance(0.25)) set(11, () => e.u8(rng.pick([0, 1, 5, 9, 10, 11, 255])));
  if (rng.chance(0.15)) set(10, () => e.shortstr(rng.name()));
  if (rng.chance(0.08))
    set(9, () => e.shortstr(rng.pick(["amq.rabbitmq.reply-to", ctx.pickQueue(), rng.name()])));
  if (rng.chance(0.3)) set(8, () => e.shortstr(rng.pick(EXPIRATIONS)));
  if (rng.chance(0.15)) set(7, () => e.shortstr(rng.name()));
  if (rng.chance(0.15)) set(6, () => e.u64(rng.chance(0.5) ? 1.7e9 + rng.u32() / 16 : rng.u32() * 2 ** 21));
  if (rng.chance(0.1)) set(5, () => e.shortstr(rng.name()));
  if (rng.chance(0.08)) set(4, () => e.shortstr(rng.pick(["guest", "admin", ""])));
  if (rng.chance(0.1)) set(3, () => e.shortstr(rng.name()));
  if (rng.chance(0.05)) set(2, () => e.shortstr(rng.name()));
  return Buffer.concat([new Enc().u16(flags).buf(), e.buf()]);
}

/** A property block that does not parse; returns [bytes, label]. */
function badProps(rng, ctx) {
  const kind = rng.weighted([
    [3, "bad-headers"],
    [2, "truncated"],
    [1, "flag-words"],
    [1, "shortstr-past-end"],
    [1, "trailing"],
    [1, "all-flags-no-data"],
  ]);
  switch (kind) {
    case "bad-headers": {
      const [table, label] = badTable(rng);
      const rest = rng.chance(0.5) ? new Enc().u8(2).shortstr(rng.pick(EXPIRATIONS)).buf() : Buffer.alloc(0);
      const flags = (1 << 13) | (rest.length ? (1 << 12) | (1 << 8) : 0);
      return [Buffer.concat([new Enc().u16(flags).buf(), table, rest]), `props:${label}`];
    }
    case "truncated": {
      const good = randomProps(rng, ctx);
      if (good.length <= 3) return [Buffer.from([0x20, 0x00, 0x00]), "props:truncated"];
      return [good.subarray(0, rng.range(2, good.length - 1)), "props:truncated"];
    }
    case "flag-words":
      return [
        Buffer.concat([
          new Enc()
            .u16(0x1001)
            .u16(rng.chance(0.5) ? 0x0001 : 0xfffe)
            .buf(),
          rng.bytes(rng.int(6)),
        ]),
        "props:flag-words",
      ];
    case "shortstr-past-end":
      return [
        new Enc()
          .u16(1 << 8)
          .u8(rng.range(5, 255))
          .raw(Buffer.from("12"))
          .buf(),
        "props:shortstr-past-end",
      ];
    case "trailing":
      return [Buffer.concat([randomProps(rng, ctx), rng.bytes(rng.range(1, 16))]), "props:trailing"];
    default:
      return [new Enc().u16(0xfffe).buf(), "props:all-flags-no-data"];
  }
}

// ---------------------------------------------------------------------------------- connection context

const BUILTIN_EXCHANGES = [
  "",
  "amq.direct",
  "amq.fanout",
  "amq.topic",
  "amq.headers",
  "amq.match",
  "amq.rabbitmq.trace",
];
const EXCHANGE_TYPES = ["direct", "fanout", "topic", "headers", "x-bogus", "direct", "fanout"];

/** What a script knows while it builds frames: channels it opened, names it uses. */
class Ctx {
  constructor(rng, index, frameMax) {
    this.rng = rng;
    this.index = index;
    this.frameMax = frameMax;
    this.prefix = `fz${index}`;
    this.channels = [1];
    this.queues = [0, 1, 2].map((i) => `${this.prefix}.q${i}`);
    this.exchanges = [0, 1].map((i) => `${this.prefix}.x${i}`);
    // Some connections also use names every connection may use, so that queues, consumers and
    // requeues cross connections (and exclusive queues meet other owners).
    if (rng.chance(0.15)) {
      this.queues.push(`fz.shared.q${rng.int(4)}`);
      this.exchanges.push(`fz.shared.x${rng.int(2)}`);
    }
    this.tags = [`${this.prefix}.c0`, `${this.prefix}.c1`];
  }
  ch() {
    const r = this.rng;
    if (!this.gentle && r.chance(0.04)) return r.pick([0, 2047, 2048, 65535, r.int(65536)]);
    return r.pick(this.channels);
  }
  pickQueue() {
    const r = this.rng;
    if (r.chance(0.05)) return r.pick(["", "amq.gen-x", r.name(), "x".repeat(255)]);
    return r.pick(this.queues);
  }
  pickExchange() {
    const r = this.rng;
    return r.chance(0.35) ? r.pick(BUILTIN_EXCHANGES) : r.chance(0.05) ? r.name() : r.pick(this.exchanges);
  }
  routingKey() {
    const r = this.rng;
    return r.chance(0.6) ? this.pickQueue() : r.pick(["#", "*", "a.b.c", r.name(), ""]);
  }
  /** Arguments for queue.declare: often the features whose code reads message properties later. */
  queueArgs() {
    const r = this.rng;
    const e = [];
    if (r.chance(0.4)) e.push(["x-message-ttl", r.pick([0, 0, 1, 10, 50, 200, 60000, -1])]);
    if (r.chance(0.4))
      e.push(["x-dead-letter-exchange", r.chance(0.7) ? r.pick(["", ...this.exchanges]) : r.name()]);
    if (r.chance(0.3)) e.push(["x-dead-letter-routing-key", this.pickQueue()]);
    if (r.chance(0.2)) e.push(["x-max-length", r.pick([0, 1, 2, 5, 100])]);
    if (r.chance(0.1)) e.push(["x-max-length-bytes", r.pick([0, 10, 1000])]);
    if (r.chance(0.15))
      e.push(["x-overflow", r.pick(["drop-head", "reject-publish", "reject-publish-dlx", "bogus"])]);
    if (r.chance(0.15)) e.push(["x-max-priority", r.pick([1, 5, 10, 255, 256, 0])]);
    if (r.chance(0.15)) e.push(["x-queue-type", r.pick(["classic", "quorum", "quorum", "stream", "bogus"])]);
    if (r.chance(0.1)) e.push(["x-delivery-limit", r.pick([0, 1, 3])]);
    if (r.chance(0.1)) e.push(["x-single-active-consumer", r.chance(0.8)]);
    if (r.chance(0.05)) e.push(["x-queue-mode", r.pick(["lazy", "default", "bogus"])]);
    // Queues that outlive the connection go away on their own.
    e.push(["x-expires", r.chance(0.95) ? r.pick([500, 2000, 5000]) : r.pick([0, 1, -5])]);
    if (r.chance(0.15)) return Buffer.concat([tableBody(e), randomTable(r, 1, 2)]);
    return tableBody(e);
  }
}

// ---------------------------------------------------------------------------------- operations

/** Each operation: (ctx, ch) => [frames, name]. All frames valid unless the args are odd. */
const OPS = {
  queueDeclare(c, ch) {
    const r = c.rng;
    const durable = r.chance(0.3);
    const exclusive = r.chance(0.5);
    const e = new Enc().u16(0).shortstr(c.pickQueue());
    e.bits(r.chance(0.05), durable, exclusive, r.chance(0.4), r.chance(0.15)).table(c.queueArgs());
    return [method(ch, 50, 10, e)];
  },
  exchangeDeclare(c, ch) {
    const r = c.rng;
    const e = new Enc().u16(0).shortstr(r.chance(0.9) ? r.pick(c.exchanges) : c.pickExchange());
    e.shortstr(r.pick(EXCHANGE_TYPES)).bits(
      r.chance(0.05),
      r.chance(0.2),
      r.chance(0.8),
      r.chance(0.05),
      r.chance(0.15),
    );
    const args = r.chance(0.2) ? tableBody([["alternate-exchange", c.pickExchange()]]) : Buffer.alloc(0);
    return [method(ch, 40, 10, e.table(args))];
  },
  queueBind(c, ch) {
    const r = c.rng;
    const args = r.chance(0.3)
      ? tableBody([
          ["x-match", r.pick(["all", "any", "bogus"])],
          [r.name(), r.name()],
        ])
      : Buffer.alloc(0);
    const e = new Enc().u16(0).shortstr(c.pickQueue()).shortstr(c.pickExchange()).shortstr(c.routingKey());
    return [method(ch, 50, 20, e.bits(r.chance(0.1)).table(args))];
  },
  queueUnbind(c, ch) {
    const e = new Enc().u16(0).shortstr(c.pickQueue()).shortstr(c.pickExchange()).shortstr(c.routingKey());
    return [method(ch, 50, 50, e.table(Buffer.alloc(0)))];
  },
  exchangeBind(c, ch) {
    const r = c.rng;
    const e = new Enc().u16(0).shortstr(c.pickExchange()).shortstr(c.pickExchange()).shortstr(c.routingKey());
    return [method(ch, 40, r.chance(0.8) ? 30 : 40, e.bits(r.chance(0.1)).table(Buffer.alloc(0)))];
  },
  publish(c, ch) {
    const r = c.rng;
    const e = new Enc().u16(0).shortstr(c.pickExchange()).shortstr(c.routingKey());
    const frames = [method(ch, 60, 40, e.bits(r.chance(0.2), r.chance(0.02)))];
    const size = r.weighted([
      [5, r.int(64)],
      [3, r.int(2000)],
      [1, 0],
      [1, r.range(c.frameMax - 16, c.frameMax * 2 + 10)],
    ]);
    const body = r.bytes(size);
    frames.push(contentHeader(ch, size, randomProps(r, c)));
    frames.push(...bodyFrames(r, ch, body, c.frameMax - 8, r.chance(0.2)));
    return frames;
  },
  consume(c, ch) {
    const r = c.rng;
    const args = r.chance(0.3)
      ? tableBody([
          ["x-priority", r.pick([-5, 0, 10])],
          ...(r.chance(0.2) ? [["x-cancel-on-ha-failover", true]] : []),
        ])
      : Buffer.alloc(0);
    const e = new Enc()
      .u16(0)
      .shortstr(c.pickQueue())
      .shortstr(r.chance(0.7) ? r.pick(c.tags) : "");
    return [
      method(ch, 60, 20, e.bits(r.chance(0.05), r.chance(0.4), r.chance(0.1), r.chance(0.1)).table(args)),
    ];
  },
  cancel(c, ch) {
    return [method(ch, 60, 30, new Enc().shortstr(c.rng.pick(c.tags)).bits(c.rng.chance(0.2)))];
  },
  get(c, ch) {
    return [method(ch, 60, 70, new Enc().u16(0).shortstr(c.pickQueue()).bits(c.rng.chance(0.5)))];
  },
  settle(c, ch) {
    const r = c.rng;
    const tag = r.chance(0.8) ? r.int(12) : r.pick([2 ** 53, -1n, 0xffffffffffffffffn]);
    const kind = r.pick([80, 90, 120]);
    const e = new Enc().u64(tag);
    e.bits(r.chance(0.3), r.chance(0.5));
    return [method(ch, 60, kind, e)];
  },
  qos(c, ch) {
    const r = c.rng;
    const e = new Enc().u32(r.chance(0.05) ? r.pick(INTERESTING32) : 0).u16(r.pick([0, 1, 2, 10, 65535]));
    return [method(ch, 60, 10, e.bits(r.chance(0.3)))];
  },
  recover(c, ch) {
    return [method(ch, 60, c.rng.pick([100, 110]), new Enc().bits(c.rng.chance(0.7)))];
  },
  confirmSelect(c, ch) {
    return [method(ch, 85, 10, new Enc().bits(c.rng.chance(0.2)))];
  },
  tx(c, ch) {
    return [method(ch, 90, c.rng.pick([10, 10, 20, 30]))];
  },
  flow(c, ch) {
    return [method(ch, 20, 20, new Enc().bits(c.rng.chance(0.5)))];
  },
  purge(c, ch) {
    return [method(ch, 50, 30, new Enc().u16(0).shortstr(c.pickQueue()).bits(c.rng.chance(0.1)))];
  },
  queueDelete(c, ch) {
    const r = c.rng;
    return [
      method(
        ch,
        50,
        40,
        new Enc().u16(0).shortstr(c.pickQueue()).bits(r.chance(0.2), r.chance(0.2), r.chance(0.1)),
      ),
    ];
  },
  exchangeDelete(c, ch) {
    return [
      method(
        ch,
        40,
        20,
        new Enc().u16(0).shortstr(c.pickExchange()).bits(c.rng.chance(0.2), c.rng.chance(0.1)),
      ),
    ];
  },
  accessRequest(c, ch) {
    return [method(ch, 30, 10, new Enc().shortstr("/data").bits(true, false, true, true, true))];
  },
};

const OP_WEIGHTS = [
  [14, "publish"],
  [6, "queueDeclare"],
  [3, "exchangeDeclare"],
  [4, "queueBind"],
  [1, "queueUnbind"],
  [1, "exchangeBind"],
  [5, "consume"],
  [2, "cancel"],
  [4, "get"],
  [5, "settle"],
  [2, "qos"],
  [2, "recover"],
  [2, "confirmSelect"],
  [2, "tx"],
  [1, "flow"],
  [1, "purge"],
  [1, "queueDelete"],
  [1, "exchangeDelete"],
  [0.3, "accessRequest"],
];

// ---------------------------------------------------------------------------------- mutations

/** Mutates one whole frame (header, payload, end byte); returns [bytes, label]. */
function mutateFrame(rng, f) {
  const kind = rng.weighted([
    [5, "bitflip"],
    [3, "interesting"],
    [2, "truncate-fixed"],
    [1, "truncate-raw"],
    [2, "extend-fixed"],
    [2, "size-lie"],
    [1, "size-ffffffff"],
    [1, "wrong-type"],
    [1, "wrong-channel"],
    [1, "bad-end"],
  ]);
  const b = Buffer.from(f);
  const payloadLen = b.length - 8;
  switch (kind) {
    case "bitflip":
      for (let i = rng.range(1, 4); i > 0; i--) b[rng.int(b.length)] ^= 1 << rng.int(8);
      return [b, kind];
    case "interesting": {
      if (payloadLen < 1) return [b, "noop"];
      const width = rng.pick([1, 2, 4].filter((w) => w <= payloadLen));
      const at = 7 + rng.int(payloadLen - width + 1);
      const v = rng.pick(INTERESTING32);
      if (width === 1) b[at] = v & 0xff;
      else if (width === 2) b.writeUInt16BE(v & 0xffff, at);
      else b.writeUInt32BE(v >>> 0, at);
      return [b, `interesting-${width}@${at - 7}=${v.toString(16)}`];
    }
    case "truncate-fixed": {
      const n = rng.int(payloadLen);
      return [frame(b[0], b.readUInt16BE(1), b.subarray(7, 7 + n)), `${kind}-${n}`];
    }
    case "truncate-raw":
      return [b.subarray(0, rng.range(1, b.length - 1)), kind];
    case "extend-fixed":
      return [
        frame(b[0], b.readUInt16BE(1), Buffer.concat([b.subarray(7, -1), rng.bytes(rng.range(1, 32))])),
        kind,
      ];
    case "size-lie": {
      const d = rng.pick([-3, -2, -1, 1, 2, 3, 100, 4096]);
      b.writeUInt32BE(Math.max(0, payloadLen + d) >>> 0, 3);
      return [b, `size${d > 0 ? "+" : ""}${d}`];
    }
    case "size-ffffffff":
      b.writeUInt32BE(
        rng.pick([0xffffffff, 0x7fffffff, 0x80000000, BROKER_FRAME_MAX - 7, BROKER_FRAME_MAX - 8]),
        3,
      );
      return [b, `size=${b.readUInt32BE(3).toString(16)}`];
    case "wrong-type":
      b[0] = rng.pick([1, 2, 3, 8, 0, 4, 9, 0xce, rng.int(256)].filter((t) => t !== f[0]));
      return [b, `type=${b[0]}`];
    case "wrong-channel":
      b.writeUInt16BE(rng.pick([0, 1, 2, 3, 7, 2047, 2048, 65535]), 1);
      return [b, `channel=${b.readUInt16BE(1)}`];
    default:
      b[b.length - 1] = rng.pick([0, 0xcd, 0xcf, 0xff, rng.int(0xce)]);
      return [b, `end=${b[b.length - 1].toString(16)}`];
  }
}

// ---------------------------------------------------------------------------------- actions

/** An action: (ctx) => step. step = { frames: Buffer[], label, split?: "bytes"|"chunks", pauseMs? }. */
const ACTIONS = [
  [
    40,
    "valid",
    (c) => {
      const name = c.rng.weighted(OP_WEIGHTS);
      return { frames: OPS[name](c, c.ch()), label: name };
    },
  ],
  [
    14,
    "mutated",
    (c) => {
      const r = c.rng;
      const name = r.weighted(OP_WEIGHTS);
      const frames = OPS[name](c, r.pick(c.channels));
      const i = r.int(frames.length);
      const [m, how] = mutateFrame(r, frames[i]);
      frames[i] = m;
      return { frames, label: `${name}[${i}]:${how}` };
    },
  ],
  [
    4,
    "sequence",
    (c) => {
      const r = c.rng;
      const frames = [];
      for (let n = r.range(2, 4); n > 0; n--)
        frames.push(...OPS[r.weighted(OP_WEIGHTS)](c, r.pick(c.channels)));
      const how = r.pick(["drop", "dup", "swap", "reverse"]);
      const i = r.int(frames.length);
      if (how === "drop") frames.splice(i, 1);
      else if (how === "dup") frames.splice(i, 0, frames[i]);
      else if (how === "swap" && i + 1 < frames.length)
        [frames[i], frames[i + 1]] = [frames[i + 1], frames[i]];
      else if (how === "reverse") frames.reverse();
      return { frames, label: `sequence:${how}` };
    },
  ],
  [
    5,
    "random-frame",
    (c) => {
      const r = c.rng;
      const type = r.weighted([
        [3, 1],
        [2, 2],
        [2, 3],
        [1, 8],
        [1, r.int(256)],
      ]);
      let payload = r.bytes(
        r.weighted([
          [4, r.int(16)],
          [3, r.int(200)],
          [1, r.int(5000)],
        ]),
      );
      if (type === 1 && payload.length >= 4 && r.chance(0.7)) {
        // a real class/method id with random arguments reaches the argument decoders
        const [cls, mth] = r.pick([
          [10, 50],
          [10, 51],
          [10, 70],
          [20, 10],
          [20, 20],
          [20, 40],
          [40, 10],
          [40, 30],
          [50, 10],
          [50, 20],
          [60, 10],
          [60, 20],
          [60, 40],
          [60, 70],
          [60, 80],
          [60, 120],
          [85, 10],
          [90, 10],
        ]);
        payload.writeUInt16BE(cls, 0);
        payload.writeUInt16BE(mth, 2);
      }
      if (type === 2 && payload.length >= 12 && r.chance(0.5)) payload.writeUInt16BE(60, 0);
      return {
        frames: [frame(type, c.ch(), payload, r.chance(0.9) ? FRAME_END : r.int(256))],
        label: `random-frame:type=${type}`,
      };
    },
  ],
  [
    6,
    "bad-table",
    (c) => {
      const r = c.rng;
      const [table, label] = badTable(r);
      const ch = r.pick(c.channels);
      const where = r.pick(["queue.declare", "exchange.declare", "queue.bind", "basic.consume", "headers"]);
      let frames;
      if (where === "queue.declare")
        frames = [
          method(
            ch,
            50,
            10,
            new Enc().u16(0).shortstr(c.pickQueue()).bits(false, false, true, true, false).raw(table),
          ),
        ];
      else if (where === "exchange.declare")
        frames = [
          method(
            ch,
            40,
            10,
            new Enc()
              .u16(0)
              .shortstr(c.exchanges[0])
              .shortstr("direct")
              .bits(false, false, true, false, false)
              .raw(table),
          ),
        ];
      else if (where === "queue.bind")
        frames = [
          method(
            ch,
            50,
            20,
            new Enc()
              .u16(0)
              .shortstr(c.pickQueue())
              .shortstr("amq.headers")
              .shortstr("")
              .bits(false)
              .raw(table),
          ),
        ];
      else if (where === "basic.consume")
        frames = [
          method(
            ch,
            60,
            20,
            new Enc().u16(0).shortstr(c.pickQueue()).shortstr("").bits(false, true, false, false).raw(table),
          ),
        ];
      else {
        const props = Buffer.concat([new Enc().u16(1 << 13).buf(), table]);
        frames = [
          method(
            ch,
            60,
            40,
            new Enc().u16(0).shortstr(c.pickExchange()).shortstr(c.routingKey()).bits(false, false),
          ),
          contentHeader(ch, 3, props),
          frame(T_BODY, ch, Buffer.from("abc")),
        ];
      }
      return { frames, label: `${where}:${label}` };
    },
  ],
  [
    6,
    "bad-props",
    (c) => {
      // Well-framed publishes whose property blocks do not parse, aimed at queues whose features
      // (TTL + dead-lettering, quorum redelivery counts, priorities, headers exchanges) read them.
      const r = c.rng;
      const ch = r.pick(c.channels);
      const [props, label] = badProps(r, c);
      const frames = [];
      if (r.chance(0.5)) {
        const args = tableBody([
          ["x-message-ttl", r.pick([0, 1, 20])],
          ["x-dead-letter-exchange", ""],
          ["x-dead-letter-routing-key", c.queues[1]],
          ["x-expires", 3000],
        ]);
        frames.push(
          method(
            ch,
            50,
            10,
            new Enc().u16(0).shortstr(c.queues[0]).bits(false, false, false, false, true).table(args),
          ),
        );
      }
      frames.push(
        method(
          ch,
          60,
          40,
          new Enc()
            .u16(0)
            .shortstr(r.chance(0.2) ? "amq.headers" : "")
            .shortstr(c.queues[0])
            .bits(r.chance(0.3), false),
        ),
      );
      frames.push(contentHeader(ch, 5, props), frame(T_BODY, ch, Buffer.from("hello")));
      if (r.chance(0.4))
        frames.push(method(ch, 60, 70, new Enc().u16(0).shortstr(c.pickQueue()).bits(false)));
      return { frames, label, pauseMs: r.chance(0.2) ? r.range(5, 60) : 0 };
    },
  ],
  [
    4,
    "huge-length",
    (c) => {
      const r = c.rng;
      const ch = r.pick(c.channels);
      const kind = r.pick([
        "frame",
        "table",
        "longstr",
        "body-size",
        "props-table",
        "update-secret",
        "shortstr",
      ]);
      let frames;
      switch (kind) {
        case "frame": {
          const head = Buffer.alloc(7);
          head[0] = r.pick([1, 2, 3, 8]);
          head.writeUInt16BE(ch, 1);
          head.writeUInt32BE(0xffffffff, 3);
          frames = [Buffer.concat([head, r.bytes(r.int(64))])];
          break;
        }
        case "table":
          frames = [
            method(
              ch,
              50,
              10,
              new Enc()
                .u16(0)
                .shortstr(c.queues[0])
                .bits(false, false, true, true, false)
                .u32(0xffffffff)
                .raw(r.bytes(r.int(32))),
            ),
          ];
          break;
        case "longstr": {
          const tag = r.pick(["S", "x", "A", "F"]);
          const table = new Enc().shortstr("k").u8(tag.charCodeAt(0)).u32(0xffffffff).raw(r.bytes(4)).buf();
          frames = [
            method(
              ch,
              40,
              10,
              new Enc()
                .u16(0)
                .shortstr(c.exchanges[0])
                .shortstr("topic")
                .bits(false, false, true, false, false)
                .table(table),
            ),
          ];
          break;
        }
        case "body-size": {
          const size = r.pick([
            0xffffffffffffffffn,
            0xffffffffn,
            0x100000000n,
            2n ** 53n + 1n,
            134217728n,
            134217729n,
            0x7fffffffn,
          ]);
          frames = [
            method(ch, 60, 40, new Enc().u16(0).shortstr("").shortstr(c.queues[0]).bits(false, false)),
            contentHeader(ch, size, Buffer.from([0, 0])),
            ...Array.from({ length: r.int(4) }, () => frame(T_BODY, ch, r.bytes(r.range(1, 100)))),
          ];
          if (r.chance(0.5)) frames.push(...OPS.publish(c, ch));
          return { frames, label: `huge-length:body-size=${size}` };
        }
        case "props-table":
          frames = [
            method(ch, 60, 40, new Enc().u16(0).shortstr("").shortstr(c.queues[0]).bits(false, false)),
            contentHeader(
              ch,
              1,
              new Enc()
                .u16(1 << 13)
                .u32(0xffffffff)
                .raw(r.bytes(8))
                .buf(),
            ),
            frame(T_BODY, ch, Buffer.from("x")),
          ];
          break;
        case "update-secret":
          frames = [method(0, 10, 70, new Enc().u32(0xffffffff).raw(r.bytes(16)))];
          break;
        default:
          frames = [method(ch, 50, 10, new Enc().u16(0).u8(255).raw(Buffer.from("short")))];
      }
      return { frames, label: `huge-length:${kind}` };
    },
  ],
  [
    8,
    "content-mismatch",
    (c) => {
      const r = c.rng;
      const ch = r.pick(c.channels);
      const other = r.pick(c.channels);
      const pub = () =>
        method(
          ch,
          60,
          40,
          new Enc().u16(0).shortstr(c.pickExchange()).shortstr(c.routingKey()).bits(false, false),
        );
      const n = r.range(1, 300);
      const props = randomProps(r, c);
      const kind = r.pick([
        "too-long",
        "too-short-then-method",
        "too-short-then-header",
        "body-without-header",
        "header-without-publish",
        "zero-then-body",
        "empty-bodies",
        "bad-class",
        "short-header",
        "header-other-channel",
        "publish-then-method",
        "tiny-frames",
        "frame-max-edge",
        "two-headers",
      ]);
      let frames;
      switch (kind) {
        case "too-long":
          frames = [pub(), contentHeader(ch, n, props), frame(T_BODY, ch, r.bytes(n + r.range(1, 50)))];
          break;
        case "too-short-then-method":
          frames = [
            pub(),
            contentHeader(ch, n, props),
            frame(T_BODY, ch, r.bytes(r.int(n))),
            ...OPS[r.weighted(OP_WEIGHTS)](c, ch),
          ];
          break;
        case "too-short-then-header":
          frames = [
            pub(),
            contentHeader(ch, n, props),
            frame(T_BODY, ch, r.bytes(r.int(n))),
            contentHeader(ch, n, props),
          ];
          break;
        case "body-without-header":
          frames = [frame(T_BODY, ch, r.bytes(n))];
          break;
        case "header-without-publish":
          frames = [contentHeader(ch, n, props), frame(T_BODY, ch, r.bytes(n))];
          break;
        case "zero-then-body":
          frames = [pub(), contentHeader(ch, 0, props), frame(T_BODY, ch, r.bytes(r.range(0, 5)))];
          break;
        case "empty-bodies":
          frames = [
            pub(),
            contentHeader(ch, n, props),
            ...Array.from({ length: r.range(1, 20) }, () => frame(T_BODY, ch, Buffer.alloc(0))),
            frame(T_BODY, ch, r.bytes(n)),
          ];
          break;
        case "bad-class":
          frames = [
            pub(),
            contentHeader(ch, n, props, r.pick([0, 10, 50, 61, 65535]), r.pick([0, 1])),
            frame(T_BODY, ch, r.bytes(n)),
          ];
          break;
        case "short-header":
          frames = [pub(), frame(T_HEADER, ch, r.bytes(r.int(14))), frame(T_BODY, ch, r.bytes(n))];
          break;
        case "header-other-channel":
          frames = [
            pub(),
            contentHeader(other === ch ? ch + 1 : other, n, props),
            frame(T_BODY, ch, r.bytes(n)),
          ];
          break;
        case "publish-then-method":
          frames = [pub(), ...OPS[r.weighted(OP_WEIGHTS)](c, ch)];
          break;
        case "tiny-frames": {
          const body = r.bytes(n);
          frames = [pub(), contentHeader(ch, n, props), ...bodyFrames(r, ch, body, 1)];
          break;
        }
        case "frame-max-edge": {
          const size = c.frameMax - 8 + r.pick([0, 0, 1]);
          frames = [pub(), contentHeader(ch, size, props), frame(T_BODY, ch, r.bytes(size))];
          break;
        }
        default:
          frames = [
            pub(),
            contentHeader(ch, n, props),
            contentHeader(ch, n, props),
            frame(T_BODY, ch, r.bytes(n)),
          ];
      }
      return { frames, label: `content:${kind}` };
    },
  ],
  [
    6,
    "split",
    (c) => {
      const r = c.rng;
      const frames = [];
      for (let n = r.range(1, 3); n > 0; n--)
        frames.push(...OPS[r.weighted(OP_WEIGHTS)](c, r.pick(c.channels)));
      return { frames, label: "split", split: r.chance(0.7) ? "bytes" : "chunks" };
    },
  ],
  [
    3,
    "heartbeat",
    (c) => {
      const r = c.rng;
      const kind = r.pick(["valid", "valid", "channel", "payload", "many"]);
      const frames =
        kind === "valid"
          ? [frame(T_HEARTBEAT, 0, Buffer.alloc(0))]
          : kind === "channel"
            ? [frame(T_HEARTBEAT, r.pick(c.channels), Buffer.alloc(0))]
            : kind === "payload"
              ? [frame(T_HEARTBEAT, 0, r.bytes(r.range(1, 8)))]
              : Array.from({ length: 200 }, () => frame(T_HEARTBEAT, 0, Buffer.alloc(0)));
      return { frames, label: `heartbeat:${kind}` };
    },
  ],
  [
    4,
    "channel-churn",
    (c) => {
      const r = c.rng;
      const kind = r.pick([
        "close-reopen",
        "close-reopen",
        "reopen-open",
        "open-high",
        "close-ok-unsolicited",
        "open-many",
        "close-then-use",
      ]);
      const ch = r.pick(c.channels);
      let frames;
      switch (kind) {
        case "close-reopen":
          frames = [
            method(ch, 20, 40, new Enc().u16(200).shortstr("bye").u16(0).u16(0)),
            method(ch, 20, 10, new Enc().shortstr("")),
          ];
          break;
        case "reopen-open":
          frames = [method(ch, 20, 10, new Enc().shortstr(""))];
          break;
        case "open-high": {
          const id = r.pick([2047, 2048, 4095, 65535]);
          frames = [method(id, 20, 10, new Enc().shortstr(""))];
          break;
        }
        case "close-ok-unsolicited":
          frames = [method(ch, 20, 41)];
          break;
        case "open-many": {
          frames = [];
          const base = r.range(10, 1900);
          for (let i = 0; i < r.range(10, 100); i++)
            frames.push(method(base + i, 20, 10, new Enc().shortstr("")));
          break;
        }
        default:
          frames = [
            method(ch, 20, 40, new Enc().u16(200).shortstr("").u16(0).u16(0)),
            ...OPS[r.weighted(OP_WEIGHTS)](c, ch),
          ];
      }
      return { frames, label: `channel:${kind}` };
    },
  ],
  [2, "garbage", (c) => ({ frames: [c.rng.bytes(c.rng.range(1, 64))], label: "garbage" })],
  [
    2,
    "connection-method",
    (c) => {
      const r = c.rng;
      const kind = r.pick([
        "close",
        "update-secret",
        "blocked",
        "start-ok-again",
        "tune-ok-again",
        "open-again",
        "unknown",
        "close-ok",
      ]);
      let f;
      switch (kind) {
        case "close":
          f = method(0, 10, 50, new Enc().u16(200).shortstr("bye").u16(0).u16(0));
          break;
        case "update-secret":
          f = method(0, 10, 70, new Enc().longstr(r.bytes(r.int(40))).shortstr("why"));
          break;
        case "blocked":
          f = method(0, 10, r.pick([60, 61]), new Enc().shortstr("low"));
          break;
        case "start-ok-again":
          f = startOk(r, { product: "again" });
          break;
        case "tune-ok-again":
          f = method(0, 10, 31, new Enc().u16(2047).u32(131072).u16(0));
          break;
        case "open-again":
          f = method(0, 10, 40, new Enc().shortstr("/").shortstr("").bits(false));
          break;
        case "unknown":
          f = method(
            r.pick([0, c.channels[0]]),
            r.pick([10, 20, 60, 99, 0, 65535]),
            r.pick([0, 99, 65535]),
            new Enc().raw(r.bytes(r.int(10))),
          );
          break;
        default:
          f = method(0, 10, 51);
      }
      return { frames: [f], label: `connection:${kind}` };
    },
  ],
];

// ---------------------------------------------------------------------------------- handshake

function startOk(rng, { product = "warren-fuzz", table, mechanism = "PLAIN", response } = {}) {
  const caps = tableBody([
    ["publisher_confirms", true],
    ["consumer_cancel_notify", rng.chance(0.8)],
    ["authentication_failure_close", rng.chance(0.5)],
    ["connection.blocked", rng.chance(0.5)],
    ["basic.nack", true],
  ]);
  const props =
    table ??
    new Enc()
      .table(
        Buffer.concat([
          tableBody([
            ["product", product],
            ["capabilities", new Enc().u8(0x46).table(caps).buf()],
          ]),
          rng.chance(0.2) ? randomTable(rng, 2, 3) : Buffer.alloc(0),
        ]),
      )
      .buf();
  return method(
    0,
    10,
    11,
    new Enc()
      .raw(props)
      .shortstr(mechanism)
      .longstr(response ?? "\0guest\0guest")
      .shortstr("en_US"),
  );
}

/** The handshake steps; returns { steps, frameMax, complete }. */
function handshake(rng, frameMax) {
  const mode = rng.weighted([
    [78, "valid"],
    [5, "split"],
    [5, "mutated"],
    [4, "hostile-start-ok"],
    [3, "odd-tune"],
    [3, "partial"],
    [2, "bad-header"],
  ]);
  const frames = [
    PROTOCOL_HEADER,
    startOk(rng),
    method(0, 10, 31, new Enc().u16(2047).u32(frameMax).u16(0)),
    method(0, 10, 40, new Enc().shortstr("/").shortstr("").bits(false)),
  ];
  let complete = true;
  let label = `handshake:${mode}`;
  switch (mode) {
    case "split":
      return { steps: [{ frames, label, split: "bytes" }], frameMax, complete };
    case "mutated": {
      const i = rng.int(frames.length);
      if (i === 0) {
        const b = Buffer.from(PROTOCOL_HEADER);
        b[rng.int(8)] ^= 1 << rng.int(8);
        frames[0] = b;
        label += ":header-bitflip";
      } else {
        const [m, how] = mutateFrame(rng, frames[i]);
        frames[i] = m;
        label += `:frame${i}:${how}`;
      }
      complete = false;
      break;
    }
    case "hostile-start-ok": {
      const kind = rng.pick(["table", "mechanism", "response", "credentials"]);
      if (kind === "table") {
        const [table, how] = badTable(rng);
        frames[1] = startOk(rng, { table });
        label += `:${how}`;
      } else if (kind === "mechanism") {
        frames[1] = startOk(rng, {
          mechanism: rng.pick(["", "EXTERNAL", "AMQPLAIN", "plain", "x".repeat(255)]),
          response: rng.bytes(rng.int(40)),
        });
        label += ":mechanism";
      } else if (kind === "response") {
        const body = new Enc().u32(0xffffffff).raw(Buffer.from("\0guest\0guest")).buf();
        const f = startOk(rng, { response: "" });
        // replace the empty longstr (4 zero bytes before the locale) by the lying one
        const at = f.length - 1 - 6 - 4;
        frames[1] = frame(T_METHOD, 0, Buffer.concat([f.subarray(7, at), body, f.subarray(at + 4, -1)]));
        label += ":response-ffffffff";
      } else {
        frames[1] = startOk(rng, {
          response: rng.pick(["\0guest\0wrong", "\0\0", "", "guest", "\0guest\0guest\0extra"]),
        });
        label += ":credentials";
      }
      complete = false;
      break;
    }
    case "odd-tune": {
      const cm = rng.pick([0, 1, 2047, 2048, 65535]);
      const fm = rng.pick([0, 4095, 4096, 131072, 131073, 0xffffffff]);
      const hb = rng.pick([0, 1, 2, 65535]);
      frames[2] = method(0, 10, 31, new Enc().u16(cm).u32(fm).u16(hb));
      label += `:channel_max=${cm},frame_max=${fm},heartbeat=${hb}`;
      complete = fm >= 4096 && fm <= BROKER_FRAME_MAX && cm > 0 && cm <= 2047;
      if (complete) frameMax = fm;
      break;
    }
    case "partial":
      frames.length = rng.range(1, 3);
      label += `:${frames.length}`;
      complete = false;
      break;
    case "bad-header":
      frames.length = 1;
      frames[0] = rng.pick([
        Buffer.from("AMQP\x01\x01\x00\x09", "latin1"),
        Buffer.from("AMQP\x00\x00\x09\x00", "latin1"),
        Buffer.from("AMQP\x00\x00\x08\x00", "latin1"),
        Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        Buffer.from("AMQ"),
        rng.bytes(rng.range(1, 64)),
      ]);
      complete = false;
      break;
    default:
  }
  return { steps: [{ frames, label }], frameMax, complete };
}

// ---------------------------------------------------------------------------------- scripts

/**
 * The byte stream of hostile connection `index` in a run seeded with `seed`:
 * { index, seed, steps: [{ frames, label, split?, pauseMs? }], policy: { closeOk, reopen } }.
 */
export function generateScript(seed, index) {
  const cseed = connectionSeed(seed, index);
  const rng = new Rng(cseed);
  const tunedFrameMax = rng.chance(0.8) ? BROKER_FRAME_MAX : rng.pick([4096, 8192, 65536]);
  const hs = handshake(rng, tunedFrameMax);
  const ctx = new Ctx(rng, index, hs.frameMax);
  const steps = [...hs.steps];
  // slowReader: the socket is not read until the script has been written, so the broker's
  // output backs up (deliveries, replies) while it keeps reading.
  const policy = { closeOk: rng.chance(0.8), reopen: rng.chance(0.7), slowReader: rng.chance(0.08) };
  // After an incomplete handshake, a few actions still go out: the broker must cope with frames
  // in the wrong state too.
  // Most connections are hostile throughout; "gentle" ones mostly send valid operations, so
  // they build up state (consumers, unacked deliveries, transactions, confirms) before the
  // occasional bad frame arrives.
  const gentle = hs.complete && rng.chance(0.35);
  ctx.gentle = gentle;
  const weights = ACTIONS.map((a) => [
    gentle && a[1] !== "valid" && a[1] !== "split" ? a[0] * 0.05 : a[0],
    a,
  ]);
  const nActions = !hs.complete
    ? rng.int(4)
    : gentle
      ? rng.range(20, 150)
      : rng.weighted([
          [3, rng.range(1, 10)],
          [3, rng.range(10, 40)],
          [1, rng.range(40, 120)],
        ]);
  if (hs.complete) {
    const n = rng.weighted([
      [6, 1],
      [3, 2],
      [1, 3],
    ]);
    ctx.channels = [];
    for (let i = 0; i < n; i++) ctx.channels.push(rng.chance(0.9) ? i + 1 : rng.range(4, 2047));
    const frames = ctx.channels.map((ch) => method(ch, 20, 10, new Enc().shortstr("")));
    // A valid topology first, most of the time, so later actions meet queues and consumers.
    if (rng.chance(0.75)) {
      for (let i = rng.range(1, 3); i > 0; i--) frames.push(...OPS.queueDeclare(ctx, rng.pick(ctx.channels)));
      if (rng.chance(0.5)) frames.push(...OPS.exchangeDeclare(ctx, ctx.channels[0]));
      for (let i = rng.int(3); i > 0; i--) frames.push(...OPS.queueBind(ctx, rng.pick(ctx.channels)));
      for (let i = rng.int(3); i > 0; i--) frames.push(...OPS.consume(ctx, rng.pick(ctx.channels)));
      if (rng.chance(0.3)) frames.push(...OPS.confirmSelect(ctx, rng.pick(ctx.channels)));
    }
    steps.push({ frames, label: "setup" });
  }
  for (let i = 0; i < nActions; i++) {
    const [, kind, make] = rng.weighted(weights);
    const step = make(ctx);
    step.label = `${kind}:${step.label}`;
    if (!step.split && rng.chance(0.03)) step.split = "chunks";
    if (!step.pauseMs && rng.chance(0.05)) step.pauseMs = rng.range(1, 30);
    steps.push(step);
  }
  if (hs.complete && rng.chance(0.5)) {
    // Clean up what is left, then maybe say goodbye properly.
    const ch = ctx.channels[0];
    const frames = ctx.queues.map((q) =>
      method(ch, 50, 40, new Enc().u16(0).shortstr(q).bits(false, false, true)),
    );
    frames.push(
      ...ctx.exchanges.map((x) => method(ch, 40, 20, new Enc().u16(0).shortstr(x).bits(false, true))),
    );
    if (rng.chance(0.6)) frames.push(method(0, 10, 50, new Enc().u16(200).shortstr("bye").u16(0).u16(0)));
    steps.push({ frames, label: "cleanup" });
  }
  return {
    index,
    seed,
    connectionSeed: cseed,
    gentle,
    steps,
    policy,
    frameMax: hs.complete ? ctx.frameMax : BROKER_FRAME_MAX,
  };
}

// ---------------------------------------------------------------------------------- server output checks

/** Methods a server may send: class -> method ids. */
const SERVER_METHODS = new Map([
  [10, new Set([10, 20, 30, 41, 50, 51, 60, 61, 71])],
  [20, new Set([11, 20, 21, 40, 41])],
  [30, new Set([11])],
  [40, new Set([11, 21, 31, 51])],
  [50, new Set([11, 21, 31, 41, 51])],
  [60, new Set([11, 21, 30, 31, 50, 60, 71, 72, 80, 111, 120])],
  [85, new Set([11])],
  [90, new Set([11, 21, 31])],
]);
// 541 INTERNAL_ERROR included: RabbitMQ (and so Warren) refuses unparseable properties with it. A
// real internal error shows in the broker's log ("internal error on connection ..." with a stack), which
// the run checks.
const KNOWN_CODES = new Set([
  200, 311, 312, 313, 320, 402, 403, 404, 405, 406, 501, 502, 503, 504, 505, 506, 530, 540, 541,
]);

/** Parses what the broker sends one hostile connection and checks it. */
class ServerStream {
  pending = Buffer.alloc(0);
  /** Content expected per channel: { need: bodySize left } or "header". */
  content = new Map();
  problems = [];
  headerReply = false;
  connClose = null;
  channelCloses = [];
  closedChannels = new Set();
  warnings = [];
  frames = 0;
  maxFrame;
  sawStart = false;

  constructor(maxFrame) {
    this.maxFrame = maxFrame;
  }

  push(d) {
    if (this.problems.length) return [];
    this.pending = this.pending.length ? Buffer.concat([this.pending, d]) : d;
    if (!this.sawStart && this.pending.length >= 4 && this.pending.toString("latin1", 0, 4) === "AMQP") {
      // The broker answers a bad protocol header with its own, then closes.
      this.headerReply = true;
      this.pending = Buffer.alloc(0);
      return [];
    }
    const out = [];
    while (this.pending.length >= 7) {
      const type = this.pending[0];
      const channel = this.pending.readUInt16BE(1);
      const size = this.pending.readUInt32BE(3);
      if (size + 8 > this.maxFrame) {
        // A content header cannot be split: a message published on a connection with a bigger
        // frame_max, with big properties, comes out as one oversized header frame. RabbitMQ
        // 3.10 does the same, so that is a warning; any other oversized frame is a failure.
        if (type !== T_HEADER || size + 8 > BROKER_FRAME_MAX) {
          return this.problem(
            `frame of type ${type} of ${size + 8} bytes exceeds frame_max ${this.maxFrame}`,
          );
        }
        if (this.pending.length >= size + 8) {
          this.warnings.push(`content header frame larger than the negotiated frame_max ${this.maxFrame}`);
        }
      }
      if (this.pending.length < size + 8) break;
      if (this.pending[7 + size] !== FRAME_END)
        return this.problem(`bad frame end 0x${this.pending[7 + size].toString(16)}`);
      const payload = this.pending.subarray(7, 7 + size);
      this.pending = this.pending.subarray(8 + size);
      this.frames++;
      const ev = this.frame(type, channel, payload);
      if (this.problems.length) return [];
      if (ev) out.push(ev);
    }
    return out;
  }

  problem(text) {
    this.problems.push(text);
    return [];
  }

  frame(type, channel, p) {
    const expect = this.content.get(channel);
    const what = () =>
      type === T_METHOD && p.length >= 4
        ? `method ${p.readUInt16BE(0)}.${p.readUInt16BE(2)}`
        : `frame type ${type}`;
    // After connection.close the broker should send nothing but close-ok (to a close of ours
    // that crossed it) and heartbeats: anything else is a failure.
    if (this.connClose && type !== T_HEARTBEAT) {
      const m = type === T_METHOD && p.length >= 4 ? p.readUInt32BE(0) : 0;
      if (m !== 0x000a0033) this.problems.push(`${what()} on channel ${channel} after connection.close`);
      return null;
    }
    // After channel.close, nothing on that channel but close-ok (crossing a close of ours) until
    // it is opened again: a delivery there would be a message handed to a closed channel.
    if (this.closedChannels.has(channel)) {
      const m = type === T_METHOD && p.length >= 4 ? p.readUInt32BE(0) : 0;
      if (m === 0x0014000b)
        this.closedChannels.delete(channel); // channel.open-ok
      // close-ok (a close of ours crossed it), or a second close (RabbitMQ sends one at times)
      else if (m !== 0x00140029 && m !== 0x00140028) {
        return this.problem(`${what()} on channel ${channel} after channel.close`);
      }
    }
    if (type === T_HEARTBEAT) {
      if (channel !== 0 || p.length !== 0)
        this.problem(`bad heartbeat: channel ${channel}, ${p.length} bytes`);
      return null;
    }
    if (type === T_HEADER) {
      if (expect !== "header") return this.problem(`unexpected content header on channel ${channel}`);
      if (p.length < 14 || p.readUInt16BE(0) !== 60)
        return this.problem(`bad content header on channel ${channel}`);
      const size = Number(p.readBigUInt64BE(4));
      if (size === 0) this.content.delete(channel);
      else this.content.set(channel, { need: size });
      return null;
    }
    if (type === T_BODY) {
      if (!expect || expect === "header") return this.problem(`unexpected body frame on channel ${channel}`);
      if (p.length > expect.need)
        return this.problem(`body frames exceed the announced size on channel ${channel}`);
      expect.need -= p.length;
      if (expect.need === 0) this.content.delete(channel);
      return null;
    }
    if (type !== T_METHOD) return this.problem(`frame type ${type}`);
    if (expect) return this.problem(`method frame inside content on channel ${channel}`);
    if (p.length < 4) return this.problem(`method frame of ${p.length} bytes`);
    const cls = p.readUInt16BE(0);
    const mth = p.readUInt16BE(2);
    if (!SERVER_METHODS.get(cls)?.has(mth)) return this.problem(`server sent unknown method ${cls}.${mth}`);
    if ((cls === 10) !== (channel === 0)) return this.problem(`method ${cls}.${mth} on channel ${channel}`);
    if (cls === 10 && mth === 10) this.sawStart = true;
    if (cls === 60 && (mth === 50 || mth === 60 || mth === 71)) this.content.set(channel, "header");
    if ((cls === 10 || cls === 20) && mth === (cls === 10 ? 50 : 40)) {
      let close;
      try {
        const len = p[6];
        close = {
          code: p.readUInt16BE(4),
          text: p.toString("utf8", 7, 7 + len),
          classId: p.readUInt16BE(7 + len),
          methodId: p.readUInt16BE(9 + len),
        };
      } catch {
        return this.problem(`undecodable ${cls === 10 ? "connection" : "channel"}.close`);
      }
      if (!KNOWN_CODES.has(close.code))
        return this.problem(`close with reply code ${close.code}: ${close.text}`);
      if (cls === 10) this.connClose = close;
      else {
        this.channelCloses.push(close);
        this.closedChannels.add(channel);
      }
      return { kind: cls === 10 ? "connection.close" : "channel.close", channel, close };
    }
    return null;
  }
}

// ---------------------------------------------------------------------------------- running a script

const sleep = (ms) => new Promise((r) => (ms > 0 ? setTimeout(r, ms) : setImmediate(r)));

/**
 * Runs one script against host:port. Resolves with
 * { index, framesSent, bytesSent, stepsSent, outcome, connClose, channelCloses, problems, warnings }
 * where outcome is "closed" (the broker sent connection.close), "hung-up" (the broker closed the
 * socket without connection.close), "header-refused" (it answered a bad protocol header),
 * "client-closed" (the script sent connection.close itself) or "alive" (still open at the end).
 * After a connection.close, the socket must close within closeWaitMs (default 5 s; not checked
 * when lenient, the mode for a reference broker).
 */
export async function runScript(
  script,
  { host, port, lingerMs = 30, closeWaitMs, lenient = false, trace } = {},
) {
  // RabbitMQ waits up to 30 s for close-ok before it closes the socket; Warren 1 s.
  closeWaitMs ??= lenient ? 0 : 5000;
  const res = {
    index: script.index,
    framesSent: 0,
    bytesSent: 0,
    stepsSent: 0,
    outcome: "alive",
    connClose: null,
    channelCloses: 0,
    problems: [],
    warnings: [],
  };
  const sock = net.connect(port, host);
  sock.setNoDelay(true);
  let closed = false;
  let wake = () => {};
  const closedP = new Promise((r) => sock.once("close", r));
  sock.once("close", () => {
    closed = true;
    wake();
  });
  try {
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("connect timed out after 5 s")), 5000);
      sock.once("connect", () => {
        clearTimeout(t);
        resolve();
      });
      sock.once("error", (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
  } catch (e) {
    res.outcome = "connect-failed";
    res.problems.push(`could not connect: ${e.message}`);
    sock.destroy();
    return res;
  }
  sock.on("error", () => {});
  const stream = new ServerStream(script.frameMax);
  const reactions = [];
  let clientClosing = false;
  sock.on("data", (d) => {
    for (const ev of stream.push(d)) {
      trace?.(`<- ${ev.kind} ${ev.channel} ${ev.close.code} ${ev.close.text}`);
      if (ev.kind === "channel.close") {
        reactions.push(method(ev.channel, 20, 41));
        if (script.policy.reopen) reactions.push(method(ev.channel, 20, 10, new Enc().shortstr("")));
      } else if (ev.kind === "connection.close" && script.policy.closeOk) {
        reactions.push(method(0, 10, 51));
      }
    }
    if (stream.problems.length) wake();
  });
  if (script.policy.slowReader) sock.pause();
  const flushReactions = () => {
    if (reactions.length && !closed) sock.write(Buffer.concat(reactions.splice(0)));
  };
  const write = async (buf) => {
    if (closed) return false;
    if (sock.write(buf)) return true;
    const ok = await Promise.race([
      new Promise((r) => sock.once("drain", () => r(true))),
      closedP.then(() => false),
      new Promise((r) => setTimeout(() => r("stalled"), 10000).unref()),
    ]);
    if (ok === "stalled") res.problems.push("the broker stopped reading: a write did not drain in 10 s");
    return ok === true;
  };

  try {
    for (const step of script.steps) {
      if (closed || stream.connClose || stream.problems.length || res.problems.length) break;
      trace?.(`-> ${step.label}`);
      const bytes = Buffer.concat(step.frames);
      if (step.split) {
        const r = new Rng(bytes.length ^ script.connectionSeed);
        let ok = true;
        // "bytes": the first 512 bytes one write each, "chunks": ~32 random cuts; past that
        // (big bodies) bigger pieces, so that one step does not take seconds.
        const small = step.split === "bytes" ? 1 : Math.max(1, Math.ceil(bytes.length / 32));
        for (let off = 0; off < bytes.length && ok;) {
          const n = off < 512 ? r.range(1, small) : r.range(1, 8192);
          ok = await write(bytes.subarray(off, off + n));
          off += n;
          await sleep(r.chance(0.15) ? 1 : 0);
        }
        if (!ok) break;
      } else if (!(await write(bytes))) break;
      res.framesSent += step.frames.length;
      res.bytesSent += bytes.length;
      res.stepsSent++;
      if (
        step.frames.some(
          (f) =>
            f.length >= 11 &&
            f[0] === T_METHOD &&
            f.readUInt32BE(7) === 0x000a0032 &&
            f.readUInt16BE(1) === 0,
        )
      ) {
        clientClosing = true;
      }
      flushReactions();
      await sleep(step.pauseMs ?? 0);
      flushReactions();
    }
    if (script.policy.slowReader) sock.resume();
    // Give the broker a moment to react to the last frames.
    const deadline = Date.now() + lingerMs;
    while (!closed && !stream.connClose && !stream.problems.length && Date.now() < deadline) {
      await new Promise((r) => {
        wake = r;
        setTimeout(r, Math.max(1, deadline - Date.now()));
      });
      flushReactions();
    }
    if (stream.connClose && !closed && closeWaitMs > 0) {
      // The broker said connection.close: the socket must go, close-ok or not.
      flushReactions();
      // Time this process itself did not run (a starved machine, a paused VM) does not count.
      let until = Date.now() + closeWaitMs;
      while (!closed && Date.now() < until) {
        const t0 = Date.now();
        await new Promise((r) => {
          wake = r;
          setTimeout(r, 50);
        });
        const late = Date.now() - t0 - 50;
        if (late > 20) until += late;
      }
      if (!closed) {
        res.problems.push(
          `connection.close (${stream.connClose.code}) was not followed by the socket closing within ${closeWaitMs} ms`,
        );
      }
    }
  } finally {
    res.connClose = stream.connClose;
    res.channelCloses = stream.channelCloses.length;
    res.problems.push(...stream.problems);
    res.warnings = stream.warnings;
    if (stream.connClose) res.outcome = "closed";
    else if (clientClosing) res.outcome = "client-closed";
    else if (closed) res.outcome = "hung-up";
    if (stream.headerReply) res.outcome = "header-refused";
    sock.destroy();
  }
  return res;
}

// ---------------------------------------------------------------------------------- bystander

/**
 * Starts the bystander in a worker thread: one amqplib connection, a confirm channel publishing
 * numbered messages to its own exclusive queue (`window` in flight, at most `rate` per second),
 * and a consumer with manual acks on a second channel. Returns { latest(), stop() }: latest()
 * is the last progress report; stop() waits for every confirm and every confirmed message, then
 * resolves with the final report:
 *   { sent, confirmed, nacked, received, duplicates, redeliveredDuplicates, lost, unexpected,
 *     corrupted, outOfOrder, maxConfirmGapMs, maxBrokerGapMs, maxSelfStallMs, maxRoundTripMs,
 *     closedByBroker, errors }
 * maxConfirmGapMs: the longest wait for a confirm while publishes were outstanding;
 * maxBrokerGapMs: the same less the time the bystander's own thread did not run within it (a
 * stall of the machine, a paused VM); maxSelfStallMs: the longest of those own stalls.
 */
export function startBystander(url, { window = 8, rate = 400, gapReportMs = 250, onGap } = {}) {
  const w = new Worker(new URL(import.meta.url), {
    workerData: { role: "warren-fuzz-bystander", url, window, rate, gapReportMs },
  });
  let last = null;
  let failed = null;
  let finalResolve;
  const final = new Promise((r) => (finalResolve = r));
  const ready = new Promise((resolve, reject) => {
    w.on("message", (m) => {
      if (m.type === "ready") resolve();
      else if (m.type === "progress") last = m.stats;
      else if (m.type === "gap") onGap?.(m.ms, m.selfStallMs);
      else if (m.type === "final") finalResolve(m.stats);
      else if (m.type === "failed") {
        failed = m.error;
        reject(new Error(m.error));
        finalResolve({ ...(last ?? {}), errors: [m.error] });
      }
    });
    w.on("error", (e) => {
      failed = String(e?.stack ?? e);
      reject(e);
      finalResolve({ ...(last ?? {}), errors: [failed] });
    });
  });
  return {
    ready,
    latest: () => last,
    get failed() {
      return failed;
    },
    async stop() {
      w.postMessage("stop");
      const t = setTimeout(
        () => finalResolve({ ...(last ?? {}), errors: ["the bystander did not finish within 30 s"] }),
        30000,
      );
      const r = await final;
      clearTimeout(t);
      await w.terminate();
      return r;
    },
  };
}

async function bystanderMain({ url, window, rate, gapReportMs }) {
  const { default: amqp } = await import("amqplib");
  const s = {
    sent: 0,
    confirmed: 0,
    nacked: 0,
    received: 0,
    duplicates: 0,
    redeliveredDuplicates: 0,
    lost: 0,
    unexpected: 0,
    corrupted: 0,
    outOfOrder: 0,
    maxConfirmGapMs: 0,
    maxRoundTripMs: 0,
    maxBrokerGapMs: 0,
    maxSelfStallMs: 0,
    closedByBroker: null,
    errors: [],
  };
  let stopping = false;
  const conn = await amqp.connect(url);
  conn.on("error", (e) => s.errors.push(`connection error: ${e.message}`));
  conn.on("close", (e) => {
    if (!stopping || e) s.closedByBroker = e ? e.message : "connection closed";
  });
  const pub = await conn.createConfirmChannel();
  const sub = await conn.createChannel();
  pub.on("error", (e) => s.errors.push(`publish channel error: ${e.message}`));
  sub.on("error", (e) => s.errors.push(`consume channel error: ${e.message}`));
  const { queue } = await sub.assertQueue("", { exclusive: true, autoDelete: true });
  await sub.prefetch(100);
  const seen = new Map(); // seq -> deliveries
  const confirmedSeqs = [];
  let lastSeq = 0;
  let seq = 0;
  let inflight = 0;
  let progressAt = performance.now();
  let idleWake = null;
  // The bystander's own stalls: a tick of this 20 ms timer that comes late means this thread (or
  // the whole machine) did not run, which delays confirms as much as a stalled broker would. A
  // confirm gap minus the stalls inside it is what the broker is to blame for.
  const stalls = []; // [end, length] of late ticks
  let lastTick = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    const late = now - lastTick - 20;
    lastTick = now;
    if (late >= 20) {
      stalls.push([now, late]);
      if (stalls.length > 2000) stalls.shift();
      s.maxSelfStallMs = Math.max(s.maxSelfStallMs, late);
    }
  }, 20);
  const stalledWithin = (from, to) => {
    let sum = 0;
    for (const [end, late] of stalls) sum += Math.max(0, Math.min(end, to) - Math.max(end - late, from));
    return sum;
  };
  const noteGap = (now) => {
    const gap = now - progressAt;
    s.maxConfirmGapMs = Math.max(s.maxConfirmGapMs, gap);
    if (gap < 50) return gap;
    const self = stalledWithin(progressAt, now);
    s.maxBrokerGapMs = Math.max(s.maxBrokerGapMs, gap - self);
    return [gap, self];
  };
  await sub.consume(queue, (msg) => {
    if (!msg) {
      s.errors.push("consumer cancelled by the broker");
      return;
    }
    const b = msg.content;
    if (b.length < 12) {
      s.unexpected++;
      sub.ack(msg);
      return;
    }
    const n = b.readUInt32BE(0);
    const t = b.readDoubleBE(4);
    for (let i = 12; i < b.length; i++) {
      if (b[i] !== ((n + i) & 0xff)) {
        s.corrupted++;
        break;
      }
    }
    if (n === 0 || n > seq) s.unexpected++;
    else {
      const c = (seen.get(n) ?? 0) + 1;
      seen.set(n, c);
      if (c === 1) {
        s.received++;
        if (n < lastSeq) s.outOfOrder++;
        lastSeq = n;
        s.maxRoundTripMs = Math.max(s.maxRoundTripMs, performance.now() - t);
      } else if (msg.fields.redelivered) s.redeliveredDuplicates++;
      else s.duplicates++;
    }
    sub.ack(msg);
    idleWake?.();
  });

  const interval = 1000 / rate;
  let nextAt = performance.now();
  const pump = () => {
    while (!stopping && inflight < window) {
      const now = performance.now();
      if (now < nextAt) {
        setTimeout(pump, nextAt - now);
        return;
      }
      nextAt = Math.max(nextAt + interval, now - 100);
      const n = ++seq;
      const body = Buffer.allocUnsafe(12 + (n % 997));
      body.writeUInt32BE(n, 0);
      body.writeDoubleBE(now, 4);
      for (let i = 12; i < body.length; i++) body[i] = (n + i) & 0xff;
      if (inflight === 0) progressAt = now;
      inflight++;
      s.sent++;
      pub.publish("", queue, body, { deliveryMode: n % 3 === 0 ? 2 : 1 }, (err) => {
        const t = performance.now();
        const g = noteGap(t);
        if (Array.isArray(g) && g[0] >= gapReportMs)
          parentPort.postMessage({ type: "gap", ms: g[0], selfStallMs: g[1] });
        progressAt = t;
        inflight--;
        if (err) s.nacked++;
        else {
          s.confirmed++;
          confirmedSeqs.push(n);
        }
        idleWake?.();
        pump();
      });
    }
  };
  const report = setInterval(() => {
    if (inflight > 0) noteGap(performance.now());
    parentPort.postMessage({ type: "progress", stats: { ...s, errors: [...s.errors] } });
  }, 250);
  parentPort.on("message", async (m) => {
    if (m !== "stop") return;
    stopping = true;
    const waitUntil = async (cond, ms) => {
      const deadline = performance.now() + ms;
      while (!cond() && performance.now() < deadline) {
        await new Promise((r) => {
          idleWake = r;
          setTimeout(r, 20);
        });
      }
      return cond();
    };
    if (!(await waitUntil(() => inflight === 0, 10000)))
      s.errors.push(`${inflight} publishes never confirmed`);
    await waitUntil(() => confirmedSeqs.every((n) => seen.has(n)), 10000);
    s.lost = confirmedSeqs.filter((n) => !seen.has(n)).length;
    clearInterval(report);
    clearInterval(ticker);
    try {
      await conn.close();
    } catch (e) {
      s.errors.push(`closing: ${e.message}`);
    }
    parentPort.postMessage({ type: "final", stats: { ...s, errors: [...s.errors] } });
  });
  parentPort.postMessage({ type: "ready" });
  pump();
}

if (!isMainThread && workerData?.role === "warren-fuzz-bystander") {
  bystanderMain(workerData).catch((e) =>
    parentPort.postMessage({ type: "failed", error: String(e?.stack ?? e) }),
  );
}

// ---------------------------------------------------------------------------------- a run

/**
 * Lines of a broker log that betray an internal error or a crash: JSON log records of an
 * internal error, of a failure with an error object, or at level critical, and any other line
 * that looks like an error or a stack (Node's report of an uncaught exception). The closing
 * lines of hostile connections (level "error", reply texts such as FRAME_ERROR) are expected.
 */
export function logErrors(text) {
  return text.split("\n").filter((l) => {
    if (l.startsWith("{")) {
      try {
        const r = JSON.parse(l);
        return r.level === "critical" || /^internal error/.test(r.msg ?? "") || r.err !== undefined;
      } catch {
        // A line cut short: judged as text below.
      }
    }
    return /Error|uncaught|Uncaught|internal error|FATAL|^\s+at \S/.test(l);
  });
}

/**
 * A fuzz run: `concurrency` hostile connections at a time, connection indexes 0, 1, 2, ...,
 * until `iterations` connections or `durationMs` (whichever first), with the bystander running
 * throughout. Checks after every connection that the broker is alive (`brokerAlive()`) and that
 * its log (`brokerLog()`) shows no error; stops at the first broker-level failure (at the
 * first failure of any kind with `stopOnFailure`). `lenient`: see runScript.
 * Resolves with { seed, connections, framesSent, bytesSent, outcomes, closeCodes, actions,
 * warnings, failures, failureCount, gaps, bystander, elapsedMs, stoppedBy }.
 */
export async function runFuzz(o) {
  const { host, port, url, seed, iterations = Infinity, durationMs = Infinity, concurrency = 16 } = o;
  const started = performance.now();
  const stats = {
    seed,
    connections: 0,
    framesSent: 0,
    bytesSent: 0,
    outcomes: {},
    closeCodes: {},
    actions: {},
    warnings: {},
    failures: [],
    failureCount: 0,
    bystander: null,
    elapsedMs: 0,
    stoppedBy: "iterations",
  };
  stats.gaps = [];
  const inFlight = new Set();
  const bystander = startBystander(url, {
    ...o.bystander,
    // A slow confirm: note which connections were in flight, to find what slowed the broker.
    onGap: (ms, selfStallMs) => {
      if (stats.gaps.length < 1000) {
        const at = Math.round(performance.now() - started);
        stats.gaps.push({
          ms: Math.round(ms),
          selfStallMs: Math.round(selfStallMs),
          at,
          inFlight: [...inFlight],
        });
      }
    },
  });
  await bystander.ready;
  let next = 0;
  let stop = false;
  let logSeen = 0;
  const recent = [];
  const fail = (kind, detail, candidates) => {
    stats.failureCount++;
    if (stats.failures.length < 100) stats.failures.push({ kind, detail, seed, candidates });
    if (o.stopOnFailure) {
      stop = true;
      stats.stoppedBy = "failure";
    }
  };
  const checkBroker = () => {
    if (o.brokerAlive && !o.brokerAlive()) {
      if (!stop)
        fail(
          "broker-exited",
          o.brokerExitInfo?.() ?? "the broker process exited",
          [...inFlight, ...recent].sort((a, b) => a - b),
        );
      stop = true;
      stats.stoppedBy = "broker-exited";
    }
    if (o.brokerLog) {
      const text = o.brokerLog();
      if (text.length > logSeen) {
        const errs = logErrors(text.slice(logSeen));
        logSeen = text.length;
        if (errs.length)
          fail(
            "broker-log",
            errs.slice(0, 20).join("\n"),
            [...inFlight, ...recent].sort((a, b) => a - b),
          );
      }
    }
    if (bystander.failed && !stop) {
      fail("bystander", bystander.failed, []);
      stop = true;
      stats.stoppedBy = "bystander-failed";
    }
  };
  const progress = o.onProgress
    ? setInterval(
        () =>
          o.onProgress({ ...stats, elapsedMs: performance.now() - started, bystander: bystander.latest() }),
        o.progressMs ?? 5000,
      )
    : undefined;
  const worker = async () => {
    while (!stop) {
      if (next >= iterations) break;
      if (performance.now() - started > durationMs) {
        stats.stoppedBy = "duration";
        break;
      }
      const i = next++;
      inFlight.add(i);
      const script = generateScript(seed, i);
      const r = await runScript(script, { host, port, lingerMs: o.lingerMs, lenient: o.lenient });
      inFlight.delete(i);
      recent.push(i);
      if (recent.length > concurrency * 2) recent.shift();
      stats.connections++;
      stats.framesSent += r.framesSent;
      stats.bytesSent += r.bytesSent;
      stats.outcomes[r.outcome] = (stats.outcomes[r.outcome] ?? 0) + 1;
      for (const st of script.steps.slice(0, r.stepsSent)) {
        const kind = st.label.slice(0, st.label.indexOf(":") >>> 0);
        stats.actions[kind] = (stats.actions[kind] ?? 0) + 1;
      }
      if (r.connClose) stats.closeCodes[r.connClose.code] = (stats.closeCodes[r.connClose.code] ?? 0) + 1;
      for (const w of new Set(r.warnings)) {
        stats.warnings[w] ??= { count: 0, connections: [] };
        stats.warnings[w].count++;
        if (stats.warnings[w].connections.length < 5) stats.warnings[w].connections.push(i);
      }
      checkBroker();
      if (r.problems.length && !stop) {
        fail(r.outcome === "connect-failed" ? "connect" : "connection", r.problems.join("; "), [i]);
        if (o.stopOnFailure) stop = true;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (progress) clearInterval(progress);
  // Let crashes from timers (TTL, dead-lettering, queue expiry) armed by the last connections show.
  await sleep(o.settleMs ?? 1500);
  checkBroker();
  stats.bystander = await bystander.stop();
  checkBroker();
  stats.elapsedMs = performance.now() - started;
  return stats;
}

/** Human-readable one-liner of a run's figures. */
export function summary(s) {
  const b = s.bystander ?? {};
  const outcomes = Object.entries(s.outcomes)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  const codes = Object.entries(s.closeCodes)
    .map(([k, v]) => `${k}:${v}`)
    .join(" ");
  return (
    `seed ${s.seed}: ${s.connections} connections, ${s.framesSent} frames, ${(s.bytesSent / 1e6).toFixed(1)} MB in ${(s.elapsedMs / 1000).toFixed(1)} s` +
    ` | outcomes: ${outcomes} | connection.close codes: ${codes}` +
    ` | bystander: sent ${b.sent ?? 0}, confirmed ${b.confirmed ?? 0}, received ${b.received ?? 0}, lost ${b.lost ?? "?"}, ` +
    `max confirm gap ${Math.round(b.maxConfirmGapMs ?? 0)} ms (${Math.round(b.maxBrokerGapMs ?? 0)} ms not counting ` +
    `the bystander's own stalls, longest ${Math.round(b.maxSelfStallMs ?? 0)} ms), max round trip ${Math.round(b.maxRoundTripMs ?? 0)} ms`
  );
}

/** The run's warnings (broker behaviour worth a look that fails nothing), one line each. */
export function warningLines(s) {
  return Object.entries(s.warnings).map(
    ([w, { count, connections }]) => `${w}: ${count} connection(s), e.g. ${connections.join(" ")}`,
  );
}
