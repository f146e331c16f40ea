#!/usr/bin/env node
// Message store benchmark: design (a) the segment log (packages/broker DiskStore) against
// design (b) LMDB via the `lmdb` npm package, if it can be imported (it is not a project
// dependency: install it somewhere and point LMDB_DIR at the folder holding node_modules).
//
//   npx tsc -b packages/broker && node --expose-gc bench/store-bench.mjs [--quick] [--big]
//       [--only=a|b] [--dir=/path/on/the/disk/to/test]
//
// Throughput models a confirming publisher with 1000 messages in flight and a consumer that
// acks each message as soon as it is confirmed: enqueue + sync per message, remove in the sync
// callback, publish a replacement. Bytes/msg are what the process made the kernel write to
// storage (/proc/self/io write_bytes), which counts LMDB's page rewrites fairly.
import { execSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { Message } from "../packages/broker/dist/message.js";
import { alignedBuffer, wordView, xxh32Words } from "../packages/broker/dist/store/checksum.js";
import { DiskStore } from "../packages/broker/dist/store/disk-store.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const big = args.includes("--big");
const only = args.find((a) => a.startsWith("--only="))?.slice(7);
const root =
  args.find((a) => a.startsWith("--dir="))?.slice(6) ?? path.join(os.tmpdir(), "warren-store-bench");
const seconds = quick ? 2 : 5;
const recoverN = quick ? 200_000 : 1_000_000;
const gc = globalThis.gc ?? (() => {});
const props = Buffer.from([0x10, 0x00, 2]); // delivery-mode 2

function sh(cmd) {
  try {
    return execSync(cmd, { encoding: "utf8" }).trim();
  } catch {
    return "?";
  }
}
function diskWrites() {
  const m = /write_bytes: (\d+)/.exec(fs.readFileSync("/proc/self/io", "utf8"));
  return m ? Number(m[1]) : 0;
}
function duBytes(dir) {
  let n = 0;
  for (const f of fs.readdirSync(dir)) n += fs.statSync(path.join(dir, f)).size;
  return n;
}
function fresh(name) {
  const d = path.join(root, name);
  fs.rmSync(d, { recursive: true, force: true });
  fs.mkdirSync(d, { recursive: true });
  return d;
}
const fmt = (n, d = 0) =>
  n.toLocaleString("en-US", {
    maximumFractionDigits: d,
    minimumFractionDigits: d,
  });
const mem = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

// ---- checksums ----
function crcTable() {
  const t = new Int32Array(256 * 8);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++)
    for (let s = 1; s < 8; s++)
      t[s * 256 + i] = (t[(s - 1) * 256 + i] >>> 8) ^ t[t[(s - 1) * 256 + i] & 0xff];
  return t;
}
const T = crcTable();
function crc32(b, s, e) {
  let c = -1;
  let i = s;
  const end8 = s + ((e - s) & ~7);
  for (; i < end8; i += 8) {
    const a = c ^ (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24));
    c =
      T[1792 + (a & 0xff)] ^
      T[1536 + ((a >>> 8) & 0xff)] ^
      T[1280 + ((a >>> 16) & 0xff)] ^
      T[1024 + (a >>> 24)] ^
      T[768 + b[i + 4]] ^
      T[512 + b[i + 5]] ^
      T[256 + b[i + 6]] ^
      T[b[i + 7]];
  }
  for (; i < e; i++) c = T[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
function rate(fn, size) {
  // Best of three: the first round pays for JIT warm-up.
  let best = 0;
  for (let round = 0; round < 3; round++) {
    let bytes = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 300) {
      for (let k = 0; k < 1000; k++) fn(k & 255, size);
      bytes += size * 1000;
    }
    best = Math.max(best, bytes / (performance.now() - t0) / 1000);
  }
  return best;
}
function checksums() {
  const buf = alignedBuffer(1 << 20);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 131) & 255;
  const words = wordView(buf);
  const crc = (k, size) => crc32(buf, k * 4, k * 4 + size);
  const xxh = (k, size) => xxh32Words(words, k, k + size / 4);
  const out = [];
  for (const size of [48, 1072]) {
    out.push(`  crc32 slicing-by-8 ${String(size).padStart(5)} B records: ${fmt(rate(crc, size))} MB/s`);
    out.push(`  xxh32 (words)      ${String(size).padStart(5)} B records: ${fmt(rate(xxh, size))} MB/s`);
  }
  return out.join("\n");
}

// ---- design (a): segment log ----
async function throughputA(bodySize, fanout = 1, inflight = 1000) {
  const dir = fresh(`a-tp-${bodySize}-${fanout}`);
  const s = await DiskStore.open(dir);
  const body = Buffer.alloc(bodySize, 120);
  const queues = Array.from({ length: fanout }, (_, i) => `/\u0000q${i}`);
  let done = 0;
  let running = true;
  const w0 = diskWrites();
  const st0 = s.stats();
  const publish = () => {
    const m = new Message("amq.direct", "q0", props, body);
    for (const q of queues) s.enqueue(q, m);
    s.sync(() => {
      for (const q of queues) s.remove(q, m);
      done++;
      if (running) publish();
    });
  };
  await new Promise((r) => s.sync(r));
  const t0 = performance.now();
  for (let i = 0; i < inflight; i++) publish();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  running = false;
  const dt = (performance.now() - t0) / 1000;
  await new Promise((r) => s.sync(r));
  const st = s.stats();
  const batches = st.batches - st0.batches;
  const fsyncs = st.fsyncs - st0.fsyncs;
  const bytes = diskWrites() - w0;
  await new Promise((r) => setTimeout(r, 300));
  const left = duBytes(dir);
  await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return (
    `  (a) ${String(bodySize).padStart(4)} B body, fanout ${fanout}, ${inflight} in flight: ${fmt(done / dt)} msgs/s, ` +
    `${fmt(fsyncs / dt)} fdatasync/s, ${fmt(done / batches, 1)} msgs/commit, ` +
    `${fmt(bytes / done, 1)} disk bytes/msg (${fmt(st.bytesWritten / done, 1)} appended), ` +
    `${st.segmentsDeleted} segments deleted, ${fmt(left / 2 ** 20, 1)} MiB left on disk`
  );
}

async function recoveryA(n, bodySize) {
  const dir = fresh(`a-rec-${bodySize}`);
  let s = await DiskStore.open(dir);
  const body = Buffer.alloc(bodySize, 120);
  const t0 = performance.now();
  for (let i = 0; i < n; i += 10_000) {
    for (let k = 0; k < 10_000 && i + k < n; k++)
      s.enqueue(`/\u0000q${k & 3}`, new Message("amq.direct", "rk", props, body));
    await new Promise((r) => s.sync(r));
  }
  const fill = (performance.now() - t0) / 1000;
  await s.close();
  s = undefined;
  const before = mem();
  const t1 = performance.now();
  s = await DiskStore.open(dir);
  const openMs = performance.now() - t1;
  const heap = mem() - before;
  const t2 = performance.now();
  const ids = s.recoverIds();
  let count = 0;
  for (const list of ids.values()) count += list.length;
  const idsMs = performance.now() - t2;
  const t3 = performance.now();
  let loaded = 0;
  for (const list of ids.values()) for (const id of list) loaded += s.load(id).bodySize > 0 ? 1 : 0;
  const loadMs = performance.now() - t3;
  const out =
    `  (a) ${fmt(n)} x ${bodySize} B (${fmt(duBytes(dir) / 2 ** 20)} MiB, written at ${fmt(n / fill)} msgs/s): ` +
    `open+replay ${fmt(openMs)} ms, ids ${fmt(idsMs)} ms (${fmt(count)}), ` +
    `load all bodies ${fmt(loadMs)} ms (${fmt(loaded / (loadMs / 1000))} loads/s); ` +
    `index ${fmt(heap / n, 1)} B/msg measured, ${fmt(s.stats().indexBytes / n, 1)} B/msg counted`;
  await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

// ---- design (b): LMDB ----
function loadLmdb() {
  const dirs = [process.env.LMDB_DIR, process.cwd(), "/tmp/lmdb-bench"].filter(Boolean);
  for (const d of dirs) {
    try {
      return createRequire(path.join(d, "noop.js"))("lmdb");
    } catch {}
  }
  return undefined;
}

// overlappingSync (the default) resolves put() before the fsync; the confirm point must come
// after it, so commits sync in line. lmdb-js batches the puts of one turn into one transaction.
const LMDB_OPTS = { compression: false, overlappingSync: false };

/** Opens the LMDB environment in dir with its two databases: msgs (id -> record), members ([queue, id]). */
function openB(lmdb, dir) {
  const env = lmdb.open({ path: dir, ...LMDB_OPTS });
  const msgs = env.openDB({ name: "msgs", keyEncoding: "uint32", encoding: "binary" });
  const members = env.openDB({ name: "members", keyEncoding: "ordered-binary", encoding: "binary" });
  return { env, msgs, members };
}

function encodeB(m) {
  // exchange \0 routingKey \0 propsLen u32 props body: same information as a PUB record.
  const head = Buffer.from(`${m.exchange}\u0000${m.routingKey}\u0000`);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(m.rawProps.length);
  return Buffer.concat([head, len, m.rawProps, m.body]);
}

async function throughputB(lmdb, bodySize) {
  const dir = fresh(`b-tp-${bodySize}`);
  const { env, msgs, members } = openB(lmdb, dir);
  const body = Buffer.alloc(bodySize, 120);
  const empty = Buffer.alloc(0);
  let nextId = 1;
  let done = 0;
  let running = true;
  const w0 = diskWrites();
  const publish = () => {
    const m = new Message("amq.direct", "q0", props, body);
    const id = nextId++;
    msgs.put(id, encodeB(m));
    // put() resolves once its batch transaction is committed and synced: the confirm point.
    members.put([1, id], empty).then(() => {
      members.remove([1, id]);
      msgs.remove(id);
      done++;
      if (running) publish();
    });
  };
  const t0 = performance.now();
  for (let i = 0; i < 1000; i++) publish();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  running = false;
  const dt = (performance.now() - t0) / 1000;
  await env.flushed;
  const bytes = diskWrites() - w0;
  await env.close();
  const size = duBytes(dir);
  fs.rmSync(dir, { recursive: true, force: true });
  return (
    `  (b) ${String(bodySize).padStart(4)} B body, fanout 1, 1000 in flight: ${fmt(done / dt)} msgs/s, ` +
    `${fmt(bytes / done, 1)} disk bytes/msg, ${fmt(size / 2 ** 20, 1)} MiB file`
  );
}

async function recoveryB(lmdb, n, bodySize) {
  const dir = fresh(`b-rec-${bodySize}`);
  let { env, msgs, members } = openB(lmdb, dir);
  const body = Buffer.alloc(bodySize, 120);
  const empty = Buffer.alloc(0);
  const t0 = performance.now();
  for (let i = 0; i < n; i += 10_000) {
    let last;
    for (let k = 0; k < 10_000 && i + k < n; k++) {
      const id = i + k + 1;
      msgs.put(id, encodeB(new Message("amq.direct", "rk", props, body)));
      last = members.put([k & 3, id], empty);
    }
    await last;
  }
  const fill = (performance.now() - t0) / 1000;
  await env.close();
  const t1 = performance.now();
  ({ env, msgs, members } = openB(lmdb, dir));
  const openMs = performance.now() - t1;
  const t2 = performance.now();
  const ids = new Map();
  for (const { key } of members.getRange({})) {
    let l = ids.get(key[0]);
    if (!l) ids.set(key[0], (l = []));
    l.push(key[1]);
  }
  const idsMs = performance.now() - t2;
  const t3 = performance.now();
  let loaded = 0;
  for (const l of ids.values()) for (const id of l) loaded += msgs.getBinary(id).length > 0 ? 1 : 0;
  const loadMs = performance.now() - t3;
  await env.close();
  const size = duBytes(dir);
  fs.rmSync(dir, { recursive: true, force: true });
  return (
    `  (b) ${fmt(n)} x ${bodySize} B (${fmt(size / 2 ** 20)} MiB, written at ${fmt(n / fill)} msgs/s): ` +
    `open ${fmt(openMs)} ms, ids (range scan) ${fmt(idsMs)} ms, load all bodies ${fmt(loadMs)} ms (${fmt(loaded / (loadMs / 1000))} loads/s)`
  );
}

console.log(
  `machine: ${sh("nproc")} cores, ${sh("lscpu | grep 'Model name' | sed 's/.*: *//'")}, node ${process.version}`,
);
fs.mkdirSync(root, { recursive: true });
console.log(`disk: ${root} on ${sh(`df -T ${JSON.stringify(root)} | tail -1 | awk '{print $2, $1}'`)}`);
console.log(`checksums (single core):\n${checksums()}`);
const lmdb = only === "a" ? undefined : loadLmdb();
if (only !== "b") {
  console.log("throughput: enqueue + sync per message, remove on confirm:");
  console.log(await throughputA(16));
  console.log(await throughputA(1024));
  console.log(await throughputA(16, 3));
  console.log(await throughputA(16, 1, 1));
  console.log(await throughputA(16, 1, 100));
}
if (lmdb) {
  console.log(await throughputB(lmdb, 16));
  console.log(await throughputB(lmdb, 1024));
} else if (only !== "a") console.log("  (b) skipped: `lmdb` not importable (set LMDB_DIR)");
console.log("recovery:");
if (only !== "b") {
  console.log(await recoveryA(recoverN, 16));
  if (!quick) console.log(await recoveryA(recoverN, 1024));
  if (big) console.log(await recoveryA(10_000_000, 16));
}
if (lmdb) {
  console.log(await recoveryB(lmdb, recoverN, 16));
  if (!quick) console.log(await recoveryB(lmdb, recoverN, 1024));
}
fs.rmSync(root, { recursive: true, force: true });
