// Observable RabbitMQ 3.x behaviour (happy paths and routing semantics) that Warren must match,
// exercised through the real amqplib and @cloudamqp/amqp-client libraries, plus the raw helper
// where the exact bytes on the wire matter.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import amqp from "amqplib";
import { startBroker } from "../lib/broker.mjs";
import { sleep, uid, waitFor, withTimeout } from "./helpers.mjs";
import { encodeProperties, handshake, M, Writer } from "./raw-amqp.mjs";

// Routing tables validated against RabbitMQ 3.10.8, shared with the broker's in-process tests.
const dataFile = (name) => JSON.parse(readFileSync(new URL(`../data/${name}`, import.meta.url), "utf8"));
const TOPIC_MATCHES = dataFile("topic-matches.json").matches;
const HEADERS_MATCHES = dataFile("headers-matches.json");

let broker;
let conn; // shared amqplib connection
let client; // shared @cloudamqp/amqp-client connection

before(async () => {
  broker = await startBroker();
  conn = await amqp.connect(broker.url);
  client = new AMQPClient(broker.url);
  await client.connect();
});

after(async () => {
  await conn?.close().catch(() => {});
  await client?.close().catch(() => {});
  await broker?.stop();
});

/** Gets every ready message from a queue (no-ack) with amqplib. */
async function drain(ch, queue) {
  const out = [];
  for (;;) {
    const m = await ch.get(queue, { noAck: true });
    if (!m) return out;
    out.push(m);
  }
}

/** "exists" | "missing" (404) | "locked" (405), by a passive declare on a throw-away channel. */
async function queueState(q) {
  const ch = await conn.createChannel();
  ch.on("error", () => {});
  try {
    await ch.checkQueue(q);
    await ch.close();
    return "exists";
  } catch (e) {
    const state = { 404: "missing", 405: "locked" }[e.code];
    assert.ok(state, e.message);
    return state;
  }
}

/** Ready-message count of a queue (passive declare). */
async function readyCount(ch, q) {
  return (await ch.checkQueue(q)).messageCount;
}

// ---------------------------------------------------------------------------------------------
// Publisher confirms and mandatory returns

test("publisher confirms: raw delivery tags start at 1 and every publish is acked (multiple ok)", async () => {
  const { conn: raw } = await handshake({ host: broker.host, port: broker.port });
  try {
    await raw.openChannel(1);
    const q = await raw.declareQueue(1);
    raw.method(1, M.confirmSelect, new Writer().bits(false));
    await raw.expect(M.confirmSelectOk);
    const n = 200;
    for (let i = 0; i < n; i++) raw.publish(1, { routingKey: q, body: `m${i}` });
    const acked = new Set();
    let last = 0;
    while (acked.size < n) {
      const f = await raw.expect([60, 80]); // basic.ack
      const tag = Number(f.args.readBigUInt64BE(0));
      const multiple = (f.args.readUInt8(8) & 1) === 1;
      assert.ok(tag > last && tag <= n, `ack tags increase within 1..${n} (got ${tag} after ${last})`);
      for (let t = multiple ? last + 1 : tag; t <= tag; t++) acked.add(t);
      last = tag;
    }
    assert.equal(last, n);
    assert.equal(raw.frames.filter((f) => f.classId === 60 && f.methodId === 120).length, 0, "no basic.nack");
  } finally {
    raw.destroy();
  }
});

test("publisher confirms with amqplib and @cloudamqp/amqp-client", async () => {
  const ch = await conn.createConfirmChannel();
  const { queue } = await ch.assertQueue("", { exclusive: true });
  const acked = [];
  for (let i = 0; i < 50; i++)
    ch.sendToQueue(queue, Buffer.from(String(i)), {}, (err) => acked.push(err ?? i));
  await ch.waitForConfirms();
  assert.deepEqual(
    acked.sort((a, b) => a - b),
    [...Array(50).keys()],
  );
  assert.equal(await readyCount(ch, queue), 50);
  await ch.close();

  const cch = await client.channel();
  await cch.confirmSelect();
  const { name } = await cch.queueDeclare("", { exclusive: true });
  const tags = await Promise.all(Array.from({ length: 20 }, (_, i) => cch.basicPublish("", name, `c${i}`)));
  assert.deepEqual(
    tags,
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
  assert.equal((await cch.queueDeclare(name, { passive: true })).messageCount, 20);
  await cch.close();
});

test("mandatory publish to an unroutable key: basic.return 312 NO_ROUTE arrives before the ack", async () => {
  const key = uid("nowhere");
  const ch = await conn.createConfirmChannel();
  const events = [];
  ch.on("return", (m) => {
    const { replyCode, replyText, exchange, routingKey } = m.fields;
    events.push(["return", replyCode, replyText, exchange, routingKey, m.content.toString()]);
  });
  ch.publish("amq.direct", key, Buffer.from("lost"), { mandatory: true }, (err) => events.push(["ack", err]));
  // the default exchange with no such queue is unroutable too
  ch.publish("", key, Buffer.from("lost2"), { mandatory: true }, (err) => events.push(["ack", err]));
  // routable mandatory messages are not returned
  const { queue } = await ch.assertQueue("", { exclusive: true });
  ch.sendToQueue(queue, Buffer.from("kept"), { mandatory: true }, (err) => events.push(["ack", err]));
  await ch.waitForConfirms();
  assert.deepEqual(events, [
    ["return", 312, "NO_ROUTE", "amq.direct", key, "lost"],
    ["ack", null],
    ["return", 312, "NO_ROUTE", "", key, "lost2"],
    ["ack", null],
    ["ack", null],
  ]);
  await ch.close();

  // same with @cloudamqp/amqp-client: its publish promise resolves on the ack
  const cch = await client.channel();
  await cch.confirmSelect();
  const cevents = [];
  cch.onReturn = (m) => cevents.push(["return", m.replyCode, m.replyText, m.routingKey, m.bodyString()]);
  await cch.basicPublish("amq.direct", key, "lost3", {}, true);
  cevents.push(["ack"]);
  assert.deepEqual(cevents, [["return", 312, "NO_ROUTE", key, "lost3"], ["ack"]]);
  await cch.close();
});

// ---------------------------------------------------------------------------------------------
// Large bodies and many channels

test("1 MiB bodies round-trip byte-exact with both clients (multi-frame)", async () => {
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue("", { exclusive: true });
  const body = randomBytes(1024 * 1024);

  // amqplib -> amqplib (consume)
  const got = new Promise((resolve) => ch.consume(queue, (m) => resolve(m.content), { noAck: true }));
  ch.sendToQueue(queue, body);
  assert.ok((await withTimeout(got, 10000, "1 MiB delivery")).equals(body));
  await ch.close();

  // @cloudamqp -> @cloudamqp (get), then @cloudamqp -> amqplib and amqplib -> @cloudamqp
  const cch = await client.channel();
  const { name } = await cch.queueDeclare("", { exclusive: true });
  await cch.basicPublish("", name, body);
  let m;
  await waitFor(async () => (m = await cch.basicGet(name, { noAck: true })));
  assert.ok(Buffer.from(m.body).equals(body));
  assert.equal(m.bodySize, body.length);

  const body2 = randomBytes(1024 * 1024 + 17);
  const shared = uid("big");
  await cch.queueDeclare(shared, { durable: false, autoDelete: false });
  const ach = await conn.createChannel();
  try {
    await cch.basicPublish("", shared, body2);
    let am = false;
    await waitFor(async () => (am = await ach.get(shared, { noAck: true })));
    assert.ok(am.content.equals(body2));
    ach.sendToQueue(shared, body2);
    await waitFor(async () => (m = await cch.basicGet(shared, { noAck: true })));
    assert.ok(Buffer.from(m.body).equals(body2));
  } finally {
    await cch.queueDelete(shared);
    await cch.close();
    await ach.close();
  }
});

test("a broker splits a 1 MiB body into frames no larger than the negotiated frame_max", async () => {
  const frameMax = 4096;
  const { conn: raw, openOk } = await handshake({
    host: broker.host,
    port: broker.port,
    tuneOk: (t) => ({ ...t, frameMax, heartbeat: 0 }),
  });
  try {
    assert.ok(openOk);
    await raw.openChannel(1);
    const q = await raw.declareQueue(1);
    const ch = await conn.createChannel(); // publish from amqplib, read raw
    const body = randomBytes(1024 * 1024);
    ch.sendToQueue(q, body);
    await ch.close();
    let got = null;
    await waitFor(async () => (got = await raw.get(1, q)));
    assert.ok(got.body.equals(body));
    assert.equal(got.bodyFrames.length, Math.ceil(body.length / (frameMax - 8)));
    for (const size of got.bodyFrames) assert.ok(size <= frameMax - 8, `body frame of ${size} bytes`);
  } finally {
    raw.destroy();
  }
});

test("120 channels on one connection each publish and consume", async () => {
  const c = await amqp.connect(broker.url);
  try {
    const n = 120;
    const chans = await Promise.all(Array.from({ length: n }, () => c.createChannel()));
    assert.equal(new Set(chans.map((ch) => ch.ch)).size, n, "distinct channel numbers");
    const received = await Promise.all(
      chans.map(async (ch, i) => {
        const { queue } = await ch.assertQueue("", { exclusive: true });
        const got = new Promise((resolve) => {
          ch.consume(queue, (m) => {
            ch.ack(m);
            resolve(`${m.content}`);
          });
        });
        ch.sendToQueue(queue, Buffer.from(`from channel ${i}`));
        return withTimeout(got, 10000, `delivery on channel ${i}`);
      }),
    );
    assert.deepEqual(
      received,
      chans.map((_, i) => `from channel ${i}`),
    );
  } finally {
    await c.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Properties and headers

// Every field-table value type, with its exact wire tag.
const TYPED_HEADERS = [
  ["bool", "t", true],
  ["i8", "b", -5],
  ["u8", "B", 200],
  ["i16", "s", -300],
  ["u16", "u", 60000],
  ["i32", "I", -70000],
  ["u32", "i", 4000000000],
  ["i64", "l", -(2 ** 40)],
  ["f32", "f", 1.5],
  ["f64", "d", Math.PI],
  ["dec", "D", { places: 2, digits: 12345 }],
  ["ts", "T", 1700000000],
  ["str", "S", "héllo wörld"],
  ["bytes", "x", Buffer.from([0, 1, 254, 255])],
  ["void", "V", null],
  [
    "arr",
    "A",
    [
      ["I", 1],
      ["S", "two"],
      ["t", false],
    ],
  ],
  [
    "tbl",
    "F",
    [
      ["inner", "S", "x"],
      ["n", "b", 1],
    ],
  ],
];
const ALL_PROPS = {
  contentType: "application/x-interop",
  contentEncoding: "identity",
  deliveryMode: 2,
  priority: 7,
  correlationId: "corr-1",
  replyTo: "reply.queue",
  expiration: "600000",
  messageId: "msg-1",
  timestamp: 1700000001,
  type: "kind.of.message",
  userId: "guest", // must equal the authenticated user, see errors.test.mjs
  appId: "interop",
  clusterId: "cluster-x",
};

test("all 14 basic properties and every field type pass through byte-exact (raw in, raw out)", async () => {
  const { conn: raw } = await handshake({ host: broker.host, port: broker.port });
  try {
    await raw.openChannel(1);
    const q = await raw.declareQueue(1);
    const props = encodeProperties({ ...ALL_PROPS, headers: TYPED_HEADERS });
    assert.equal(props.readUInt16BE(0), 0xfffc, "all 14 property flags set");
    raw.publish(1, { routingKey: q, properties: props, body: "payload" });
    let got = null;
    await waitFor(async () => (got = await raw.get(1, q)));
    assert.equal(got.body.toString(), "payload");
    assert.equal(got.properties.toString("hex"), props.toString("hex"));
  } finally {
    raw.destroy();
  }
});

test("raw-encoded properties decode as expected in amqplib", async () => {
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue("", { exclusive: true });
  const { conn: raw } = await handshake({ host: broker.host, port: broker.port });
  try {
    await raw.openChannel(1);
    // an exclusive queue belongs to amqplib's connection, but publishing to it is allowed
    raw.publish(1, {
      routingKey: queue,
      properties: encodeProperties({ ...ALL_PROPS, headers: TYPED_HEADERS }),
    });
    let m = false;
    await waitFor(async () => (m = await ch.get(queue, { noAck: true })));
    assert.deepEqual(m.properties, {
      ...ALL_PROPS,
      headers: {
        bool: true,
        i8: -5,
        u8: 200,
        i16: -300,
        u16: 60000,
        i32: -70000,
        u32: 4000000000,
        i64: -(2 ** 40),
        f32: 1.5,
        f64: Math.PI,
        dec: { "!": "decimal", value: { places: 2, digits: 12345 } },
        ts: { "!": "timestamp", value: 1700000000 },
        str: "héllo wörld",
        bytes: Buffer.from([0, 1, 254, 255]),
        void: null,
        arr: [1, "two", false],
        tbl: { inner: "x", n: 1 },
      },
    });
  } finally {
    raw.destroy();
    await ch.close();
  }
});

test("amqplib: 13 properties (it cannot send cluster-id) and typed headers round-trip", async () => {
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue("", { exclusive: true });
  const headers = {
    bool: true,
    i8: { "!": "int8", value: -5 },
    u8: { "!": "uint8", value: 200 },
    i16: { "!": "int16", value: -300 },
    u16: { "!": "uint16", value: 60000 },
    i32: { "!": "int32", value: -70000 },
    u32: { "!": "uint32", value: 4000000000 },
    i64: { "!": "int64", value: 2 ** 50 },
    f32: { "!": "float", value: 0.25 },
    f64: 2.5,
    dec: { "!": "decimal", value: { places: 3, digits: 1 } },
    ts: { "!": "timestamp", value: 1600000000 },
    str: "unicode ✓",
    bytes: Buffer.from("bin\0ary"),
    void: null,
    arr: [1, "a", [true], { k: "v" }],
    tbl: { deep: { deeper: "yes" } },
  };
  const body = Buffer.from("props");
  ch.sendToQueue(queue, body, { ...ALL_PROPS, headers });
  const m = await new Promise((resolve) => ch.consume(queue, resolve, { noAck: true }));
  assert.ok(m.content.equals(body));
  assert.deepEqual(m.properties, {
    ...ALL_PROPS,
    clusterId: undefined, // amqplib's publish ignores this option
    headers: {
      ...headers,
      i8: -5,
      u8: 200,
      i16: -300,
      u16: 60000,
      i32: -70000,
      u32: 4000000000,
      i64: 2 ** 50,
      f32: 0.25,
    },
  });
  await ch.close();
});

test("@cloudamqp/amqp-client: 13 properties (no cluster-id in its API) and headers round-trip", async () => {
  const ch = await client.channel();
  const { name } = await ch.queueDeclare("", { exclusive: true });
  const properties = {
    contentType: "text/plain",
    contentEncoding: "utf-8",
    headers: {
      s: "str",
      b: true,
      n: 42,
      neg: -42,
      f: 1.5,
      big: 2n ** 40n,
      nul: null,
      arr: [1, "x", false],
      bytes: new Uint8Array([1, 2, 3]),
      when: new Date(1700000000000),
      nested: { a: { b: "c" } },
    },
    deliveryMode: 1,
    priority: 3,
    correlationId: "c-1",
    replyTo: "r",
    expiration: "100000",
    messageId: "m-1",
    timestamp: new Date(1700000002000),
    type: "t",
    userId: "guest",
    appId: "cloudamqp",
  };
  await ch.basicPublish("", name, "cloud", properties);
  let m;
  await waitFor(async () => (m = await ch.basicGet(name, { noAck: true })));
  assert.equal(m.bodyString(), "cloud");
  assert.deepEqual(m.properties, { ...properties, headers: { ...properties.headers, big: 2 ** 40 } });

  // cross-client: @cloudamqp publishes, amqplib reads
  const shared = uid("props");
  await ch.queueDeclare(shared, { durable: false, autoDelete: false });
  const ach = await conn.createChannel();
  try {
    await ch.basicPublish("", shared, "cross", properties);
    let am = false;
    await waitFor(async () => (am = await ach.get(shared, { noAck: true })));
    assert.equal(am.properties.correlationId, "c-1");
    assert.equal(am.properties.timestamp, 1700000002);
    assert.equal(am.properties.headers.big, 2 ** 40);
    assert.deepEqual(am.properties.headers.when, { "!": "timestamp", value: 1700000000 });
    assert.deepEqual(am.properties.headers.nested, { a: { b: "c" } });
  } finally {
    await ch.queueDelete(shared);
    await ch.close();
    await ach.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Names, counts, gets

test("server-named queues start with amq.gen- and generated consumer tags with amq.ctag-", async () => {
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue("", { exclusive: true });
  assert.match(queue, /^amq\.gen-[A-Za-z0-9_-]+$/);
  const { consumerTag } = await ch.consume(queue, () => {});
  assert.match(consumerTag, /^amq\.ctag-[A-Za-z0-9_-]+$/);
  const second = await ch.consume(queue, () => {});
  assert.notEqual(second.consumerTag, consumerTag);
  await ch.close();

  const cch = await client.channel();
  const { name } = await cch.queueDeclare("");
  assert.match(name, /^amq\.gen-/);
  const consumer = await cch.basicConsume(name, { noAck: true }, () => {});
  assert.match(consumer.tag, /^amq\.ctag-/);
  await cch.queueDelete(name);
  await cch.close();
});

test("declare-ok counts, basic.get message-count, get-empty and purge count", async () => {
  const q = uid("counts");
  const ch = await client.channel();
  await ch.confirmSelect();
  const ok0 = await ch.queueDeclare(q, { durable: false, autoDelete: false });
  assert.deepEqual(ok0, { name: q, messageCount: 0, consumerCount: 0 });
  for (let i = 0; i < 5; i++) await ch.basicPublish("", q, `m${i}`);
  assert.deepEqual(await ch.queueDeclare(q, { passive: true }), {
    name: q,
    messageCount: 5,
    consumerCount: 0,
  });

  const first = await ch.basicGet(q, { noAck: true });
  assert.equal(first.bodyString(), "m0");
  assert.equal(first.messageCount, 4, "get-ok message-count = messages left after this one");
  assert.deepEqual(await ch.queuePurge(q), { messageCount: 4 });
  assert.equal(await ch.basicGet(q), null, "get-empty");

  // a consumer holding an unacked message: it counts as a consumer, the message is not "ready"
  const cons = await client.channel();
  await cons.prefetch(1);
  const held = [];
  await cons.basicConsume(q, { noAck: false }, (m) => held.push(m));
  for (let i = 0; i < 3; i++) await ch.basicPublish("", q, `n${i}`);
  await waitFor(() => held.length === 1);
  await waitFor(async () => (await ch.queueDeclare(q, { passive: true })).messageCount === 2);
  assert.deepEqual(await ch.queueDeclare(q, { passive: true }), {
    name: q,
    messageCount: 2,
    consumerCount: 1,
  });
  await cons.close();
  // closing the consumer's channel requeues its unacked message
  await waitFor(async () => (await ch.queueDeclare(q, { passive: true })).messageCount === 3);
  assert.deepEqual(await ch.queueDelete(q), { messageCount: 3 });
  await ch.close();
});

// ---------------------------------------------------------------------------------------------
// Dispatch

test("round-robin across two consumers", async () => {
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue("", { exclusive: true });
  const order = [];
  const a = await ch.consume(queue, (m) => order.push(["a", `${m.content}`]), { noAck: true });
  const b = await ch.consume(queue, (m) => order.push(["b", `${m.content}`]), { noAck: true });
  assert.notEqual(a.consumerTag, b.consumerTag);
  for (let i = 0; i < 10; i++) ch.sendToQueue(queue, Buffer.from(String(i)));
  await waitFor(() => order.length === 10);
  assert.deepEqual(
    order.map(([, body]) => body),
    [..."0123456789"],
  );
  assert.equal(order.filter(([who]) => who === "a").length, 5);
  for (let i = 1; i < order.length; i++) assert.notEqual(order[i][0], order[i - 1][0], "strict alternation");
  await ch.close();
});

test("prefetch=1 fair dispatch: a consumer that does not ack gets exactly one message", async () => {
  const q = uid("fair");
  const slow = await conn.createChannel();
  const fast = await conn.createChannel();
  await slow.assertQueue(q, { durable: false, autoDelete: true });
  await slow.prefetch(1);
  await fast.prefetch(1);
  const slowGot = [];
  const fastGot = [];
  await slow.consume(q, (m) => slowGot.push(`${m.content}`));
  await fast.consume(q, (m) => {
    fastGot.push(`${m.content}`);
    fast.ack(m);
  });
  for (let i = 0; i < 8; i++) fast.sendToQueue(q, Buffer.from(String(i)));
  await waitFor(() => slowGot.length + fastGot.length === 8, 5000, "8 deliveries");
  await sleep(100);
  assert.equal(slowGot.length, 1, `slow consumer got ${slowGot}`);
  assert.equal(fastGot.length, 7);
  await slow.close();
  await fast.close();
});

test("global prefetch spans the channel's queues: a single ack on one queue lets another deliver", async () => {
  const ch = await conn.createChannel();
  const a = (await ch.assertQueue("", { exclusive: true })).queue;
  const b = (await ch.assertQueue("", { exclusive: true })).queue;
  await ch.prefetch(1, true); // basic.qos global=true: one unacked message on the whole channel
  const got = [];
  await ch.consume(a, (m) => got.push(m));
  await ch.consume(b, (m) => got.push(m));
  ch.sendToQueue(a, Buffer.from("a1"));
  await waitFor(() => got.length === 1, 5000, "the first delivery");
  ch.sendToQueue(b, Buffer.from("b1"));
  await sleep(200);
  assert.deepEqual(
    got.map((m) => `${m.content}`),
    ["a1"],
    "b1 waits: the channel's one slot is taken",
  );
  ch.ack(got[0]); // one delivery, multiple=false
  await waitFor(() => got.length === 2, 5000, "b1 after the ack of a1");
  assert.equal(`${got[1].content}`, "b1");
  ch.ack(got[1]);
  await ch.close();
});

test("nack/reject with requeue -> redelivered=true; without requeue the message is dropped", async () => {
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue("", { exclusive: true });
  ch.sendToQueue(queue, Buffer.from("x"));
  let m = false;
  await waitFor(async () => (m = await ch.get(queue)));
  assert.equal(m.fields.redelivered, false);
  ch.nack(m, false, true);
  await waitFor(async () => (m = await ch.get(queue)));
  assert.equal(m.fields.redelivered, true);
  assert.equal(`${m.content}`, "x");
  ch.reject(m, true);
  await waitFor(async () => (m = await ch.get(queue)));
  assert.equal(m.fields.redelivered, true);
  ch.reject(m, false);
  await sleep(50);
  assert.equal(await readyCount(ch, queue), 0);
  ch.sendToQueue(queue, Buffer.from("y"));
  await waitFor(async () => (m = await ch.get(queue)));
  ch.nack(m, false, false);
  await sleep(50);
  assert.equal(await readyCount(ch, queue), 0);
  await ch.close();
});

test("basic.recover requeue=true redelivers unacked messages with redelivered=true", async () => {
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue("", { exclusive: true });
  const got = [];
  await ch.consume(queue, (m) => got.push([`${m.content}`, m.fields.redelivered]));
  for (const s of ["a", "b", "c"]) ch.sendToQueue(queue, Buffer.from(s));
  await waitFor(() => got.length === 3);
  await ch.recover();
  await waitFor(() => got.length === 6);
  assert.deepEqual(got, [
    ["a", false],
    ["b", false],
    ["c", false],
    ["a", true],
    ["b", true],
    ["c", true],
  ]);
  await ch.close();
});

// ---------------------------------------------------------------------------------------------
// Routing

test("exchange-to-exchange bindings deliver once per queue, even with several paths and cycles", async () => {
  const ch = await conn.createConfirmChannel(); // waitForConfirms() = routing is done
  const [x, y, z] = [uid("e2e-x"), uid("e2e-y"), uid("e2e-z")];
  await ch.assertExchange(x, "fanout", { durable: false });
  await ch.assertExchange(y, "fanout", { durable: false });
  await ch.assertExchange(z, "topic", { durable: false });
  const { queue: q1 } = await ch.assertQueue("", { exclusive: true });
  const { queue: q2 } = await ch.assertQueue("", { exclusive: true });
  try {
    await ch.bindExchange(y, x, "");
    await ch.bindExchange(z, x, "");
    await ch.bindQueue(q1, x, ""); // q1 is reachable via x, y and twice via z
    await ch.bindQueue(q1, y, "");
    await ch.bindQueue(q1, z, "#");
    await ch.bindQueue(q1, z, "k");
    await ch.bindQueue(q2, z, "k"); // q2 only via x -> z
    ch.publish(x, "k", Buffer.from("once"));
    ch.publish(x, "other", Buffer.from("q1 only"));
    await ch.bindExchange(x, y, ""); // a cycle x -> y -> x
    ch.publish(x, "k", Buffer.from("cycle"));
    await ch.waitForConfirms();
    assert.deepEqual(
      (await drain(ch, q1)).map((m) => `${m.content}`),
      ["once", "q1 only", "cycle"],
    );
    assert.deepEqual(
      (await drain(ch, q2)).map((m) => `${m.content}`),
      ["once", "cycle"],
    );
  } finally {
    for (const e of [x, y, z]) await ch.deleteExchange(e);
    await ch.close();
  }
});

test("topic patterns: *, #, empty words, # alone", async () => {
  // pattern -> routing keys it matched on RabbitMQ 3.10, in publish order
  const expected = TOPIC_MATCHES;

  const keys = expected["#"];
  const ch = await conn.createConfirmChannel();
  const x = uid("topic");
  await ch.assertExchange(x, "topic", { durable: false });
  try {
    const queues = {};
    for (const pattern of Object.keys(expected)) {
      queues[pattern] = (await ch.assertQueue("", { exclusive: true })).queue;
      await ch.bindQueue(queues[pattern], x, pattern);
    }
    for (const k of keys) ch.publish(x, k, Buffer.from(k));
    await ch.waitForConfirms();
    const actual = {};
    for (const pattern of Object.keys(expected)) {
      actual[pattern] = (await drain(ch, queues[pattern])).map((m) => `${m.content}`);
    }
    assert.deepEqual(actual, expected);
  } finally {
    await ch.deleteExchange(x);
    await ch.close();
  }
});

test("headers exchange: x-match all/any, void values, x- keys ignored, numeric equality", async () => {
  const { bindings, messages } = HEADERS_MATCHES;
  const all = Object.keys(messages);
  const expected = Object.fromEntries(
    Object.entries(HEADERS_MATCHES.matches).map(([b, names]) => [b, names === "*" ? all : names]),
  );
  const ch = await conn.createConfirmChannel();
  const x = uid("headers");
  await ch.assertExchange(x, "headers", { durable: false });
  try {
    const queues = {};
    for (const [name, args] of Object.entries(bindings)) {
      queues[name] = (await ch.assertQueue("", { exclusive: true })).queue;
      await ch.bindQueue(queues[name], x, "", args);
    }
    for (const [name, headers] of Object.entries(messages)) {
      ch.publish(x, "ignored", Buffer.from(name), headers === null ? {} : { headers });
    }
    await ch.waitForConfirms();
    const actual = {};
    for (const name of Object.keys(bindings))
      actual[name] = (await drain(ch, queues[name])).map((m) => `${m.content}`);
    assert.deepEqual(actual, expected);
  } finally {
    await ch.deleteExchange(x);
    await ch.close();
  }
});

test("default exchange routes by queue name; direct exchanges by exact key", async () => {
  const ch = await conn.createConfirmChannel();
  const { queue } = await ch.assertQueue("", { exclusive: true });
  ch.publish("", queue, Buffer.from("via default"));
  ch.publish("", `${queue}.nope`, Buffer.from("dropped"));
  ch.publish("", queue.toUpperCase(), Buffer.from("dropped too")); // names are case-sensitive
  await ch.bindQueue(queue, "amq.direct", "key");
  ch.publish("amq.direct", "key", Buffer.from("via amq.direct"));
  ch.publish("amq.direct", "key.more", Buffer.from("not routed"));
  await ch.waitForConfirms();
  assert.deepEqual(
    (await drain(ch, queue)).map((m) => [`${m.content}`, m.fields.exchange, m.fields.routingKey]),
    [
      ["via default", "", queue],
      ["via amq.direct", "amq.direct", "key"],
    ],
  );
  await ch.close();
});

test("predeclared amq.* exchanges exist with the standard types, durable", async () => {
  const ch = await conn.createChannel();
  const predeclared = [
    ["amq.direct", "direct"],
    ["amq.fanout", "fanout"],
    ["amq.topic", "topic"],
    ["amq.headers", "headers"],
    ["amq.match", "headers"],
  ];
  for (const [name, type] of predeclared) {
    await ch.checkExchange(name);
    // a non-passive declare only succeeds if type and durable match
    assert.deepEqual(await ch.assertExchange(name, type, { durable: true }), { exchange: name });
  }
  await ch.close();
  // and the type really is checked (so the loop above did verify the types)
  const bad = await conn.createChannel();
  const err = new Promise((resolve) => bad.once("error", resolve));
  await assert.rejects(bad.assertExchange("amq.topic", "direct", { durable: true }));
  assert.equal((await err).code, 406);
});

// ---------------------------------------------------------------------------------------------
// Queue lifetimes and server-initiated cancels

test("auto-delete queue: kept until it had a consumer, removed after the last consumer cancels", async () => {
  const q = uid("autodel");
  const ch = await conn.createChannel();
  await ch.assertQueue(q, { durable: false, autoDelete: true });
  await sleep(50);
  assert.equal(await queueState(q), "exists", "never-consumed auto-delete queue stays");
  const c1 = await ch.consume(q, () => {});
  const c2 = await ch.consume(q, () => {});
  await ch.cancel(c1.consumerTag);
  assert.equal(await queueState(q), "exists", "one consumer left");
  await ch.cancel(c2.consumerTag);
  await waitFor(async () => (await queueState(q)) === "missing", 3000, "auto-delete");
  await ch.close();
});

test("exclusive queue is removed when its owning connection closes", async () => {
  const q = uid("excl");
  const owner = await amqp.connect(broker.url);
  const ch = await owner.createChannel();
  await ch.assertQueue(q, { exclusive: true, durable: false });
  assert.equal(await queueState(q), "locked", "visible but locked from elsewhere");
  await owner.close();
  await waitFor(async () => (await queueState(q)) === "missing", 3000, "exclusive queue removal");
});

test("deleting a consumed queue sends basic.cancel to the consumer (consumer_cancel_notify)", async () => {
  // amqplib: the consume callback is called with null
  const q = uid("cancelled");
  const ch = await conn.createChannel();
  await ch.assertQueue(q, { durable: false });
  const cancelled = new Promise((resolve) => ch.consume(q, (m) => m === null && resolve(true)));
  const other = await conn.createChannel();
  await other.deleteQueue(q);
  assert.equal(await withTimeout(cancelled, 3000, "basic.cancel"), true);
  // the channel itself stays usable
  const { queue } = await ch.assertQueue("", { exclusive: true });
  assert.match(queue, /^amq\.gen-/);
  await ch.close();

  // @cloudamqp/amqp-client: consumer.wait() rejects
  const q2 = uid("cancelled");
  const cch = await client.channel();
  await cch.queueDeclare(q2, { durable: false });
  const consumer = await cch.basicConsume(q2, { noAck: true }, () => {});
  await other.deleteQueue(q2);
  await assert.rejects(withTimeout(consumer.wait(), 3000, "basic.cancel"), /cancelled by the server/);
  await other.close();
  await cch.close();
});

// ---------------------------------------------------------------------------------------------
// Transactions (amqplib has no tx API; @cloudamqp/amqp-client does)

test("tx.select / commit / rollback for publishes", async () => {
  const q = uid("tx");
  const ch = await client.channel();
  const probe = await conn.createChannel();
  await ch.queueDeclare(q, { durable: false, autoDelete: false });
  try {
    await ch.txSelect();
    await ch.basicPublish("", q, "t1");
    await ch.basicPublish("", q, "t2");
    await sleep(50);
    assert.equal(await readyCount(probe, q), 0, "uncommitted publishes are invisible");
    await ch.txCommit();
    assert.equal(await readyCount(probe, q), 2);
    await ch.basicPublish("", q, "t3");
    await ch.txRollback();
    await sleep(50);
    assert.equal(await readyCount(probe, q), 2, "rolled back publish is discarded");
    await ch.basicPublish("", q, "t4");
    await ch.txCommit();
    assert.deepEqual(
      (await drain(probe, q)).map((m) => `${m.content}`),
      ["t1", "t2", "t4"],
    );
  } finally {
    await ch.queueDelete(q);
    await ch.close();
    await probe.close();
  }
});

test("tx.select / commit / rollback for acks", async () => {
  const q = uid("txack");
  const probe = await conn.createChannel();
  await probe.assertQueue(q, { durable: false, autoDelete: false });
  probe.sendToQueue(q, Buffer.from("a1"));
  probe.sendToQueue(q, Buffer.from("a2"));
  await waitFor(async () => (await readyCount(probe, q)) === 2);
  const ch = await client.channel();
  try {
    await ch.txSelect();
    const m1 = await ch.basicGet(q, { noAck: false });
    const m2 = await ch.basicGet(q, { noAck: false });
    assert.deepEqual([m1.bodyString(), m2.bodyString()], ["a1", "a2"]);
    await m1.ack();
    await ch.txRollback(); // m1's ack is discarded: it stays unacked
    await m2.ack();
    await ch.txCommit(); // m2's ack takes effect
    await ch.close(); // closing requeues what is still unacked: m1 only
    let back = false;
    await waitFor(async () => (back = await probe.get(q, { noAck: true })));
    assert.equal(`${back.content}`, "a1");
    assert.equal(back.fields.redelivered, true);
    assert.equal(await probe.get(q), false);
  } finally {
    await probe.deleteQueue(q);
    await probe.close();
  }
});
