#!/usr/bin/env node
// Memory cost per queued message, read from the broker process's RSS. A body kept as a slice of the
// socket read chunk it arrived in keeps the whole chunk (up to 64 KiB) alive, so the pattern matters:
//
//   garbage  --small-count N (20000) messages of --small-size B (16) into a queue, each preceded by one
//            --garbage-size B (60000) message published to an exchange with no binding (dropped), so
//            each small message arrives in a socket read otherwise full of garbage
//   small    a steady flow of --flow-count N (100000) x --small-size B messages into a queue
//   kib      the same flow with --kib-size B (1024) bodies
//
// For each: RSS before, after publishing (after --settle s), bytes per queued message, then the queue
// is deleted and RSS read again: is the memory returned? A spawned Warren is started with
// --inspect=127.0.0.1:0 (unless --gc none), so the script can also force a full GC through the
// inspector (HeapProfiler.collectGarbage, with node --experimental-websocket) and report RSS after it,
// and read process.memoryUsage() inside the broker: "not returned" then tells retained Buffers
// (arrayBuffers high) from memory the allocator keeps (arrayBuffers low, RSS high). RabbitMQ (--compare-url): the
// beam.smp RSS from /proc and mem_used from the management API (/api/nodes).
//
//   npm run build
//   node bench/pinning.mjs                                    # spawns packages/cli/dist/main.js
//   node bench/pinning.mjs --cli /work/before/packages/cli/dist/main.js \
//        --compare-url amqp://guest:guest@localhost:5682
//   node bench/pinning.mjs --url amqp://guest:guest@localhost:5672 --pattern garbage
//
// Plain ESM, Node 20; the raw AMQP client comes from bench/stall.mjs, the broker helpers from
// bench/lib/common.mjs.

import { spawn } from "node:child_process";
import {
  BROKER_OPTIONS,
  brokerOptions,
  brokerTarget,
  DEFAULT_CLI,
  fmtInt,
  fmtMB,
  log,
  parseCommandLine,
  printColumns,
  procStatus,
  rabbitMgmt,
  sleep,
  waitIdle,
} from "./lib/common.mjs";
import { enc, openAmqp } from "./stall.mjs";

const PATTERNS = ["garbage", "small", "kib"];

const USAGE = `Usage: node bench/pinning.mjs [options]

Broker under test (one of):
  --cli PATH           Warren CLI to spawn, a fresh broker + temp data dir per pattern
                       (default ${DEFAULT_CLI})
  --url URL            an already running broker (RSS of --broker-pid, default the port's owner)
  --broker-pid PID
  --node-args="ARGS"   extra node flags for the spawned Warren
  --compare-url URL    second broker (e.g. RabbitMQ amqp://guest:guest@localhost:5682), after each pattern
  --compare-pid PID    its pid (default: the port's owner, beam.smp for RabbitMQ)
  --mgmt-port N        RabbitMQ management port for mem_used (default 15672)

Patterns (--pattern LIST, default all = ${PATTERNS.join(",")}):
  --small-count N      garbage: small messages (default 20000)
  --small-size B       garbage and small: body size (default 16)
  --garbage-size B     garbage: unroutable body before each small message (default 60000)
  --flow-count N       small and kib: messages (default 100000)
  --kib-size B         kib: body size (default 1024)
  --rate N             small and kib: messages per second (default 20000)
  --batch N            small and kib: messages per socket write (default 100)

Measurement:
  --settle S           wait before each RSS sample (default 5)
  --gc inspector|none  spawned Warren: also force a full GC via the inspector before the "+gc" samples
                       (default inspector)
  --wait-idle PCT      before each pattern wait (up to 120 s) for the machine to be below PCT % of a core
  --json               print JSON instead of the table
  --help
`;

function parseCli(argv) {
  const { values, num } = parseCommandLine(
    argv,
    {
      ...BROKER_OPTIONS,
      pattern: { type: "string", default: "all" },
      "small-count": { type: "string", default: "20000" },
      "small-size": { type: "string", default: "16" },
      "garbage-size": { type: "string", default: "60000" },
      "flow-count": { type: "string", default: "100000" },
      "kib-size": { type: "string", default: "1024" },
      rate: { type: "string", default: "20000" },
      batch: { type: "string", default: "100" },
      settle: { type: "string", default: "5" },
      gc: { type: "string", default: "inspector" },
      "wait-idle": { type: "string", default: "0" },
      json: { type: "boolean", default: false },
    },
    USAGE,
  );
  const patterns = values.pattern === "all" ? PATTERNS : values.pattern.split(",").map((s) => s.trim());
  for (const p of patterns) if (!PATTERNS.includes(p)) throw new Error(`unknown pattern ${p}`);
  if (!["inspector", "none"].includes(values.gc)) throw new Error("--gc must be inspector or none");
  return {
    ...brokerOptions(values, num),
    patterns,
    smallCount: num("small-count", 1),
    smallSize: num("small-size", 0),
    garbageSize: num("garbage-size", 1),
    flowCount: num("flow-count", 1),
    kibSize: num("kib-size", 0),
    rate: num("rate", 1),
    batch: num("batch", 1),
    settle: num("settle", 0),
    gc: values.gc,
    waitIdle: num("wait-idle", 0),
    json: values.json,
  };
}

// ---------------------------------------------------------------------------------------------
// A spawned Warren's inspector: force a GC, read process.memoryUsage()

// Optionally collectGarbage, then process.memoryUsage() evaluated inside the broker; prints its JSON.
const INSPECTOR_CLIENT = `
const [url, gc] = process.argv.slice(1);
const ws = new WebSocket(url);
const send = (id, method, params = {}) => ws.send(JSON.stringify({ id, method, params }));
const evaluate = () => send(2, "Runtime.evaluate", { expression: "JSON.stringify(process.memoryUsage())", returnByValue: true });
ws.onopen = () => (gc === "1" ? send(1, "HeapProfiler.collectGarbage") : evaluate());
ws.onmessage = (e) => {
  const m = JSON.parse(e.data);
  if (m.id === 1) evaluate();
  if (m.id === 2) {
    console.log(m.result?.result?.value ?? "{}");
    ws.close();
    process.exit(0);
  }
};
ws.onerror = (e) => { console.error("inspector: " + (e.message ?? e.type)); process.exit(2); };
setTimeout(() => { console.error("inspector: timeout"); process.exit(3); }, 120000);
`;

function inspectorUrl(output) {
  return /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1];
}

/** process.memoryUsage() of a spawned Warren (after a full GC if gc); undefined without inspector. */
async function inspectMemory(target, gc) {
  const ws = target.spawned ? inspectorUrl(target.spawned.output()) : undefined;
  if (!ws) return undefined;
  const child = spawn(
    process.execPath,
    ["--experimental-websocket", "--no-warnings", "-e", INSPECTOR_CLIENT, ws, gc ? "1" : "0"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const code = await new Promise((r) => child.once("exit", r));
  try {
    return code === 0 ? JSON.parse(out) : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Memory samples

async function sample(target, opts, { gc = false } = {}) {
  let heap;
  if (target.spawned && opts.gc === "inspector") {
    heap = await inspectMemory(target, gc);
    if (gc) await sleep(1000);
  }
  const s = procStatus(target.pid);
  const out = { rss: s.rss, hwm: s.hwm, gc: gc && heap !== undefined, heap };
  if (target.kind === "rabbitmq") {
    const nodes = await rabbitMgmt(target.url, "/nodes", opts.mgmtPort);
    out.memUsed = nodes?.[0]?.mem_used;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Publishing

async function declareQueue(conn, queue) {
  await conn.pipeline(1, () => enc.queueDelete(1, queue), [50, 41]);
  await conn.pipeline(1, () => enc.queueDeclare(1, queue), [50, 11]);
}

/** Waits until the queue holds `count` messages (queue.declare passive); returns the count seen. */
async function waitDepth(conn, queue, count, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs;
  let depth = -1;
  while (Date.now() < deadline) {
    const ok = conn.waitMethod(50, 11, { timeoutMs: 60_000 });
    conn.write(enc.queueDeclare(1, queue, { passive: true }));
    const f = await ok;
    const nameLen = f.args.readUInt8(0);
    depth = f.args.readUInt32BE(1 + nameLen);
    if (depth >= count) return depth;
    await sleep(200);
  }
  return depth;
}

/** garbage: [60000 B to an exchange with no binding][16 B to the queue], written back to back. */
async function publishGarbage(conn, queue, opts) {
  const voidEx = "pinning-void";
  await conn.pipeline(1, () => enc.exchangeDeclare(1, voidEx, "direct"), [40, 11]);
  const garbage = enc.publish(1, voidEx, "nowhere", Buffer.alloc(opts.garbageSize, 0x67), {
    frameMax: conn.frameMax,
  });
  const small = enc.publish(1, "", queue, Buffer.alloc(opts.smallSize, 0x73), { frameMax: conn.frameMax });
  const pair = Buffer.concat([garbage, small]);
  for (let i = 0; i < opts.smallCount; i++) await conn.send(pair);
  return async () => conn.pipeline(1, () => enc.exchangeDelete(1, voidEx), [40, 21]);
}

/** small / kib: `count` messages at `rate` msgs/s, `batch` per write. */
async function publishFlow(conn, queue, count, size, opts) {
  const one = enc.publish(1, "", queue, Buffer.alloc(size, 0x6b), { frameMax: conn.frameMax });
  const batchBuf = Buffer.concat(Array.from({ length: opts.batch }, () => one));
  const t0 = performance.now();
  for (let sent = 0; sent < count;) {
    const n = Math.min(opts.batch, count - sent);
    await conn.send(n === opts.batch ? batchBuf : batchBuf.subarray(0, n * one.length));
    sent += n;
    const due = t0 + (sent / opts.rate) * 1000;
    const wait = due - performance.now();
    if (wait >= 1) await sleep(wait);
  }
  return async () => {};
}

async function runPattern(opts, pattern, side) {
  const label = `pinning-${pattern}`;
  const nodeArgs = opts.gc === "inspector" ? ["--inspect=127.0.0.1:0", ...opts.nodeArgs] : opts.nodeArgs;
  const target = await brokerTarget(
    side === "A"
      ? { url: opts.url, pid: opts.brokerPid, cli: opts.cli, nodeArgs, label }
      : { url: opts.compareUrl, pid: opts.comparePid },
  );
  const count = pattern === "garbage" ? opts.smallCount : opts.flowCount;
  const size = pattern === "kib" ? opts.kibSize : opts.smallSize;
  const row = { pattern, broker: target.kind, brokerName: target.name, count, size };
  const canGc = Boolean(target.spawned && opts.gc === "inspector");
  log(`${pattern} on ${target.name}${target.pid ? ` pid ${target.pid}` : ""}`);
  const queue = `pinning-${pattern}`;
  let conn;
  try {
    conn = await openAmqp(target.url, { name: "pinning" });
    await conn.openChannels([1]);
    await declareQueue(conn, queue);
    await sleep(opts.settle * 1000);
    row.before = await sample(target, opts, { gc: canGc });
    log(`  before: RSS ${fmtMB(row.before.rss)}${memUsed(row.before)}`);
    const t0 = performance.now();
    const cleanup =
      pattern === "garbage"
        ? await publishGarbage(conn, queue, opts)
        : await publishFlow(conn, queue, count, size, opts);
    row.depth = await waitDepth(conn, queue, count);
    row.publishSeconds = (performance.now() - t0) / 1000;
    log(`  published ${fmtInt(row.depth)} in ${row.publishSeconds.toFixed(1)} s`);
    if (row.depth !== count) throw new Error(`queue holds ${row.depth} messages, expected ${count}`);
    await sleep(opts.settle * 1000);
    row.after = await sample(target, opts);
    if (canGc) row.afterGc = await sample(target, opts, { gc: true });
    const held = row.afterGc ?? row.after;
    row.perMessage = (held.rss - row.before.rss) / count;
    log(
      `  after: RSS ${fmtMB(row.after.rss)}${memUsed(row.after)}${canGc ? `, after GC ${fmtMB(row.afterGc.rss)}${memUsed(row.afterGc)}` : ""}; ` +
        `${fmtInt(row.perMessage)} B per message`,
    );
    await conn.pipeline(1, () => enc.queueDelete(1, queue), [50, 41]);
    await cleanup();
    await sleep(opts.settle * 1000);
    row.deleted = await sample(target, opts);
    if (canGc) row.deletedGc = await sample(target, opts, { gc: true });
    const end = row.deletedGc ?? row.deleted;
    row.returnedPct = (100 * (held.rss - end.rss)) / (held.rss - row.before.rss);
    log(
      `  deleted: RSS ${fmtMB(row.deleted.rss)}${memUsed(row.deleted)}${canGc ? `, after GC ${fmtMB(row.deletedGc.rss)}${memUsed(row.deletedGc)}` : ""}; ` +
        `${row.returnedPct.toFixed(0)} % of the growth returned`,
    );
  } catch (e) {
    row.error = e.message;
    log(`  FAILED: ${e.stack ?? e.message}`);
    await conn?.pipeline(1, () => enc.queueDelete(1, queue), [50, 41]).catch(() => {});
  } finally {
    await conn?.close().catch(() => {});
    conn?.destroy();
    await target.stop();
  }
  return row;
}

const memUsed = (s) =>
  s?.memUsed !== undefined
    ? ` (mem_used ${fmtMB(s.memUsed)})`
    : s?.heap
      ? ` (heapUsed ${fmtMB(s.heap.heapUsed)}, arrayBuffers ${fmtMB(s.heap.arrayBuffers)})`
      : "";

function printTable(rows) {
  const header = [
    "pattern",
    "broker",
    "msgs",
    "body",
    "publish",
    "rss before",
    "after",
    "after gc",
    "B/msg",
    "deleted",
    "deleted gc",
    "returned",
    "peak",
    "ab after gc",
    "ab deleted gc",
    "note",
  ];
  const lines = [header];
  for (const r of rows) {
    lines.push([
      r.pattern,
      r.broker,
      fmtInt(r.count),
      `${r.size} B`,
      r.publishSeconds ? `${r.publishSeconds.toFixed(1)} s` : "-",
      fmtMB(r.before?.rss),
      fmtMB(r.after?.rss),
      fmtMB(r.afterGc?.rss),
      fmtInt(r.perMessage),
      fmtMB(r.deleted?.rss),
      fmtMB(r.deletedGc?.rss),
      Number.isFinite(r.returnedPct) ? `${r.returnedPct.toFixed(0)} %` : "-",
      fmtMB((r.deletedGc ?? r.deleted)?.hwm),
      fmtMB(r.afterGc?.heap?.arrayBuffers),
      fmtMB(r.deletedGc?.heap?.arrayBuffers),
      r.error
        ? `FAILED: ${r.error}`
        : r.broker === "rabbitmq" && r.after?.memUsed !== undefined
          ? `mem_used ${fmtMB(r.before.memUsed)} -> ${fmtMB(r.after.memUsed)} -> ${fmtMB(r.deleted.memUsed)}`
          : "",
    ]);
  }
  printColumns(lines, (i) => i >= 2);
  console.log(
    "\nB/msg = (RSS after publishing [after gc when forced] - RSS before) / msgs; returned = share of that growth\n" +
      "gone after the queue was deleted (and GC forced, when it was); peak = VmHWM; ab = process.memoryUsage().arrayBuffers\n" +
      "inside Warren after the forced GC (Buffers still referenced).",
  );
}

async function main() {
  const opts = parseCli(process.argv.slice(2));
  const rows = [];
  for (const pattern of opts.patterns) {
    for (const side of opts.compareUrl ? ["A", "B"] : ["A"]) {
      if (opts.waitIdle > 0) await waitIdle(opts.waitIdle);
      rows.push(await runPattern(opts, pattern, side));
    }
  }
  if (opts.json) console.log(JSON.stringify({ options: opts, rows }, null, 2));
  else printTable(rows);
}

main().catch((e) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
