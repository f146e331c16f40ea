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

/** Consumes from q with acks, checking bodies m<from>, m<from+1>, ... until m<to - 1>. */
async function consumeInOrder(ch: amqplib.Channel, q: string, from: number, to: number): Promise<void> {
  let next = from;
  await new Promise<void>((resolve) => {
    void ch.consume(q, (m) => {
      assert.equal(m!.content.toString(), `m${next++}`);
      ch.ack(m!);
      if (next === to) resolve();
    });
  });
}

test("a deep durable queue spills to a tail file, recovers through it and drains in order", async () => {
  const dir = mkdtempSync(join(tmpdir(), "warren-deep-"));
  const n = 60_000;
  let { broker, conn } = await boot(dir);
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue("deep", { durable: true });
    for (let i = 0; i < n; i++) {
      ch.sendToQueue("deep", Buffer.from(`m${i}`), { persistent: true });
      if (i % 5000 === 4999) await ch.waitForConfirms();
    }
    await ch.waitForConfirms();
    assert.ok(tailFiles(dir).length > 0, "past the window, entries went to a tail file");
    // Consume part of it, so the restart recovers a queue whose head was already acked.
    const first = await conn.createChannel();
    await first.prefetch(1000);
    await consumeInOrder(first, "deep", 0, 1000);
    await first.close();
    await conn.close();
    await broker.stop();

    ({ broker, conn } = await boot(dir));
    assert.ok(tailFiles(dir).length > 0, "the recovered backlog went to a fresh tail file");
    const c = await conn.createChannel();
    assert.equal((await c.checkQueue("deep")).messageCount, n - 1000);
    await c.prefetch(2000);
    await consumeInOrder(c, "deep", 1000, n);
    assert.equal((await c.checkQueue("deep")).messageCount, 0);
    assert.deepEqual(tailFiles(dir), [], "the drained queue left no tail file");
    await conn.close();
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a deep durable priority queue spills every level, recovers and drains in priority order", async () => {
  const dir = mkdtempSync(join(tmpdir(), "warren-deep-prio-"));
  const n = 60_000;
  // Priorities 0-9 on a queue of x-max-priority 6: 7, 8 and 9 count as 6.
  const prio = (i: number) => (i * 7) % 10;
  const level = (i: number) => Math.min(prio(i), 6);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => level(b) - level(a) || a - b);
  let { broker, conn } = await boot(dir);
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue("deep-prio", { durable: true, arguments: { "x-max-priority": 6 } });
    for (let i = 0; i < n; i++) {
      ch.sendToQueue("deep-prio", Buffer.from(`m${i}`), { persistent: true, priority: prio(i) });
      if (i % 5000 === 4999) await ch.waitForConfirms();
    }
    await ch.waitForConfirms();
    assert.ok(tailFiles(dir).length >= 7, `every level spilled (${tailFiles(dir).length} files)`);
    const first = await conn.createChannel();
    await first.prefetch(500);
    await consumeOrder(first, "deep-prio", order.slice(0, 2000));
    await first.close();
    await conn.close();
    await broker.stop();

    ({ broker, conn } = await boot(dir));
    assert.ok(tailFiles(dir).length >= 7, "the recovered levels went to fresh tail files");
    const c = await conn.createChannel();
    assert.equal((await c.checkQueue("deep-prio")).messageCount, n - 2000);
    await c.prefetch(2000);
    await consumeOrder(c, "deep-prio", order.slice(2000));
    assert.equal((await c.checkQueue("deep-prio")).messageCount, 0);
    assert.deepEqual(tailFiles(dir), [], "the drained levels left no tail file");
    await conn.close();
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

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
