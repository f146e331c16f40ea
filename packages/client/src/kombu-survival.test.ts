import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { describe, it } from "node:test";
import { ChannelError, ReplyCode } from "@warren/protocol";
import { BrokerConnection } from "./kombu/broker-connection.js";
import { Consumer } from "./kombu/consumer.js";
import { Queue } from "./kombu/queue.js";
import type { Message } from "./message.js";
import { until } from "./testkit.js";
import { quietBroker, useBroker } from "./broker-testkit.js";

/*
 * The kombu-layer bugs of issue 13, each reproduced against a real broker.
 */

const fast = { intervalStart: 0.02, intervalStep: 0.02, intervalMax: 0.1 };

// INTEROP_TARGET_URL runs these against another broker (RabbitMQ, to check the behaviour).
const brokerUrl = useBroker();

describe("a kombu Consumer survives", () => {
  it("a channel error (double ack): it reports it and resumes", async () => {
    const conn = new BrokerConnection(brokerUrl(), { retryPolicy: fast });
    const errors: Error[] = [];
    conn.on("error", (e) => errors.push(e));
    const { consumer, got } = collecting(
      conn,
      new Queue("kombu-double-ack", { durable: false }),
      (body, m) => {
        if ((body as { n: number }).n === 1) m.ack(); // 406 PRECONDITION_FAILED: unknown delivery tag
      },
    );
    await consumer.consume();
    const pub = await (await conn.connect()).createChannel();
    pub.publish("", "kombu-double-ack", JSON.stringify({ n: 1 }), { contentType: "application/json" });
    await until(() => errors.length > 0);
    assert.ok(errors[0] instanceof ChannelError);
    assert.equal(errors[0].code, ReplyCode.PRECONDITION_FAILED);
    pub.publish("", "kombu-double-ack", JSON.stringify({ n: 2 }), { contentType: "application/json" });
    await until(() => got.some((b) => (b as { n: number }).n === 2));
    assert.equal(consumer.consuming, true);
    await consumer.cancel();
    await pub.queueDelete("kombu-double-ack");
    await conn.close();
  });

  it("a server basic.cancel (queue deleted): it says so, re-declares the queue and resumes", async () => {
    const conn = new BrokerConnection(brokerUrl(), { retryPolicy: fast });
    const { consumer, got } = collecting(conn, new Queue("kombu-cancelled", { durable: false }));
    const events: string[] = [];
    consumer.on("cancel", () => events.push("cancel"));
    consumer.on("resume", () => events.push("resume"));
    await consumer.consume();
    const admin = await (await conn.connect()).createChannel();
    await admin.queueDelete("kombu-cancelled");
    await until(() => events.includes("resume"));
    assert.deepEqual(events, ["cancel", "resume"]);
    assert.equal(consumer.consuming, true);
    admin.publish("", "kombu-cancelled", "after", { contentType: "text/plain" });
    await until(() => got.includes("after"));
    await consumer.cancel();
    assert.equal(consumer.consuming, false);
    await admin.queueDelete("kombu-cancelled");
    await conn.close();
  });

  it("an async callback that rejects: the error reaches the connection, the message is rejected", async () => {
    const conn = new BrokerConnection(brokerUrl(), { retryPolicy: fast });
    const errors: Error[] = [];
    conn.on("error", (e) => errors.push(e));
    const dlq = new Queue("kombu-failed-dlq", { durable: false });
    const q = new Queue("kombu-failing", {
      durable: false,
      arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "kombu-failed-dlq" },
    });
    const consumer = new Consumer(conn, {
      queues: q,
      callbacks: [
        async () => {
          await new Promise((r) => setTimeout(r, 5));
          throw new Error("callback failed");
        },
      ],
    });
    await consumer.consume();
    const ch = await conn.channel();
    await dlq.declare(ch);
    ch.publish("", "kombu-failing", "doomed", { contentType: "text/plain" });
    await until(() => errors.length > 0);
    assert.equal(errors[0]!.message, "callback failed");
    // Rejected without requeue: dead-lettered, not left unacknowledged.
    let dead = null;
    for (let i = 0; i < 100 && !dead; i++) {
      dead = await ch.basicGet("kombu-failed-dlq", { noAck: true });
      if (!dead) await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(dead?.body.toString(), "doomed");
    await consumer.cancel();
    await ch.queueDelete("kombu-failing");
    await ch.queueDelete("kombu-failed-dlq");
    await conn.close();
  });

  it("decodes zlib-compressed messages (kombu's compression header)", async () => {
    const conn = new BrokerConnection(brokerUrl());
    const q = new Queue("", { exclusive: true, durable: false });
    const { consumer, got } = collecting(conn, q);
    await consumer.consume();
    const ch = await conn.channel();
    ch.publish("", q.declaredName, deflateSync(Buffer.from(JSON.stringify({ zipped: true }))), {
      contentType: "application/json",
      contentEncoding: "utf-8",
      headers: { compression: "application/x-gzip" },
    });
    await until(() => got.length > 0);
    assert.deepEqual(got, [{ zipped: true }]);
    await consumer.cancel();
    await conn.close();
  });
});

/** A Consumer of q that records each body and acks it, then runs `then` if given. */
function collecting(
  conn: BrokerConnection,
  q: Queue,
  then?: (body: unknown, m: Message) => void,
): { consumer: Consumer; got: unknown[] } {
  const got: unknown[] = [];
  const consumer = new Consumer(conn, {
    queues: q,
    callbacks: [
      (body, m) => {
        got.push(body);
        m.ack();
        then?.(body, m);
      },
    ],
  });
  return { consumer, got };
}

describe("BrokerConnection 'revive'", () => {
  it("listening for it does not make the connection reconnect by itself", async () => {
    const b1 = quietBroker();
    const port = await b1.start();
    const conn = new BrokerConnection(`amqp://guest:guest@127.0.0.1:${port}`, { retryPolicy: fast });
    conn.on("error", () => {});
    let revived = 0;
    conn.on("revive", () => revived++);
    await conn.connect();
    await b1.stop();
    const b2 = quietBroker(port);
    await b2.start();
    try {
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(revived, 0);
      assert.equal(conn.connected, false);
      // Used again: it reconnects, and that is a revival.
      await conn.connect();
      assert.equal(revived, 1);
    } finally {
      await conn.close();
      await b2.stop();
    }
  });
});
