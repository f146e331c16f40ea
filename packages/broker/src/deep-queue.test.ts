// Deep durable queues keep only a window in memory: past it, paged-out entries go to a tail
// file in the data directory's tails/ (store/tail-file.ts), which is scratch: recovery
// rebuilds it from the segment log and the drained queue leaves no file behind.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import amqplib from "amqplib";
import { Broker } from "./broker.js";
import { lineLogger } from "./logger.js";

const tailFiles = (dir: string) => (existsSync(join(dir, "tails")) ? readdirSync(join(dir, "tails")) : []);

/** A quiet broker on dir and a connection to it. */
async function boot(dir: string): Promise<{ broker: Broker; conn: amqplib.ChannelModel }> {
  const broker = new Broker({ port: 0, dataDir: dir, log: lineLogger(() => {}) });
  const port = await broker.start();
  return { broker, conn: await amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}`) };
}

/** Consumes from q with acks, checking that the bodies are m<i> for each i of `want` in turn. */
async function consumeOrder(ch: amqplib.Channel, q: string, want: number[]): Promise<void> {
  let k = 0;
  await new Promise<void>((resolve, reject) => {
    void ch.consume(q, (m) => {
      if (k === want.length) return; // past the end: left unacked, so it stays queued
      const body = m!.content.toString();
      if (body !== `m${want[k]}`) reject(new Error(`delivery ${k}: got ${body}, want m${want[k]}`));
      ch.ack(m!);
      if (++k === want.length) resolve();
    });
  });
}

/**
 * Publishes m0, m1, ... (persistent, with props(i)) to a durable queue declared with args,
 * consumes the first `early` of `order` (the expected delivery order), restarts the broker,
 * and consumes the rest: past the window, entries go to tail files (at least minTails), the
 * restart recovers through fresh ones, and the drained queue leaves none.
 */
async function roundTrip(
  queue: string,
  args: Record<string, unknown>,
  props: (i: number) => amqplib.Options.Publish,
  order: number[],
  early: number,
  minTails: number,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "warren-deep-"));
  const n = order.length;
  let { broker, conn } = await boot(dir);
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(queue, { durable: true, arguments: args });
    for (let i = 0; i < n; i++) {
      ch.sendToQueue(queue, Buffer.from(`m${i}`), { persistent: true, ...props(i) });
      if (i % 5000 === 4999) await ch.waitForConfirms();
    }
    await ch.waitForConfirms();
    assert.ok(
      tailFiles(dir).length >= minTails,
      `past the window, entries went to tail files (${tailFiles(dir)})`,
    );
    // Consume part of it, so the restart recovers a queue whose head was already acked.
    const first = await conn.createChannel();
    await first.prefetch(500);
    await consumeOrder(first, queue, order.slice(0, early));
    await first.close();
    await conn.close();
    await broker.stop();

    ({ broker, conn } = await boot(dir));
    assert.ok(tailFiles(dir).length >= minTails, "the recovered backlog went to fresh tail files");
    const c = await conn.createChannel();
    assert.equal((await c.checkQueue(queue)).messageCount, n - early);
    await c.prefetch(2000);
    await consumeOrder(c, queue, order.slice(early));
    assert.equal((await c.checkQueue(queue)).messageCount, 0);
    assert.deepEqual(tailFiles(dir), [], "the drained queue left no tail file");
    await conn.close();
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a deep durable queue spills to a tail file, recovers through it and drains in order", async () => {
  const n = 60_000;
  await roundTrip(
    "deep",
    {},
    () => ({}),
    Array.from({ length: n }, (_, i) => i),
    1000,
    1,
  );
});

test("a deep durable priority queue spills every level, recovers and drains in priority order", async () => {
  const n = 60_000;
  // Priorities 0-9 on a queue of x-max-priority 6: 7, 8 and 9 count as 6. Highest first,
  // publish order within a priority.
  const prio = (i: number) => (i * 7) % 10;
  const level = (i: number) => Math.min(prio(i), 6);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => level(b) - level(a) || a - b);
  await roundTrip("deep-prio", { "x-max-priority": 6 }, (i) => ({ priority: prio(i) }), order, 2000, 7);
});
