#!/usr/bin/env node
// Memory flood: transient messages published at full speed with publisher confirms into a
// queue that has no consumer, against a broker with a memory high watermark. It samples the
// broker's resident memory (peak RSS), times how long the publisher was blocked
// (connection.blocked → connection.unblocked), then starts a consumer that drains the queue
// and checks that every confirmed message arrives (lost = confirmed but never delivered).
//
//   # Warren, spawned with --memory-high-watermark 512MiB, 1 KiB and 64 KiB bodies, 60 s each
//   npm run build && node bench/memory-flood.mjs --duration 60
//
//   # RabbitMQ on 5682 with the same watermark (set it first, restore 0.4 afterwards):
//   #   rabbitmqctl set_vm_memory_high_watermark absolute 512MiB
//   node bench/memory-flood.mjs --url amqp://guest:guest@localhost:5682 --duration 15
//
// Plain ESM, Node 20, only @cloudamqp/amqp-client from the repository's node_modules.

import { AMQPClient } from "@cloudamqp/amqp-client";
import {
  DEFAULT_CLI,
  detectBrokerPid,
  fmtInt,
  fmtMB,
  log,
  parseCommandLine,
  printColumns,
  procStatus,
  sleep,
  spawnWarren,
} from "./lib/common.mjs";

const USAGE = `usage: node bench/memory-flood.mjs [options]

  --url URL          broker to flood (default: spawn Warren from --cli with the watermark)
  --broker-pid PID   its pid, for RSS (default: the owner of the URL's port)
  --cli PATH         Warren CLI to spawn (default ${DEFAULT_CLI})
  --watermark SIZE   --memory-high-watermark of the spawned Warren (default 512MiB)
  --duration S       seconds of flooding per body size (default 15)
  --sizes LIST       body sizes in bytes (default 1024,65536)
  --window N         unconfirmed publishes in flight (default 1000)
  --json             print JSON instead of the table
`;

const { values, num, int } = parseCommandLine(
  process.argv.slice(2),
  {
    url: { type: "string" },
    "broker-pid": { type: "string" },
    cli: { type: "string", default: DEFAULT_CLI },
    watermark: { type: "string", default: "512MiB" },
    duration: { type: "string", default: "15" },
    sizes: { type: "string", default: "1024,65536" },
    window: { type: "string", default: "1000" },
    json: { type: "boolean", default: false },
  },
  USAGE,
);
const duration = num("duration", 1);
const window = int("window", 1);
const sizes = values.sizes.split(",").map(Number);

const spawned = values.url
  ? undefined
  : await spawnWarren({
      cli: values.cli,
      label: "flood",
      serverArgs: ["--memory-high-watermark", values.watermark],
    });
const url = values.url ?? spawned.url;
const pid = values["broker-pid"] ? Number(values["broker-pid"]) : (spawned?.pid ?? detectBrokerPid(url));
if (!pid) log("warning: broker pid unknown, no RSS figures");

const results = [];
try {
  for (const size of sizes) results.push(await flood(size));
} finally {
  await spawned?.stop();
}

if (values.json) console.log(JSON.stringify({ url, pid, duration, window, results }, null, 2));
else {
  printColumns(
    [
      [
        "body",
        "published",
        "confirmed",
        "msgs/s",
        "peak RSS",
        "blocked",
        "blocks",
        "drain",
        "delivered",
        "lost",
      ],
      ...results.map((r) => [
        `${r.size} B`,
        fmtInt(r.published),
        fmtInt(r.confirmed),
        fmtInt(r.confirmed / r.floodSeconds),
        fmtMB(r.peakRss),
        `${r.blockedSeconds.toFixed(1)} s (${Math.round((100 * r.blockedSeconds) / r.floodSeconds)} %)`,
        String(r.blocks),
        `${r.drainSeconds.toFixed(1)} s`,
        fmtInt(r.delivered),
        fmtInt(r.lost),
      ]),
    ],
    (i) => i > 0,
  );
}

/** One flood and drain with bodies of `size` bytes. */
async function flood(size) {
  const queue = `memory-flood-${size}`;
  const pubConn = new AMQPClient(url);
  await pubConn.connect();
  const setup = await pubConn.channel();
  await setup.queueDelete(queue).catch(() => {});
  const ch = await pubConn.channel();
  await ch.queueDeclare(queue, { durable: false, autoDelete: false });
  await ch.confirmSelect();

  let blockedSince = 0;
  let blockedMs = 0;
  let blocks = 0;
  pubConn.onblocked = (reason) => {
    blocks++;
    blockedSince = Date.now();
    log(`${size} B: blocked (${reason})`);
  };
  pubConn.onunblocked = () => {
    blockedMs += Date.now() - blockedSince;
    blockedSince = 0;
    log(`${size} B: unblocked`);
  };

  let peakRss = 0;
  const sampler = setInterval(() => {
    const { rss } = procStatus(pid);
    if (rss > peakRss) peakRss = rss;
  }, 100);

  // Every body carries its sequence number, so the drain can tell which confirmed ones arrived.
  const body = Buffer.alloc(size, 0x78);
  const confirmedSeqs = new Uint8Array(16 * 1024 * 1024);
  let published = 0;
  let confirmed = 0;
  let failed = 0;
  let inflight = 0;
  let wake = () => {};
  const t0 = Date.now();
  const end = t0 + duration * 1000;
  log(`${size} B: flooding ${queue} for ${duration} s`);
  while (Date.now() < end && published < confirmedSeqs.length) {
    if (inflight >= window || pubConn.blocked) {
      await Promise.race([new Promise((r) => (wake = r)), sleep(20)]);
      continue;
    }
    const seq = published++;
    body.writeUInt32BE(seq, 0);
    inflight++;
    ch.basicPublish("", queue, body, { deliveryMode: 1 }).then(
      () => {
        confirmedSeqs[seq] = 1;
        confirmed++;
        inflight--;
        wake();
      },
      () => {
        failed++;
        inflight--;
        wake();
      },
    );
    if (published % 256 === 0) await new Promise((r) => setImmediate(r));
  }
  const floodSeconds = (Date.now() - t0) / 1000;
  // Blocked time counts the flood only: the drain unblocks the publisher by design.
  const blockedFloodMs = blockedMs + (blockedSince ? Date.now() - blockedSince : 0);
  log(`${size} B: ${fmtInt(published)} published, ${fmtInt(confirmed)} confirmed; draining`);

  // The consumer drains while the last publishes (possibly held by the alarm) are confirmed.
  const subConn = new AMQPClient(url);
  await subConn.connect();
  const sub = await subConn.channel();
  await sub.prefetch(1000);
  const seen = new Uint8Array(confirmedSeqs.length);
  let delivered = 0;
  let lastDelivery = Date.now();
  const t1 = Date.now();
  await sub.basicConsume(queue, { noAck: false }, (msg) => {
    const seq = Buffer.from(msg.body.buffer, msg.body.byteOffset, 4).readUInt32BE(0);
    if (!seen[seq]) delivered++;
    seen[seq] = 1;
    lastDelivery = Date.now();
    if (delivered % 100 === 0) msg.ack(true);
  });
  while (inflight > 0 || delivered < confirmed + 0) {
    if (inflight === 0 && Date.now() - lastDelivery > 5000) break;
    if (Date.now() - lastDelivery > 60_000) break;
    await sleep(50);
  }
  const drainSeconds = (Date.now() - t1 - (delivered >= confirmed ? 0 : 5000)) / 1000;
  clearInterval(sampler);
  let lost = 0;
  for (let i = 0; i < published; i++) if (confirmedSeqs[i] && !seen[i]) lost++;
  log(
    `${size} B: ${fmtInt(delivered)} delivered in ${drainSeconds.toFixed(1)} s, ${lost} lost, peak RSS ${fmtMB(peakRss)}`,
  );
  await sub.queueDelete(queue).catch(() => {});
  await subConn.close().catch(() => {});
  await pubConn.close().catch(() => {});
  return {
    size,
    published,
    confirmed,
    failed,
    floodSeconds,
    peakRss,
    blockedSeconds: blockedFloodMs / 1000,
    blocks,
    drainSeconds,
    delivered,
    lost,
  };
}

// Client sockets that the broker closed may still hold timers; the figures are out.
process.exit(0);
