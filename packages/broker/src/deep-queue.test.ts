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
