// Transient paging: a deep queue pages transient messages out to the spool in the data
// directory (past 10,000 ready messages or 32 MiB), reads them back in order, and forgets them
// at a restart, since transient messages must not survive one.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import amqplib from "amqplib";
import { Broker } from "./broker.js";
import { lineLogger } from "./logger.js";

const spoolBytes = (dir: string) =>
  readdirSync(join(dir, "transient-spool"))
    .filter((f) => f.endsWith(".wseg"))
    .reduce((sum, f) => sum + statSync(join(dir, "transient-spool", f)).size, 0);

test("transient messages of a deep queue are paged out, delivered in order, and gone after a restart", async () => {
  const dir = mkdtempSync(join(tmpdir(), "warren-spool-"));
  let broker = new Broker({ port: 0, dataDir: dir, log: lineLogger(() => {}) });
  let port = await broker.start();
  try {
    let conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue("deep", { durable: true });
    await ch.assertQueue("fan", { durable: false });
    await ch.bindQueue("deep", "amq.fanout", "");
    await ch.bindQueue("fan", "amq.fanout", "");
    const n = 12_000;
    for (let i = 0; i < n; i++)
      ch.publish("amq.fanout", "", Buffer.from(`m${i}`), { persistent: i % 1000 === 0 });
    await ch.waitForConfirms();
    // 2,000 messages past the first 10,000 in each queue, ~40 bytes each with their routing.
    assert.ok(spoolBytes(dir) > 4000 * 30, `the spool holds the tails (${spoolBytes(dir)} bytes)`);
    // Both queues paged their tails; the fanout shares one Message between them.
    for (const q of ["deep", "fan"]) {
      const got: string[] = [];
      const consumer = await conn.createChannel();
      await consumer.prefetch(500);
      await new Promise<void>((resolve) => {
        void consumer.consume(q, (m) => {
          got.push(m!.content.toString());
          consumer.ack(m!);
          if (got.length === n) resolve();
        });
      });
      assert.deepEqual(got.slice(0, 3), ["m0", "m1", "m2"]);
      assert.equal(got[n - 1], `m${n - 1}`);
      assert.ok(
        got.every((b, i) => b === `m${i}`),
        `${q}: every message, in order`,
      );
      await consumer.close();
    }
    // Leave a paged backlog behind, then restart: the persistent ones come back, the
    // transient ones (paged or not) do not.
    for (let i = 0; i < n; i++) ch.sendToQueue("deep", Buffer.from(`r${i}`), { persistent: i % 1000 === 0 });
    await ch.waitForConfirms();
    await conn.close();
    await broker.stop();
    broker = new Broker({ port: 0, dataDir: dir, log: lineLogger(() => {}) });
    port = await broker.start();
    conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    const after = await conn.createChannel();
    const { messageCount } = await after.checkQueue("deep");
    assert.equal(messageCount, n / 1000, "only the persistent messages were recovered");
    assert.ok(spoolBytes(dir) < 1024, "the spool starts empty");
    await conn.close();
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a deep transient priority queue pages through the spool's tail files and delivers by priority", async () => {
  const dir = mkdtempSync(join(tmpdir(), "warren-spool-prio-"));
  const tails = join(dir, "transient-spool", "tails");
  const broker = new Broker({ port: 0, dataDir: dir, log: lineLogger(() => {}) });
  const port = await broker.start();
  try {
    const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue("prio", { durable: false, arguments: { "x-max-priority": 10 } });
    const n = 50_000;
    for (let i = 0; i < n; i++) ch.sendToQueue("prio", Buffer.from(`m${i}`), { priority: i % 11 });
    await ch.waitForConfirms();
    // Past the first 10,000, the transient messages went to the spool, and past each level's
    // window (2,048 for 11 levels) their entries went to a tail file per level.
    assert.equal(readdirSync(tails).length, 11, `one tail file per level (${readdirSync(tails)})`);
    const want = Array.from({ length: n }, (_, i) => i).sort((a, b) => (b % 11) - (a % 11) || a - b);
    let k = 0;
    await ch.prefetch(1000);
    await new Promise<void>((resolve, reject) => {
      void ch.consume("prio", (m) => {
        const body = m!.content.toString();
        if (body !== `m${want[k]}`) reject(new Error(`delivery ${k}: got ${body}, want m${want[k]}`));
        ch.ack(m!);
        if (++k === n) resolve();
      });
    });
    assert.deepEqual(readdirSync(tails), [], "the drained levels left no tail file");
    await conn.close();
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
