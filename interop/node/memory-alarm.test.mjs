// The memory alarm (issue 7/): above --memory-high-watermark the broker sends connection.blocked
// ("low on memory") to publishing connections and stops reading them; consumers and acks keep
// flowing, and when memory is back below the watermark connection.unblocked follows and the
// held publishes go through. Warren only: RabbitMQ's watermark is node-wide and shared (see
// bench/memory-flood.mjs for the comparison run).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import amqp from "amqplib";
import { startBroker } from "../lib/broker.mjs";
import { sleep, waitFor, withTimeout } from "./helpers.mjs";

const external = !!process.env.INTEROP_TARGET_URL;
let broker;

before(async () => {
  if (external) return;
  // ~55 MiB at rest; 100 MiB of 64 KiB messages in a queue crosses it.
  broker = await startBroker({ args: ["--memory-high-watermark", "110MiB"] });
});

after(async () => {
  await broker?.stop();
});

test(
  "the memory alarm blocks a publisher while a consumer drains, then unblocks it",
  { skip: external },
  async () => {
    const pub = await amqp.connect(broker.url);
    const sub = await amqp.connect(broker.url);
    const events = [];
    pub.on("blocked", (reason) => events.push(`blocked: ${reason}`));
    pub.on("unblocked", () => events.push("unblocked"));
    try {
      const pch = await pub.createConfirmChannel();
      await pch.assertQueue("mem-alarm", { autoDelete: false });
      const body = Buffer.alloc(64 * 1024, 7);
      let sent = 0;
      let confirmed = 0;
      // Flood until the broker says it is blocked (never more than 400 MiB).
      while (events.length === 0 && sent < 6400) {
        for (let i = 0; i < 50; i++, sent++)
          pch.sendToQueue("mem-alarm", body, {}, (err) => err || confirmed++);
        await sleep(5);
      }
      assert.deepEqual(events, ["blocked: low on memory"], `blocked after ${sent} messages`);
      // Everything sent after the block is held: confirms stop.
      for (let i = 0; i < 20; i++, sent++)
        pch.sendToQueue("mem-alarm", body, {}, (err) => err || confirmed++);
      await sleep(500);
      const heldAt = confirmed;
      await sleep(500);
      assert.equal(confirmed, heldAt, "no confirms while blocked");
      assert.ok(confirmed < sent, "some publishes are held");

      // The consumer keeps working while the publisher is blocked.
      const sch = await sub.createChannel();
      await sch.prefetch(100);
      let received = 0;
      let firstAt = 0;
      await sch.consume("mem-alarm", (m) => {
        received++;
        if (received === 1) firstAt = events.length;
        sch.ack(m);
      });
      await withTimeout(
        waitFor(() => received >= 10, 5000, "deliveries"),
        6000,
        "deliveries while blocked",
      );
      assert.equal(firstAt, 1, "the consumer received while the publisher was still blocked");
      // Draining brings memory back below the watermark: unblocked, and the held publishes land.
      await waitFor(() => events.includes("unblocked"), 15000, "connection.unblocked");
      await withTimeout(pch.waitForConfirms(), 10000, "confirms of the held publishes");
      await waitFor(() => received === sent, 10000, `all ${sent} messages consumed (got ${received})`);
      // The alarm may go on again while the held publishes land (memory near the watermark):
      // what matters is that it cleared and nothing was lost.
    } finally {
      await pub.close().catch(() => {});
      await sub.close().catch(() => {});
    }
  },
);
