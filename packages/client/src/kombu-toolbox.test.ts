import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BrokerConnection } from "./kombu/broker-connection.js";
import { Consumer } from "./kombu/consumer.js";
import {
  connections,
  getLimit,
  LimitExceeded,
  producers,
  resetPools,
  Resource,
  setLimit,
} from "./kombu/pools.js";
import { Producer } from "./kombu/producer.js";
import { Queue } from "./kombu/queue.js";
import { Empty, SimpleBuffer, SimpleQueue } from "./kombu/simple.js";
import {
  ContentDisallowed,
  dumps,
  loads,
  registerSerializer,
  serializerFor,
  unregisterSerializer,
} from "./kombu/serialization.js";
import { until } from "./testkit.js";
import { useBroker } from "./broker-testkit.js";

/* kombu's toolbox (issue 14): serializers, accept lists, pools, SimpleQueue, workers. */

// INTEROP_TARGET_URL runs these against another broker (RabbitMQ, to check the behaviour).
const brokerUrl = useBroker();

describe("the serializer registry", () => {
  it("packs and unpacks msgpack as kombu does (str as str, bytes as bin)", () => {
    const e = dumps({ s: "héllo", n: [1, -2, 3.5], b: Buffer.from([0, 255]), t: true, z: null }, "msgpack");
    assert.equal(e.contentType, "application/x-msgpack");
    assert.equal(e.contentEncoding, "binary");
    // fixmap of 5, first key "s" (fixstr 1), value fixstr of 6 UTF-8 bytes
    assert.deepEqual([...e.body.subarray(0, 4)], [0x85, 0xa1, 0x73, 0xa6]);
    const back = loads(e.body, e.contentType) as Record<string, unknown>;
    assert.equal(back.s, "héllo");
    assert.deepEqual(back.n, [1, -2, 3.5]);
    assert.ok(Buffer.isBuffer(back.b));
    assert.deepEqual([...(back.b as Buffer)], [0, 255]);
    assert.equal(back.z, null);
  });

  it("lets accept lists name serializers or content types, and always trusts raw bytes", () => {
    const m = dumps([1], "msgpack");
    assert.deepEqual(loads(m.body, m.contentType, ["msgpack"]), [1]);
    assert.deepEqual(loads(m.body, m.contentType, ["application/x-msgpack"]), [1]);
    assert.throws(() => loads(m.body, m.contentType, ["json"]), ContentDisallowed);
    assert.throws(() => loads(Buffer.from("[1]"), "application/json", ["msgpack"]), ContentDisallowed);
    // kombu's TRUSTED_CONTENT: application/data and application/text pass any accept list.
    assert.ok(Buffer.isBuffer(loads(Buffer.from("x"), "application/data", ["json"])));
    assert.ok(Buffer.isBuffer(loads(Buffer.from("x"), undefined, ["json"])));
  });

  it("registers and unregisters custom serializers", () => {
    registerSerializer("upper", {
      contentType: "application/x-upper",
      contentEncoding: "utf-8",
      encode: (b) => Buffer.from(String(b).toUpperCase()),
      decode: (d) => d.toString().toLowerCase(),
    });
    assert.equal(serializerFor("application/x-upper"), serializerFor("upper"));
    const e = dumps("abc", "upper");
    assert.equal(e.body.toString(), "ABC");
    assert.equal(loads(e.body, e.contentType, ["upper"]), "abc");
    unregisterSerializer("upper");
    assert.equal(serializerFor("upper"), undefined);
    assert.throws(() => dumps("abc", "upper"), TypeError);
    assert.ok(Buffer.isBuffer(loads(e.body, e.contentType)));
  });

  it("carries msgpack and compressed bodies through the broker, refusing what is not accepted", async () => {
    const conn = new BrokerConnection(brokerUrl());
    const q = new Queue("kombu-toolbox-msgpack", { durable: false });
    const got: unknown[] = [];
    const refused: string[] = [];
    const consumer = new Consumer(conn, {
      queues: q,
      accept: ["msgpack"],
      callbacks: [(body, m) => void (got.push(body), m.ack())],
      onDecodeError: (err, m) => {
        assert.ok(err instanceof ContentDisallowed);
        refused.push(m.properties.contentType ?? "");
        m.reject(false);
      },
    });
    await consumer.consume();
    const producer = new Producer(conn, { serializer: "msgpack" });
    await producer.publish({ n: 1 }, { routingKey: q.name });
    await producer.publish({ n: 2 }, { routingKey: q.name, compression: "zlib" });
    await producer.publish({ n: 3 }, { routingKey: q.name, serializer: "json" });
    await producer.publish({ n: 4 }, { routingKey: q.name, compression: "gzip" });
    await until(() => got.length + refused.length === 4);
    assert.deepEqual(got, [{ n: 1 }, { n: 2 }, { n: 4 }]);
    assert.deepEqual(refused, ["application/json"]);
    await consumer.cancel();
    await q.delete(await conn.defaultChannel());
    await producer.close();
    await conn.close();
  });
});

describe("pools", () => {
  it("Resource: reuses released resources, refuses or waits at the limit, times out", async () => {
    let made = 0;
    const destroyed: number[] = [];
    const pool = new Resource(
      () => ++made,
      (r) => void destroyed.push(r),
      2,
    );
    const a = await pool.acquire();
    const b = await pool.acquire();
    assert.deepEqual([a, b], [1, 2]);
    await assert.rejects(pool.acquire(), LimitExceeded);
    const t0 = Date.now();
    await assert.rejects(pool.acquire({ block: true, timeout: 0.05 }), LimitExceeded);
    assert.ok(Date.now() - t0 >= 45);
    const waiting = pool.acquire({ block: true, timeout: 5 });
    pool.release(a);
    assert.equal(await waiting, a);
    pool.release(b);
    assert.equal(await pool.acquire(), b);
    assert.equal(made, 2);
    assert.equal(pool.inUse, 2);
    const late = pool.acquire({ block: true });
    await pool.forceCloseAll();
    await assert.rejects(late, LimitExceeded);
    assert.deepEqual(destroyed.sort(), [1, 2]);
  });

  it("connections and producers: one pool per broker, producers publish on pooled connections", async () => {
    await setLimit(2, true);
    assert.equal(getLimit(), 2);
    const conn = new BrokerConnection(brokerUrl());
    assert.equal(connections.get(conn), connections.get(new BrokerConnection(brokerUrl())));
    const q = new Queue("kombu-toolbox-pools", { durable: false });
    await q.declare(await conn.defaultChannel());
    const pool = producers.get(conn);
    await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        pool.use((p) => p.publish({ n }, { routingKey: q.name, serializer: "msgpack" }), { block: true }),
      ),
    );
    // Two producers at most, each holding one of the two pooled connections.
    assert.equal(pool.inUse + pool.idle, 2);
    assert.equal(connections.get(conn).inUse, 2);
    await assert.rejects(connections.get(conn).acquire(), LimitExceeded);
    assert.equal((await q.status(await conn.defaultChannel())).messageCount, 5);
    await assert.rejects(setLimit(1), RangeError);
    await setLimit(10, true);
    assert.equal(connections.get(conn).inUse, 0);
    const c = await connections.get(conn).acquire();
    assert.notEqual(c, conn);
    assert.deepEqual(c.urls, conn.urls);
    connections.get(conn).release(c);
    await resetPools();
    await q.delete(await conn.defaultChannel());
    await conn.close();
  });
});

describe("SimpleQueue and SimpleBuffer", () => {
  it("put/get with ack, Empty on timeout and getNowait, qsize and clear", async () => {
    const conn = new BrokerConnection(brokerUrl());
    const q = new SimpleQueue(conn, "kombu-toolbox-simple", { serializer: "msgpack", compression: "zlib" });
    assert.equal(await q.clear(), 0);
    await q.put({ n: 1 });
    await q.put("two", { serializer: "text" });
    assert.equal(await q.qsize(), 2);
    const m1 = await q.get({ timeout: 2 });
    assert.deepEqual(m1.payload, { n: 1 });
    assert.equal(m1.properties.contentType, "application/x-msgpack");
    assert.equal(m1.properties.headers?.compression, "application/x-gzip");
    m1.ack();
    const m2 = await q.get();
    assert.equal(m2.payload, "two");
    m2.ack();
    await assert.rejects(q.get({ timeout: 0.05 }), Empty);
    await assert.rejects(q.getNowait(), Empty);
    const waiting = q.get({ timeout: 2 });
    await q.put([3]);
    const m3 = await waiting;
    assert.deepEqual(m3.payload, [3]);
    // Not acked: back in the queue on close.
    await q.close();
    const again = new SimpleQueue(conn, "kombu-toolbox-simple");
    assert.equal(await again.qsize(), 1);
    assert.equal(await again.clear(), 1);
    await again.close();
    const ch = await conn.defaultChannel();
    await ch.queueDelete("kombu-toolbox-simple");
    await ch.exchangeDelete("kombu-toolbox-simple");
    await conn.close();
  });

  it("SimpleBuffer: transient, auto-deleted, no acks", async () => {
    const conn = new BrokerConnection(brokerUrl());
    const b = new SimpleBuffer(conn, "kombu-toolbox-buffer");
    await b.put({ x: 1 });
    const m = await b.get({ timeout: 2 });
    assert.deepEqual(m.payload, { x: 1 });
    assert.equal(m.properties.deliveryMode, 1);
    assert.equal(m.settled, true);
    await b.close();
    const ch = await conn.channel();
    // auto-delete: gone once its consumer is.
    await assert.rejects(ch.queueDeclare("kombu-toolbox-buffer", { passive: true }), /NOT_FOUND|404/);
    const ch2 = await conn.channel();
    await ch2.exchangeDelete("kombu-toolbox-buffer");
    await conn.close();
  });
});
