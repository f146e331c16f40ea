// The unacked cap: a channel with no prefetch stops receiving at maxUnackedPerChannel unacked
// deliveries, and resumes as they are settled; the rest wait in their queues.
import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { Broker } from "./broker.js";
import { lineLogger } from "./logger.js";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a channel without prefetch holds at most maxUnackedPerChannel unacked deliveries", async () => {
  const broker = new Broker({ port: 0, maxUnackedPerChannel: 5, log: lineLogger(() => {}) });
  const port = await broker.start();
  const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}`);
  try {
    const ch = await conn.createChannel();
    await ch.assertQueue("cap-a");
    await ch.assertQueue("cap-b");
    for (let i = 0; i < 10; i++) {
      ch.sendToQueue("cap-a", Buffer.from(`a${i}`));
      ch.sendToQueue("cap-b", Buffer.from(`b${i}`));
    }
    const got: amqplib.ConsumeMessage[] = [];
    const consumer = await conn.createChannel();
    await consumer.consume("cap-a", (m) => m && got.push(m));
    await consumer.consume("cap-b", (m) => m && got.push(m));
    await wait(200);
    assert.equal(got.length, 5, "the cap holds across the channel's consumers");
    consumer.ack(got[0]!);
    await wait(200);
    assert.equal(got.length, 6, "one settled, one more delivered");
    consumer.ackAll();
    await wait(200);
    assert.equal(got.length, 11);
    // noAck deliveries are not held, so the cap does not apply to them.
    await ch.assertQueue("cap-c");
    for (let i = 0; i < 20; i++) ch.sendToQueue("cap-c", Buffer.from(`c${i}`));
    let noAck = 0;
    const other = await conn.createChannel();
    await other.consume("cap-c", () => noAck++, { noAck: true });
    await wait(200);
    assert.equal(noAck, 20);
  } finally {
    await conn.close().catch(() => {});
    await broker.stop();
  }
});
