// Queue features RabbitMQ users rely on (issue 3), exercised through amqplib (plus the raw-socket
// helper where the exact wire types of headers matter) and validated against RabbitMQ 3.10.8:
// message and queue TTL, queue expiry, length limits and overflow modes, dead-lettering and the
// x-death header, priorities, alternate exchanges, consumer priorities, single active consumer,
// consumer timeout, direct reply-to, quorum queues, and declare-time argument validation with
// RabbitMQ's exact error texts.
//
//   node --test interop/node/queue-features.test.mjs                 (a fresh Warren broker)
//   INTEROP_TARGET_URL=amqp://guest:guest@localhost:5682 node --test interop/node/queue-features.test.mjs
//
// Where RabbitMQ 3.10 and the text differ, the tests follow RabbitMQ and say so:
// - x-consumer-timeout is not a queue argument in 3.10 (only the global consumer_timeout,
//   checked once a minute), so that test runs against Warren only.
// - 3.10 accepts x-queue-type stream; Warren refuses it (no streams yet): Warren only.
// - 3.10 writes no x-last-death-* headers (they came in 3.13).
// - 3.10 refuses x-delivery-limit on classic queues and x-max-priority on quorum queues.
// - A passive queue.declare counts as use for x-expires (it restarts the clock).
// - Quorum queues: a message nacked/rejected with requeue goes to the tail unless
//   x-delivery-limit is set; x-overflow reject-publish-dlx behaves as drop-head; basic.get
//   always carries x-delivery-count (0 the first time), consumer deliveries only from 1.
// - Equivalence errors show bare values when both sides have the argument
//   ("received '2000' but current is '1000'") and typed ones when one side lacks it.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import amqp from "amqplib";
import { startBroker } from "../lib/broker.mjs";
import { amqplibClose, drainQueue, sleep, uid, waitFor, withTimeout } from "./helpers.mjs";
import { handshake } from "./raw-amqp.mjs";

let broker;
/** Shared amqplib connection; channel errors must never take it down. */
let conn;
const connErrors = [];
/** Queues and exchanges to delete at the end (RabbitMQ keeps non-exclusive ones). */
const queues = new Set();
const exchanges = new Set();

before(async () => {
  broker = await startBroker();
  conn = await amqp.connect(broker.url);
  conn.on("error", (e) => connErrors.push(e));
});

after(async () => {
  if (conn) {
    const ch = await conn.createChannel().catch(() => undefined);
    if (ch) {
      ch.on("error", () => {});
      for (const q of queues) await ch.deleteQueue(q).catch(() => {});
      for (const e of exchanges) await ch.deleteExchange(e).catch(() => {});
      await ch.close().catch(() => {});
    }
    await conn.close().catch(() => {});
  }
  await broker?.stop();
});

// ---------------------------------------------------------------------------------------------
// helpers

/** A fresh channel on the shared connection whose errors are recorded, not thrown. */
async function channel({ confirm = false, prefetch } = {}) {
  const ch = confirm ? await conn.createConfirmChannel() : await conn.createChannel();
  ch.errors = [];
  ch.on("error", (e) => ch.errors.push(e));
  if (prefetch !== undefined) await ch.prefetch(prefetch);
  return ch;
}

/** Declares a queue (non-exclusive, not durable unless asked) and remembers it for cleanup. */
async function queue(ch, args = {}, opts = {}) {
  const name = opts.name ?? uid("qf");
  await ch.assertQueue(name, { durable: false, autoDelete: false, ...opts, arguments: args });
  queues.add(name);
  return name;
}

async function exchange(ch, type, args = {}, name = uid("qfx")) {
  await ch.assertExchange(name, type, { durable: false, autoDelete: false, arguments: args });
  exchanges.add(name);
  return name;
}

/** A queue bound to a new fanout exchange: the usual dead-letter target. */
async function dlxQueue(ch) {
  const dlx = await exchange(ch, "fanout");
  const dlq = await queue(ch);
  await ch.bindQueue(dlq, dlx, "");
  return { dlx, dlq };
}

const bodies = (msgs) => msgs.map((m) => m.content.toString());

async function readyCount(q) {
  const ch = await channel();
  const { messageCount } = await ch.checkQueue(q);
  await ch.close();
  return messageCount;
}

/** "exists" or "missing" (404), by a passive declare on a throw-away channel. */
async function queueState(q) {
  const ch = await channel();
  try {
    await ch.checkQueue(q);
    await ch.close();
    return "exists";
  } catch (e) {
    assert.equal(e.code, 404, e.message);
    return "missing";
  }
}

/** Waits for one message on q and returns it (consumes with no-ack, then cancels). */
async function receive(ch, q, ms = 3000) {
  let resolve;
  const got = new Promise((r) => {
    resolve = r;
  });
  const { consumerTag } = await ch.consume(q, (m) => m && resolve(m), { noAck: true });
  try {
    return await withTimeout(got, ms, `a message on ${q}`);
  } finally {
    await ch.cancel(consumerTag).catch(() => {});
  }
}

/** Runs fn on a fresh channel, expects the server to close the channel; returns the close. */
async function closeOf(fn) {
  const ch = await conn.createChannel();
  const closed = new Promise((resolve) => ch.once("error", resolve));
  await fn(ch).catch(() => {});
  const close = amqplibClose(await withTimeout(closed, 3000, "channel.close"));
  assert.deepEqual(connErrors, [], "a channel exception must not close the connection");
  return close;
}

/** Declares q with args and expects 406 with exactly this RabbitMQ text. */
async function assertDeclareRefused(name, args, text, opts = {}) {
  const close = await closeOf((ch) =>
    ch.assertQueue(name, { durable: false, autoDelete: false, ...opts, arguments: args }),
  );
  assert.deepEqual(
    { code: close.code, text: close.text, cm: [close.classId, close.methodId] },
    { code: 406, text: `PRECONDITION_FAILED - ${text}`, cm: [50, 10] },
    `declare ${JSON.stringify(opts)} ${JSON.stringify(args)}`,
  );
  assert.equal(await queueState(name), "missing", "a refused declare creates nothing");
}

// Typed decoding of message properties, for asserting the exact wire types of x-death.

function readValue(b, p) {
  const t = String.fromCharCode(b[p++]);
  switch (t) {
    case "S":
    case "x": {
      const n = b.readUInt32BE(p);
      const v = t === "S" ? b.toString("utf8", p + 4, p + 4 + n) : b.subarray(p + 4, p + 4 + n);
      return [{ type: t, value: v }, p + 4 + n];
    }
    case "t":
      return [{ type: t, value: b[p] !== 0 }, p + 1];
    case "b":
      return [{ type: t, value: b.readInt8(p) }, p + 1];
    case "B":
      return [{ type: t, value: b[p] }, p + 1];
    case "s":
      return [{ type: t, value: b.readInt16BE(p) }, p + 2];
    case "u":
      return [{ type: t, value: b.readUInt16BE(p) }, p + 2];
    case "I":
      return [{ type: t, value: b.readInt32BE(p) }, p + 4];
    case "i":
      return [{ type: t, value: b.readUInt32BE(p) }, p + 4];
    case "l":
      return [{ type: t, value: Number(b.readBigInt64BE(p)) }, p + 8];
    case "T":
      return [{ type: t, value: Number(b.readBigUInt64BE(p)) }, p + 8];
    case "f":
      return [{ type: t, value: b.readFloatBE(p) }, p + 4];
    case "d":
      return [{ type: t, value: b.readDoubleBE(p) }, p + 8];
    case "D":
      return [{ type: t, value: [b[p], b.readUInt32BE(p + 1)] }, p + 5];
    case "V":
      return [{ type: t, value: null }, p];
    case "F": {
      const [v, np] = readTable(b, p);
      return [{ type: t, value: v }, np];
    }
    case "A": {
      const end = p + 4 + b.readUInt32BE(p);
      const items = [];
      for (p += 4; p < end;) {
        const [v, np] = readValue(b, p);
        items.push(v);
        p = np;
      }
      return [{ type: t, value: items }, end];
    }
    default:
      throw new Error(`unknown field type ${t}`);
  }
}

/** A field table as { key: {type, value} } with keys in wire order. */
function readTable(b, p) {
  const end = p + 4 + b.readUInt32BE(p);
  const out = {};
  for (p += 4; p < end;) {
    const k = b.toString("utf8", p + 1, p + 1 + b[p]);
    p += 1 + b[p];
    const [v, np] = readValue(b, p);
    out[k] = v;
    p = np;
  }
  return [out, end];
}

/** The headers table (typed) and whether an expiration is set, from a raw property block. */
function typedHeaders(props) {
  const flags = props.readUInt16BE(0);
  let p = 2;
  const shortstr = () => {
    const n = props[p];
    const s = props.toString("utf8", p + 1, p + 1 + n);
    p += 1 + n;
    return s;
  };
  if (flags & 0x8000) shortstr(); // content-type
  if (flags & 0x4000) shortstr(); // content-encoding
  let headers = {};
  if (flags & 0x2000) [headers, p] = readTable(props, p);
  return { headers, hasExpiration: (flags & 0x0100) !== 0 };
}

/** Gets one message from q over a raw connection (polling), with typed headers. */
async function rawGet(q, ms = 3000) {
  const { conn: raw } = await handshake({ host: broker.host, port: broker.port });
  try {
    await raw.openChannel(1);
    const deadline = Date.now() + ms;
    for (;;) {
      const m = await raw.get(1, q);
      if (m) return { ...typedHeaders(m.properties), body: m.body.toString() };
      if (Date.now() > deadline) throw new Error(`nothing arrived on ${q}`);
      await sleep(20);
    }
  } finally {
    raw.destroy();
  }
}

/** Plain (untyped) view of one x-death entry from amqplib's decoding. */
const death = (m, i = 0) => m.properties.headers["x-death"][i];

// ---------------------------------------------------------------------------------------------
// Declare-time validation and the equivalence check

describe("queue arguments are validated at declare time", () => {
  test("bad types and ranges: 406 PRECONDITION_FAILED with RabbitMQ's texts, nothing created", async () => {
    const long = (value) => ({ "!": "long", value });
    const cases = [
      [
        { "x-max-priority": 256 },
        (q) => `invalid arg 'x-max-priority' for queue '${q}' in vhost '/': {max_value_exceeded,256}`,
      ],
      [
        { "x-max-priority": -1 },
        (q) => `invalid arg 'x-max-priority' for queue '${q}' in vhost '/': {value_negative,-1}`,
      ],
      [
        { "x-max-priority": "10" },
        (q) => `invalid arg 'x-max-priority' for queue '${q}' in vhost '/': "expected integer, got longstr"`,
      ],
      [
        { "x-message-ttl": -1 },
        (q) => `invalid arg 'x-message-ttl' for queue '${q}' in vhost '/': {value_negative,-1}`,
      ],
      [
        { "x-message-ttl": 1.5 },
        (q) => `invalid arg 'x-message-ttl' for queue '${q}' in vhost '/': "expected integer, got double"`,
      ],
      [
        { "x-message-ttl": "100" },
        (q) => `invalid arg 'x-message-ttl' for queue '${q}' in vhost '/': "expected integer, got longstr"`,
      ],
      [
        { "x-message-ttl": long(315360000001) },
        (q) => `invalid arg 'x-message-ttl' for queue '${q}' in vhost '/': {value_too_large,315360000001}`,
      ],
      [{ "x-expires": 0 }, (q) => `invalid arg 'x-expires' for queue '${q}' in vhost '/': {value_zero,0}`],
      [
        { "x-expires": -5 },
        (q) => `invalid arg 'x-expires' for queue '${q}' in vhost '/': {value_negative,-5}`,
      ],
      [
        { "x-expires": "soon" },
        (q) => `invalid arg 'x-expires' for queue '${q}' in vhost '/': "expected integer, got longstr"`,
      ],
      [
        { "x-max-length": -1 },
        (q) => `invalid arg 'x-max-length' for queue '${q}' in vhost '/': {value_negative,-1}`,
      ],
      [
        { "x-max-length-bytes": true },
        (q) => `invalid arg 'x-max-length-bytes' for queue '${q}' in vhost '/': "expected integer, got bool"`,
      ],
      [
        { "x-overflow": "bogus" },
        (q) => `invalid arg 'x-overflow' for queue '${q}' in vhost '/': invalid_overflow`,
      ],
      [
        { "x-overflow": 1 },
        (q) => `invalid arg 'x-overflow' for queue '${q}' in vhost '/': {unacceptable_type,byte}`,
      ],
      [
        { "x-dead-letter-exchange": 5 },
        (q) => `invalid type 'byte' for arg 'x-dead-letter-exchange' in queue '${q}' in vhost '/'`,
      ],
      [
        { "x-dead-letter-routing-key": "rk" },
        (q) =>
          `invalid arg 'x-dead-letter-routing-key' for queue '${q}' in vhost '/': routing_key_but_no_dlx_defined`,
      ],
      [
        { "x-dead-letter-exchange": "dlx", "x-dead-letter-routing-key": 5 },
        (q) =>
          `invalid arg 'x-dead-letter-routing-key' for queue '${q}' in vhost '/': {unacceptable_type,byte}`,
      ],
      [
        { "x-single-active-consumer": "yes" },
        (q) =>
          `invalid arg 'x-single-active-consumer' for queue '${q}' in vhost '/': {unacceptable_type,longstr}`,
      ],
      [
        { "x-queue-type": "bogus" },
        (q) => `invalid arg 'x-queue-type' for queue '${q}' in vhost '/': "unsupported queue type 'bogus'"`,
      ],
      [
        { "x-queue-type": 1 },
        (q) => `invalid arg 'x-queue-type' for queue '${q}' in vhost '/': {unacceptable_type,byte}`,
      ],
      [
        { "x-delivery-limit": 3 },
        (q) =>
          `invalid arg 'x-delivery-limit' for queue '${q}' in vhost '/' of queue type rabbit_classic_queue`,
      ],
    ];
    for (const [args, text] of cases) {
      const q = uid("qf.bad");
      await assertDeclareRefused(q, args, text(q));
    }
  });

  test("quorum queues: durable only, never exclusive or auto-delete, no x-max-priority", async () => {
    const quorum = { "x-queue-type": "quorum" };
    let q = uid("qf.qq");
    await assertDeclareRefused(q, quorum, `invalid property 'non-durable' for queue '${q}' in vhost '/'`);
    q = uid("qf.qq");
    await assertDeclareRefused(
      q,
      quorum,
      `invalid property 'exclusive-owner' for queue '${q}' in vhost '/'`,
      {
        durable: true,
        exclusive: true,
      },
    );
    q = uid("qf.qq");
    await assertDeclareRefused(q, quorum, `invalid property 'auto-delete' for queue '${q}' in vhost '/'`, {
      durable: true,
      autoDelete: true,
    });
    q = uid("qf.qq");
    await assertDeclareRefused(
      q,
      { ...quorum, "x-max-priority": 5 },
      `invalid arg 'x-max-priority' for queue '${q}' in vhost '/' of queue type rabbit_quorum_queue`,
      { durable: true },
    );
  });

  test("values at the edges of the ranges and unknown arguments are accepted", async () => {
    const ch = await channel();
    for (const args of [
      { "x-max-priority": 0 },
      { "x-max-priority": 255 },
      { "x-message-ttl": 0 },
      { "x-max-length": 0 },
      { "x-max-length-bytes": 0 },
      { "x-expires": 1 },
      { "x-overflow": "reject-publish-dlx" },
      { "x-single-active-consumer": false },
      { "x-queue-type": "classic" },
      { "x-no-such-argument": "whatever", "x-another": 42 },
    ]) {
      const q = uid("qf.ok");
      const ok = await ch.assertQueue(q, { durable: false, exclusive: true, arguments: args });
      assert.equal(ok.queue, q, JSON.stringify(args));
    }
    await ch.close();
  });

  test("x-queue-type stream is refused with a clear 406 (Warren has no streams; RabbitMQ accepts it)", async (t) => {
    if (broker.external) return t.skip("RabbitMQ 3.10 supports stream queues");
    const q = uid("qf.stream");
    const close = await closeOf((ch) =>
      ch.assertQueue(q, { durable: true, arguments: { "x-queue-type": "stream" } }),
    );
    assert.equal(close.code, 406);
    assert.match(close.text, /^PRECONDITION_FAILED - .*x-queue-type.*stream/);
    assert.equal(await queueState(q), "missing");
  });

  test("redeclare equivalence: only known arguments count, integer types compare by value", async () => {
    const ch = await channel();
    const q = await queue(ch, { "x-message-ttl": 1000, "x-max-length": 10, "x-custom": "a" });
    // Unknown arguments may differ; the same integer in a wider type is equivalent; an explicit
    // x-queue-type classic equals the default.
    await ch.assertQueue(q, {
      durable: false,
      autoDelete: false,
      arguments: {
        "x-message-ttl": { "!": "long", value: 1000 },
        "x-max-length": 10,
        "x-custom": "b",
        "x-other": true,
        "x-queue-type": "classic",
      },
    });
    await ch.close();
    const declare = (args) => (c) => c.assertQueue(q, { durable: false, autoDelete: false, arguments: args });
    const inequivalent = async (args, text) => {
      const close = await closeOf(declare(args));
      assert.equal(close.code, 406);
      assert.equal(close.text, `PRECONDITION_FAILED - inequivalent arg ${text}`);
    };
    await inequivalent(
      { "x-message-ttl": 2000, "x-max-length": 10 },
      `'x-message-ttl' for queue '${q}' in vhost '/': received '2000' but current is '1000'`,
    );
    await inequivalent(
      { "x-max-length": 10 },
      `'x-message-ttl' for queue '${q}' in vhost '/': received none but current is the value '1000' of type 'short'`,
    );
    await inequivalent(
      { "x-message-ttl": 1000, "x-max-length": 10, "x-overflow": "reject-publish" },
      `'x-overflow' for queue '${q}' in vhost '/': received the value 'reject-publish' of type 'longstr' but current is none`,
    );
    await inequivalent(
      { "x-message-ttl": "1000", "x-max-length": 10 },
      `'x-message-ttl' for queue '${q}' in vhost '/': received '1000' but current is '1000'`,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// TTL

describe("message TTL", () => {
  test("expiration 100 ms: dead-lettered with no consumer, x-death exactly as RabbitMQ writes it", async () => {
    const ch = await channel();
    const { dlx, dlq } = await dlxQueue(ch);
    const src = await exchange(ch, "direct");
    const q = await queue(ch, { "x-dead-letter-exchange": dlx });
    await ch.bindQueue(q, src, "k1");
    const t0 = Date.now();
    ch.publish(src, "k1", Buffer.from("short-lived"), { expiration: "100", headers: { zulu: 1, app: "x" } });
    const m = await rawGet(dlq);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 90, `dead-lettered after ${elapsed} ms, before the 100 ms TTL`);
    assert.equal(m.body, "short-lived");
    assert.equal(m.hasExpiration, false, "the expiration property is removed when dead-lettering");
    const h = m.headers;
    assert.deepEqual(h.app, { type: "S", value: "x" }, "other headers are kept");
    assert.deepEqual(h.zulu, { type: "b", value: 1 });
    assert.deepEqual(
      Object.keys(h),
      ["app", "x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason", "zulu"],
      "RabbitMQ sorts the headers table when it adds x-death",
    );
    assert.equal(h["x-death"].type, "A");
    assert.equal(h["x-death"].value.length, 1);
    const entry = h["x-death"].value[0];
    assert.equal(entry.type, "F");
    const d = entry.value;
    const now = Math.floor(Date.now() / 1000);
    assert.ok(d.time.type === "T" && Math.abs(d.time.value - now) <= 2, `time ${JSON.stringify(d.time)}`);
    assert.deepEqual(Object.keys(d), [
      "count",
      "reason",
      "queue",
      "time",
      "exchange",
      "routing-keys",
      "original-expiration",
    ]);
    assert.deepEqual(
      { ...d, time: undefined },
      {
        count: { type: "l", value: 1 },
        reason: { type: "S", value: "expired" },
        queue: { type: "S", value: q },
        time: undefined,
        exchange: { type: "S", value: src },
        "routing-keys": { type: "A", value: [{ type: "S", value: "k1" }] },
        "original-expiration": { type: "S", value: "100" },
      },
    );
    assert.deepEqual(h["x-first-death-reason"], { type: "S", value: "expired" });
    assert.deepEqual(h["x-first-death-queue"], { type: "S", value: q });
    assert.deepEqual(h["x-first-death-exchange"], { type: "S", value: src });
    // RabbitMQ 3.10 writes no x-last-death-* headers.
    assert.deepEqual(
      Object.keys(h).filter((k) => k.startsWith("x-last-death")),
      [],
    );
    assert.equal(await readyCount(q), 0);
    await ch.close();
  });

  test("queue TTL and per-message expiration: the lower one applies", async () => {
    const ch = await channel();
    const { dlx, dlq } = await dlxQueue(ch);
    const qShortQueueTtl = await queue(ch, { "x-message-ttl": 150, "x-dead-letter-exchange": dlx });
    const qLongQueueTtl = await queue(ch, { "x-message-ttl": 60000, "x-dead-letter-exchange": dlx });
    const t0 = Date.now();
    ch.sendToQueue(qShortQueueTtl, Buffer.from("queue-ttl-wins"), { expiration: "60000" });
    ch.sendToQueue(qLongQueueTtl, Buffer.from("message-ttl-wins"), { expiration: "150" });
    ch.sendToQueue(qLongQueueTtl, Buffer.from("control"), { expiration: "60000" });
    const seen = [];
    await ch.consume(dlq, (m) => seen.push([m.content.toString(), Date.now() - t0]), { noAck: true });
    await waitFor(() => seen.length >= 2, 3000, "both short-lived messages dead-lettered");
    await sleep(100);
    assert.deepEqual(seen.map(([b]) => b).sort(), ["message-ttl-wins", "queue-ttl-wins"]);
    for (const [b, ms] of seen) assert.ok(ms >= 140 && ms < 2500, `${b} expired after ${ms} ms`);
    assert.deepEqual(bodies(await drainQueue(ch, qLongQueueTtl)), ["control"]);
    await ch.close();
  });

  test("an invalid expiration property closes the channel with 406", async () => {
    const q = uid("qf.exp");
    const cases = [
      ["abc", "invalid expiration 'abc': no_integer"],
      ["", "invalid expiration '': no_integer"],
      ["-5", "invalid expiration '-5': {value_negative,-5}"],
      ["100ms", `invalid expiration '100ms': {leftover_string,"ms"}`],
      ["315360000001", "invalid expiration '315360000001': {value_too_large,315360000001}"],
    ];
    for (const [expiration, text] of cases) {
      const close = await closeOf(async (ch) => {
        ch.sendToQueue(q, Buffer.from("x"), { expiration });
      });
      assert.deepEqual(
        [close.code, close.text, close.classId, close.methodId],
        [406, `PRECONDITION_FAILED - ${text}`, 60, 40],
      );
    }
    // Erlang's string:to_integer/1 takes a sign: "+60000" is a valid expiration.
    const ch = await channel({ confirm: true });
    const ok = await queue(ch);
    ch.sendToQueue(ok, Buffer.from("signed"), { expiration: "+60000" });
    await ch.waitForConfirms();
    assert.deepEqual(bodies(await drainQueue(ch, ok)), ["signed"]);
    await ch.close();
  });

  test("expiry survives requeue: a message past its TTL is dead-lettered, not redelivered", async () => {
    const ch = await channel();
    const { dlx, dlq } = await dlxQueue(ch);
    const q = await queue(ch, { "x-message-ttl": 300, "x-dead-letter-exchange": dlx });
    ch.sendToQueue(q, Buffer.from("old"));
    ch.sendToQueue(q, Buffer.from("young"), { expiration: "60000" }); // lower TTL applies: 300
    const old = await ch.get(q, { noAck: false });
    assert.equal(old.content.toString(), "old");
    await sleep(450);
    // "young" expired at the head while "old" was out; "old" expires on its way back.
    ch.nack(old, false, true);
    await waitFor(async () => (await readyCount(dlq)) === 2, 3000, "both dead-lettered");
    const dead = await drainQueue(ch, dlq);
    assert.deepEqual(bodies(dead).sort(), ["old", "young"]);
    for (const m of dead) assert.equal(death(m).reason, "expired");
    assert.equal(await ch.get(q), false);

    // Control: a requeued message whose TTL has not run out comes back.
    const q2 = await queue(ch, { "x-message-ttl": 60000 });
    ch.sendToQueue(q2, Buffer.from("fresh"));
    await waitFor(async () => (await readyCount(q2)) === 1, 3000, "published");
    ch.nack(await ch.get(q2, { noAck: false }), false, true);
    const fresh = await ch.get(q2, { noAck: true });
    assert.equal(fresh?.content.toString(), "fresh");
    assert.equal(fresh.fields.redelivered, true);
    await ch.close();
  });

  test("TTL 0: delivered if a consumer can take it at once, otherwise expired immediately", async () => {
    const ch = await channel();
    const { dlx, dlq } = await dlxQueue(ch);
    const q = await queue(ch, { "x-message-ttl": 0, "x-dead-letter-exchange": dlx });
    ch.sendToQueue(q, Buffer.from("nobody-home"));
    const dead = await receive(ch, dlq);
    assert.equal(dead.content.toString(), "nobody-home");
    assert.equal(death(dead).reason, "expired");
    assert.equal(await readyCount(q), 0);

    const got = [];
    await ch.consume(q, (m) => got.push(m.content.toString()), { noAck: true });
    ch.sendToQueue(q, Buffer.from("taken"));
    // Per-message expiration 0 on a queue without TTL behaves the same.
    const q2 = await queue(ch, { "x-dead-letter-exchange": dlx });
    ch.sendToQueue(q2, Buffer.from("msg-ttl-0"), { expiration: "0" });
    await waitFor(() => got.length === 1, 3000, "delivery to the waiting consumer");
    const dead2 = await receive(ch, dlq);
    assert.equal(dead2.content.toString(), "msg-ttl-0");
    await sleep(100);
    assert.deepEqual(got, ["taken"]);
    assert.equal(await readyCount(dlq), 0, "the delivered message was not also dead-lettered");
    await ch.close();
  });

  test("expired messages never reach a consumer that was busy while they expired", async () => {
    const ch = await channel({ prefetch: 1 });
    const { dlx, dlq } = await dlxQueue(ch);
    const q = await queue(ch, { "x-message-ttl": 250, "x-dead-letter-exchange": dlx });
    const got = [];
    await ch.consume(q, (m) => got.push(m), { noAck: false });
    for (const b of ["m1", "m2", "m3"]) ch.sendToQueue(q, Buffer.from(b));
    await waitFor(() => got.length === 1, 3000, "first delivery");
    await waitFor(
      async () => (await readyCount(dlq)) === 2,
      3000,
      "m2 and m3 dead-lettered while m1 is unacked",
    );
    ch.ack(got[0]);
    await sleep(200);
    assert.deepEqual(bodies(got), ["m1"]);
    assert.deepEqual(bodies(await drainQueue(ch, dlq)), ["m2", "m3"]);
    await ch.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Queue expiry

describe("queue expiry (x-expires)", () => {
  /**
   * Whether q exists, without touching it: a passive declare counts as use in RabbitMQ (it
   * restarts the expiry clock), a mandatory publish does not.
   */
  async function exists(q) {
    const ch = await channel({ confirm: true });
    let returned = false;
    ch.on("return", () => {
      returned = true;
    });
    ch.sendToQueue(q, Buffer.from("probe"), { mandatory: true });
    await ch.waitForConfirms();
    await ch.close();
    return !returned;
  }

  test("an unused queue is deleted after the interval; redeclare and passive declare restart the clock", async () => {
    const ch = await channel();
    const q = await queue(ch, { "x-expires": 400 });
    await sleep(250);
    assert.equal(await exists(q), true);
    await ch.assertQueue(q, { durable: false, autoDelete: false, arguments: { "x-expires": 400 } });
    await sleep(250);
    assert.equal(await exists(q), true, "the redeclare at 250 ms keeps it until ~650 ms");
    await ch.checkQueue(q);
    await sleep(250);
    assert.equal(await exists(q), true, "the passive declare at 500 ms keeps it until ~900 ms");
    const t0 = Date.now();
    await waitFor(async () => !(await exists(q)), 3000, "expiry");
    assert.ok(Date.now() - t0 >= 50, "not before the interval");
    await ch.close();
  });

  test("expiry and TTL values beyond a 32-bit timer (2^31 ms and more) do not fire early", async () => {
    const ch = await channel({ confirm: true });
    const big = { "!": "long", value: 2 ** 31 + 1000 };
    const q = await queue(ch, { "x-expires": big, "x-message-ttl": big });
    ch.sendToQueue(q, Buffer.from("patient"), { expiration: String(2 ** 32) });
    await ch.waitForConfirms();
    await sleep(300);
    assert.equal(await exists(q), true);
    assert.deepEqual(bodies(await drainQueue(ch, q)), ["patient", "probe"]);
    await ch.close();
  });

  test("basic.get counts as use; a consumer keeps the queue alive until it leaves", async () => {
    const ch = await channel();
    const q = await queue(ch, { "x-expires": 300 });
    await sleep(200);
    await ch.get(q, { noAck: true });
    await sleep(200);
    assert.equal(await exists(q), true, "the basic.get at 200 ms keeps it until ~500 ms");
    const { consumerTag } = await ch.consume(q, () => {}, { noAck: true });
    await sleep(600);
    assert.equal(await exists(q), true, "a consumer keeps it");
    await ch.cancel(consumerTag);
    await waitFor(async () => !(await exists(q)), 3000, "expiry after cancel");
    await ch.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Length limits

describe("length limits", () => {
  test("x-max-length drop-head (default): oldest dropped and dead-lettered with reason maxlen", async () => {
    const ch = await channel({ confirm: true });
    const { dlx, dlq } = await dlxQueue(ch);
    const q = await queue(ch, { "x-max-length": 2, "x-dead-letter-exchange": dlx });
    for (const b of ["m1", "m2", "m3", "m4"]) ch.sendToQueue(q, Buffer.from(b));
    await ch.waitForConfirms(); // drop-head never nacks
    assert.deepEqual(bodies(await drainQueue(ch, q)), ["m3", "m4"]);
    await waitFor(async () => (await readyCount(dlq)) === 2, 3000, "dropped heads dead-lettered");
    const dead = await drainQueue(ch, dlq);
    assert.deepEqual(bodies(dead), ["m1", "m2"]);
    for (const m of dead) assert.equal(death(m).reason, "maxlen");
    await ch.close();
  });

  test("requeued messages count too: drop-head drops the head, reject-publish lets the queue run over", async () => {
    const ch = await channel({ confirm: true });
    const { dlx, dlq } = await dlxQueue(ch);
    const dropHead = await queue(ch, { "x-max-length": 2, "x-dead-letter-exchange": dlx });
    const rejectPublish = await queue(ch, { "x-max-length": 2, "x-overflow": "reject-publish" });
    for (const q of [dropHead, rejectPublish]) {
      ch.sendToQueue(q, Buffer.from("m1"));
      await ch.waitForConfirms();
      const m1 = await ch.get(q, { noAck: false });
      ch.sendToQueue(q, Buffer.from("m2"));
      ch.sendToQueue(q, Buffer.from("m3"));
      await ch.waitForConfirms(); // both fit: m1 is out
      ch.nack(m1, false, true);
    }
    await waitFor(async () => (await readyCount(dlq)) === 1, 3000, "the requeued head dropped");
    const [dead] = await drainQueue(ch, dlq);
    assert.equal(dead.content.toString(), "m1");
    assert.equal(death(dead).reason, "maxlen");
    assert.deepEqual(bodies(await drainQueue(ch, dropHead)), ["m2", "m3"]);
    assert.deepEqual(bodies(await drainQueue(ch, rejectPublish)), ["m1", "m2", "m3"]);
    await ch.close();
  });

  test("x-max-length-bytes counts body bytes", async () => {
    const ch = await channel({ confirm: true });
    const q = await queue(ch, { "x-max-length-bytes": 10 });
    for (const b of ["aaaa", "bbbb", "cccc", "dddd"]) ch.sendToQueue(q, Buffer.from(b));
    await ch.waitForConfirms();
    assert.deepEqual(bodies(await drainQueue(ch, q)), ["cccc", "dddd"]);
    await ch.close();
  });

  /** Publishes under confirms; resolves "ack" or "nack". */
  const publishConfirmed = (ch, ex, rk, body) =>
    new Promise((resolve) =>
      ch.publish(ex, rk, Buffer.from(body), {}, (err) => resolve(err ? "nack" : "ack")),
    );

  test("reject-publish: the publisher is nacked, the message still reaches the other queues", async () => {
    const ch = await channel({ confirm: true });
    const { dlx, dlq } = await dlxQueue(ch);
    const fan = await exchange(ch, "fanout");
    const limited = await queue(ch, {
      "x-max-length": 2,
      "x-overflow": "reject-publish",
      "x-dead-letter-exchange": dlx,
    });
    const other = await queue(ch);
    await ch.bindQueue(limited, fan, "");
    await ch.bindQueue(other, fan, "");
    const results = [];
    for (const b of ["m1", "m2", "m3"]) results.push(await publishConfirmed(ch, fan, "", b));
    assert.deepEqual(results, ["ack", "ack", "nack"]);
    assert.deepEqual(bodies(await drainQueue(ch, other)), ["m1", "m2", "m3"]);
    assert.deepEqual(bodies(await drainQueue(ch, limited)), ["m1", "m2"]);
    assert.equal(await readyCount(dlq), 0, "reject-publish does not dead-letter");
    assert.equal(await publishConfirmed(ch, fan, "", "m4"), "ack", "room again after draining");
    await ch.close();
  });

  test("reject-publish-dlx: nacked and dead-lettered with reason maxlen", async () => {
    const ch = await channel({ confirm: true });
    const { dlx, dlq } = await dlxQueue(ch);
    const q = await queue(ch, {
      "x-max-length": 1,
      "x-overflow": "reject-publish-dlx",
      "x-dead-letter-exchange": dlx,
    });
    assert.equal(await publishConfirmed(ch, "", q, "kept"), "ack");
    assert.equal(await publishConfirmed(ch, "", q, "refused"), "nack");
    const dead = await receive(ch, dlq);
    assert.equal(dead.content.toString(), "refused");
    assert.equal(death(dead).reason, "maxlen");
    assert.deepEqual(bodies(await drainQueue(ch, q)), ["kept"]);
    await ch.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Dead-lettering

describe("dead-lettering", () => {
  test("reject and nack without requeue dead-letter (reason rejected); requeue does not", async () => {
    const ch = await channel();
    const dlx = await exchange(ch, "direct");
    const dlq = await queue(ch);
    await ch.bindQueue(dlq, dlx, "dead");
    const src = await exchange(ch, "topic");
    const q = await queue(ch, { "x-dead-letter-exchange": dlx, "x-dead-letter-routing-key": "dead" });
    await ch.bindQueue(q, src, "orders.#");
    ch.publish(src, "orders.eu", Buffer.from("r1"));
    ch.publish(src, "orders.us", Buffer.from("r2"));
    ch.publish(src, "orders.asia", Buffer.from("r3"));
    await waitFor(async () => (await readyCount(q)) === 3, 3000, "published");
    const m1 = await ch.get(q);
    const m2 = await ch.get(q);
    const m3 = await ch.get(q);
    ch.reject(m1, false);
    ch.nack(m2, false, false);
    ch.nack(m3, false, true); // requeued, not dead-lettered
    await waitFor(async () => (await readyCount(dlq)) === 2, 3000, "two dead-lettered");
    const dead = await drainQueue(ch, dlq);
    assert.deepEqual(bodies(dead), ["r1", "r2"]);
    for (const [m, rk] of [
      [dead[0], "orders.eu"],
      [dead[1], "orders.us"],
    ]) {
      assert.equal(m.fields.exchange, dlx);
      assert.equal(m.fields.routingKey, "dead", "x-dead-letter-routing-key replaces the key");
      const d = death(m);
      assert.equal(d.reason, "rejected");
      assert.equal(d.queue, q);
      assert.equal(d.exchange, src);
      assert.deepEqual(d["routing-keys"], [rk], "x-death keeps the original routing key");
      assert.equal(d.count, 1);
      assert.equal(m.properties.headers["x-first-death-reason"], "rejected");
    }
    assert.deepEqual(bodies(await drainQueue(ch, q)), ["r3"]);
    await ch.close();
  });

  test("x-death history: most recent first, one entry per queue and reason, counts incremented", async () => {
    const ch = await channel();
    // q1 --reject--> q2 --expire--> q3 (through the default exchange)
    const q3 = await queue(ch);
    const q2 = await queue(ch, {
      "x-message-ttl": 50,
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": q3,
    });
    const q1 = await queue(ch, { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": q2 });
    ch.sendToQueue(q1, Buffer.from("traveller"), { expiration: "60000" });
    await waitFor(async () => (await readyCount(q1)) === 1, 3000, "published");
    ch.reject(await ch.get(q1), false);
    const m = await receive(ch, q3);
    const deaths = m.properties.headers["x-death"];
    assert.deepEqual(
      deaths.map((d) => [d.queue, d.reason, d.count]),
      [
        [q2, "expired", 1],
        [q1, "rejected", 1],
      ],
    );
    // Field order as RabbitMQ writes it: the first x-death entry in insertion order, entries
    // added to an existing x-death with their keys sorted.
    assert.deepEqual(Object.keys(deaths[1]), [
      "count",
      "reason",
      "queue",
      "time",
      "exchange",
      "routing-keys",
      "original-expiration",
    ]);
    assert.deepEqual(Object.keys(deaths[0]), [
      "count",
      "exchange",
      "queue",
      "reason",
      "routing-keys",
      "time",
    ]);
    assert.equal(deaths[1]["original-expiration"], "60000");
    assert.equal(
      deaths[0]["original-expiration"],
      undefined,
      "the expiration was removed at the first death",
    );
    assert.deepEqual(deaths[0]["routing-keys"], [q2]);
    assert.equal(deaths[0].exchange, "");
    assert.equal(m.properties.headers["x-first-death-queue"], q1);
    assert.equal(m.properties.headers["x-first-death-reason"], "rejected");

    // A queue that dead-letters rejections back to itself: the same entry's count grows.
    const selfQ = uid("qf.self");
    await ch.assertQueue(selfQ, {
      durable: false,
      autoDelete: false,
      arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": selfQ },
    });
    queues.add(selfQ);
    ch.sendToQueue(selfQ, Buffer.from("boomerang"));
    const counts = [];
    const times = [];
    for (let i = 0; i < 3; i++) {
      let msg = false;
      await waitFor(async () => {
        msg = await ch.get(selfQ);
        return msg;
      }, 3000);
      const ds = msg.properties.headers?.["x-death"] ?? [];
      counts.push(ds.map((d) => [d.queue, d.reason, d.count]));
      times.push(ds[0]?.time);
      if (i === 1) await sleep(1100); // the next death happens at least a second later
      ch.reject(msg, false);
    }
    assert.deepEqual(counts, [[], [[selfQ, "rejected", 1]], [[selfQ, "rejected", 2]]]);
    assert.deepEqual(times[2], times[1], "a repeat death only bumps the count; time stays the first death's");
    await ch.close();
  });

  test("a dead-letter cycle without a rejection drops the message", async () => {
    const ch = await channel();
    // qa --expire--> fanout fb -> qb, spy;  qb --expire--> fanout fa -> qa
    const fa = await exchange(ch, "fanout");
    const fb = await exchange(ch, "fanout");
    const qa = await queue(ch, { "x-message-ttl": 30, "x-dead-letter-exchange": fb });
    const qb = await queue(ch, { "x-message-ttl": 30, "x-dead-letter-exchange": fa });
    const spy = await queue(ch);
    await ch.bindQueue(qa, fa, "");
    await ch.bindQueue(qb, fb, "");
    await ch.bindQueue(spy, fb, "");
    ch.sendToQueue(qa, Buffer.from("looping"));
    await waitFor(async () => (await readyCount(spy)) >= 1, 3000, "first pass");
    await sleep(600);
    assert.equal(await readyCount(spy), 1, "qa -> qb -> qa is a cycle: dropped on the way back to qa");
    assert.equal(await readyCount(qa), 0);
    assert.equal(await readyCount(qb), 0);
    const [m] = await drainQueue(ch, spy);
    assert.deepEqual(
      m.properties.headers["x-death"].map((d) => [d.queue, d.reason]),
      [[qa, "expired"]],
    );
    await ch.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Priorities

describe("priority queues (x-max-priority)", () => {
  test("10 levels: higher first, FIFO within a priority, missing priority = 0", async () => {
    const ch = await channel({ confirm: true });
    const q = await queue(ch, { "x-max-priority": 10 });
    const sent = [];
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed;
    };
    for (let i = 0; i < 60; i++) {
      const r = rand() % 11; // 10 = no priority property
      const priority = r === 10 ? undefined : r;
      const body = `m${i}`;
      sent.push({ body, p: priority ?? 0, i });
      ch.sendToQueue(q, Buffer.from(body), priority === undefined ? {} : { priority });
    }
    await ch.waitForConfirms();
    const expected = [...sent].sort((a, b) => b.p - a.p || a.i - b.i).map((m) => m.body);
    assert.equal(new Set(sent.map((m) => m.p)).size, 10, "all ten levels used");
    assert.deepEqual(bodies(await drainQueue(ch, q)), expected);
    await ch.close();
  });

  test("a priority above the maximum counts as the maximum", async () => {
    const ch = await channel({ confirm: true });
    const q = await queue(ch, { "x-max-priority": 5 });
    ch.sendToQueue(q, Buffer.from("p5-first"), { priority: 5 });
    ch.sendToQueue(q, Buffer.from("p9"), { priority: 9 });
    ch.sendToQueue(q, Buffer.from("p200"), { priority: 200 });
    ch.sendToQueue(q, Buffer.from("p4"), { priority: 4 });
    await ch.waitForConfirms();
    assert.deepEqual(bodies(await drainQueue(ch, q)), ["p5-first", "p9", "p200", "p4"]);
    await ch.close();
  });

  test("consumers get queued messages in priority order", async () => {
    const ch = await channel({ confirm: true });
    const q = await queue(ch, { "x-max-priority": 3 });
    for (const [b, p] of [
      ["low", 1],
      ["high", 3],
      ["none", undefined],
      ["mid", 2],
    ])
      ch.sendToQueue(q, Buffer.from(b), p === undefined ? {} : { priority: p });
    await ch.waitForConfirms();
    const got = [];
    await ch.consume(q, (m) => got.push(m.content.toString()), { noAck: true });
    await waitFor(() => got.length === 4, 3000, "deliveries");
    assert.deepEqual(got, ["high", "mid", "low", "none"]);
    await ch.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Alternate exchanges

describe("alternate exchanges", () => {
  test("followed as a chain; AE-routed messages count as routed (no basic.return)", async () => {
    const ch = await channel({ confirm: true });
    const returned = [];
    ch.on("return", (m) => returned.push(m.content.toString()));
    const last = await exchange(ch, "fanout");
    const middle = await exchange(ch, "direct", { "alternate-exchange": last });
    const first = await exchange(ch, "direct", { "alternate-exchange": middle });
    const qMain = await queue(ch);
    const qMiddle = await queue(ch);
    const qAe = await queue(ch);
    await ch.bindQueue(qMain, first, "known");
    await ch.bindQueue(qMiddle, middle, "mid");
    await ch.bindQueue(qAe, last, "");
    ch.publish(first, "known", Buffer.from("direct-hit"), { mandatory: true });
    ch.publish(first, "mid", Buffer.from("via-middle"), { mandatory: true });
    ch.publish(first, "nowhere", Buffer.from("via-chain"), { mandatory: true });
    await ch.waitForConfirms();
    await sleep(150);
    assert.deepEqual(returned, []);
    assert.deepEqual(bodies(await drainQueue(ch, qMain)), ["direct-hit"]);
    assert.deepEqual(bodies(await drainQueue(ch, qMiddle)), ["via-middle"]);
    assert.deepEqual(bodies(await drainQueue(ch, qAe)), ["via-chain"]);
    await ch.close();
  });

  test("an alternate-exchange argument that is not a string is refused at declare", async () => {
    const x = uid("qfx.badae");
    const close = await closeOf((ch) =>
      ch.assertExchange(x, "direct", { durable: false, arguments: { "alternate-exchange": 5 } }),
    );
    assert.deepEqual(
      [close.code, close.text, close.classId, close.methodId],
      [
        406,
        `PRECONDITION_FAILED - invalid type 'byte' for arg 'alternate-exchange' in exchange '${x}' in vhost '/'`,
        40,
        10,
      ],
    );
  });

  test("redeclaring an exchange checks alternate-exchange (other arguments are ignored)", async () => {
    const ch = await channel();
    const x = await exchange(ch, "direct", { "alternate-exchange": "ae-one", "x-custom": 1 });
    await ch.assertExchange(x, "direct", {
      durable: false,
      autoDelete: false,
      arguments: { "alternate-exchange": "ae-one", "x-custom": 2 },
    });
    await ch.close();
    const redeclare = (args) => (c) =>
      c.assertExchange(x, "direct", { durable: false, autoDelete: false, arguments: args });
    let close = await closeOf(redeclare({ "alternate-exchange": "ae-two" }));
    assert.deepEqual(
      [close.code, close.text],
      [
        406,
        `PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange '${x}' in vhost '/': received 'ae-two' but current is 'ae-one'`,
      ],
    );
    close = await closeOf(redeclare({}));
    assert.equal(
      close.text,
      `PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange '${x}' in vhost '/': received none but current is the value 'ae-one' of type 'longstr'`,
    );
  });

  test("an AE loop or a missing AE ends routing: mandatory messages are returned", async () => {
    const ch = await channel({ confirm: true });
    const returned = [];
    ch.on("return", (m) => returned.push([m.content.toString(), m.fields.replyCode]));
    const a = uid("qfx.loop-a");
    const b = uid("qfx.loop-b");
    await exchange(ch, "direct", { "alternate-exchange": b }, a);
    await exchange(ch, "direct", { "alternate-exchange": a }, b);
    const dangling = await exchange(ch, "direct", { "alternate-exchange": uid("qfx.missing") });
    ch.publish(a, "x", Buffer.from("loop"), { mandatory: true });
    ch.publish(dangling, "x", Buffer.from("dangling"), { mandatory: true });
    await ch.waitForConfirms();
    await waitFor(() => returned.length === 2, 3000, "returns");
    assert.deepEqual(returned, [
      ["loop", 312],
      ["dangling", 312],
    ]);
    await ch.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Consumers

describe("consumers", () => {
  test("x-priority: the highest-priority consumer with room gets the messages", async () => {
    const setup = await channel({ confirm: true });
    const q = await queue(setup);
    const high = await channel({ prefetch: 3 });
    const low = await channel({ prefetch: 100 });
    const got = { high: [], low: [] };
    await low.consume(q, (m) => got.low.push(m.content.toString()), { noAck: false, priority: 1 });
    await high.consume(q, (m) => got.high.push(m.content.toString()), { noAck: false, priority: 10 });
    for (let i = 1; i <= 5; i++) setup.sendToQueue(q, Buffer.from(`m${i}`));
    await setup.waitForConfirms();
    await waitFor(() => got.high.length + got.low.length === 5, 3000, "deliveries");
    // Round-robin would interleave; priorities fill the high consumer's prefetch first.
    assert.deepEqual(got, { high: ["m1", "m2", "m3"], low: ["m4", "m5"] });
    await high.close();
    await low.close();
    await setup.close();
  });

  test("an x-priority that is not an integer is refused", async () => {
    const ch = await channel();
    const q = await queue(ch);
    const close = await closeOf((c) => c.consume(q, () => {}, { arguments: { "x-priority": "high" } }));
    assert.deepEqual(
      [close.code, close.text, close.classId, close.methodId],
      [
        406,
        `PRECONDITION_FAILED - invalid arg 'x-priority' for queue '${q}' in vhost '/': "expected integer, got longstr"`,
        60,
        20,
      ],
    );
    await ch.close();
  });

  test("x-single-active-consumer: one consumer gets everything; the next takes over when it leaves", async () => {
    const setup = await channel({ confirm: true });
    const q = await queue(setup, { "x-single-active-consumer": true });
    const first = await channel({ prefetch: 10 });
    const second = await channel({ prefetch: 10 });
    const got = { first: [], second: [] };
    await first.consume(q, (m) => got.first.push(m), { noAck: false });
    await second.consume(q, (m) => got.second.push(m), { noAck: false });
    for (let i = 1; i <= 4; i++) setup.sendToQueue(q, Buffer.from(`m${i}`));
    await setup.waitForConfirms();
    await waitFor(() => got.first.length === 4, 3000, "deliveries to the active consumer");
    await sleep(100);
    assert.equal(got.second.length, 0, "the waiting consumer gets nothing");
    first.ack(got.first[0]);
    await first.close(); // m2..m4 unacked: requeued to the next consumer
    setup.sendToQueue(q, Buffer.from("m5"));
    await waitFor(() => got.second.length === 4, 3000, "takeover");
    assert.deepEqual(
      got.second.map((m) => [m.content.toString(), m.fields.redelivered]),
      [
        ["m2", true],
        ["m3", true],
        ["m4", true],
        ["m5", false],
      ],
    );
    await second.close();
    await setup.close();
  });

  test("single active consumer with x-priority: no preemption; the highest priority takes over", async () => {
    const setup = await channel({ confirm: true });
    const q = await queue(setup, { "x-single-active-consumer": true });
    const chans = { a: await channel(), b: await channel(), c: await channel() };
    const got = { a: [], b: [], c: [] };
    const consume = (k, priority) =>
      chans[k].consume(q, (m) => got[k].push(m.content.toString()), { noAck: true, priority });
    await consume("a", 1);
    await consume("b", 1);
    await consume("c", 5); // higher priority, but "a" is already active
    setup.sendToQueue(q, Buffer.from("m1"));
    await setup.waitForConfirms();
    await waitFor(() => got.a.length === 1, 3000, "delivery to the first consumer");
    await chans.a.close();
    setup.sendToQueue(q, Buffer.from("m2"));
    await setup.waitForConfirms();
    await waitFor(() => got.b.length + got.c.length === 1, 3000, "delivery after takeover");
    await sleep(50);
    assert.deepEqual(got, { a: ["m1"], b: [], c: ["m2"] });
    await chans.b.close();
    await chans.c.close();
    await setup.close();
  });

  test("consumer timeout (x-consumer-timeout): the channel is closed with 406 and its messages requeued", async (t) => {
    if (broker.external)
      return t.skip(
        "RabbitMQ 3.10 has no x-consumer-timeout argument; its global timeout is checked once a minute",
      );
    const setup = await channel();
    const q = await queue(setup, { "x-consumer-timeout": 300 });
    setup.sendToQueue(q, Buffer.from("forgotten"));
    const ch = await conn.createChannel();
    const closed = new Promise((resolve) => ch.once("error", resolve));
    let delivered;
    await ch.consume(q, (m) => {
      delivered = m;
    });
    const t0 = Date.now();
    const close = amqplibClose(await withTimeout(closed, 3000, "consumer timeout"));
    assert.ok(delivered, "the message was delivered before the timeout");
    assert.ok(Date.now() - t0 >= 250, "not before the timeout");
    assert.equal(close.code, 406);
    assert.match(
      close.text,
      /^PRECONDITION_FAILED - delivery acknowledgement on channel \d+ timed out\. Timeout value used: 300 ms/,
    );
    const again = await setup.get(q, { noAck: true });
    assert.equal(again.content.toString(), "forgotten");
    assert.equal(again.fields.redelivered, true);
    await setup.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Direct reply-to

describe("direct reply-to", () => {
  test("RPC over amq.rabbitmq.reply-to with amqplib", async () => {
    const server = await channel();
    const rpc = await queue(server);
    const seenReplyTo = [];
    await server.consume(
      rpc,
      (m) => {
        seenReplyTo.push(m.properties.replyTo);
        server.sendToQueue(m.properties.replyTo, Buffer.from(m.content.toString().toUpperCase()), {
          correlationId: m.properties.correlationId,
        });
        server.ack(m);
      },
      { noAck: false },
    );
    const client = await channel();
    const replies = new Map();
    const { consumerTag } = await client.consume(
      "amq.rabbitmq.reply-to",
      (m) => replies.set(m.properties.correlationId, [m.content.toString(), m.fields.consumerTag]),
      { noAck: true },
    );
    for (const [id, body] of [
      ["1", "alpha"],
      ["2", "beta"],
      ["3", "gamma"],
    ]) {
      client.sendToQueue(rpc, Buffer.from(body), { replyTo: "amq.rabbitmq.reply-to", correlationId: id });
    }
    await waitFor(() => replies.size === 3, 3000, "three replies");
    assert.deepEqual(Object.fromEntries(replies), {
      1: ["ALPHA", consumerTag],
      2: ["BETA", consumerTag],
      3: ["GAMMA", consumerTag],
    });
    assert.equal(new Set(seenReplyTo).size, 1);
    assert.match(seenReplyTo[0], /^amq\.rabbitmq\.reply-to\.[^.].+/, "rewritten to a routable name");
    // The generated name can be checked passively while the requester is there.
    const { consumerCount } = await server.checkQueue("amq.rabbitmq.reply-to");
    assert.equal(consumerCount, 1);
    await server.checkQueue(seenReplyTo[0]);
    await client.close();
    await server.close();
  });

  test("misuse is refused as RabbitMQ does", async () => {
    let close = await closeOf((ch) => ch.consume("amq.rabbitmq.reply-to", () => {}, { noAck: false }));
    assert.deepEqual(
      [close.code, close.text, close.classId, close.methodId],
      [406, "PRECONDITION_FAILED - reply consumer cannot acknowledge", 60, 20],
    );
    close = await closeOf(async (ch) => {
      ch.sendToQueue(uid("qf.rpc"), Buffer.from("x"), { replyTo: "amq.rabbitmq.reply-to" });
    });
    assert.deepEqual(
      [close.code, close.text, close.classId, close.methodId],
      [406, "PRECONDITION_FAILED - fast reply consumer does not exist", 60, 40],
    );
    close = await closeOf(async (ch) => {
      await ch.consume("amq.rabbitmq.reply-to", () => {}, { noAck: true });
      await ch.consume("amq.rabbitmq.reply-to", () => {}, { noAck: true });
    });
    assert.deepEqual([close.code, close.text], [406, "PRECONDITION_FAILED - reply consumer already set"]);
  });
});

// ---------------------------------------------------------------------------------------------
// Quorum queues

describe("quorum queues", () => {
  test("x-delivery-limit: x-delivery-count on redeliveries, then dead-lettered as delivery_limit", async () => {
    const ch = await channel();
    const { dlx, dlq } = await dlxQueue(ch);
    const q = await queue(
      ch,
      { "x-queue-type": "quorum", "x-delivery-limit": 2, "x-dead-letter-exchange": dlx },
      { durable: true },
    );
    ch.sendToQueue(q, Buffer.from("poison"));
    const seen = [];
    await ch.consume(
      q,
      (m) => {
        seen.push([m.fields.redelivered, m.properties.headers?.["x-delivery-count"]]);
        ch.nack(m, false, true);
      },
      { noAck: false },
    );
    const dead = await receive(ch, dlq);
    assert.deepEqual(seen, [
      [false, undefined],
      [true, 1],
      [true, 2],
    ]);
    assert.equal(dead.content.toString(), "poison");
    assert.equal(death(dead).reason, "delivery_limit");
    assert.equal(death(dead).queue, q);
    await ch.close();
  });

  test("requeue position: nack/reject go to the tail without a delivery limit, to the head with one or when the channel goes", async () => {
    const setup = await channel({ confirm: true });
    const plain = await queue(setup, { "x-queue-type": "quorum" }, { durable: true });
    const limited = await queue(
      setup,
      { "x-queue-type": "quorum", "x-delivery-limit": 5 },
      { durable: true },
    );
    const closing = await queue(setup, { "x-queue-type": "quorum" }, { durable: true });
    for (const q of [plain, limited, closing])
      for (const b of ["m1", "m2", "m3"]) setup.sendToQueue(q, Buffer.from(b));
    await setup.waitForConfirms();
    const ch = await channel();
    const m1 = await ch.get(plain, { noAck: false });
    const m2 = await ch.get(plain, { noAck: false });
    ch.nack(m2, false, true);
    ch.reject(m1, true);
    // With a delivery limit RabbitMQ serves returned messages first, in the order they were
    // returned; Warren puts them back in their original order (the same for one message).
    ch.nack(await ch.get(limited, { noAck: false }), false, true);
    const holder = await channel();
    await holder.get(closing, { noAck: false });
    await holder.get(closing, { noAck: false });
    await holder.close();
    await sleep(100);
    assert.deepEqual(bodies(await drainQueue(ch, plain)), ["m3", "m2", "m1"]);
    assert.deepEqual(bodies(await drainQueue(ch, limited)), ["m1", "m2", "m3"]);
    assert.deepEqual(bodies(await drainQueue(ch, closing)), ["m1", "m2", "m3"]);
    await ch.close();
    await setup.close();
  });

  test("x-overflow reject-publish-dlx falls back to drop-head on quorum queues (as in RabbitMQ 3.10)", async () => {
    const ch = await channel({ confirm: true });
    const { dlx, dlq } = await dlxQueue(ch);
    const q = await queue(
      ch,
      {
        "x-queue-type": "quorum",
        "x-max-length": 1,
        "x-overflow": "reject-publish-dlx",
        "x-dead-letter-exchange": dlx,
      },
      { durable: true },
    );
    const results = [];
    for (const b of ["first", "second"])
      results.push(
        await new Promise((resolve) =>
          ch.sendToQueue(q, Buffer.from(b), {}, (err) => resolve(err ? "nack" : "ack")),
        ),
      );
    assert.deepEqual(results, ["ack", "ack"]);
    const dead = await receive(ch, dlq);
    assert.equal(dead.content.toString(), "first");
    assert.equal(death(dead).reason, "maxlen");
    assert.deepEqual(bodies(await drainQueue(ch, q)), ["second"]);
    await ch.close();
  });

  test("basic.get on a quorum queue always carries x-delivery-count, from 0", async () => {
    const ch = await channel({ confirm: true });
    const q = await queue(ch, { "x-queue-type": "quorum" }, { durable: true });
    ch.sendToQueue(q, Buffer.from("counted"));
    await ch.waitForConfirms();
    const seen = [];
    for (let i = 0; i < 3; i++) {
      let m = false;
      await waitFor(async () => {
        m = await ch.get(q, { noAck: false });
        return m;
      }, 3000);
      seen.push([m.fields.redelivered, m.properties.headers?.["x-delivery-count"]]);
      ch.nack(m, false, true);
    }
    assert.deepEqual(seen, [
      [false, 0],
      [true, 1],
      [true, 2],
    ]);
    await ch.close();
  });
});
