// Several alarm sources: with the memory and the disk alarm both on, publishers are told both
// reasons in RabbitMQ's form; clearing one leaves them blocked by the other.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import amqplib from "amqplib";
import { Broker } from "./broker.js";
import { lineLogger } from "./logger.js";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("memory and disk alarms together: 'low on memory & disk', unblocked only when both clear", async () => {
  const dir = mkdtempSync(join(tmpdir(), "warren-alarms-"));
  const broker = new Broker({
    port: 0,
    dataDir: dir,
    diskFreeLimit: Number.MAX_SAFE_INTEGER,
    memoryHighWatermark: 1024 * 1024, // 1 MiB: always above
    log: lineLogger(() => {}),
  });
  const port = await broker.start();
  const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}`);
  const events: string[] = [];
  conn.on("blocked", (reason: string) => events.push(reason));
  conn.on("unblocked", () => events.push("unblocked"));
  try {
    const ch = await conn.createChannel();
    await ch.assertQueue("two-alarms");
    ch.sendToQueue("two-alarms", Buffer.from("x"));
    await wait(300);
    assert.deepEqual(events, ["low on memory & disk"]);
    broker.setDiskFreeLimit(0);
    await wait(300);
    assert.deepEqual(events, ["low on memory & disk"], "still blocked by memory");
    broker.setMemoryHighWatermark("64GiB");
    await wait(300);
    assert.deepEqual(events, ["low on memory & disk", "unblocked"]);
    assert.equal(broker.alarmed, false);
  } finally {
    await conn.close().catch(() => {});
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
