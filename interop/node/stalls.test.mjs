// One client must not stall the broker for everybody else. Each test runs a flood that used to
// freeze Warren's event loop for seconds, while a bystander connection keeps doing round trips
// on its own channel; the bystander's longest round trip must stay far below what the flood
// used to cost (seconds). bench/stall.mjs measures the same scenarios with figures, RabbitMQ
// alongside. The bounds are loose on purpose (a slow CI machine must not fail them); what
// they catch is work that grows with the flood's size on the event loop: quadratic consumer
// bookkeeping, a scan of every queue per closing connection, allocations of declared sizes.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import amqplib from "amqplib";
import { startBroker } from "../lib/broker.mjs";
import { sleep, uid, waitFor } from "./helpers.mjs";
import { frame, handshake, M, Writer } from "./raw-amqp.mjs";

/** The bystander's worst round trip a flood may cause. Before the fixes: 1.1 s to 10 s. */
const MAX_STALL_MS = 750;

let broker;
let bystander;

before(async () => {
  broker = await startBroker();
  bystander = await amqplib.connect(broker.url);
});

after(async () => {
  await bystander?.close().catch(() => {});
  await broker?.stop();
});

/** Round trips (queue.declare passive) on a channel of the bystander until stop(); max in ms. */
async function watch() {
  const ch = await bystander.createChannel();
  const q = uid("bystander");
  await ch.assertQueue(q, { exclusive: true });
  let running = true;
  let max = 0;
  let trips = 0;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      await ch.checkQueue(q);
      max = Math.max(max, performance.now() - t0);
      trips++;
      await sleep(5);
    }
  })();
  return async () => {
    running = false;
    await loop;
    await ch.close();
    return { max, trips };
  };
}

const rssMiB = () =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${broker.proc.pid}/status`, "utf8"))[1]) / 1024;

/** A raw connection with channels 1..n open. */
async function rawWithChannels(n) {
  const r = await handshake({ host: broker.host, port: broker.port });
  assert.ok(r.openOk);
  for (let ch = 1; ch <= n; ch++) r.conn.method(ch, M.channelOpen, new Writer().shortstr(""));
  await waitForFrames(r.conn, n);
  return r.conn;
}

/** Waits until the connection has received n frames (cheap: no search over 50,000 frames). */
async function waitForFrames(conn, n, ms = 60_000) {
  await waitFor(() => conn.frames.length >= n, ms, `${n} frames`);
  conn.frames.length = 0;
}

describe(
  "no stall from one client's flood",
  { skip: !!process.env.INTEROP_TARGET_URL && "Warren process only" },
  () => {
    test("2,000 channels each declaring a 128 MiB body and sending one byte: no stall, no allocation of the declared size", async () => {
      const rss0 = rssMiB();
      const stop = await watch();
      const conn = await rawWithChannels(2000);
      const header = new Writer()
        .short(60)
        .short(0)
        .longlong(128 * 1024 * 1024)
        .short(0)
        .toBuffer();
      for (let ch = 1; ch <= 2000; ch++) {
        conn.method(
          ch,
          M.basicPublish,
          new Writer().short(0).shortstr("").shortstr("nowhere").bits(false, false),
        );
        conn.write(frame(2, ch, header));
        conn.write(frame(3, ch, Buffer.from("x")));
      }
      await sleep(1500);
      const grown = rssMiB() - rss0;
      conn.destroy();
      const { max, trips } = await stop();
      assert.ok(trips > 10, "the bystander made round trips");
      assert.ok(max < MAX_STALL_MS, `bystander stalled ${max.toFixed(0)} ms`);
      // 2,000 × 128 MiB declared; what is held must follow what arrived (a few buffers each).
      assert.ok(grown < 200, `broker RSS grew ${grown.toFixed(0)} MiB`);
    });

    test("50,000 consumers on one queue: adding them and closing their connection does not stall", async () => {
      const q = uid("many-consumers");
      const setup = await bystander.createChannel();
      await setup.assertQueue(q);
      const stop = await watch();
      const conn = await rawWithChannels(50);
      let n = 0;
      for (let ch = 1; ch <= 50; ch++) {
        for (let i = 0; i < 1000; i++) {
          conn.method(
            ch,
            M.basicConsume,
            new Writer().short(0).shortstr(q).shortstr(`c${n++}`).bits(false, false, false, false).table({}),
          );
        }
      }
      await waitForFrames(conn, 50_000);
      const { consumerCount } = await setup.checkQueue(q);
      assert.equal(consumerCount, 50_000);
      conn.destroy();
      await waitFor(async () => (await setup.checkQueue(q)).consumerCount === 0, 30_000, "consumers gone");
      const { max } = await stop();
      await setup.deleteQueue(q);
      await setup.close();
      assert.ok(max < MAX_STALL_MS, `bystander stalled ${max.toFixed(0)} ms`);
    });

    test("with 50,000 queues, 1,000 connections closing at once do not stall", async () => {
      const prefix = uid("q50k");
      const conn = await rawWithChannels(1);
      for (let i = 0; i < 50_000; i++) {
        conn.method(
          1,
          M.queueDeclare,
          new Writer().short(0).shortstr(`${prefix}.${i}`).bits(false, false, false, false, true).table({}),
        );
      }
      // nowait declares: a passive declare of the last one answers once all are done.
      await waitFor(() => queueExists(`${prefix}.49999`), 60_000, "50,000 queues");
      const clients = [];
      for (let i = 0; i < 1000; i += 50) {
        const batch = await Promise.all(
          Array.from({ length: 50 }, () => handshake({ host: broker.host, port: broker.port })),
        );
        for (const r of batch) {
          assert.ok(r.openOk);
          r.conn.method(1, M.channelOpen, new Writer().shortstr(""));
          clients.push(r.conn);
        }
      }
      const stop = await watch();
      await sleep(50);
      for (const c of clients) c.destroy();
      await sleep(1000);
      const { max } = await stop();
      assert.ok(max < MAX_STALL_MS, `bystander stalled ${max.toFixed(0)} ms`);
      // Clean up: delete the queues (pipelined, nowait), then check the last is gone.
      for (let i = 0; i < 50_000; i++) {
        conn.method(1, [50, 40], new Writer().short(0).shortstr(`${prefix}.${i}`).bits(false, false, true));
      }
      await waitFor(async () => !(await queueExists(`${prefix}.49999`)), 60_000, "queues deleted");
      conn.destroy();
    });
  },
);

/** Whether a queue exists (a passive declare on a channel of its own: a 404 closes it). */
async function queueExists(name) {
  const ch = await bystander.createChannel();
  ch.on("error", () => {});
  try {
    await ch.checkQueue(name);
    await ch.close();
    return true;
  } catch {
    return false;
  }
}
