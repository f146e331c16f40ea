// Hostile-but-valid input: messages and requests that are legal AMQP 0-9-1 (or that RabbitMQ
// deliberately accepts) yet are built to hurt a broker: header tables nested 150 and 20,000
// levels deep, a header field of an unknown type ('Z'), over-long names that end up in reply
// texts, malformed UTF-8 in short strings, interleavings of replies with server-initiated
// frames, and failed logins. Every expectation was first checked against RabbitMQ 3.10.8:
//
//   INTEROP_TARGET_URL=amqp://guest:guest@localhost:5682 node --test interop/node/hostile-messages.test.mjs
//   node --test interop/node/hostile-messages.test.mjs          (a fresh Warren process)
//
// After each hostile step the tests check that the broker process is still alive and that an
// unrelated "bystander" connection still works, because the failure being guarded against is
// one client taking the broker down for everybody (a recursive decoder overflowing the stack,
// a crash while dead-lettering or recovering a message, ...).
//
// The messages are assembled as raw content-header bytes (raw-amqp.mjs), and what comes back
// is read from raw frames too: client libraries either refuse to build such messages or decode
// them recursively themselves. amqplib is used for the plain declarations around them.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import amqp from "amqplib";
import { startBroker } from "../lib/broker.mjs";
import { assertAmqplibWorks, sleep, uid, waitFor, withTimeout } from "./helpers.mjs";
import { encodeProperties, handshake, M, typedTableBody, Writer } from "./raw-amqp.mjs";

const EXTERNAL = Boolean(process.env.INTEROP_TARGET_URL);
const noop = () => {};

// Class/method ids not in raw-amqp.mjs's M table.
const EXCHANGE_DECLARE = [40, 10];
const EXCHANGE_DECLARE_OK = [40, 11];
const EXCHANGE_DELETE = [40, 20];
const QUEUE_BIND = [50, 20];
const QUEUE_BIND_OK = [50, 21];
const QUEUE_PURGE = [50, 30];
const QUEUE_DELETE = [50, 40];
const QUEUE_UNBIND = [50, 50];
const BASIC_CANCEL = [60, 30];
const BASIC_ACK = [60, 80];
const BASIC_REJECT = [60, 90];
const BASIC_NACK = [60, 120];
const METHOD_NAMES = {
  "40/21": "exchange.delete-ok",
  "50/31": "queue.purge-ok",
  "50/41": "queue.delete-ok",
  "50/51": "queue.unbind-ok",
  "60/30": "basic.cancel",
  "60/31": "basic.cancel-ok",
  "60/60": "basic.deliver",
};

// ---------------------------------------------------------------------------------------------
// The hostile messages

/**
 * A headers table body {a: V0} where V_i is a table {a: V_i+1} or an array [V_i+1] as shape(i)
 * says, and the innermost value is `leaf` (an encoded field value, a longstr "bottom" unless
 * given). Written back to front into one buffer: 20,000 levels must not cost 20,000 copies, nor
 * 20,000 stack frames on the test's side.
 */
function nestedHeaders(depth, shape, leaf = Buffer.from("S\0\0\0\x06bottom", "latin1")) {
  const kinds = Array.from({ length: depth }, (_, i) => shape(i));
  const size = 2 + leaf.length + kinds.reduce((n, k) => n + (k === "F" ? 7 : 5), 0);
  const buf = Buffer.alloc(size);
  let pos = size - leaf.length;
  leaf.copy(buf, pos);
  for (let i = depth - 1; i >= 0; i--) {
    if (kinds[i] === "F") {
      buf.write("\x01a", (pos -= 2), "latin1"); // the table {a: ...}
    }
    const bodyLength = size - pos;
    buf.write(kinds[i], (pos -= 5), "latin1");
    buf.writeUInt32BE(bodyLength, pos + 1);
  }
  buf.write("\x01a", (pos -= 2), "latin1");
  assert.equal(pos, 0);
  return buf;
}

// patienceMs: how long a step handling the message may take. RabbitMQ keeps the header bytes
// as they came while it only stores and forwards the message, but every time it has to add a
// header (x-death when dead-lettering, x-delivery-count on quorum queue redeliveries) it
// re-encodes the table, in time that grows with the square of the depth: for the 20,000-deep
// headers that is about 2 s of one queue process per dead-lettering and 2-5 s per quorum
// redelivery (0.7 s / 0.5-1.2 s at 10,000 levels), during which that queue answers nothing.

/** "The message": headers {a: {a: ... {a: "bottom"}}}, 150 tables deep (about 1 KB). */
const DEEP = {
  name: "headers 150 tables deep",
  headers: nestedHeaders(150, () => "F"),
  patienceMs: 5000,
};
/**
 * 20,000 levels alternating table / array: about 120 KB, still one 128 KiB header frame, and
 * far deeper than a recursive decoder or encoder survives on a default-sized stack.
 */
const VERY_DEEP = {
  name: "headers 20,000 levels deep",
  headers: nestedHeaders(20000, (i) => (i % 2 ? "A" : "F")),
  patienceMs: 30000,
};
const DEEP_MESSAGES = [DEEP, VERY_DEEP];

/** Headers {ok: "fine", weird: <'Z' 01 02 03 04>}: 'Z' is no AMQP 0-9-1 (or RabbitMQ) type. */
const UNKNOWN_TYPE = Buffer.concat([
  typedTableBody([["ok", "S", "fine"]]),
  Buffer.from("\x05weirdZ\x01\x02\x03\x04", "latin1"),
]);
/** The same unknown field at the bottom of the 150-deep nesting. */
const UNKNOWN_TYPE_DEEP = nestedHeaders(150, () => "F", Buffer.from("Z\x01\x02\x03\x04", "latin1"));

/** A basic property block carrying a raw headers table body (and delivery-mode if given). */
function propsWithHeaders(headersBody, { deliveryMode } = {}) {
  const w = new Writer().short((1 << 13) | (deliveryMode ? 1 << 12 : 0)).long(headersBody.length);
  w.parts.push(headersBody);
  if (deliveryMode) w.octet(deliveryMode);
  return w.toBuffer();
}

// ---------------------------------------------------------------------------------------------
// Decoding what comes back, without recursion where the depth is the attacker's

const FIXED_SIZES = { t: 1, b: 1, B: 1, s: 2, u: 2, I: 4, i: 4, l: 8, T: 8, f: 4, d: 8, D: 5, V: 0 };

/** End offset of the field value whose type tag is at buf[pos]. */
function valueEnd(buf, pos) {
  const tag = String.fromCharCode(buf[pos]);
  if (tag in FIXED_SIZES) return pos + 1 + FIXED_SIZES[tag];
  if ("SxAF".includes(tag)) return pos + 5 + buf.readUInt32BE(pos + 1);
  throw new Error(`unknown field type '${tag}' in a table the broker sent`);
}

/** Field table body -> Map of name -> the value's raw bytes (type tag included); one level. */
function shallowTable(body) {
  const fields = new Map();
  for (let pos = 0; pos < body.length;) {
    const n = body[pos];
    const name = body.toString("utf8", pos + 1, pos + 1 + n);
    pos += 1 + n;
    const end = valueEnd(body, pos);
    fields.set(name, body.subarray(pos, end));
    pos = end;
  }
  return fields;
}

/** Fully decodes a (shallow, broker-made) field value such as x-death. */
function decodeValue(raw) {
  const v = raw.subarray(1);
  switch (String.fromCharCode(raw[0])) {
    case "S":
      return v.toString("utf8", 4);
    case "l":
    case "T":
      return Number(v.readBigInt64BE(0));
    case "I":
      return v.readInt32BE(0);
    case "F":
      return Object.fromEntries([...shallowTable(v.subarray(4))].map(([k, r]) => [k, decodeValue(r)]));
    case "A": {
      const items = [];
      const body = v.subarray(4);
      for (let p = 0; p < body.length; p = valueEnd(body, p)) {
        items.push(decodeValue(body.subarray(p, valueEnd(body, p))));
      }
      return items;
    }
    default:
      return raw;
  }
}

/** The headers (one level, see shallowTable) of a basic property block. */
function propertyHeaders(block) {
  const flags = block.readUInt16BE(0);
  // content-type, content-encoding, headers, delivery-mode, priority, correlation-id, reply-to,
  // expiration, message-id, timestamp, type, user-id, app-id, cluster-id
  const kinds = ["s", "s", "F", "o", "o", "s", "s", "s", "s", "T", "s", "s", "s", "s"];
  let pos = 2;
  for (const [i, kind] of kinds.entries()) {
    if (!(flags & (1 << (15 - i)))) continue;
    if (kind === "F") return shallowTable(block.subarray(pos + 4, pos + 4 + block.readUInt32BE(pos)));
    pos += kind === "s" ? 1 + block[pos] : kind === "o" ? 1 : 8;
  }
  return new Map();
}

/** Reads a content header + body frames on `channel`. */
async function readContent(raw, channel, ms = 5000) {
  const header = await raw.next((f) => f.type === 2 && f.channel === channel, ms);
  const size = Number(header.payload.readBigUInt64BE(4));
  const chunks = [];
  for (let got = 0; got < size;) {
    const f = await raw.next((f) => f.type === 3 && f.channel === channel, ms);
    chunks.push(f.payload);
    got += f.payload.length;
  }
  const block = header.payload.subarray(12);
  return { block, headers: propertyHeaders(block), body: Buffer.concat(chunks) };
}

/** The "a" header must come back byte for byte: the whole nested structure is preserved. */
function assertIntact(m, got) {
  const sent = shallowTable(m.headers).get("a");
  const back = got.headers.get("a");
  assert.ok(back, `the nested header is gone; headers now: ${[...got.headers.keys()]}`);
  assert.equal(back.length, sent.length, "the nested header changed size");
  assert.ok(back.equals(sent), "the nested header changed");
}

/** x-death and the x-first-death-* headers of a message dead-lettered once. */
function assertDeadLettered(got, { reason, queue, exchange = "", routingKeys = [queue] }) {
  const deaths = got.headers.get("x-death");
  assert.ok(deaths, `no x-death header; headers: ${[...got.headers.keys()]}`);
  const [death, ...more] = decodeValue(deaths);
  assert.equal(more.length, 0);
  assert.deepEqual(
    { ...death, time: undefined },
    { count: 1, reason, queue, exchange, "routing-keys": routingKeys, time: undefined },
  );
  assert.equal(decodeValue(got.headers.get("x-first-death-reason")), reason);
  assert.equal(decodeValue(got.headers.get("x-first-death-queue")), queue);
  assert.equal(decodeValue(got.headers.get("x-first-death-exchange")), exchange);
}

// ---------------------------------------------------------------------------------------------
// The broker, the bystander, and raw-frame plumbing

/**
 * Registers before/after hooks for a broker of this describe's own (a fresh Warren, or the
 * INTEROP_TARGET_URL broker): `admin` declares and cleans up through amqplib, `bystander` only
 * proves that an unrelated connection survives. Queues and exchanges made with declare*() are
 * deleted after each test.
 */
function useBroker() {
  const env = { broker: undefined, admin: undefined, bystander: undefined, trouble: [] };
  const made = [];
  before(async () => {
    env.broker = await startBroker();
    env.admin = await amqp.connect(env.broker.url);
    env.admin.on("error", noop);
    env.bystander = await amqp.connect(env.broker.url);
    env.bystander.on("error", (e) => env.trouble.push(`bystander error: ${e.message}`));
    env.bystander.on("close", () => env.trouble.push("bystander connection closed"));
  });
  afterEach(async () => {
    if (!made.length) return;
    const ch = await env.admin.createChannel().catch(() => undefined);
    for (const [kind, name] of made.splice(0).reverse()) {
      await (kind === "queue" ? ch?.deleteQueue(name) : ch?.deleteExchange(name))?.catch(noop);
    }
    await ch?.close().catch(noop);
  });
  after(async () => {
    await env.admin?.close().catch(noop);
    env.bystander?.removeAllListeners("close");
    await env.bystander?.close().catch(noop);
    await env.broker?.stop();
  });
  env.declareQueue = async (name, options = {}) => {
    made.push(["queue", name]);
    await withAdmin(env, (ch) => ch.assertQueue(name, { durable: false, ...options }));
    return name;
  };
  env.declareExchange = async (name, type, options = {}) => {
    made.push(["exchange", name]);
    await withAdmin(env, (ch) => ch.assertExchange(name, type, { durable: false, ...options }));
    return name;
  };
  /** A fanout dead-letter exchange with one queue bound: { dlx, dlq }. */
  env.deadLetterTarget = async (options = {}) => {
    const dlx = await env.declareExchange(uid("dlx"), "fanout", options);
    const dlq = await env.declareQueue(uid("dlq"), options);
    await withAdmin(env, (ch) => ch.bindQueue(dlq, dlx, ""));
    return { dlx, dlq };
  };
  env.messageCount = (q) => withAdmin(env, async (ch) => (await ch.checkQueue(q)).messageCount);
  env.target = () => ({ host: env.broker.host, port: env.broker.port });
  return env;
}

async function withAdmin(env, fn) {
  const ch = await env.admin.createChannel();
  try {
    return await fn(ch);
  } finally {
    await ch.close().catch(noop);
  }
}

/** The broker process is alive and the bystander connection can still round-trip a message. */
async function assertAlive(env, when = "") {
  const { proc } = env.broker;
  if (proc) {
    assert.ok(
      proc.exitCode === null && proc.signalCode === null,
      `the broker died ${when} (exit ${proc.exitCode}, ${proc.signalCode}):\n${env.broker.log().slice(-3000)}`,
    );
  }
  assert.deepEqual(env.trouble, [], `the bystander must not notice anything ${when}`);
  await withTimeout(assertAmqplibWorks(env.bystander), 5000, `a bystander round trip ${when}`);
}

/** A raw connection with channel 1 open. */
async function rawOpen(target) {
  const r = await handshake(target);
  assert.ok(r.openOk, `handshake failed: ${JSON.stringify(r.close ?? { socketClosed: r.socketClosed })}`);
  await r.conn.openChannel(1);
  return r.conn;
}

async function confirmSelect(raw, channel = 1) {
  raw.method(channel, M.confirmSelect, new Writer().bits(false));
  await raw.expect(M.confirmSelectOk);
}

/** Next method frame that is one of the given [classId, methodId] pairs, waiting up to ms. */
function expectMethod(raw, methods, ms = 5000) {
  return raw.next((f) => f.type === 1 && methods.some(([c, m]) => f.classId === c && f.methodId === m), ms);
}

/** The publish confirm (basic.ack, not nack) for a confirm-mode channel. */
async function expectConfirm(raw, ms = 5000) {
  const f = await expectMethod(raw, [BASIC_ACK, BASIC_NACK, M.channelClose, M.connectionClose], ms);
  assert.deepEqual([f.classId, f.methodId, f.close], [...BASIC_ACK, undefined], "publish confirm");
}

function rawConsume(raw, channel, queue, tag) {
  raw.method(
    channel,
    M.basicConsume,
    new Writer().short(0).shortstr(queue).shortstr(tag).bits(false, false, false, false).table({}),
  );
  return raw.expect(M.basicConsumeOk);
}

async function nextDelivery(raw, channel = 1, ms = 5000) {
  const d = await raw.next(
    (f) => f.type === 1 && f.channel === channel && f.classId === 60 && f.methodId === 60,
    ms,
  );
  const at = 1 + d.args[0]; // after the consumer tag
  const delivery = { deliveryTag: d.args.readBigUInt64BE(at), redelivered: !!(d.args[at + 8] & 1) };
  return { ...delivery, ...(await readContent(raw, channel, ms)) };
}

/** basic.get; null on get-empty, else tag, redelivered, message-count and the content. */
async function rawGet(raw, channel, queue, noAck = true, ms = 5000) {
  raw.method(channel, M.basicGet, new Writer().short(0).shortstr(queue).bits(noAck));
  const r = await expectMethod(raw, [M.basicGetOk, M.basicGetEmpty], ms);
  if (r.methodId === M.basicGetEmpty[1]) return null;
  // get-ok: delivery-tag, redelivered, exchange, routing-key, message-count
  const a = r.args;
  const routingKeyAt = 10 + a[9];
  const countAt = routingKeyAt + 1 + a[routingKeyAt];
  return {
    deliveryTag: a.readBigUInt64BE(0),
    redelivered: !!(a[8] & 1),
    routingKey: a.subarray(routingKeyAt + 1, countAt),
    messageCount: a.readUInt32BE(countAt),
    ...(await readContent(raw, channel, ms)),
  };
}

/** Polls basic.get (no-ack) on channel 1 until a message arrives. */
async function waitForMessage(raw, queue, ms = 5000) {
  let got = null;
  await waitFor(async () => (got = await rawGet(raw, 1, queue, true, ms)), ms, `a message in ${queue}`);
  return got;
}

const ack = (raw, channel, tag) => raw.method(channel, BASIC_ACK, new Writer().longlong(tag).bits(false));
const reject = (raw, channel, tag, requeue) =>
  raw.method(channel, BASIC_REJECT, new Writer().longlong(tag).bits(requeue));

/** Proves a raw connection still works on a fresh channel: declare, publish, get. */
async function assertRawWorks(raw, channel) {
  await raw.openChannel(channel);
  const q = await raw.declareQueue(channel);
  raw.publish(channel, { routingKey: q, body: "still alive" });
  let got = null;
  await waitFor(async () => (got = await rawGet(raw, channel, q)), 2000, "basic.get-ok");
  assert.equal(got.body.toString(), "still alive");
}

/** The x-delivery-count header quorum queues add (an 'l' in RabbitMQ). */
const deliveryCount = (got) => {
  const raw = got.headers.get("x-delivery-count");
  return raw === undefined ? undefined : Number(decodeValue(raw));
};

// ---------------------------------------------------------------------------------------------

describe("the deep message is accepted at publish and delivered intact", () => {
  const env = useBroker();
  for (const m of DEEP_MESSAGES) {
    test(`${m.name}: publish (confirmed) and basic.get round trip`, async () => {
      const q = await env.declareQueue(uid("deep"));
      const raw = await rawOpen(env.target());
      try {
        await confirmSelect(raw);
        raw.publish(1, { routingKey: q, body: "deep", properties: propsWithHeaders(m.headers) });
        await expectConfirm(raw, m.patienceMs);
        const got = await waitForMessage(raw, q, m.patienceMs);
        assertIntact(m, got);
        assert.equal(got.body.toString(), "deep");
        await assertAlive(env);
      } finally {
        raw.destroy();
      }
    });
  }
});

describe("a header field of unknown type 'Z' is refused at publish", () => {
  // RabbitMQ decodes the properties when the publish arrives; its table parser has no clause
  // for 'Z', the channel process crashes (function_clause in rabbit_binary_parser:parse_table)
  // and the connection is closed with 541 INTERNAL_ERROR, reply text exactly "INTERNAL_ERROR",
  // class/method 0/0. Warren refuses it the same way, its reply text saying why
  // ("INTERNAL_ERROR - invalid content header properties: unknown field table type "Z""). Nothing is enqueued, confirmed or dead-lettered; after close-ok the
  // socket is closed at once (without close-ok RabbitMQ keeps waiting for it).
  const env = useBroker();

  /** Publishes the 'Z' message on a confirm channel and checks the refusal. */
  async function expectRefused(publish, headers = UNKNOWN_TYPE) {
    const raw = await rawOpen(env.target());
    try {
      await confirmSelect(raw);
      publish(raw, propsWithHeaders(headers));
      const f = await raw.expect(M.connectionClose, M.channelClose, BASIC_ACK, BASIC_NACK);
      assert.ok(f.close, `expected connection.close, got ${f.classId}/${f.methodId}`);
      assert.equal(f.channel, 0, `a connection exception, not ${JSON.stringify(f.close)} on ${f.channel}`);
      assert.deepEqual([f.close.code, f.close.classId, f.close.methodId], [541, 0, 0]);
      assert.match(
        f.close.text,
        EXTERNAL ? /^INTERNAL_ERROR$/ : /^INTERNAL_ERROR - .*unknown field table type "Z"/,
      );
      raw.closeOk(0);
      await raw.waitClosed(2000);
    } finally {
      raw.destroy();
    }
    await assertAlive(env, "after the 'Z' message");
  }

  test("to a plain queue -> 541 INTERNAL_ERROR connection.close, nothing enqueued", async () => {
    const q = await env.declareQueue(uid("z"));
    await expectRefused((raw, properties) => raw.publish(1, { routingKey: q, body: "z", properties }));
    assert.equal(await env.messageCount(q), 0);
  });

  test("to a TTL + dead-letter queue -> refused, nothing expires into the DLX queue", async () => {
    const { dlx, dlq } = await env.deadLetterTarget();
    const q = await env.declareQueue(uid("z-ttl"), {
      arguments: { "x-message-ttl": 50, "x-dead-letter-exchange": dlx },
    });
    await expectRefused((raw, properties) => raw.publish(1, { routingKey: q, body: "z", properties }));
    await sleep(200);
    assert.equal(await env.messageCount(q), 0);
    assert.equal(await env.messageCount(dlq), 0);
  });

  test("to a quorum queue -> refused, nothing enqueued", async () => {
    const q = await env.declareQueue(uid("z-qq"), {
      durable: true,
      arguments: { "x-queue-type": "quorum" },
    });
    await expectRefused((raw, properties) => raw.publish(1, { routingKey: q, body: "z", properties }));
    assert.equal(await env.messageCount(q), 0);
  });

  test("to amq.headers with an x-match=any binding on 'ok' -> refused, nothing routed", async () => {
    const q = await env.declareQueue(uid("z-headers"));
    await withAdmin(env, (ch) => ch.bindQueue(q, "amq.headers", "", { "x-match": "any", ok: "fine" }));
    await expectRefused((raw, properties) =>
      raw.publish(1, { exchange: "amq.headers", body: "z", properties }),
    );
    assert.equal(await env.messageCount(q), 0);
  });

  test("'Z' 150 tables deep -> refused the same way", async () => {
    const q = await env.declareQueue(uid("z-deep"));
    await expectRefused(
      (raw, properties) => raw.publish(1, { routingKey: q, body: "z", properties }),
      UNKNOWN_TYPE_DEEP,
    );
    assert.equal(await env.messageCount(q), 0);
  });
});

describe("C1: the deep message expires from a TTL queue into the dead-letter queue intact", () => {
  const env = useBroker();
  for (const m of DEEP_MESSAGES) {
    test(`${m.name}: dead-lettered after x-message-ttl with x-death added`, async () => {
      const { dlx, dlq } = await env.deadLetterTarget();
      const q = await env.declareQueue(uid("c1"), {
        arguments: { "x-message-ttl": 100, "x-dead-letter-exchange": dlx },
      });
      const raw = await rawOpen(env.target());
      try {
        await confirmSelect(raw);
        raw.publish(1, { routingKey: q, body: "c1", properties: propsWithHeaders(m.headers) });
        await expectConfirm(raw, m.patienceMs);
        const got = await waitForMessage(raw, dlq, m.patienceMs);
        assertIntact(m, got);
        assertDeadLettered(got, { reason: "expired", queue: q });
        assert.equal(await env.messageCount(q), 0);
        await assertAlive(env, "after dead-lettering");
      } finally {
        raw.destroy();
      }
    });
  }
});

describe(
  "C2: a persistent deep message expires after a SIGKILL and restart",
  {
    skip: EXTERNAL && "kills and restarts the broker (INTEROP_TARGET_URL is set)",
  },
  () => {
    // The message is stored, the broker is killed before the TTL runs out, and the restarted
    // broker must recover it, dead-letter it when it expires and stay up: a recovery path that
    // chokes on the message would crash-loop the broker on every start.
    const TTL = 1500;
    for (const m of DEEP_MESSAGES) {
      test(`${m.name}: recovered, dead-lettered into a durable queue, broker stays up`, async () => {
        const dataDir = mkdtempSync(join(tmpdir(), "warren-hostile-"));
        let broker = await startBroker({ dataDir });
        const [q, dlx, dlq] = [uid("c2"), uid("c2-dlx"), uid("c2-dlq")];
        try {
          const conn = await amqp.connect(broker.url);
          conn.on("error", noop);
          const ch = await conn.createChannel();
          await ch.assertExchange(dlx, "fanout", { durable: true });
          await ch.assertQueue(dlq, { durable: true });
          await ch.bindQueue(dlq, dlx, "");
          await ch.assertQueue(q, {
            durable: true,
            arguments: { "x-message-ttl": TTL, "x-dead-letter-exchange": dlx },
          });
          const raw = await rawOpen({ host: broker.host, port: broker.port });
          await confirmSelect(raw);
          raw.publish(1, {
            routingKey: q,
            body: "c2",
            properties: propsWithHeaders(m.headers, { deliveryMode: 2 }),
          });
          await expectConfirm(raw, m.patienceMs);
          assert.equal((await ch.checkQueue(q)).messageCount, 1, "still waiting for its TTL");
          raw.destroy();
          await broker.kill("SIGKILL");

          broker = await startBroker({ dataDir });
          const env = { broker, trouble: [] };
          env.bystander = await amqp.connect(broker.url);
          env.bystander.on("error", (e) => env.trouble.push(`bystander error: ${e.message}`));
          try {
            await sleep(3000); // past the TTL, counted from the publish
            await assertAlive(env, "3 s after the restart");
            const reader = await rawOpen({ host: broker.host, port: broker.port });
            try {
              const got = await waitForMessage(reader, dlq, m.patienceMs);
              assertIntact(m, got);
              assertDeadLettered(got, { reason: "expired", queue: q });
            } finally {
              reader.destroy();
            }
            await assertAlive(env, "after the dead-lettered message was read");
          } finally {
            await env.bystander.close().catch(noop);
          }
        } finally {
          await broker.stop();
          rmSync(dataDir, { recursive: true, force: true });
        }
      });
    }
  },
);

describe("C3: the deep message redelivered from a quorum queue keeps its headers", () => {
  const env = useBroker();
  for (const m of DEEP_MESSAGES) {
    test(`${m.name}: unacked, consumer disconnects -> redelivered with x-delivery-count 1`, async () => {
      const q = await env.declareQueue(uid("c3"), {
        durable: true,
        arguments: { "x-queue-type": "quorum" },
      });
      const pub = await rawOpen(env.target());
      const first = await rawOpen(env.target());
      const second = await rawOpen(env.target());
      try {
        await confirmSelect(pub);
        pub.publish(1, { routingKey: q, body: "c3", properties: propsWithHeaders(m.headers) });
        await expectConfirm(pub, m.patienceMs);

        await rawConsume(first, 1, q, "c3-first");
        const d1 = await nextDelivery(first, 1, m.patienceMs);
        assertIntact(m, d1);
        // RabbitMQ adds x-delivery-count only to redeliveries of consumed messages.
        assert.equal(d1.redelivered, false);
        assert.equal(deliveryCount(d1), undefined);
        first.destroy(); // without acking
        await first.waitClosed();
        await assertAlive(env, "after the consumer vanished with the message unacked");

        await rawConsume(second, 1, q, "c3-second");
        const d2 = await nextDelivery(second, 1, m.patienceMs);
        assertIntact(m, d2);
        assert.equal(d2.redelivered, true);
        assert.equal(deliveryCount(d2), 1);
        ack(second, 1, d2.deliveryTag);
        await waitFor(async () => (await env.messageCount(q)) === 0, 2000, "an empty queue");
        await assertAlive(env, "after the redelivery");
      } finally {
        for (const raw of [pub, first, second]) raw.destroy();
      }
    });

    // RabbitMQ 3.10 accepts x-consumer-timeout as a queue argument but ignores it (its consumer
    // timeout is only the node-wide consumer_timeout setting, 30 min), so this runs on Warren
    // only, where the argument is implemented.
    test(
      `${m.name}: x-consumer-timeout closes the channel, redelivered intact`,
      {
        skip: EXTERNAL && "x-consumer-timeout is a Warren queue argument (RabbitMQ 3.10 ignores it)",
      },
      async () => {
        const q = await env.declareQueue(uid("c3-timeout"), {
          durable: true,
          arguments: { "x-queue-type": "quorum", "x-consumer-timeout": 100 },
        });
        const raw = await rawOpen(env.target());
        try {
          await confirmSelect(raw);
          raw.publish(1, { routingKey: q, body: "c3", properties: propsWithHeaders(m.headers) });
          await expectConfirm(raw, m.patienceMs);
          await raw.openChannel(2);
          await rawConsume(raw, 2, q, "c3-slow");
          assertIntact(m, await nextDelivery(raw, 2, m.patienceMs));
          const f = await raw.expect(M.channelClose, M.connectionClose);
          assert.equal(f.channel, 2);
          assert.equal(f.close.code, 406);
          assert.match(
            f.close.text,
            /^PRECONDITION_FAILED - delivery acknowledgement on channel 2 timed out/,
          );
          raw.closeOk(2);
          await assertAlive(env, "after the consumer timeout");

          await raw.openChannel(3);
          await rawConsume(raw, 3, q, "c3-next");
          const d = await nextDelivery(raw, 3, m.patienceMs);
          assertIntact(m, d);
          assert.equal(d.redelivered, true);
          assert.equal(deliveryCount(d), 1);
          ack(raw, 3, d.deliveryTag);
          await waitFor(async () => (await env.messageCount(q)) === 0, 2000, "an empty queue");
        } finally {
          raw.destroy();
        }
      },
    );
  }
});

describe("L1: the deep message through max-length, reject, quorum basic.get and headers routing", () => {
  const env = useBroker();

  /** x-max-length=1 (drop-head) queue with a DLX: { q, dlq }. */
  async function maxLengthQueue() {
    const { dlx, dlq } = await env.deadLetterTarget();
    const q = await env.declareQueue(uid("l1-max"), {
      arguments: { "x-max-length": 1, "x-dead-letter-exchange": dlx },
    });
    return { q, dlq };
  }

  for (const m of DEEP_MESSAGES) {
    test(`L1a ${m.name}: pushed out of an x-max-length=1 queue by a later publish`, async () => {
      const { q, dlq } = await maxLengthQueue();
      const hostile = await rawOpen(env.target());
      const other = await rawOpen(env.target());
      try {
        await confirmSelect(hostile);
        hostile.publish(1, { routingKey: q, body: "hostile", properties: propsWithHeaders(m.headers) });
        await expectConfirm(hostile, m.patienceMs);
        await confirmSelect(other);
        other.publish(1, { routingKey: q, body: "plain" });
        await expectConfirm(other, m.patienceMs);

        const dead = await waitForMessage(hostile, dlq, m.patienceMs);
        assertIntact(m, dead);
        assertDeadLettered(dead, { reason: "maxlen", queue: q });
        const kept = await rawGet(other, 1, q, true, m.patienceMs);
        assert.equal(kept?.body.toString(), "plain");
        assert.equal(other.isClosed, false, "the other publisher must not be closed");
        await assertRawWorks(other, 2);
        await assertAlive(env, "after the drop-head");
      } finally {
        hostile.destroy();
        other.destroy();
      }
    });

    test(`L1a ${m.name}: arrives at a full x-max-length=1 queue, the plain one is dropped`, async () => {
      const { q, dlq } = await maxLengthQueue();
      const hostile = await rawOpen(env.target());
      try {
        await confirmSelect(hostile);
        hostile.publish(1, { routingKey: q, body: "plain" });
        await expectConfirm(hostile, m.patienceMs);
        hostile.publish(1, { routingKey: q, body: "hostile", properties: propsWithHeaders(m.headers) });
        await expectConfirm(hostile, m.patienceMs);

        const dead = await waitForMessage(hostile, dlq, m.patienceMs);
        assert.equal(dead.body.toString(), "plain");
        assertDeadLettered(dead, { reason: "maxlen", queue: q });
        const kept = await rawGet(hostile, 1, q, true, m.patienceMs);
        assertIntact(m, kept);
        assert.equal(hostile.isClosed, false, "the publisher must not be closed");
        await assertRawWorks(hostile, 2);
        await assertAlive(env, "after the drop-head");
      } finally {
        hostile.destroy();
      }
    });

    test(`L1b ${m.name}: basic.reject requeue=false dead-letters it, consumer channel stays open`, async () => {
      const { dlx, dlq } = await env.deadLetterTarget();
      const q = await env.declareQueue(uid("l1-reject"), {
        arguments: { "x-dead-letter-exchange": dlx },
      });
      const raw = await rawOpen(env.target());
      try {
        raw.publish(1, { routingKey: q, body: "reject me", properties: propsWithHeaders(m.headers) });
        await rawConsume(raw, 1, q, "l1b");
        const d = await nextDelivery(raw, 1, m.patienceMs);
        assertIntact(m, d);
        reject(raw, 1, d.deliveryTag, false);

        await raw.openChannel(2);
        let dead = null;
        await waitFor(
          async () => (dead = await rawGet(raw, 2, dlq, true, m.patienceMs)),
          m.patienceMs,
          "the rejected message",
        );
        assertIntact(m, dead);
        assertDeadLettered(dead, { reason: "rejected", queue: q });
        // The consumer's channel is still usable: a passive declare on it answers.
        raw.method(1, M.queueDeclare, new Writer().short(0).shortstr(q).bits(true).table({}));
        const ok = await raw.expect(M.queueDeclareOk, M.channelClose, M.connectionClose);
        assert.equal(ok.close, undefined, `the consumer channel was closed: ${JSON.stringify(ok.close)}`);
        assert.equal(ok.channel, 1);
        await assertAlive(env, "after the reject");
      } finally {
        raw.destroy();
      }
    });

    test(`L1d ${m.name}: amq.headers with x-match=any routes on the deep header`, async () => {
      const present = await env.declareQueue(uid("l1-any"));
      const absent = await env.declareQueue(uid("l1-none"));
      await withAdmin(env, async (ch) => {
        // a void (null) binding value matches on the header's presence alone
        await ch.bindQueue(present, "amq.headers", "", { "x-match": "any", a: null, other: "x" });
        await ch.bindQueue(absent, "amq.headers", "", { "x-match": "any", other: "x" });
      });
      const raw = await rawOpen(env.target());
      try {
        await confirmSelect(raw);
        raw.publish(1, {
          exchange: "amq.headers",
          body: "routed",
          properties: propsWithHeaders(m.headers),
        });
        await expectConfirm(raw, m.patienceMs);
        assertIntact(m, await waitForMessage(raw, present, m.patienceMs));
        assert.equal(await env.messageCount(absent), 0);
        assert.equal(raw.isClosed, false, "the publisher must not be closed");
        await assertRawWorks(raw, 2);
        await assertAlive(env, "after headers-exchange routing");
      } finally {
        raw.destroy();
      }
    });

    // L1c runs with the 150-deep message only: RabbitMQ re-encodes the 20,000-deep headers for
    // each of the two basic.gets (x-delivery-count), ~12 s; C3 covers that path for it already.
    if (m !== DEEP) continue;
    test(`L1c ${m.name}: basic.get from a quorum queue -> get-ok with x-delivery-count, counts agree`, async () => {
      const q = await env.declareQueue(uid("l1-get"), {
        durable: true,
        arguments: { "x-queue-type": "quorum" },
      });
      const raw = await rawOpen(env.target());
      try {
        await confirmSelect(raw);
        raw.publish(1, { routingKey: q, body: "get me", properties: propsWithHeaders(m.headers) });
        await expectConfirm(raw, m.patienceMs);

        // Quorum queues put x-delivery-count on every basic.get: 0 the first time.
        const g1 = await rawGet(raw, 1, q, false, m.patienceMs);
        assert.ok(g1, "basic.get-empty");
        assertIntact(m, g1);
        assert.deepEqual([g1.redelivered, g1.messageCount, deliveryCount(g1)], [false, 0, 0]);
        assert.equal(await env.messageCount(q), 0, "the unacked message is not ready");
        reject(raw, 1, g1.deliveryTag, true);

        let g2 = null;
        await waitFor(
          async () => (g2 = await rawGet(raw, 1, q, false, m.patienceMs)),
          m.patienceMs,
          "the requeued message",
        );
        assertIntact(m, g2);
        assert.deepEqual([g2.redelivered, g2.messageCount, deliveryCount(g2)], [true, 0, 1]);
        ack(raw, 1, g2.deliveryTag);
        assert.equal(await rawGet(raw, 1, q, true, m.patienceMs), null);
        assert.equal(await env.messageCount(q), 0);
        assert.equal(raw.isClosed, false);
        await assertAlive(env, "after basic.get");
      } finally {
        raw.destroy();
      }
    });
  }
});

describe("B1: a 404 naming a 250-character queue", () => {
  const env = useBroker();

  /** Passive queue.declare of a missing queue; returns the channel.close and its raw text. */
  async function passiveDeclare(raw, name) {
    raw.method(1, M.queueDeclare, new Writer().short(0).shortstr(name).bits(true).table({}));
    const f = await raw.expect(M.channelClose, M.connectionClose, M.queueDeclareOk);
    assert.equal(f.channel, 1, `a channel exception, got ${JSON.stringify(f.close)} on ${f.channel}`);
    return { close: f.close, text: f.args.subarray(3, 3 + f.args[2]) };
  }

  // RabbitMQ cuts a reply text longer than a shortstr allows to its first 252 bytes plus "...",
  // 255 bytes in all, counting bytes: the cut may fall inside a multi-byte UTF-8 character.
  // Warren cuts the same way but never inside a character (a client decoding the text as
  // UTF-8 would fail), so its text may end a byte earlier.
  const cut = (text) => {
    const b = Buffer.from(text);
    let end = 252;
    if (!EXTERNAL) while ((b[end] & 0xc0) === 0x80) end--;
    return Buffer.concat([b.subarray(0, end), Buffer.from("...")]);
  };

  for (const [what, name] of [
    ["250 ASCII characters", () => uid("b1").padEnd(250, "q")],
    ["249 bytes of UTF-8, the cut splits an 'é'", () => "x" + "é".repeat(124)],
  ]) {
    test(`${what}: channel.close 404, reply text cut to 255 bytes, connection stays open`, async () => {
      const queue = name();
      const raw = await rawOpen(env.target());
      try {
        const { close, text } = await passiveDeclare(raw, queue);
        assert.deepEqual([close.code, close.classId, close.methodId], [404, 50, 10]);
        const want = cut(`NOT_FOUND - no queue '${queue}' in vhost '/'`);
        const tail = (b) => `${b.length} bytes ending ${b.subarray(-8).toString("hex")}`;
        assert.equal(tail(text), tail(want), "the reply text's size and end");
        assert.ok(text.equals(want), `reply text: ${text.toString("latin1")}`);
        raw.closeOk(1);
        await assertRawWorks(raw, 2); // another channel on the same connection
        await raw.openChannel(1); // and channel 1 can be reopened
        await assertAlive(env);
      } finally {
        raw.destroy();
      }
    });
  }
});

describe("malformed UTF-8 in short strings", () => {
  // RabbitMQ's method decoder checks the UTF-8 of most shortstr fields and refuses a bad one
  // with a connection exception: 501 FRAME_ERROR, "FRAME_ERROR - Malformed UTF-8 in shortstr",
  // class/method 0/0 (10/40 for connection.open, still in the handshake). It does NOT check
  // basic.publish's exchange and routing key (its fast path), content properties, or field
  // table keys/values: those bytes pass through untouched. (Surrogate code points, ED A0 80,
  // pass its check everywhere; not pinned here.)
  const env = useBroker();
  const BAD = {
    "ff fe": Buffer.from([0x71, 0xff, 0xfe]),
    "lone c3": Buffer.from([0x71, 0xc3]),
    "overlong c0 af": Buffer.from([0x71, 0xc0, 0xaf]),
  };
  const FRAME_ERROR = "FRAME_ERROR - Malformed UTF-8 in shortstr";

  /** For each bad byte string: sends the method built by send(raw, bytes), expects 501 on channel 0. */
  async function expectFrameError(send) {
    for (const [label, bytes] of Object.entries(BAD)) {
      const raw = await rawOpen(env.target());
      try {
        await send(raw, bytes);
        const f = await raw.next();
        assert.ok(f.close, `${label}: expected connection.close, got ${f.classId}/${f.methodId}`);
        assert.equal(f.channel, 0, `${label}: a connection exception, got ${JSON.stringify(f.close)}`);
        assert.deepEqual(f.close, { code: 501, text: FRAME_ERROR, classId: 0, methodId: 0 }, label);
        raw.closeOk(0);
        await raw.waitClosed(2000);
      } finally {
        raw.destroy();
      }
      await assertAlive(env, `after ${label}`);
    }
  }

  const declareArgs = (name, passive = false) =>
    new Writer().short(0).shortstr(name).bits(passive, false, !passive, !passive, false).table({});

  test("queue.declare name -> 501 FRAME_ERROR (connection)", () =>
    expectFrameError((raw, b) => raw.method(1, M.queueDeclare, declareArgs(b))));

  test("queue.declare passive name -> 501 FRAME_ERROR (connection)", () =>
    expectFrameError((raw, b) => raw.method(1, M.queueDeclare, declareArgs(b, true))));

  test("exchange.declare name -> 501 FRAME_ERROR (connection)", () =>
    expectFrameError((raw, b) =>
      raw.method(
        1,
        EXCHANGE_DECLARE,
        new Writer().short(0).shortstr(b).shortstr("fanout").bits(false, false, true).table({}),
      ),
    ));

  test("basic.consume consumer tag -> 501 FRAME_ERROR (connection)", () =>
    expectFrameError(async (raw, b) => {
      const q = await raw.declareQueue(1);
      raw.method(
        1,
        M.basicConsume,
        new Writer().short(0).shortstr(q).shortstr(b).bits(false, false, false, false).table({}),
      );
    }));

  test("queue.bind routing key -> 501 FRAME_ERROR (connection)", () =>
    expectFrameError(async (raw, b) => {
      const q = await raw.declareQueue(1);
      raw.method(
        1,
        QUEUE_BIND,
        new Writer().short(0).shortstr(q).shortstr("amq.direct").shortstr(b).bits(false).table({}),
      );
    }));

  test("basic.get / queue.purge / queue.delete / exchange.delete names -> 501 FRAME_ERROR", async () => {
    await expectFrameError((raw, b) =>
      raw.method(1, M.basicGet, new Writer().short(0).shortstr(b).bits(true)),
    );
    await expectFrameError((raw, b) =>
      raw.method(1, QUEUE_PURGE, new Writer().short(0).shortstr(b).bits(false)),
    );
    await expectFrameError((raw, b) =>
      raw.method(1, QUEUE_DELETE, new Writer().short(0).shortstr(b).bits(false, false, false)),
    );
    await expectFrameError((raw, b) =>
      raw.method(1, EXCHANGE_DELETE, new Writer().short(0).shortstr(b).bits(false, false)),
    );
  });

  test("connection.open virtual host -> 501 FRAME_ERROR, class/method 10/40", async () => {
    for (const [label, bytes] of Object.entries(BAD)) {
      const r = await handshake({ ...env.target(), vhost: bytes });
      try {
        assert.deepEqual(
          r.close,
          { code: 501, text: FRAME_ERROR, classId: 10, methodId: 40 },
          `${label}: ${JSON.stringify(r.close ?? { openOk: r.openOk })}`,
        );
      } finally {
        r.conn.destroy();
      }
      await assertAlive(env, `after ${label}`);
    }
  });

  test("a field-table key in queue.declare arguments is NOT checked: declare-ok", async () => {
    for (const [label, bytes] of Object.entries(BAD)) {
      const raw = await rawOpen(env.target());
      try {
        const w = new Writer().short(0).shortstr("").bits(false, false, true, true, false);
        w.longstr(typedTableBody([[bytes, "S", "v"]]));
        raw.method(1, M.queueDeclare, w);
        const f = await raw.expect(M.queueDeclareOk, M.channelClose, M.connectionClose);
        assert.equal(f.close, undefined, `${label}: ${JSON.stringify(f.close)}`);
      } finally {
        raw.destroy();
      }
      await assertAlive(env, `after ${label}`);
    }
  });

  test("content-type, header key and header value are NOT checked: delivered byte for byte", async () => {
    const x = await env.declareExchange(uid("utf8-fanout"), "fanout");
    const q = await env.declareQueue(uid("utf8"));
    await withAdmin(env, (ch) => ch.bindQueue(q, x, ""));
    for (const [label, bytes] of Object.entries(BAD)) {
      const raw = await rawOpen(env.target());
      try {
        const properties = encodeProperties({ contentType: bytes, headers: [[bytes, "S", bytes]] });
        await confirmSelect(raw);
        raw.publish(1, { exchange: x, routingKey: "k", body: label, properties });
        await expectConfirm(raw);
        const got = await waitForMessage(raw, q);
        assert.equal(got.body.toString(), label);
        assert.ok(got.block.equals(properties), `${label}: properties ${got.block.toString("hex")}`);
      } finally {
        raw.destroy();
      }
      await assertAlive(env, `after ${label}`);
    }
  });

  // basic.publish's exchange and routing key: RabbitMQ does not check them (a bad routing key
  // is delivered byte for byte; a bad exchange name is a channel-level 404 echoing the bytes).
  // Warren refuses them like every other shortstr argument, with 501: it keeps names as
  // strings, and replacing the bytes would route "q\xff" to a queue named "q\ufffd".
  test("basic.publish routing key: RabbitMQ delivers it byte for byte; Warren refuses it with 501", async () => {
    const x = await env.declareExchange(uid("utf8-fanout"), "fanout");
    const q = await env.declareQueue(uid("utf8"));
    await withAdmin(env, (ch) => ch.bindQueue(q, x, ""));
    if (!EXTERNAL) {
      await expectFrameError((raw, bytes) => raw.publish(1, { exchange: x, routingKey: bytes, body: "x" }));
      return;
    }
    for (const [label, bytes] of Object.entries(BAD)) {
      const raw = await rawOpen(env.target());
      try {
        await confirmSelect(raw);
        raw.publish(1, { exchange: x, routingKey: bytes, body: label });
        await expectConfirm(raw);
        const got = await waitForMessage(raw, q);
        assert.ok(got.routingKey.equals(bytes), `${label}: routing key ${got.routingKey.toString("hex")}`);
      } finally {
        raw.destroy();
      }
      await assertAlive(env, `after ${label}`);
    }
  });

  test("basic.publish to an exchange named with bad UTF-8: RabbitMQ 404 (channel); Warren 501", async () => {
    if (!EXTERNAL) {
      await expectFrameError((raw, bytes) => raw.publish(1, { exchange: bytes, routingKey: "k", body: "x" }));
      return;
    }
    for (const [label, bytes] of Object.entries(BAD)) {
      const raw = await rawOpen(env.target());
      try {
        raw.publish(1, { exchange: bytes, routingKey: "k", body: "x" });
        const f = await raw.expect(M.channelClose, M.connectionClose);
        assert.equal(f.channel, 1, `${label}: ${JSON.stringify(f.close)}`);
        assert.deepEqual([f.close.code, f.close.classId, f.close.methodId], [404, 60, 40]);
        const text = f.args.subarray(3, 3 + f.args[2]);
        const want = Buffer.concat([
          Buffer.from("NOT_FOUND - no exchange '"),
          bytes,
          Buffer.from("' in vhost '/'"),
        ]);
        assert.ok(text.equals(want), `${label}: reply text ${text.toString("hex")}`);
        raw.closeOk(1);
        await assertRawWorks(raw, 2);
      } finally {
        raw.destroy();
      }
      await assertAlive(env, `after ${label}`);
    }
  });
});

describe("reply order: a method's reply vs server-initiated frames on the same channel", () => {
  // RabbitMQ answers queue.delete with delete-ok first and only then sends the basic.cancel
  // for the consumers of the deleted queue on that channel (the channel process finishes the
  // call before handling the queue's cancel notification). Clients rely on it: amqplib's
  // "cancelled consumer" callback may close the channel, and must not strand the delete's RPC.
  // (When the delete comes from another channel of the same connection the two frames race
  // in RabbitMQ too, so that order is not pinned.)
  const env = useBroker();

  /** Frames on channel 1 (methods named), then whatever arrives within settleMs. */
  async function framesAfter(raw, send, settleMs = 300) {
    raw.frames.splice(0);
    send();
    await sleep(settleMs);
    return raw.frames
      .splice(0)
      .map((f) =>
        f.type === 1
          ? (METHOD_NAMES[`${f.classId}/${f.methodId}`] ?? `${f.classId}/${f.methodId}`)
          : `frame type ${f.type}`,
      );
  }

  /** A raw connection consuming (no-ack) the queue declared with the given flags on channel 1. */
  async function consumedQueue(flags) {
    const q = uid("order");
    const raw = await rawOpen(env.target());
    const { durable = true, exclusive = false, autoDelete = false } = flags;
    raw.method(
      1,
      M.queueDeclare,
      new Writer().short(0).shortstr(q).bits(false, durable, exclusive, autoDelete, false).table({}),
    );
    await raw.expect(M.queueDeclareOk);
    raw.method(
      1,
      QUEUE_BIND,
      new Writer().short(0).shortstr(q).shortstr("amq.direct").shortstr(q).bits(false).table({}),
    );
    await raw.expect(QUEUE_BIND_OK);
    raw.method(
      1,
      M.basicConsume,
      new Writer().short(0).shortstr(q).shortstr("ctag").bits(false, true, false, false).table({}),
    );
    await raw.expect(M.basicConsumeOk);
    return { raw, q };
  }

  const deleteQueue = (raw, q) => () =>
    raw.method(1, QUEUE_DELETE, new Writer().short(0).shortstr(q).bits(false, false, false));

  for (const [what, flags] of [
    ["durable queue", { durable: true }],
    ["exclusive auto-delete queue", { durable: false, exclusive: true, autoDelete: true }],
    ["auto-delete queue", { durable: false, autoDelete: true }],
  ]) {
    test(`queue.delete of a consumed ${what}: delete-ok, then basic.cancel`, async () => {
      const { raw, q } = await consumedQueue(flags);
      try {
        assert.deepEqual(await framesAfter(raw, deleteQueue(raw, q)), ["queue.delete-ok", "basic.cancel"]);
        await assertAlive(env);
      } finally {
        raw.destroy();
      }
    });
  }

  test("queue.purge / queue.unbind / exchange.delete on durable objects: just the reply", async () => {
    const { raw, q } = await consumedQueue({ durable: true });
    const x = uid("order-x");
    try {
      raw.method(
        1,
        EXCHANGE_DECLARE,
        new Writer().short(0).shortstr(x).shortstr("direct").bits(false, true).table({}),
      );
      await raw.expect(EXCHANGE_DECLARE_OK);
      raw.method(
        1,
        QUEUE_BIND,
        new Writer().short(0).shortstr(q).shortstr(x).shortstr("k").bits(false).table({}),
      );
      await raw.expect(QUEUE_BIND_OK);

      const purge = () => raw.method(1, QUEUE_PURGE, new Writer().short(0).shortstr(q).bits(false));
      assert.deepEqual(await framesAfter(raw, purge), ["queue.purge-ok"]);
      const unbind = () =>
        raw.method(
          1,
          QUEUE_UNBIND,
          new Writer().short(0).shortstr(q).shortstr("amq.direct").shortstr(q).table({}),
        );
      assert.deepEqual(await framesAfter(raw, unbind), ["queue.unbind-ok"]);
      const delX = () => raw.method(1, EXCHANGE_DELETE, new Writer().short(0).shortstr(x).bits(false, false));
      assert.deepEqual(await framesAfter(raw, delX), ["exchange.delete-ok"]);
      // the consumer was not disturbed by any of it
      const cancel = () => raw.method(1, BASIC_CANCEL, new Writer().shortstr("ctag").bits(false));
      assert.deepEqual(await framesAfter(raw, cancel), ["basic.cancel-ok"]);
      assert.deepEqual(await framesAfter(raw, deleteQueue(raw, q)), ["queue.delete-ok"]);
      await assertAlive(env);
    } finally {
      raw.destroy();
    }
  });

  test("amqplib: closing the channel from the 'cancelled' callback does not strand deleteQueue", async () => {
    const unhandled = [];
    const onUnhandled = (e) => unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    const conn = await amqp.connect(env.broker.url);
    conn.on("error", noop);
    try {
      const ch = await conn.createChannel();
      ch.on("error", noop);
      const q = uid("order-amqplib");
      await ch.assertQueue(q, { durable: true });
      let closing;
      await ch.consume(q, (msg) => {
        if (msg === null) closing = ch.close();
      });
      const deleted = await withTimeout(ch.deleteQueue(q), 3000, "the queue.delete reply");
      assert.deepEqual(deleted, { messageCount: 0 });
      await waitFor(() => closing !== undefined, 3000, "the consumer's cancel notification");
      await withTimeout(closing, 3000, "channel.close-ok");
      await sleep(50);
      assert.deepEqual(unhandled, []);
      await assertAmqplibWorks(conn);
      await assertAlive(env);
    } finally {
      process.off("unhandledRejection", onUnhandled);
      await conn.close().catch(noop);
    }
  });
});

describe(
  "failed logins: the refusal is delayed, a good login at the same time is not",
  { concurrency: true },
  () => {
    // RabbitMQ 3.10 with a wrong password:
    // - without the authentication_failure_close capability it sends nothing and closes the
    //   socket after ~3 s;
    // - with it, connection.close 403 arrives at once, and the socket is closed at once if the
    //   client answers close-ok, else held ~3 s.
    // The delay is per connection: a good login at the same time is not slowed down.
    // Warren delays the 403 as well (~3 s, then the socket is closed): with the capability
    // set, RabbitMQ answers a password guess at once, which leaves guessing unthrottled.
    const env = useBroker();

    /**
     * Handshake with a wrong password (and the default capabilities, which include
     * authentication_failure_close, unless given). Resolves with the handshake result, how long
     * the connection.close (or the silent close) took, and when the socket was closed.
     */
    async function wrongPassword({ capabilities, closeOk = false }) {
      const t0 = Date.now();
      const r = await handshake({
        ...env.target(),
        password: "wrong",
        ...(capabilities && { capabilities }),
      });
      const answeredAfter = Date.now() - t0;
      try {
        if (r.close && closeOk) r.conn.closeOk(0);
        await r.conn.waitClosed(10000);
        return { r, answeredAfter, closedAfter: Date.now() - t0 };
      } finally {
        r.conn.destroy();
      }
    }

    async function goodLoginDuring(refusal) {
      await sleep(100);
      const t0 = Date.now();
      const ok = await handshake(env.target());
      const took = Date.now() - t0;
      ok.conn.destroy();
      assert.equal(ok.openOk, true);
      assert.ok(took < 1000, `a good login took ${took} ms while another one was being refused`);
      const settled = await Promise.race([refusal.then(() => true), sleep(0).then(() => false)]);
      assert.equal(settled, false, "the refusal should still be pending");
    }

    test("without authentication_failure_close: silent close after >= 1 s; a good login meanwhile < 1 s", async () => {
      const refusal = wrongPassword({ capabilities: {} });
      await goodLoginDuring(refusal);
      const { r, closedAfter } = await refusal;
      assert.equal(r.socketClosed, true);
      assert.equal(r.conn.frames.length, 0, "nothing at all after connection.start");
      assert.ok(closedAfter >= 1000, `the socket was closed after only ${closedAfter} ms`);
      await assertAlive(env);
    });

    test("with authentication_failure_close, no close-ok: 403 (RabbitMQ at once, Warren after >= 1 s), socket held >= 1 s", async () => {
      const refusal = wrongPassword({});
      await goodLoginDuring(refusal);
      const { r, answeredAfter, closedAfter } = await refusal;
      assert.equal(r.close?.code, 403);
      assert.match(r.close.text, /^ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN/);
      if (EXTERNAL) assert.ok(answeredAfter < 1000, `connection.close took ${answeredAfter} ms`);
      else assert.ok(answeredAfter >= 1000, `connection.close came after only ${answeredAfter} ms`);
      assert.ok(closedAfter >= 1000, `the socket was closed after only ${closedAfter} ms`);
      await assertAlive(env);
    });

    test("with authentication_failure_close and close-ok: 403, then the socket closed at once", async () => {
      const { r, answeredAfter, closedAfter } = await wrongPassword({ closeOk: true });
      assert.equal(r.close?.code, 403);
      if (EXTERNAL) assert.ok(answeredAfter < 1000, `connection.close took ${answeredAfter} ms`);
      const lingered = closedAfter - answeredAfter;
      assert.ok(lingered < 1000, `the socket stayed open ${lingered} ms after close-ok`);
      await assertAlive(env);
    });
  },
);
