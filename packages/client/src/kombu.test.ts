import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ChannelError, ReplyCode } from "@warren/protocol";
import type { Message } from "./message.js";
import { BrokerConnection, isRecoverable } from "./kombu/broker-connection.js";
import { Consumer } from "./kombu/consumer.js";
import { Exchange } from "./kombu/exchange.js";
import { Producer } from "./kombu/producer.js";
import { Queue } from "./kombu/queue.js";
import { ContentDisallowed, dumps, loads } from "./kombu/serialization.js";
import { delay, until } from "./testkit.js";
import { quietBroker, useBroker } from "./broker-testkit.js";

const fast = { intervalStart: 0.02, intervalStep: 0.02, intervalMax: 0.1 };

// INTEROP_TARGET_URL runs these against another broker (RabbitMQ, to check the behaviour).
const brokerUrl = useBroker();

describe("serialization", () => {
  it("encodes by serializer and decodes by content type", () => {
    assert.deepEqual(dumps({ a: 1 }), {
      body: Buffer.from('{"a":1}'),
      contentType: "application/json",
      contentEncoding: "utf-8",
    });
    assert.equal(dumps("hi").contentType, "text/plain");
    assert.equal(dumps(Buffer.from([1])).contentType, "application/data");
    assert.equal(dumps("hi", "raw").contentType, "text/plain");
    assert.equal(dumps(5, "text").body.toString(), "5");
    assert.throws(() => dumps(1, "pickle"), TypeError);
    assert.deepEqual(loads(Buffer.from("[1]"), "application/json"), [1]);
    assert.equal(loads(Buffer.from("x"), "text/plain"), "x");
    assert.ok(Buffer.isBuffer(loads(Buffer.from("x"), undefined)));
    assert.throws(() => loads(Buffer.from("x"), "text/plain", ["json"]), ContentDisallowed);
    assert.deepEqual(loads(Buffer.from("{}"), "application/json", ["json"]), {});
  });
});

describe("Producer and Consumer", () => {
  it("round-trips JSON, text and raw bodies through a topic exchange", async () => {
    const conn = new BrokerConnection(brokerUrl());
    const media = new Exchange("media", { type: "topic" });
    const video = new Queue("video", { exchange: media, routingKey: "video.#" });
    const got: { body: unknown; message: Message }[] = [];
    let done!: () => void;
    const allIn = new Promise<void>((r) => (done = r));
    const consumer = new Consumer(conn, {
      queues: [video],
      prefetchCount: 5,
      callbacks: [
        (body, message) => {
          got.push({ body, message });
          message.ack();
          if (got.length === 3) done();
        },
      ],
    });
    await consumer.consume();
    assert.equal(consumer.consuming, true);

    const producer = new Producer(conn, { exchange: media, serializer: "json" });
    await producer.publish(
      { name: "cat.mp4", size: 3, tags: ["a", "b"] },
      {
        routingKey: "video.cats",
        headers: { source: "test" },
        priority: 1,
        expiration: 60,
        correlationId: "c1",
      },
    );
    await producer.publish("plain words", { routingKey: "video.text", serializer: "text" });
    await producer.publish(Buffer.from([0, 1, 2]), { routingKey: "video.raw", deliveryMode: "transient" });
    await producer.publish({ ignored: true }, { routingKey: "audio.x" });
    await allIn;

    const [json, text, raw] = got;
    assert.deepEqual(json!.body, { name: "cat.mp4", size: 3, tags: ["a", "b"] });
    const p = json!.message.properties;
    assert.equal(p.contentType, "application/json");
    assert.equal(p.contentEncoding, "utf-8");
    assert.equal(p.deliveryMode, 2);
    assert.equal(p.priority, 1);
    assert.equal(p.expiration, "60000");
    assert.equal(p.correlationId, "c1");
    assert.deepEqual(p.headers, { source: "test" });
    assert.equal(json!.message.fields.routingKey, "video.cats");
    assert.equal(text!.body, "plain words");
    assert.equal(text!.message.properties.contentType, "text/plain");
    assert.deepEqual(raw!.body, Buffer.from([0, 1, 2]));
    assert.equal(raw!.message.properties.contentType, "application/data");
    assert.equal(raw!.message.properties.deliveryMode, 1);

    await consumer.cancel();
    assert.equal(consumer.consuming, false);
    const ch = await conn.channel();
    assert.equal((await video.status(ch)).messageCount, 0);
    await video.delete(ch);
    await media.delete(ch);
    await producer.close();
    await conn.close();
  });

  it("rejects messages of a content type it does not accept", async () => {
    const conn = new BrokerConnection(brokerUrl());
    const q = new Queue("", { exclusive: true, durable: false });
    const errors: Error[] = [];
    let decoded = 0;
    const consumer = new Consumer(conn, {
      queues: q,
      accept: ["json"],
      callbacks: [() => void decoded++],
      onDecodeError: (err, message) => {
        errors.push(err);
        message.reject(false);
      },
    });
    await consumer.consume();
    const producer = new Producer(conn, { serializer: "text" });
    await producer.publish("not json", { routingKey: q.declaredName });
    for (let i = 0; i < 100 && errors.length === 0; i++) await delay(5);
    assert.equal(decoded, 0);
    assert.ok(errors[0] instanceof ContentDisallowed);
    await consumer.cancel();
    await conn.close();
  });

  it("gets with Queue.get and declares entities listed in publish({declare})", async () => {
    const conn = new BrokerConnection(brokerUrl());
    const q = new Queue("kombu-get", { durable: false, autoDelete: false });
    const producer = new Producer(conn);
    await producer.publish({ n: 1 }, { routingKey: "kombu-get", declare: [q] });
    const ch = await conn.channel();
    const m = await q.get(ch, { noAck: true });
    assert.deepEqual(JSON.parse(m!.body.toString()), { n: 1 });
    assert.equal(await q.get(ch), null);
    assert.equal(await q.delete(ch), 0);
    await conn.close();
  });
});

describe("BrokerConnection.ensure", () => {
  it("classifies errors", () => {
    assert.equal(isRecoverable(new ChannelError(404, "x")), false);
    assert.equal(isRecoverable(Object.assign(new Error("refused"), { code: "ECONNREFUSED" })), true);
    assert.equal(isRecoverable(new TypeError("x")), false);
  });

  it("fails over to the next URL", async () => {
    const conn = new BrokerConnection(["amqp://127.0.0.1:1", brokerUrl()]);
    const c = await conn.connect();
    assert.equal(c.isOpen, true);
    await conn.close();
  });

  it("does not retry channel errors, and gives up after maxRetries", async () => {
    const conn = new BrokerConnection(brokerUrl());
    let calls = 0;
    await assert.rejects(
      conn.ensure((ch) => {
        calls++;
        return ch.queueDeclare("missing-queue", { passive: true });
      }, fast),
      (e: Error) => e instanceof ChannelError && e.code === ReplyCode.NOT_FOUND,
    );
    assert.equal(calls, 1);
    // The default channel was closed by the error; the next call gets a new one.
    assert.equal(await conn.ensure((ch) => ch.isOpen), true);
    await conn.close();

    const dead = new BrokerConnection("amqp://127.0.0.1:1");
    const seen: number[] = [];
    await assert.rejects(
      dead.ensure(() => "never", { ...fast, maxRetries: 2, errback: (_e, interval) => seen.push(interval) }),
      (e: Error) => isRecoverable(e),
    );
    assert.deepEqual(seen, [0.02, 0.04]);
  });

  it("retries across a broker restart; producers and consumers resume", async () => {
    const b1 = quietBroker();
    const port = await b1.start();
    const conn = new BrokerConnection(`amqp://guest:guest@127.0.0.1:${port}`, { retryPolicy: fast });
    const queue = new Queue("restart-q", { durable: false });
    const received: unknown[] = [];
    const consumer = new Consumer(conn, {
      queues: queue,
      callbacks: [
        (body, m) => {
          received.push(body);
          m.ack();
        },
      ],
    });
    await consumer.consume();
    const producer = new Producer(conn, { retry: true });
    await producer.publish({ n: 1 }, { routingKey: "restart-q", declare: [queue] });
    await until(() => received.length === 1);

    await b1.stop();
    let b2: ReturnType<typeof quietBroker> | undefined;
    const restart = delay(100).then(async () => {
      b2 = quietBroker(port);
      await b2.start();
    });
    // Awaited (and so reported) in `finally`; meanwhile a failure must not surface as an
    // unhandled rejection.
    restart.catch(() => {});
    const errors: Error[] = [];
    try {
      const declared = await conn.ensure((ch) => ch.queueDeclare("restart-q", { durable: false }), {
        ...fast,
        maxRetries: 100,
        errback: (e) => errors.push(e),
      });
      assert.equal(declared.queue, "restart-q");
      assert.ok(errors.length >= 1, "ensure() should have retried");
      assert.ok(errors.every(isRecoverable));

      await producer.publish({ n: 2 }, { routingKey: "restart-q", declare: [queue] });
      await until(() => received.length === 2);
      assert.deepEqual(received, [{ n: 1 }, { n: 2 }]);
    } finally {
      await restart;
      await consumer.cancel();
      await conn.close();
      await b2?.stop();
    }
  });
});
