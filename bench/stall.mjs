#!/usr/bin/env node
// Event-loop stall benchmark. A bystander connection (its own worker thread, its own TCP
// connection) does one round trip every --interval ms (queue.declare passive on its own queue) and
// records every RTT. While it runs, a scenario does something expensive to the broker, phase by
// phase; for each phase the script prints the phase's own duration and the maximum and p99
// bystander RTT during it (plus --settle ms after it, so a stall that outlives the phase's last
// reply is still seen). A broker that blocks its event loop shows it as a large bystander max.
//
//   npm run build
//   node bench/stall.mjs                                   # spawns packages/cli/dist/main.js, all scenarios
//   node bench/stall.mjs --cli /work/before/packages/cli/dist/main.js \
//        --compare-url amqp://guest:guest@localhost:5682   # + RabbitMQ, side by side
//   node bench/stall.mjs --url amqp://guest:guest@localhost:5672 --scenario consumers --consumers 20000
//   node bench/stall.mjs --scenario big-header --node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"
//
// Plain ESM, Node 20, no dependencies beyond interop/node/raw-amqp.mjs (table encoding); broker
// processes, /proc sampling and the command line come from bench/lib/common.mjs. The AMQP client
// here is a small raw-frame one (exported for bench/pinning.mjs): it pipelines tens of thousands
// of methods without a client library's per-call promises getting in the way.

import { once } from "node:events";
import net from "node:net";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { PROTOCOL_HEADER, tableBody } from "../interop/node/raw-amqp.mjs";
import {
  BROKER_OPTIONS,
  brokerOptions,
  brokerTarget,
  cpuBetween,
  cpuSample,
  DEFAULT_CLI,
  fmtInt,
  fmtMB,
  frame,
  log,
  now,
  parseCommandLine,
  parseUrl,
  printColumns,
  procStatus,
  rabbitMgmt,
  shortStr as sstr,
  sleep,
  waitIdle,
} from "./lib/common.mjs";

const SCENARIOS = ["big-header", "consumers", "queues-close", "failed-logins"];

const USAGE = `Usage: node bench/stall.mjs [options]

Broker under test (one of):
  --cli PATH             Warren CLI to spawn, fresh broker + temp data dir per scenario
                         (default ${DEFAULT_CLI})
  --url URL              use an already running broker instead of spawning one
  --broker-pid PID       with --url: the broker's pid, for RSS (default: owner of the port)
  --node-args="ARGS"     extra node flags for the spawned Warren, e.g. --node-args="--cpu-prof --cpu-prof-dir=/tmp/p"
  --compare-url URL      second broker (e.g. RabbitMQ amqp://guest:guest@localhost:5682); each
                         scenario runs on the first broker, then on this one
  --compare-pid PID      its pid (default: owner of the port; RabbitMQ: beam.smp)
  --mgmt-port N          RabbitMQ management port, used to read sockets_total (default 15672)

Scenarios (--scenario LIST, comma separated, default all = ${SCENARIOS.join(",")}):
  big-header     --channels N (2000) channels on one raw connection each send basic.publish + a
                 content header declaring --body-size B (134217728 = 128 MiB) + 1 body byte, never
                 completing; phases: publish (until a basic.qos-ok on one more channel comes back),
                 hold (--hold S, 2), close (connection.close until close-ok)
  consumers      --consumers N (50000) basic.consume on one queue, pipelined across
                 --consumer-channels N (50) channels of one connection; phases: add (until the last
                 consume-ok), close (connection.close until close-ok)
  queues-close   --queues N (50000) non-exclusive queues declared from one connection (declare), then
                 --conns N (1000) connections opened, each opening a channel (open), then all closed at
                 once (close), then the queues deleted (delete). RabbitMQ: --conns is capped below its
                 sockets_total (832 with 1024 file descriptors)
  failed-logins  --login-conns N (20) parallel connections try wrong PLAIN passwords for
                 --login-seconds S (5); reports refusals per second

Measurement:
  --interval MS          bystander period (default 5)
  --settle MS            idle time after each phase that still counts for it (default 500)
  --idle MS              idle phase before each scenario, the baseline RTT (default 1000; 0 = none)
  --repeat N             run each scenario N times (each run is printed; default 1)
  --wait-idle PCT        before each run wait (up to 120 s) until the machine's CPU use over 1 s is
                         below PCT % of one core (default 0 = off; this is a shared 2-core machine)
  --json                 print JSON instead of the table (progress goes to stderr)
  --help
`;

// ---------------------------------------------------------------------------------------------
// Small utilities

export const fmtMs = (ms) =>
  !Number.isFinite(ms)
    ? "-"
    : ms >= 1000
      ? `${(ms / 1000).toFixed(2)} s`
      : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

// ---------------------------------------------------------------------------------------------
// AMQP 0-9-1 encoding (only what the benchmarks send)

const u8 = (v) => Buffer.from([v]);
function u16(v) {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(v);
  return b;
}
function u32(v) {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(v);
  return b;
}
function u64(v) {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt(v));
  return b;
}
function lstr(s) {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s, "utf8");
  return Buffer.concat([u32(b.length), b]);
}
function table(obj) {
  const inner = tableBody(obj);
  return Buffer.concat([u32(inner.length), inner]);
}
const bits = (...flags) => u8(flags.reduce((acc, f, i) => acc | (f ? 1 << i : 0), 0));
const EMPTY_TABLE = u32(0);

export function method(channel, classId, methodId, ...args) {
  return frame(1, channel, Buffer.concat([u16(classId), u16(methodId), ...args]));
}

export const enc = {
  channelOpen: (ch) => method(ch, 20, 10, sstr("")),
  channelCloseOk: (ch) => method(ch, 20, 41),
  connectionClose: () => method(0, 10, 50, u16(200), sstr("bye"), u16(0), u16(0)),
  connectionCloseOk: () => method(0, 10, 51),
  queueDeclare: (
    ch,
    name,
    { passive = false, durable = false, exclusive = false, autoDelete = false } = {},
  ) =>
    method(ch, 50, 10, u16(0), sstr(name), bits(passive, durable, exclusive, autoDelete, false), EMPTY_TABLE),
  queueDelete: (ch, name) => method(ch, 50, 40, u16(0), sstr(name), bits(false, false, false)),
  exchangeDeclare: (ch, name, type) =>
    method(ch, 40, 10, u16(0), sstr(name), sstr(type), bits(false, false, false, false, false), EMPTY_TABLE),
  exchangeDelete: (ch, name) => method(ch, 40, 20, u16(0), sstr(name), bits(false, false)),
  basicQos: (ch, prefetch) => method(ch, 60, 10, u32(0), u16(prefetch), bits(false)),
  basicConsume: (ch, queue, tag) =>
    method(ch, 60, 20, u16(0), sstr(queue), sstr(tag), bits(false, false, false, false), EMPTY_TABLE),
  /**
   * basic.publish + content header declaring `declaredSize` + body frames carrying `body`
   * (split at frameMax; body may be shorter than declaredSize, leaving the message incomplete).
   */
  publish(ch, exchange, routingKey, body, { declaredSize = body.length, frameMax = 131072 } = {}) {
    const parts = [
      method(ch, 60, 40, u16(0), sstr(exchange), sstr(routingKey), bits(false, false)),
      frame(2, ch, Buffer.concat([u16(60), u16(0), u64(declaredSize), u16(0)])),
    ];
    for (let i = 0; i < body.length; i += frameMax - 8)
      parts.push(frame(3, ch, body.subarray(i, i + frameMax - 8)));
    return Buffer.concat(parts);
  },
};

function parseClose(args) {
  const len = args.readUInt8(2);
  return { code: args.readUInt16BE(0), text: args.toString("utf8", 3, 3 + len) };
}
const isMethod = (f, c, m) => f.type === 1 && f.cls === c && f.mth === m;

// ---------------------------------------------------------------------------------------------
// A raw-frame AMQP connection: frames in, waiters that count frames, writes with backpressure

export class Amqp {
  pending = null;
  waiters = [];
  serverClose = null;
  channelErrors = [];
  isClosed = false;
  /** Optional hook, called for every frame before the waiters. */
  onFrame = null;
  channelMax = 0;
  frameMax = 131072;

  static connect(host, port, timeoutMs = 10_000) {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port });
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error(`TCP connect to ${host}:${port} timed out`));
      }, timeoutMs);
      s.once("error", (e) => {
        clearTimeout(t);
        reject(e);
      });
      s.once("connect", () => {
        clearTimeout(t);
        s.removeAllListeners("error");
        s.setNoDelay(true);
        resolve(new Amqp(s));
      });
    });
  }

  constructor(socket) {
    this.socket = socket;
    socket.on("error", (e) => (this.socketError ??= e));
    this.closed = new Promise((r) =>
      socket.once("close", () => {
        this.isClosed = true;
        const why = this.serverClose ? `: ${this.serverClose.code} ${this.serverClose.text}` : "";
        this.#failAll(new Error(`socket closed${why}`));
        r();
      }),
    );
    socket.on("data", (d) => this.#onData(d));
  }

  #onData(d) {
    const buf = this.pending ? Buffer.concat([this.pending, d]) : d;
    let pos = 0;
    while (buf.length - pos >= 8) {
      const size = buf.readUInt32BE(pos + 3);
      if (buf.length - pos < size + 8) break;
      const f = {
        type: buf[pos],
        ch: buf.readUInt16BE(pos + 1),
        payload: buf.subarray(pos + 7, pos + 7 + size),
      };
      if (f.type === 1) {
        f.cls = f.payload.readUInt16BE(0);
        f.mth = f.payload.readUInt16BE(2);
        f.args = f.payload.subarray(4);
      }
      pos += size + 8;
      this.#dispatch(f);
    }
    this.pending = pos < buf.length ? buf.subarray(pos) : null;
  }

  #dispatch(f) {
    let close;
    if (isMethod(f, 10, 50)) {
      close = this.serverClose = parseClose(f.args);
      this.socket.write(enc.connectionCloseOk());
    } else if (isMethod(f, 20, 40)) {
      close = { ch: f.ch, ...parseClose(f.args) };
      this.channelErrors.push(close);
      this.socket.write(enc.channelCloseOk(f.ch));
    }
    this.onFrame?.(f);
    let matched = false;
    for (let i = 0; i < this.waiters.length;) {
      const w = this.waiters[i];
      if (w.pred(f)) {
        matched = true;
        w.seen++;
        if (w.seen === w.count) {
          this.waiters.splice(i, 1);
          clearTimeout(w.timer);
          w.resolve(f);
          continue;
        }
      }
      i++;
    }
    if (close && !matched) {
      const what = f.ch === 0 ? "connection" : `channel ${f.ch}`;
      this.#failAll(new Error(`server closed ${what}: ${close.code} ${close.text}`));
    }
  }

  #failAll(err) {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }

  /** Resolves with the count-th frame matching pred from now on; register before sending. */
  wait(pred, { count = 1, timeoutMs = 60_000, what = "a frame" } = {}) {
    return new Promise((resolve, reject) => {
      if (this.isClosed) return reject(new Error(`socket closed before ${what}`));
      const w = { pred, count, seen: 0, resolve, reject };
      w.timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${w.seen}/${count} seen)`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  waitMethod(classId, methodId, opts = {}) {
    return this.wait((f) => isMethod(f, classId, methodId), {
      what: `method ${classId}.${methodId}`,
      ...opts,
    });
  }

  write(buf) {
    return this.socket.write(buf);
  }

  /** Writes, then waits for 'drain' if the socket buffer is over its high-water mark. */
  async send(buf) {
    if (this.socket.write(buf)) return;
    if (this.isClosed) throw new Error("socket closed");
    await Promise.race([once(this.socket, "drain"), this.closed]);
  }

  /**
   * Protocol header, PLAIN login, tune-ok (heartbeats off), connection.open. Resolves with
   * { refused } if the server sends connection.close instead of tune.
   */
  async handshake({
    user = "guest",
    password = "guest",
    vhost = "/",
    channelMax = 2047,
    name = "warren-bench",
    timeoutMs = 30_000,
  } = {}) {
    const start = this.waitMethod(10, 10, { timeoutMs, what: "connection.start" });
    this.write(PROTOCOL_HEADER);
    await start;
    const tune = this.wait((f) => isMethod(f, 10, 30) || isMethod(f, 10, 50), {
      timeoutMs,
      what: "connection.tune",
    });
    const props = {
      product: name,
      connection_name: name,
      capabilities: { authentication_failure_close: true, consumer_cancel_notify: true },
    };
    this.write(method(0, 10, 11, table(props), sstr("PLAIN"), lstr(`\0${user}\0${password}`), sstr("en_US")));
    const t = await tune;
    if (t.mth === 50) return { refused: parseClose(t.args) };
    const serverChannelMax = t.args.readUInt16BE(0);
    const serverFrameMax = t.args.readUInt32BE(2);
    this.channelMax = Math.min(channelMax, serverChannelMax || 65535);
    this.frameMax = Math.min(131072, serverFrameMax || 131072);
    const open = this.wait((f) => isMethod(f, 10, 41) || isMethod(f, 10, 50), {
      timeoutMs,
      what: "connection.open-ok",
    });
    this.write(method(0, 10, 31, u16(this.channelMax), u32(this.frameMax), u16(0)));
    this.write(method(0, 10, 40, sstr(vhost), sstr(""), bits(false)));
    const o = await open;
    if (o.mth === 50) throw new Error(`connection.open refused: ${JSON.stringify(parseClose(o.args))}`);
    return {};
  }

  /** Opens the given channel ids, pipelined. */
  async openChannels(ids, timeoutMs = 120_000) {
    const ok = this.waitMethod(20, 11, { count: ids.length, timeoutMs, what: "channel.open-ok" });
    await this.send(Buffer.concat(ids.map((id) => enc.channelOpen(id))));
    await ok;
  }

  /**
   * Sends `count` pipelined methods made by make(i) (in writes of `batch`) and waits for `count`
   * replies of [classId, methodId].
   */
  async pipeline(count, make, [classId, methodId], { batch = 1000, timeoutMs = 1_800_000 } = {}) {
    const done = this.waitMethod(classId, methodId, { count, timeoutMs });
    done.catch(() => {}); // reported by the await below
    for (let i = 0; i < count; i += batch) {
      const bufs = [];
      for (let j = i; j < Math.min(count, i + batch); j++) bufs.push(make(j));
      await this.send(Buffer.concat(bufs));
    }
    await done;
  }

  /** connection.close and wait for close-ok, then end the socket. */
  async close(timeoutMs = 60_000) {
    if (this.isClosed) return;
    const ok = this.waitMethod(10, 51, { timeoutMs, what: "connection.close-ok" });
    this.write(enc.connectionClose());
    try {
      await ok;
    } finally {
      this.socket.end();
    }
  }

  destroy() {
    this.socket.destroy();
  }
}

/** TCP connect + handshake; throws if the login is refused. */
export async function openAmqp(url, opts = {}) {
  const u = parseUrl(url);
  const c = await Amqp.connect(u.host, u.port, opts.timeoutMs);
  const r = await c.handshake({ user: u.user, password: u.password, vhost: u.vhost, ...opts });
  if (r.refused) {
    c.destroy();
    throw new Error(`login refused: ${r.refused.code} ${r.refused.text}`);
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// The bystander: a worker thread with its own event loop and its own connection

async function bystanderMain({ url, interval, queue }) {
  const conn = await openAmqp(url, { name: "stall-bystander" });
  await conn.openChannels([1]);
  const declared = conn.waitMethod(50, 11);
  conn.write(enc.queueDeclare(1, queue, { exclusive: true, autoDelete: true }));
  await declared;
  const probe = enc.queueDeclare(1, queue, { passive: true });
  const sends = [];
  const rtts = [];
  const lags = []; // how late the bystander's own timer fired before this send (client-side starvation)
  const reports = [];
  let stop = false;
  parentPort.on("message", (m) => {
    if (m.type === "stop") stop = true;
    else if (m.type === "report") reports.push(m);
  });
  const serve = () => {
    for (let i = 0; i < reports.length;) {
      const r = reports[i];
      if (sends.length && sends[sends.length - 1] >= r.t1) {
        reports.splice(i, 1);
        parentPort.postMessage({
          type: "report",
          id: r.id,
          stats: windowStats(sends, rtts, lags, r.t0, r.t1),
        });
      } else i++;
    }
  };
  let reply;
  conn.onFrame = (f) => {
    if (isMethod(f, 50, 11)) reply?.();
  };
  conn.closed.then(() => {
    if (!stop)
      parentPort.postMessage({
        type: "error",
        message: `bystander connection closed ${JSON.stringify(conn.serverClose)}`,
      });
  });
  parentPort.postMessage({ type: "ready" });
  let lag = 0;
  while (!stop && !conn.isClosed) {
    const t0 = now();
    const got = new Promise((r) => (reply = r));
    conn.write(probe);
    await Promise.race([got, conn.closed]);
    if (conn.isClosed) break;
    const t1 = now();
    sends.push(t0);
    rtts.push(t1 - t0);
    lags.push(lag);
    serve();
    const wait = t0 + interval - now();
    if (wait > 0) {
      const due = now() + wait;
      await sleep(wait);
      lag = now() - due;
    } else lag = 0;
  }
  if (!conn.isClosed) await conn.close(5000).catch(() => {});
  parentPort.close();
}

function windowStats(sends, rtts, lags, t0, t1) {
  const xs = [];
  let max = 0;
  let maxAt = Number.NaN;
  let lagMax = 0;
  for (let i = sends.length - 1; i >= 0; i--) {
    const s = sends[i];
    if (s + rtts[i] < t0) {
      if (s < t0 - 120_000) break;
      continue;
    }
    if (s > t1) continue;
    xs.push(rtts[i]);
    if (rtts[i] > max) {
      max = rtts[i];
      maxAt = s - t0;
    }
    if (lags[i] > lagMax) lagMax = lags[i];
  }
  xs.sort((a, b) => a - b);
  const pct = (p) => (xs.length ? xs[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)] : Number.NaN);
  return { n: xs.length, max: xs.length ? max : Number.NaN, maxAt, p50: pct(0.5), p99: pct(0.99), lagMax };
}

class Bystander {
  nextId = 0;
  waiting = new Map();
  error = null;

  static async start(url, interval) {
    const b = new Bystander();
    const queue = `stall-bystander-${process.pid}-${Date.now()}`;
    b.worker = new Worker(new URL(import.meta.url), {
      workerData: { role: "bystander", url, interval, queue },
    });
    const ready = new Promise((res, rej) => {
      b.worker.on("message", (m) => {
        if (m.type === "ready") res();
        else if (m.type === "report") {
          b.waiting.get(m.id)?.(m.stats);
          b.waiting.delete(m.id);
        } else if (m.type === "error") {
          b.error = new Error(m.message);
          rej(b.error);
        }
      });
      b.worker.on("error", (e) => {
        b.error = e;
        rej(e);
      });
    });
    await ready;
    return b;
  }

  /** Stats of the samples overlapping [t0, t1]; waits for the first sample sent after t1. */
  report(t0, t1) {
    const id = ++this.nextId;
    return new Promise((res) => {
      this.waiting.set(id, res);
      this.worker.postMessage({ type: "report", id, t0, t1 });
    });
  }

  async stop() {
    this.worker.postMessage({ type: "stop" });
    const exited = once(this.worker, "exit");
    if (!(await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)])))
      await this.worker.terminate();
  }
}

// ---------------------------------------------------------------------------------------------
// Scenarios. Each gets ctx = { url, kind, pid, opts, phase(name, fn) }; phase() returns fn's value.

async function adminConnection(url) {
  const c = await openAmqp(url, { name: "stall-admin" });
  await c.openChannels(range(1, 10));
  return c;
}

async function bigHeader(ctx) {
  const { channels, bodySize, hold } = ctx.opts;
  const conn = await openAmqp(ctx.url, { name: "stall-big-header", channelMax: channels + 1 });
  if (conn.channelMax < channels + 1) throw new Error(`server allows only ${conn.channelMax} channels`);
  await conn.openChannels(range(1, channels + 1));
  const syncCh = channels + 1;
  try {
    await ctx.phase("publish", async () => {
      const one = Buffer.from("x");
      const frames = range(1, channels).map((ch) =>
        enc.publish(ch, "", "stall-nowhere", one, { declaredSize: bodySize, frameMax: conn.frameMax }),
      );
      const sync = conn.waitMethod(60, 11, { timeoutMs: 1_800_000, what: "basic.qos-ok" });
      await conn.send(Buffer.concat(frames));
      conn.write(enc.basicQos(syncCh, 0));
      await sync;
      const s = procStatus(ctx.pid);
      return {
        note: `${channels} x ${bodySize} B headers + 1 B; broker RSS ${fmtMB(s.rss)}, VmSize ${fmtMB(s.vmsize)}`,
      };
    });
    await ctx.phase("hold", async () => {
      await sleep(hold * 1000);
      if (conn.isClosed)
        throw new Error(`connection closed by the server: ${JSON.stringify(conn.serverClose)}`);
      return { note: `channel errors: ${conn.channelErrors.length}` };
    });
    await ctx.phase("close", () => conn.close(1_800_000));
  } finally {
    conn.destroy();
  }
}

async function consumers(ctx) {
  const { consumers: n, consumerChannels: nch } = ctx.opts;
  const queue = "stall-consumers";
  const admin = await adminConnection(ctx.url);
  await admin.pipeline(1, () => enc.queueDelete(1, queue), [50, 41]);
  await admin.pipeline(1, () => enc.queueDeclare(1, queue), [50, 11]);
  const conn = await openAmqp(ctx.url, { name: "stall-consumers", channelMax: nch });
  try {
    await conn.openChannels(range(1, nch));
    await ctx.phase("add", async () => {
      await conn.pipeline(n, (i) => enc.basicConsume(1 + (i % nch), queue, `stall-c${i}`), [60, 21]);
      return { note: `${fmtInt(n)} consumers over ${nch} channels` };
    });
    await ctx.phase("close", () => conn.close(1_800_000));
  } finally {
    conn.destroy();
    await admin
      .pipeline(1, () => enc.queueDelete(1, queue), [50, 41])
      .catch((e) => log(`cleanup: ${e.message}`));
    await admin.close().catch(() => {});
  }
}

async function queuesClose(ctx) {
  const { queues: nq, conns } = ctx.opts;
  const name = (i) => `stall-q-${i}`;
  let nconn = conns;
  if (ctx.kind === "rabbitmq") {
    const nodes = await rabbitMgmt(ctx.url, "/nodes", ctx.opts.mgmtPort);
    const limit = nodes?.[0]?.sockets_total;
    if (limit && conns > limit - 32) {
      nconn = limit - 32;
      log(`RabbitMQ sockets_total is ${limit}: opening ${nconn} connections instead of ${conns}`);
    }
  }
  const admin = await adminConnection(ctx.url);
  const opened = [];
  try {
    await ctx.phase("declare", async () => {
      await admin.pipeline(nq, (i) => enc.queueDeclare(1 + (i % 10), name(i)), [50, 11]);
      return { note: `${fmtInt(nq)} queues` };
    });
    await ctx.phase("open", async () => {
      let next = 0;
      const worker = async () => {
        while (next < nconn) {
          next++;
          const c = await openAmqp(ctx.url, { name: "stall-short", channelMax: 8 });
          opened.push(c);
          await c.openChannels([1]);
        }
      };
      await Promise.all(range(1, 50).map(worker));
      return { note: `${opened.length} connections, 1 channel each` };
    });
    await ctx.phase("close", async () => {
      await Promise.all(opened.map((c) => c.close(1_800_000)));
      return { note: `${opened.length} connections closed at once, ${fmtInt(nq)} queues present` };
    });
  } finally {
    for (const c of opened) c.destroy();
    try {
      await ctx.phase("delete", async () => {
        await admin.pipeline(nq, (i) => enc.queueDelete(1 + (i % 10), name(i)), [50, 41]);
        return { note: `cleanup: ${fmtInt(nq)} queues deleted` };
      });
    } finally {
      await admin.close().catch(() => {});
    }
  }
}

async function failedLogins(ctx) {
  const { loginConns, loginSeconds } = ctx.opts;
  const u = parseUrl(ctx.url);
  await ctx.phase("guess", async () => {
    const t0 = now();
    const end = t0 + loginSeconds * 1000;
    let refused = 0;
    let accepted = 0;
    let errors = 0;
    let lastError = "";
    const worker = async (k) => {
      for (let i = 0; now() < end; i++) {
        let c;
        try {
          c = await Amqp.connect(u.host, u.port);
          const r = await c.handshake({
            user: u.user,
            password: `wrong-${k}-${i}`,
            vhost: u.vhost,
            timeoutMs: 30_000,
          });
          if (r.refused) refused++;
          else accepted++;
        } catch (e) {
          // A server without authentication_failure_close just hangs up: a refusal too.
          if (c && /socket closed/.test(e.message)) refused++;
          else {
            errors++;
            lastError = e.message;
          }
        } finally {
          c?.destroy();
        }
      }
    };
    await Promise.all(range(1, loginConns).map(worker));
    const secs = (now() - t0) / 1000;
    const rate = refused / secs;
    return {
      note:
        `${fmtInt(rate)} guesses/s (${fmtInt(refused)} refused in ${secs.toFixed(1)} s, ${loginConns} parallel` +
        `${accepted ? `, ${accepted} ACCEPTED` : ""}${errors ? `, ${errors} errors: ${lastError}` : ""})`,
      guessesPerSec: rate,
    };
  });
}

const RUNNERS = {
  "big-header": bigHeader,
  consumers,
  "queues-close": queuesClose,
  "failed-logins": failedLogins,
};

// ---------------------------------------------------------------------------------------------
// Main

function parseCli(argv) {
  const { values, num } = parseCommandLine(
    argv,
    {
      ...BROKER_OPTIONS,
      scenario: { type: "string", default: "all" },
      channels: { type: "string", default: "2000" },
      "body-size": { type: "string", default: String(128 * 1024 * 1024) },
      hold: { type: "string", default: "2" },
      consumers: { type: "string", default: "50000" },
      "consumer-channels": { type: "string", default: "50" },
      queues: { type: "string", default: "50000" },
      conns: { type: "string", default: "1000" },
      "login-conns": { type: "string", default: "20" },
      "login-seconds": { type: "string", default: "5" },
      interval: { type: "string", default: "5" },
      settle: { type: "string", default: "500" },
      idle: { type: "string", default: "1000" },
      repeat: { type: "string", default: "1" },
      "wait-idle": { type: "string", default: "0" },
      json: { type: "boolean", default: false },
    },
    USAGE,
  );
  const scenarios = values.scenario === "all" ? SCENARIOS : values.scenario.split(",").map((s) => s.trim());
  for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}`);
  return {
    ...brokerOptions(values, num),
    scenarios,
    channels: num("channels", 1),
    bodySize: num("body-size", 2),
    hold: num("hold", 0),
    consumers: num("consumers", 1),
    consumerChannels: num("consumer-channels", 1),
    queues: num("queues", 1),
    conns: num("conns", 1),
    loginConns: num("login-conns", 1),
    loginSeconds: num("login-seconds", 0.1),
    interval: num("interval", 0.1),
    settle: num("settle", 0),
    idle: num("idle", 0),
    repeat: num("repeat", 1),
    waitIdle: num("wait-idle", 0),
    json: values.json,
  };
}

async function runScenario(opts, scenario, side) {
  const rows = [];
  const target = await brokerTarget(
    side === "A"
      ? {
          url: opts.url,
          pid: opts.brokerPid,
          cli: opts.cli,
          nodeArgs: opts.nodeArgs,
          label: `stall-${scenario}`,
        }
      : { url: opts.compareUrl, pid: opts.comparePid },
  );
  const broker = target.kind;
  log(`${scenario} on ${target.name}${target.spawned ? ` pid ${target.pid}` : ""}`);
  let bystander;
  try {
    bystander = await Bystander.start(target.url, opts.interval);
    const phase = async (name, fn) => {
      const rss0 = procStatus(target.pid).rss;
      const c0 = cpuSample(target.pid);
      const t0 = now();
      let info;
      let error;
      try {
        info = (await fn()) ?? {};
      } catch (e) {
        error = e;
      }
      const t1 = now();
      await sleep(opts.settle);
      const stats = await bystander.report(t0, t1 + opts.settle);
      const cpu = cpuBetween(c0, cpuSample(target.pid));
      const s = procStatus(target.pid);
      const row = {
        broker,
        scenario,
        phase: name,
        durationMs: t1 - t0,
        bystander: stats,
        cpu,
        rssBefore: rss0,
        rssAfter: s.rss,
        rssPeak: s.hwm,
        note: error ? `FAILED: ${error.message}` : (info?.note ?? ""),
        ...(info?.guessesPerSec !== undefined ? { guessesPerSec: info.guessesPerSec } : {}),
      };
      rows.push(row);
      log(
        `  ${name}: ${fmtMs(row.durationMs)}, bystander max ${fmtMs(stats.max)} p99 ${fmtMs(stats.p99)} ` +
          `(${stats.n} samples, own timer lag max ${fmtMs(stats.lagMax)}), cpu% broker ${cpu.brokerPct.toFixed(0)} ` +
          `script ${cpu.selfPct.toFixed(0)} other ${cpu.otherPct.toFixed(0)}; ${row.note}`,
      );
      if (error) throw error;
      return info;
    };
    if (opts.idle > 0) await phase("idle", () => sleep(opts.idle));
    await RUNNERS[scenario]({ url: target.url, kind: broker, pid: target.pid, opts, phase });
  } catch (e) {
    if (!rows.some((r) => r.note.startsWith("FAILED"))) {
      rows.push({
        broker,
        scenario,
        phase: "-",
        durationMs: Number.NaN,
        bystander: {},
        note: `FAILED: ${e.message}`,
      });
      log(`  FAILED: ${e.stack ?? e.message}`);
    }
  } finally {
    await bystander?.stop().catch(() => {});
    await target.stop();
    if (target.spawned && target.spawned.output().includes("internal error"))
      log(`  broker output:\n${target.spawned.output()}`);
  }
  return { target: { name: target.name, kind: broker, pid: target.pid, command: target.command }, rows };
}

function printTable(results) {
  const header = [
    "scenario",
    "phase",
    "broker",
    "duration",
    "bys max",
    "bys p99",
    "bys p50",
    "n",
    "max at",
    "brk cpu%",
    "other%",
    "rss after",
    "note",
  ];
  const lines = [header];
  for (const r of results.flatMap((x) => x.rows)) {
    const b = r.bystander ?? {};
    lines.push([
      r.scenario,
      r.phase,
      r.broker,
      fmtMs(r.durationMs),
      fmtMs(b.max),
      fmtMs(b.p99),
      fmtMs(b.p50),
      String(b.n ?? "-"),
      fmtMs(b.maxAt),
      Number.isFinite(r.cpu?.brokerPct) ? r.cpu.brokerPct.toFixed(0) : "-",
      Number.isFinite(r.cpu?.otherPct) ? r.cpu.otherPct.toFixed(0) : "-",
      fmtMB(r.rssAfter),
      r.note,
    ]);
  }
  const right = new Set([3, 4, 5, 6, 7, 8, 9, 10, 11]);
  printColumns(lines, (i) => right.has(i));
  console.log(
    "\nbys = bystander round trip (queue.declare passive every --interval ms on its own connection) during the phase\n" +
      "plus --settle ms; max at = when the slowest probe was sent, from the phase start; brk cpu% / other% =\n" +
      "CPU of the broker / of every process but the broker and this script, % of one core, same window.",
  );
}

async function main() {
  const opts = parseCli(process.argv.slice(2));
  const results = [];
  const run = async (scenario, side) => {
    if (opts.waitIdle > 0) {
      const busy = await waitIdle(opts.waitIdle);
      log(`machine ${busy.toFixed(0)}% busy over 1 s before the run`);
    }
    results.push(await runScenario(opts, scenario, side));
  };
  for (const scenario of opts.scenarios) {
    for (let i = 0; i < opts.repeat; i++) {
      await run(scenario, "A");
      if (opts.compareUrl) await run(scenario, "B");
    }
  }
  if (opts.json) {
    console.log(JSON.stringify({ options: opts, results }, null, 2));
  } else printTable(results);
}

if (!isMainThread && workerData?.role === "bystander") {
  bystanderMain(workerData).catch((e) => {
    parentPort.postMessage({ type: "error", message: e.message });
    process.exit(1);
  });
} else if (
  isMainThread &&
  process.argv[1] &&
  import.meta.url === pathToFileURL(resolve(process.argv[1])).href
) {
  main().catch((e) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
  });
}
