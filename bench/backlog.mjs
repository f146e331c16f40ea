#!/usr/bin/env node
// Deep-backlog benchmark for durable queues: publishes N persistent messages with publisher
// confirms into one durable queue that has no consumer, samples the broker's memory, can kill
// the broker (SIGKILL) and restart it to time recovery, and drains the queue with a consumer.
//
//   # 10M x 1 KiB: publish, memory, drain, memory
//   WARREN_STORE_STATS=1 node packages/cli/dist/main.js server --port 5710 --data-dir /tmp/d > /tmp/d.log &
//   node bench/backlog.mjs --url amqp://guest:guest@localhost:5710 --broker-log /tmp/d.log
//
//   # recovery of 1M x 16 B after kill -9
//   node bench/backlog.mjs --url amqp://guest:guest@localhost:5710 --count 1000000 --size 16 \
//     --phases publish,restart,memory,drain --broker-log /tmp/d.log \
//     --restart-cmd "node packages/cli/dist/main.js server --port 5710 --data-dir /tmp/d"
//
// Plain ESM, Node 20, only @cloudamqp/amqp-client from the repository's node_modules (and the
// helpers in bench/lib/common.mjs).

import { execSync, spawn } from "node:child_process";
import { existsSync, openSync, readdirSync, readFileSync, statSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { AMQPClient } from "@cloudamqp/amqp-client";
import {
  canConnect,
  confirmCounter,
  detectBrokerPid,
  encodePublish,
  log,
  parseCommandLine,
  procStatus,
  sleep,
} from "./lib/common.mjs";

const USAGE = `Usage: node bench/backlog.mjs [options]

  --url URL            broker (default amqp://guest:guest@localhost:5672)
  --queue NAME         durable queue to fill (default backlog); deleted and redeclared by "publish"
  --count N            messages to publish (default 10000000)
  --size BYTES         body size (default 1024, minimum 8: a sequence number)
  --max-priority N     declare the queue with x-max-priority N; message k gets priority
                       k % (N + 1), and drain checks the order (highest first, FIFO within)
  --window N           publisher confirms in flight (default 2000)
  --batch N            publishes written per event-loop turn (default 200)
  --prefetch N         drain consumer's basic.qos (default 1000)
  --ack-every N        drain: one basic.ack multiple=true per N deliveries (default 100)
  --phases LIST        comma list, run in order, of (default publish,memory,drain,memory):
                         publish  (re)declare the queue, publish --count messages with confirms
                         memory   wait --settle s, then sample the broker's VmRSS/VmHWM (and the
                                  heap from the last "store stats" line in --broker-log)
                         restart  SIGKILL the broker, start --restart-cmd, time the recovery log
                                  line and the first TCP accept / AMQP connection
                         drain    consume everything with manual acks, check the order
                         delete   delete the queue
  --settle SECONDS     wait before a memory sample (default 6: one store-stats interval + GC)
  --broker-pid PID     broker process (default: owner of the URL's listening port)
  --broker-log FILE    the broker's output: memory reads its "store stats" lines
                       (WARREN_STORE_STATS=1), restart appends the new broker's output to it
  --restart-cmd CMD    shell command starting the broker again (restart phase)
  --before-restart CMD shell command run after the kill and before the new broker starts, not timed
                       (e.g. evict the segment files from the page cache for a cold-cache recovery)
  --data-dir DIR       the broker's data directory, to report its size (default: from --restart-cmd)
  --json               print the results as JSON
  --help
`;

function parseCli(argv) {
  const { values } = parseCommandLine(
    argv,
    {
      url: { type: "string", default: "amqp://guest:guest@localhost:5672" },
      queue: { type: "string", default: "backlog" },
      count: { type: "string", default: "10000000" },
      size: { type: "string", default: "1024" },
      "max-priority": { type: "string" },
      window: { type: "string", default: "2000" },
      batch: { type: "string", default: "200" },
      prefetch: { type: "string", default: "1000" },
      "ack-every": { type: "string", default: "100" },
      phases: { type: "string", default: "publish,memory,drain,memory" },
      settle: { type: "string", default: "6" },
      "broker-pid": { type: "string" },
      "broker-log": { type: "string" },
      "restart-cmd": { type: "string" },
      "data-dir": { type: "string" },
      "before-restart": { type: "string" },
      json: { type: "boolean", default: false },
    },
    USAGE,
  );
  // one check with one message (parseCommandLine's int words its two checks apart)
  const int = (name, min) => {
    const v = Number(values[name]);
    if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return v;
  };
  const phases = values.phases.split(",").map((p) => p.trim());
  for (const p of phases) {
    if (!["publish", "memory", "restart", "drain", "delete"].includes(p))
      throw new Error(`unknown phase ${p}`);
  }
  if (phases.includes("restart") && (!values["restart-cmd"] || !values["broker-log"]))
    throw new Error("the restart phase needs --restart-cmd and --broker-log");
  return {
    url: values.url,
    queue: values.queue,
    count: int("count", 1),
    size: int("size", 8),
    maxPriority: values["max-priority"] === undefined ? undefined : int("max-priority", 0),
    window: int("window", 1),
    batch: int("batch", 1),
    prefetch: int("prefetch", 0),
    ackEvery: int("ack-every", 1),
    phases,
    settle: Number(values.settle),
    brokerPid: values["broker-pid"] ? int("broker-pid", 1) : undefined,
    brokerLog: values["broker-log"],
    restartCmd: values["restart-cmd"],
    beforeRestart: values["before-restart"],
    dataDir: values["data-dir"] ?? /--data-dir\s+(\S+)/.exec(values["restart-cmd"] ?? "")?.[1],
    json: values.json,
  };
}

const fmt = (n) => Math.round(n).toLocaleString("en-US");

// ---------------------------------------------------------------------------
// The broker process

/**
 * The last "store stats {...}" line of the broker log, parsed: a JSON log record (the stats in
 * its message) or a plain line ending in the stats.
 */
function lastStoreStats(file) {
  if (!file) return undefined;
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const i = text.lastIndexOf("store stats {");
  if (i < 0) return undefined;
  const start = text.lastIndexOf("\n", i) + 1;
  const line = text.slice(start, text.indexOf("\n", i));
  try {
    const msg = line.startsWith("{") ? JSON.parse(line).msg : line.slice(i - start);
    return JSON.parse(msg.slice("store stats ".length));
  } catch {
    return undefined;
  }
}

function dataDirBytes(dir) {
  if (!dir || !existsSync(dir)) return undefined;
  let total = 0;
  for (const f of readdirSync(dir)) total += statSync(`${dir}/${f}`).size;
  return total;
}

// ---------------------------------------------------------------------------
// Phases

async function connect(url) {
  const u = new URL(url);
  u.searchParams.set("name", "backlog-bench");
  const c = new AMQPClient(u.toString());
  await c.connect();
  c.socket.setNoDelay(true);
  return c;
}

async function queueCount(url, queue) {
  const c = await connect(url);
  try {
    const ch = await c.channel();
    const q = await ch.queueDeclare(queue, { passive: true });
    return q.messageCount;
  } finally {
    await c.close().catch(() => {});
  }
}

/** The priority of the message with sequence number seq in a queue of `levels` priorities. */
const priorityOf = (seq, levels) => seq % levels;

async function publishPhase(o, ctx) {
  const conn = await connect(o.url);
  const ch = await conn.channel();
  await ch.queueDelete(o.queue).catch(() => {});
  const args = o.maxPriority === undefined ? {} : { "x-max-priority": o.maxPriority };
  await ch.queueDeclare(o.queue, { durable: true, autoDelete: false, exclusive: false }, args);
  await ch.confirmSelect();
  let published = 0;
  let wake = () => {};
  // Confirms tracked here (tags 1, 2, 3, ... in publish order); raw frames bypass the client.
  const confirms = confirmCounter(() => wake());
  ch.publishConfirmed = confirms.onConfirm;
  // basic.publish + header (delivery_mode 2) + body frames, encoded once; seq patched per message.
  const levels = o.maxPriority === undefined ? 0 : o.maxPriority + 1;
  const {
    template,
    bodyOffset: seqOffset,
    prioOffset,
  } = encodePublish(ch.id, "", o.queue, o.size, conn.frameMax, { persistent: true, priority: levels > 0 });
  const len = template.length;
  const socket = conn.socket;
  const t0 = performance.now();
  let lastT = t0;
  let lastN = 0;
  const progress = setInterval(() => {
    const t = performance.now();
    const { rss } = procStatus(ctx.pid);
    log(
      `publish: ${fmt(confirms.confirmed)} confirmed (${fmt(((confirms.confirmed - lastN) * 1000) / (t - lastT))}/s), ` +
        `broker RSS ${fmt(rss / 1048576)} MB`,
    );
    lastT = t;
    lastN = confirms.confirmed;
  }, 5000);
  await new Promise((resolve, reject) => {
    let scheduled = false;
    const pump = () => {
      scheduled = false;
      if (conn.closed) return reject(new Error("connection closed while publishing"));
      if (confirms.confirmed >= o.count) return resolve();
      if (socket.writableLength > 1 << 20) return void socket.once("drain", schedule);
      const n = Math.min(o.batch, o.window - (published - confirms.confirmed), o.count - published);
      if (n <= 0) return; // a confirm wakes us
      const out = Buffer.allocUnsafe(len * n);
      out.fill(template);
      for (let i = 0, off = seqOffset; i < n; i++, off += len) out.writeDoubleLE(published + i, off);
      if (levels > 0)
        for (let i = 0; i < n; i++) out[prioOffset + i * len] = priorityOf(published + i, levels);
      socket.write(out);
      published += n;
      ch.confirmId = published + 1;
      schedule();
    };
    function schedule() {
      if (!scheduled) {
        scheduled = true;
        setImmediate(pump);
      }
    }
    const resumeAt = Math.min(o.batch, Math.floor(o.window / 4)) || 1;
    wake = () => {
      if (confirms.confirmed >= o.count || o.window - (published - confirms.confirmed) >= resumeAt)
        schedule();
    };
    conn.onerror = (e) => reject(e);
    schedule();
  }).finally(() => clearInterval(progress));
  const secs = (performance.now() - t0) / 1000;
  await conn.close().catch(() => {});
  const r = {
    phase: "publish",
    messages: o.count,
    size: o.size,
    seconds: secs,
    rate: o.count / secs,
    nacked: confirms.nacked,
  };
  log(
    `publish: ${fmt(o.count)} x ${o.size} B in ${secs.toFixed(1)} s = ${fmt(r.rate)} msg/s, ${confirms.nacked} nacked`,
  );
  return r;
}

async function memoryPhase(o, ctx) {
  await sleep(o.settle * 1000);
  const m = procStatus(ctx.pid);
  const stats = lastStoreStats(o.brokerLog);
  const messages = await queueCount(o.url, o.queue).catch(() => Number.NaN);
  const delta = m.rss - ctx.baselineRss;
  const r = {
    phase: "memory",
    pid: ctx.pid,
    messages,
    rssMB: m.rss / 1048576,
    peakRssMB: m.hwm / 1048576,
    baselineRssMB: ctx.baselineRss / 1048576,
    bytesPerMessage: messages > 0 ? delta / messages : null,
    storeStats: stats ?? null,
    dataDirBytes: dataDirBytes(o.dataDir) ?? null,
  };
  log(
    `memory: ${fmt(messages)} ready, broker RSS ${fmt(r.rssMB)} MB (peak ${fmt(r.peakRssMB)} MB, ` +
      `baseline ${fmt(r.baselineRssMB)} MB` +
      (messages > 0 ? `, ${(delta / messages).toFixed(1)} B/msg over baseline` : "") +
      ")" +
      (stats
        ? `; heapUsed ${stats.heapUsedMB} MB, external ${stats.externalMB} MB, store index ${stats.indexMB} MB`
        : ""),
  );
  return r;
}

async function restartPhase(o, ctx) {
  const port = Number(new URL(o.url).port) || 5672;
  const before = statSync(o.brokerLog).size;
  const tKill = performance.now();
  process.kill(ctx.pid, "SIGKILL");
  // Wait until it is reaped, not just a zombie: the store's LOCK check sees a zombie as alive.
  let zombieSince = 0;
  for (;;) {
    let state;
    try {
      state = /State:\s+(\S)/.exec(readFileSync(`/proc/${ctx.pid}/status`, "utf8"))?.[1];
    } catch {
      break;
    }
    if (state === "Z") {
      zombieSince ||= performance.now();
      if (performance.now() - zombieSince > 30_000) {
        log(`restart: pid ${ctx.pid} still a zombie after 30 s (parent does not reap it); starting anyway`);
        break;
      }
    }
    await sleep(1);
  }
  const killToDeadMs = performance.now() - tKill;
  if (o.beforeRestart) execSync(o.beforeRestart, { stdio: ["ignore", 2, 2] });
  const out = openSync(o.brokerLog, "a");
  const tSpawn = performance.now();
  const child = spawn("sh", ["-c", `exec ${o.restartCmd}`], { detached: true, stdio: ["ignore", out, out] });
  child.unref();
  let exited;
  child.once("exit", (code, sig) => (exited = `broker exited (${code ?? sig}) during recovery`));
  while (!(await canConnect(port))) {
    if (exited) throw new Error(exited);
    if (performance.now() - tSpawn > 600_000) throw new Error("broker did not listen within 10 min");
    await sleep(2);
  }
  const tListen = performance.now();
  const c = await connect(o.url);
  const tAmqp = performance.now();
  await c.close().catch(() => {});
  const text = readFileSync(o.brokerLog, "utf8").slice(before);
  const m = /recovered (\d+) messages in (\d+) durable queues from (\d+) segments in (\d+) ms/.exec(text);
  ctx.pid = child.pid;
  const r = {
    phase: "restart",
    pid: child.pid,
    killToDeadMs,
    spawnToListenMs: tListen - tSpawn,
    spawnToAmqpOpenMs: tAmqp - tSpawn,
    recoveredMessages: m ? Number(m[1]) : null,
    segments: m ? Number(m[3]) : null,
    recoveryLogMs: m ? Number(m[4]) : null,
    logLine: m ? m[0] : text.trim().split("\n")[0],
  };
  log(
    `restart: "${r.logLine}"; port accepting ${fmt(r.spawnToListenMs)} ms after spawn, ` +
      `AMQP connection open at ${fmt(r.spawnToAmqpOpenMs)} ms`,
  );
  return r;
}

async function drainPhase(o, ctx) {
  const expected = await queueCount(o.url, o.queue);
  const conn = await connect(o.url);
  const ch = await conn.channel();
  await ch.basicQos(o.prefetch);
  let received = 0;
  let outOfOrder = 0;
  let redelivered = 0;
  let lastSeq = -1;
  // With priorities: highest first, then publish order within a priority (see priorityOf).
  const levels = o.maxPriority === undefined ? 0 : o.maxPriority + 1;
  let lastPrio = levels;
  const seqBytes = new Uint8Array(8);
  const seqView = new Float64Array(seqBytes.buffer);
  let lastTag = 0;
  let pending = 0;
  let lastAt = performance.now();
  const t0 = performance.now();
  let done;
  const finished = new Promise((r) => (done = r));
  if (expected === 0) done();
  await ch.basicConsume(o.queue, { noAck: false }, (msg) => {
    const b = msg.body;
    for (let i = 0; i < 8; i++) seqBytes[i] = b[i];
    const seq = seqView[0];
    const prio = levels > 0 ? priorityOf(seq, levels) : 0;
    if (prio > lastPrio || (prio === lastPrio && seq <= lastSeq)) outOfOrder++;
    lastSeq = seq;
    lastPrio = prio;
    if (msg.redelivered) redelivered++;
    received++;
    lastAt = performance.now();
    lastTag = msg.deliveryTag;
    if (++pending >= o.ackEvery) {
      pending = 0;
      ch.basicAck(lastTag, true).catch(() => {});
    }
    if (received >= expected) done();
  });
  const flush = setInterval(() => {
    if (pending > 0) {
      pending = 0;
      ch.basicAck(lastTag, true).catch(() => {});
    }
  }, 5);
  let lastT = t0;
  let lastN = 0;
  const progress = setInterval(() => {
    const t = performance.now();
    log(
      `drain: ${fmt(received)}/${fmt(expected)} (${fmt(((received - lastN) * 1000) / (t - lastT))}/s), ` +
        `broker RSS ${fmt(procStatus(ctx.pid).rss / 1048576)} MB`,
    );
    lastT = t;
    lastN = received;
    if (t - lastAt > 30_000) done(); // stalled
  }, 5000);
  await finished;
  const secs = (lastAt - t0) / 1000;
  clearInterval(progress);
  clearInterval(flush);
  if (pending > 0) await ch.basicAck(lastTag, true).catch(() => {});
  await conn.close().catch(() => {});
  const left = await queueCount(o.url, o.queue).catch(() => Number.NaN);
  const r = {
    phase: "drain",
    expected,
    received,
    seconds: secs,
    rate: received / secs,
    outOfOrder,
    redelivered,
    leftInQueue: left,
  };
  log(
    `drain: ${fmt(received)} of ${fmt(expected)} in ${secs.toFixed(1)} s = ${fmt(r.rate)} msg/s, ` +
      `${outOfOrder} out of order, ${fmt(redelivered)} redelivered, ${left} left in the queue`,
  );
  return r;
}

async function deletePhase(o) {
  const c = await connect(o.url);
  const ch = await c.channel();
  const t0 = performance.now();
  const r = await ch.queueDelete(o.queue);
  await c.close().catch(() => {});
  return { phase: "delete", messages: r.messageCount, ms: performance.now() - t0 };
}

// ---------------------------------------------------------------------------

async function main() {
  const o = parseCli(process.argv.slice(2));
  const pid = o.brokerPid ?? detectBrokerPid(o.url);
  if (!pid) throw new Error(`no process listens on ${o.url}; pass --broker-pid`);
  const ctx = { pid, baselineRss: procStatus(pid).rss };
  log(`broker pid ${pid}, RSS ${fmt(ctx.baselineRss / 1048576)} MB before the run`);
  const results = [];
  for (const p of o.phases) {
    if (p === "publish") results.push(await publishPhase(o, ctx));
    else if (p === "memory") results.push(await memoryPhase(o, ctx));
    else if (p === "restart") results.push(await restartPhase(o, ctx));
    else if (p === "drain") results.push(await drainPhase(o, ctx));
    else if (p === "delete") results.push(await deletePhase(o));
  }
  if (o.json) process.stdout.write(`${JSON.stringify({ options: o, results }, null, 2)}\n`);
  else for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
}

main().catch((e) => {
  log(`failed: ${e.stack ?? e.message}`);
  process.exit(1);
});
