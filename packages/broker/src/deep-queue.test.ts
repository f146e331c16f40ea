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

test("a deep durable queue spills to a tail file, recovers through it and drains in order", async () => {
  const dir = mkdtempSync(join(tmpdir(), "warren-deep-"));
  const n = 60_000;
  let broker = new Broker({ port: 0, dataDir: dir, log: lineLogger(() => {}) });
  let port = await broker.start();
  try {
    let conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}`);
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
    let taken = 0;
    await new Promise<void>((resolve) => {
      void first.consume("deep", (m) => {
        assert.equal(m!.content.toString(), `m${taken++}`);
        first.ack(m!);
        if (taken === 1000) resolve();
      });
    });
    await first.close();
    await conn.close();
    await broker.stop();

    broker = new Broker({ port: 0, dataDir: dir, log: lineLogger(() => {}) });
    port = await broker.start();
    assert.ok(tailFiles(dir).length > 0, "the recovered backlog went to a fresh tail file");
    conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    const c = await conn.createChannel();
    assert.equal((await c.checkQueue("deep")).messageCount, n - 1000);
    await c.prefetch(2000);
    let next = 1000;
    await new Promise<void>((resolve) => {
      void c.consume("deep", (m) => {
        assert.equal(m!.content.toString(), `m${next++}`);
        c.ack(m!);
        if (next === n) resolve();
      });
    });
    assert.equal((await c.checkQueue("deep")).messageCount, 0);
    assert.deepEqual(tailFiles(dir), [], "the drained queue left no tail file");
    await conn.close();
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
