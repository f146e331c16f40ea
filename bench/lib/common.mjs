// Helpers shared by the bench/ scripts: command lines, logging, broker processes (spawning a
// Warren, finding a running broker's pid, RSS and CPU from /proc), tables, publisher-confirm
// bookkeeping and pre-encoded AMQP frames. Plain ESM, Node 20, Linux (/proc).

import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { freePort } from "../../interop/lib/broker.mjs";

export { freePort };

/** The Warren CLI of this checkout (packages/cli/dist/main.js), spawned by default. */
export const DEFAULT_CLI = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../packages/cli/dist/main.js",
);

// ---------------------------------------------------------------------------------------------
// Small utilities

/** Resolves after `ms` milliseconds. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Milliseconds since the epoch, high resolution; comparable across worker threads. */
export const now = () => performance.timeOrigin + performance.now();
/** A progress line on stderr, prefixed with the time of day (HH:MM:SS). */
export const log = (line) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
/** An integer with thousands separators, "-" if not finite. */
export const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-");
/** Bytes as MiB with one decimal, "-" if not finite. */
export const fmtMB = (b) => (Number.isFinite(b) ? `${(b / 1048576).toFixed(1)} MiB` : "-");

/** Host, port, user, password and vhost of an amqp:// URL, with AMQP's defaults. */
export function parseUrl(url) {
  const u = new URL(url);
  const vhost = decodeURIComponent(u.pathname.slice(1)) || "/";
  return {
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: Number(u.port) || 5672,
    user: decodeURIComponent(u.username) || "guest",
    password: decodeURIComponent(u.password) || "guest",
    vhost,
  };
}

// ---------------------------------------------------------------------------------------------
// Command lines

/**
 * parseArgs (strict) of argv with `options` plus --help; --help prints `usage` to stdout and exits 0.
 * Returns the values and two readers of numeric options that throw on a bad value:
 * num(name, min) (a number >= min) and int(name, min) (an integer >= min).
 */
export function parseCommandLine(argv, options, usage) {
  const { values } = parseArgs({
    args: argv,
    options: { ...options, help: { type: "boolean", default: false } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const num = (name, min) => {
    const v = Number(values[name]);
    if (!Number.isFinite(v) || v < min) throw new Error(`--${name} must be a number >= ${min}`);
    return v;
  };
  const int = (name, min) => {
    const v = num(name, min);
    if (!Number.isInteger(v)) throw new Error(`--${name} must be an integer`);
    return v;
  };
  return { values, num, int };
}

/** parseArgs options naming the broker(s) under test: --cli/--url, pids, node flags, a second broker. */
export const BROKER_OPTIONS = {
  cli: { type: "string" },
  url: { type: "string" },
  "broker-pid": { type: "string" },
  "node-args": { type: "string", default: "" },
  "compare-url": { type: "string" },
  "compare-pid": { type: "string" },
  "mgmt-port": { type: "string", default: "15672" },
};

/**
 * The BROKER_OPTIONS values as { cli, url, brokerPid, nodeArgs, compareUrl, comparePid, mgmtPort }
 * (num from parseCommandLine); throws if both --cli and --url are given.
 */
export function brokerOptions(values, num) {
  if (values.cli && values.url) throw new Error("--cli and --url are exclusive");
  return {
    cli: resolve(values.cli ?? DEFAULT_CLI),
    url: values.url,
    brokerPid: values["broker-pid"] ? num("broker-pid", 1) : undefined,
    nodeArgs: values["node-args"].split(/\s+/).filter(Boolean),
    compareUrl: values["compare-url"],
    comparePid: values["compare-pid"] ? num("compare-pid", 1) : undefined,
    mgmtPort: num("mgmt-port", 1),
  };
}

// ---------------------------------------------------------------------------------------------
// Output

/**
 * Prints rows of strings (the first is the header) as columns two spaces apart, each as wide as its
 * widest cell: right-aligned where right(i), else left-aligned; the last column is not padded.
 */
export function printColumns(lines, right) {
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  for (const l of lines) {
    console.log(
      l
        .map((c, i) => (i === l.length - 1 ? c : right(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
        .join("  ")
        .trimEnd(),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Broker processes

/** Resolves with whether something on 127.0.0.1 accepts a TCP connection on the port. */
export function canConnect(port) {
  return new Promise((res) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      res(true);
    });
    s.once("error", () => res(false));
  });
}

const liveChildren = new Set();
const liveDataDirs = new Set();
let exitHooked = false;
function hookExit() {
  if (exitHooked) return;
  exitHooked = true;
  process.on("exit", () => {
    for (const c of liveChildren) c.kill("SIGKILL");
    for (const d of liveDataDirs) rmSync(d, { recursive: true, force: true });
  });
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130));
}

/**
 * Starts `node [nodeArgs] CLI server --port P --data-dir TMP [serverArgs]` and waits until it accepts TCP.
 * stop() sends SIGTERM (the broker stops and exits, writing a --cpu-prof profile if asked),
 * SIGKILL after 30 s, and removes the data directory.
 */
export async function spawnWarren({
  cli = DEFAULT_CLI,
  nodeArgs = [],
  label = "warren",
  serverArgs = [],
} = {}) {
  hookExit();
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), `warren-${label}-`));
  liveDataDirs.add(dataDir);
  const args = [...nodeArgs, cli, "server", "--port", String(port), "--data-dir", dataDir, ...serverArgs];
  // No HTTP endpoints unless the environment asks (through env, which older builds ignore).
  const env = { WARREN_MANAGEMENT_PORT: "0", WARREN_PROMETHEUS_PORT: "0", ...process.env };
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env });
  liveChildren.add(child);
  let output = "";
  const keep = (d) => {
    output += d;
    if (output.length > 64_000) output = output.slice(-32_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let exited = false;
  const exit = new Promise((r) =>
    child.once("exit", (code, signal) => {
      exited = true;
      liveChildren.delete(child);
      r({ code, signal });
    }),
  );
  const deadline = Date.now() + 30_000;
  while (!(await canConnect(port))) {
    if (exited) throw new Error(`broker exited during start:\n${output}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`broker did not listen on ${port} within 30 s:\n${output}`);
    }
    await sleep(100);
  }
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    pid: child.pid,
    port,
    dataDir,
    command: `${process.execPath} ${args.join(" ")}`,
    output: () => output,
    get exited() {
      return exited;
    },
    async stop() {
      if (!exited) {
        child.kill("SIGTERM");
        const r = await Promise.race([exit, sleep(30_000).then(() => null)]);
        if (!r) {
          child.kill("SIGKILL");
          await exit;
        }
      }
      rmSync(dataDir, { recursive: true, force: true });
      liveDataDirs.delete(dataDir);
    },
  };
}

/**
 * The TCP listener on `port` on this machine, from /proc/net/tcp{,6} and /proc/<pid>/fd:
 * `listening` is false when nothing listens there, undefined when /proc/net is unreadable;
 * `pid` is its owner's pid, undefined when not found (or not visible to this user).
 */
export function listenerOf(port) {
  const portHex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const wanted = new Set();
  let readable = false;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
      readable = true;
    } catch {}
    for (const line of text.split("\n").slice(1)) {
      // local_address is "IP:PORT", st 0A = LISTEN, inode is column 9
      const c = line.trim().split(/\s+/);
      if (c.length > 9 && c[3] === "0A" && c[1].endsWith(portHex)) wanted.add(`socket:[${c[9]}]`);
    }
  }
  const listening = wanted.size > 0 ? true : readable ? false : undefined;
  if (wanted.size === 0) return { listening, pid: undefined };
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let fds;
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (wanted.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return { listening, pid: Number(pid) };
      } catch {}
    }
  }
  return { listening, pid: undefined };
}

/** Owner of the socket listening on the URL's port (from /proc/net/tcp{,6} and /proc/<pid>/fd). */
export function detectBrokerPid(url) {
  return listenerOf(Number(new URL(url).port) || 5672).pid;
}

/** The command name of a process (/proc/<pid>/comm), undefined if it is gone. */
export function processName(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
}

/**
 * A broker to run against: a spawned Warren (no url), or an existing one given by URL (pid: its pid,
 * default the port's owner; kind "rabbitmq" when that is beam.smp, else "warren").
 */
export async function brokerTarget({ url, pid, cli, nodeArgs, label }) {
  if (!url) {
    const w = await spawnWarren({ cli, nodeArgs, label });
    return { ...w, kind: "warren", spawned: w, name: `warren (${cli})` };
  }
  const p = pid ?? detectBrokerPid(url);
  const kind = p && processName(p) === "beam.smp" ? "rabbitmq" : "warren";
  return { url, pid: p, kind, name: `${kind} ${url.replace(/\/\/[^@]*@/, "//")}`, stop: async () => {} };
}

/** GET from the RabbitMQ management API on the AMQP URL's host; undefined if unreachable. */
export async function rabbitMgmt(url, path, mgmtPort = 15672) {
  const u = parseUrl(url);
  const host = u.host.includes(":") ? `[${u.host}]` : u.host;
  try {
    const r = await fetch(`http://${host}:${mgmtPort}/api${path}`, {
      headers: { authorization: `Basic ${Buffer.from(`${u.user}:${u.password}`).toString("base64")}` },
      signal: AbortSignal.timeout(10_000),
    });
    return r.ok ? await r.json() : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Memory and CPU of processes, from /proc

/** VmRSS, VmHWM (peak RSS), VmSize in bytes (NaN if unreadable). */
export function procStatus(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(s)?.[1] ?? Number.NaN) * 1024;
    return { rss: kb("VmRSS"), hwm: kb("VmHWM"), vmsize: kb("VmSize") };
  } catch {
    return { rss: Number.NaN, hwm: Number.NaN, vmsize: Number.NaN };
  }
}

let CLK_TCK = 100;
try {
  CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
} catch {}

/**
 * utime+stime of a whole process (all threads) in microseconds as `total`, stime alone as `sys`,
 * from /proc/<pid>/stat; undefined without a pid or if unreadable.
 */
export function procCpu(pid) {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // fields after "(comm)": state is field 3, utime field 14, stime field 15
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { total: ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK, sys: (Number(f[12]) * 1e6) / CLK_TCK };
  } catch {
    return undefined;
  }
}

/** CPU time of this process (all threads) in microseconds, as procCpu() reports it. */
export function selfCpu() {
  const u = process.cpuUsage();
  return { total: u.user + u.system, sys: u.system };
}

/** Busy CPU time of the whole machine (all cores, excluding idle and iowait) in microseconds. */
export function machineBusyMicros() {
  try {
    const f = readFileSync("/proc/stat", "utf8")
      .split("\n", 1)[0]
      .trim()
      .split(/\s+/)
      .slice(1, 9)
      .map(Number);
    // user nice system idle iowait irq softirq steal
    return ((f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) * 1e6) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** CPU of the broker, of this process (all threads) and of the whole machine, sampled now. */
export function cpuSample(brokerPid) {
  return {
    t: now(),
    machine: machineBusyMicros(),
    broker: procCpu(brokerPid)?.total ?? Number.NaN,
    self: selfCpu().total,
  };
}

/** Percent of one core used between two cpuSample()s: broker, this script, everything else. */
export function cpuBetween(a, b) {
  const wall = (b.t - a.t) * 1000;
  const broker = b.broker - a.broker;
  const self = b.self - a.self;
  const machine = b.machine - a.machine;
  const other = Number.isFinite(broker) ? machine - broker - self : machine - self;
  return {
    brokerPct: (100 * broker) / wall,
    selfPct: (100 * self) / wall,
    otherPct: Math.max(0, (100 * other) / wall),
  };
}

/**
 * Waits (at most 120 s) until the machine's busy CPU over one second is below pct of one core;
 * returns that busy percentage (NaN if /proc/stat is unreadable). A timeout is reported through say.
 */
export async function waitIdle(pct, say = log) {
  const deadline = Date.now() + 120_000;
  let busy = Number.POSITIVE_INFINITY;
  while (Date.now() < deadline) {
    const m0 = machineBusyMicros();
    await sleep(1000);
    busy = (machineBusyMicros() - m0) / 1e4;
    if (!(busy >= pct)) return busy;
  }
  say(`machine still ${busy.toFixed(0)}% busy after waiting 120 s; running anyway`);
  return busy;
}

// ---------------------------------------------------------------------------------------------
// Publishing with confirms, from pre-encoded frames

/**
 * Publisher-confirm bookkeeping for delivery tags 1, 2, 3, ... in publish order. onConfirm(tag,
 * multiple, nack) is the handler for basic.ack/nack; `confirmed` counts the tags settled so far
 * (multiple=true settles every earlier tag), `nacked` the nacks; then() runs after each confirm.
 */
export function confirmCounter(then) {
  let ackedUpTo = 0; // every tag <= ackedUpTo is confirmed
  const singles = new Set(); // confirmed tags > ackedUpTo (out-of-order, multiple=false)
  const counter = {
    confirmed: 0,
    nacked: 0,
    onConfirm: (tag, multiple, nack) => {
      if (nack) counter.nacked++;
      if (multiple) {
        if (tag > ackedUpTo) {
          for (const t of singles) if (t <= tag) singles.delete(t);
          ackedUpTo = tag;
        }
      } else if (tag === ackedUpTo + 1) {
        ackedUpTo = tag;
        while (singles.delete(ackedUpTo + 1)) ackedUpTo++;
      } else if (tag > ackedUpTo) singles.add(tag);
      counter.confirmed = ackedUpTo + singles.size;
      then();
    },
  };
  return counter;
}

/** An AMQP short string: length octet + UTF-8 bytes. */
export function shortStr(s) {
  const b = Buffer.from(s, "utf8");
  return Buffer.concat([Buffer.from([b.length]), b]);
}

/** An AMQP frame: type, channel, size, payload, frame-end 0xCE. */
export function frame(type, channel, payload) {
  const b = Buffer.allocUnsafe(8 + payload.length);
  b[0] = type;
  b.writeUInt16BE(channel, 1);
  b.writeUInt32BE(payload.length, 3);
  payload.copy(b, 7);
  b[7 + payload.length] = 0xce;
  return b;
}

/**
 * basic.publish + content header (delivery_mode 2 if persistent, a priority property if priority)
 * + body frames of bodySize bytes of 'x', split at frameMax, encoded once. `bodyOffset` is where
 * the body's first bytes are in `template` (a timestamp or a sequence number is patched there per
 * message), `prioOffset` the priority byte (-1 without).
 */
export function encodePublish(channel, exchange, routingKey, bodySize, frameMax, { persistent, priority }) {
  const method = Buffer.concat([
    Buffer.from([0, 60, 0, 40, 0, 0]), // basic.publish, reserved-1
    shortStr(exchange),
    shortStr(routingKey),
    Buffer.from([0]), // mandatory=0 immediate=0
  ]);
  let flags = 0;
  const props = [];
  if (persistent) {
    flags |= 0x1000;
    props.push(2);
  }
  if (priority) {
    flags |= 0x0800;
    props.push(0);
  }
  const header = Buffer.alloc(14 + props.length);
  header.writeUInt16BE(60, 0); // class
  header.writeUInt16BE(0, 2); // weight
  header.writeBigUInt64BE(BigInt(bodySize), 4);
  header.writeUInt16BE(flags, 12);
  Buffer.from(props).copy(header, 14);
  const parts = [frame(1, channel, method), frame(2, channel, header)];
  const headerEnd = parts[0].length + parts[1].length;
  const prioOffset = priority ? headerEnd - 2 : -1; // last property byte, before frame-end
  const maxChunk = frameMax - 8;
  for (let pos = 0; pos < bodySize; pos += maxChunk) {
    parts.push(frame(3, channel, Buffer.alloc(Math.min(maxChunk, bodySize - pos), 0x78)));
  }
  return { template: Buffer.concat(parts), bodyOffset: headerEnd + 7, prioOffset };
}
