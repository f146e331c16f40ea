// The chaos scenario of interop/client-chaos.test.mjs, run as a child process with
// --unhandled-rejections=strict: producers (confirm mode) and consumers on @warren/client's
// RecoveringConnection while a broker process with a data directory is killed with SIGKILL
// and restarted KILLS times; a queue is deleted under a consumer by another connection (a
// server basic.cancel), and channel errors are provoked on a consumer's channel (a double ack)
// and a producer's (a publish to a missing exchange). Prints one JSON line with what happened;
// the test asserts on it.
//
//   node --unhandled-rejections=strict interop/lib/client-chaos.mjs
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, RecoveringConnection } from "@warren/client";
import { freePort, startBroker } from "./broker.mjs";

const KILLS = Number(process.env.CHAOS_KILLS ?? 10);
const LANES = 8; // concurrent publishes per producer
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const summary = {
  kills: 0,
  recoveries: 0,
  published: 0,
  confirmed: 0,
  publishFailures: {},
  received: 0,
  unique: 0,
  duplicates: 0,
  duplicatesRedelivered: 0,
  missing: [],
  resumedAfterEachRecovery: true,
  sideCancelled: false,
  sideResumed: false,
  consumerChannelErrors: 0,
  producerChannelErrors: 0,
  channelRecoveries: 0,
  warnings: [],
  events: [],
  ms: 0,
};
const started = Date.now();
process.on("warning", (w) => summary.warnings.push(`${w.name}: ${w.message}`));

async function waitFor(cond, ms, what) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

const port = await freePort();
const dataDir = mkdtempSync(join(tmpdir(), "warren-chaos-"));
let broker = await startBroker({ port, dataDir });

const rc = await RecoveringConnection.connect(broker.url, {
  heartbeat: 5,
  recovery: { initialDelay: 50, maxDelay: 1000 },
});
for (const ev of ["disconnected", "recovered", "recovery-failed"]) {
  rc.on(ev, () => summary.events.push(ev));
}
rc.on("recovered", () => summary.recoveries++);
rc.on("error", (e) => summary.events.push(`error: ${e.message}`));

// ------------------------------------------------------------------ topology
const admin = await rc.createChannel();
admin.on("error", () => {});
await admin.exchangeDeclare("chaos.x", "fanout", { durable: true });
await admin.queueDeclare("chaos.main", { durable: true });
await admin.queueBind("chaos.main", "chaos.x");
await admin.queueDeclare("chaos.side", { durable: true });
await admin.queueBind("chaos.side", "chaos.x");

// ------------------------------------------------------------------ consumers
const seen = new Map(); // message id -> deliveries
let mainDeliveries = 0;
let doubleAckNext = false;
const consumerCh = await rc.createChannel();
consumerCh.on("error", (e) => {
  if (e.replyCode === 406) summary.consumerChannelErrors++;
  else summary.events.push(`consumer error: ${e.message}`);
});
consumerCh.on("recovered", () => summary.channelRecoveries++);
await consumerCh.basicQos(200);
await consumerCh.basicConsume("chaos.main", (m) => {
  mainDeliveries++;
  summary.received++;
  const id = m.properties.messageId;
  const n = (seen.get(id) ?? 0) + 1;
  seen.set(id, n);
  if (n > 1) {
    summary.duplicates++;
    if (m.fields.redelivered) summary.duplicatesRedelivered++;
  }
  m.ack();
  if (doubleAckNext) {
    doubleAckNext = false;
    m.ack(); // 406 PRECONDITION_FAILED - unknown delivery tag: the channel is closed and reopened
  }
});

let sideDeliveries = 0;
const sideCh = await rc.createChannel();
sideCh.on("error", (e) => summary.events.push(`side error: ${e.message}`));
sideCh.on("cancel", () => (summary.sideCancelled = true));
await sideCh.basicConsume(
  "chaos.side",
  () => {
    sideDeliveries++;
  },
  { noAck: true },
);

// ------------------------------------------------------------------ producers
let running = true;
let nextId = 0;
const confirmed = new Set();
async function producer(name) {
  const ch = await rc.createChannel({ publishWindow: 200 });
  ch.on("error", (e) => {
    if (e.replyCode === 404) summary.producerChannelErrors++;
    else summary.events.push(`producer ${name} error: ${e.message}`);
  });
  ch.on("recovered", () => summary.channelRecoveries++);
  await ch.confirmSelect();
  const lane = async () => {
    while (running) {
      const id = `m${nextId++}`;
      summary.published++;
      try {
        await ch.publish("chaos.x", "", id, { messageId: id, deliveryMode: 2 });
        confirmed.add(id);
      } catch (e) {
        summary.publishFailures[e.name] = (summary.publishFailures[e.name] ?? 0) + 1;
      }
    }
  };
  return { ch, done: Promise.all(Array.from({ length: LANES }, lane)) };
}
const producers = [await producer("a"), await producer("b")];

// ------------------------------------------------------------------ chaos
/** A plain connection, for what "someone else" does to the broker; reopened when needed. */
let otherConn;
async function other() {
  if (!otherConn?.isOpen) {
    otherConn = await connect(broker.url);
    otherConn.on("error", () => {});
  }
  return otherConn;
}

for (let k = 1; k <= KILLS; k++) {
  await sleep(700 + Math.random() * 800);
  await broker.kill("SIGKILL");
  summary.kills++;
  await sleep(100 + Math.random() * 300);
  broker = await startBroker({ port, dataDir });
  await waitFor(() => summary.recoveries >= k, 30_000, `recovery ${k}`);
  // Consumers resume every time: deliveries after the recovery.
  const before = mainDeliveries;
  try {
    await waitFor(() => mainDeliveries > before, 15_000, `deliveries after recovery ${k}`);
  } catch {
    summary.resumedAfterEachRecovery = false;
  }
  if (k === Math.min(3, KILLS)) {
    // A server basic.cancel: the queue is deleted under its consumer, which declares it
    // again (it was declared through rc) and resubscribes.
    const resubscribed = new Promise((r) => sideCh.once("resubscribed", r));
    const ch = await (await other()).createChannel();
    await ch.queueDelete("chaos.side");
    await ch.close();
    await resubscribed;
    const sideBefore = sideDeliveries;
    await waitFor(() => sideDeliveries > sideBefore, 15_000, "deliveries on the re-declared side queue");
    summary.sideResumed = true;
  }
  if (k === Math.min(5, KILLS)) {
    doubleAckNext = true;
    await waitFor(() => summary.consumerChannelErrors > 0, 15_000, "the provoked consumer channel error");
  }
  if (k === Math.min(7, KILLS)) {
    const ch = producers[0].ch;
    await ch.publish("chaos.missing", "", "nowhere").catch(() => {});
    await waitFor(() => summary.producerChannelErrors > 0, 15_000, "the provoked producer channel error");
  }
}

// ------------------------------------------------------------------ drain and check
running = false;
await Promise.all(producers.map((p) => p.done));
summary.confirmed = confirmed.size;
try {
  await waitFor(() => [...confirmed].every((id) => seen.has(id)), 30_000, "every confirmed message");
} catch {
  // reported below
}
summary.missing = [...confirmed].filter((id) => !seen.has(id)).slice(0, 20);
summary.missingCount = [...confirmed].filter((id) => !seen.has(id)).length;
summary.unique = seen.size;
summary.ms = Date.now() - started;
await rc.close();
await otherConn?.close();
await broker.stop();
rmSync(dataDir, { recursive: true, force: true });
console.log(JSON.stringify(summary));
