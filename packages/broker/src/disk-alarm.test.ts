// The disk alarm: below the free-space limit the broker tells publishers it is blocked
// (connection.blocked, to clients that advertise the capability) and stops reading their
// sockets; consumers keep working, and publishing resumes when space returns.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import amqplib from "amqplib";
import { Broker } from "./broker.js";
import { lineLogger } from "./logger.js";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("below the free-disk limit publishers are blocked until space returns", async () => {
  const dir = mkdtempSync(join(tmpdir(), "warren-alarm-"));
  const broker = new Broker({
    port: 0,
    dataDir: dir,
    diskFreeLimit: Number.MAX_SAFE_INTEGER,
    log: lineLogger(() => {}),
  });
  const port = await broker.start();
  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  const pub = await amqplib.connect(url);
  const blocked: string[] = [];
  pub.on("blocked", (reason: string) => blocked.push(reason));
  pub.on("unblocked", () => blocked.push("unblocked"));
  const sub = await amqplib.connect(url);
  try {
    const subCh = await sub.createChannel();
    await subCh.assertQueue("alarm-q", { durable: true });
    const ch = await pub.createConfirmChannel();
    // The publish that finds the alarm on was already read off the socket; like RabbitMQ,
    // Warren lets it through and stops reading that connection after it.
    ch.sendToQueue("alarm-q", Buffer.from("first"), { persistent: true });
    await wait(300);
    assert.deepEqual(blocked, ["low on disk"], "connection.blocked sent to the publisher");
    let confirmed = false;
    ch.sendToQueue("alarm-q", Buffer.from("held"), { persistent: true }, () => {
      confirmed = true;
    });
    await wait(500);
    assert.equal(confirmed, false, "no confirm while blocked");
    const before = await subCh.checkQueue("alarm-q");
    assert.ok(before.messageCount <= 1, "the held publish did not reach the queue");
    broker.setDiskFreeLimit(0);
    await wait(300);
    assert.deepEqual(blocked, ["low on disk", "unblocked"]);
    await ch.waitForConfirms();
    assert.equal(confirmed, true, "the held publish is confirmed after the alarm clears");
    const bodies: string[] = [];
    for (
      let m = await subCh.get("alarm-q", { noAck: true });
      m;
      m = await subCh.get("alarm-q", { noAck: true })
    ) {
      bodies.push(m.content.toString());
    }
    assert.deepEqual(bodies, ["first", "held"]);
  } finally {
    await pub.close().catch(() => {});
    await sub.close().catch(() => {});
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
