import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Broker, lineLogger } from "@warren/broker";
import { BrokerConnection } from "./kombu/broker-connection.js";
import { Consumer } from "./kombu/consumer.js";
import { Producer } from "./kombu/producer.js";
import { Queue } from "./kombu/queue.js";
import {
  ContentDisallowed,
  dumps,
  loads,
  registerSerializer,
  serializerFor,
  unregisterSerializer,
} from "./kombu/serialization.js";
import { until } from "./testkit.js";

/* kombu's toolbox (issue 14): serializers, accept lists, pools, SimpleQueue, workers. */

const quiet = { log: lineLogger(() => {}) };
let broker: Broker;
let url: string;

before(async () => {
  broker = new Broker({ port: 0, ...quiet });
  url = `amqp://guest:guest@127.0.0.1:${await broker.start()}`;
});

after(async () => {
  await broker.stop();
});

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
    const conn = new BrokerConnection(url);
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
