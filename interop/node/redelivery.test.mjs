// A consumer process dies (SIGKILL, so no channel.close / connection.close is ever sent) while
// holding unacknowledged deliveries: RabbitMQ requeues them at their original positions, and the
// next consumer receives them first, in the original order, flagged redelivered=true.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { AMQPClient } from "@cloudamqp/amqp-client";
import amqp from "amqplib";
import { startBroker } from "../lib/broker.mjs";
import { sleep, uid, waitFor, withTimeout } from "./helpers.mjs";

const CHILD = join(dirname(fileURLToPath(import.meta.url)), "hold-consumer.mjs");

let broker;
let conn;

before(async () => {
  broker = await startBroker();
  conn = await amqp.connect(broker.url);
});

after(async () => {
  await conn?.close().catch(() => {});
  await broker?.stop();
});

test("unacked messages of a SIGKILLed consumer go to the next consumer in order, redelivered=true", async () => {
  const q = uid("redeliver");
  const total = 25;
  const prefetch = 10;
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue(q, { durable: false, autoDelete: false });
  let child;
  const client = new AMQPClient(broker.url);
  try {
    for (let i = 0; i < total; i++) ch.sendToQueue(q, Buffer.from(`m${i}`));
    await ch.waitForConfirms();

    child = spawn(process.execPath, [CHILD, broker.url, q], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = once(child, "exit");
    const lines = [];
    createInterface({ input: child.stdout }).on("line", (l) => lines.push(l));
    await waitFor(() => lines.length >= prefetch, 10000, "child deliveries");
    await sleep(200); // prefetch must stop it at 10
    assert.deepEqual(
      lines,
      Array.from({ length: prefetch }, (_, i) => `m${i} false`),
    );
    assert.deepEqual(await ch.checkQueue(q), { queue: q, messageCount: total - prefetch, consumerCount: 1 });

    child.kill("SIGKILL");
    await withTimeout(exited, 5000, "child exit");
    await waitFor(
      async () => (await ch.checkQueue(q)).consumerCount === 0,
      5000,
      "broker noticing the dead consumer",
    );
    assert.deepEqual(await ch.checkQueue(q), { queue: q, messageCount: total, consumerCount: 0 });

    await client.connect();
    const cch = await client.channel();
    await cch.prefetch(100);
    const got = [];
    await cch.basicConsume(q, { noAck: false }, async (m) => {
      got.push(`${m.bodyString()} ${m.redelivered}`);
      await m.ack();
    });
    await waitFor(() => got.length === total, 5000, "redeliveries");
    assert.deepEqual(
      got,
      Array.from({ length: total }, (_, i) => `m${i} ${i < prefetch}`),
    );
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await client.close().catch(() => {});
    await ch.deleteQueue(q);
    await ch.close();
  }
});
