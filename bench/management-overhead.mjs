#!/usr/bin/env node
// What the management API and the Prometheus endpoint cost the message path (issue 8/: no more
// than 5 % slower with both endpoints on and scraped every second). Each round starts the broker
// twice, one process at a time: once with both endpoints off, once with both on while this
// script scrapes /api/overview, /api/queues, /api/channels, /api/connections, /metrics and
// /metrics/per-object every second, as a dashboard and Prometheus would. bench/perf.mjs measures
// each; the medians over the rounds are printed with the ratio on/off. The order alternates
// between rounds so drifts in machine speed hit both alike.
//
//   npm run build && node bench/management-overhead.mjs [--rounds 6] [--scenario noack,confirm-ack]
//                                                      [--duration 6]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { freePort, sleep } from "./lib/common.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: { rounds: { type: "string" }, scenario: { type: "string" }, duration: { type: "string" } },
});
const rounds = Number(values.rounds ?? 6);
const scenarios = values.scenario ?? "noack,confirm-ack";
const duration = values.duration ?? "6";
const AUTH = { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}` };
const SCRAPED = ["/api/overview", "/api/queues", "/api/channels", "/api/connections"];

/** Starts a broker; with endpoints, their ports. Resolves when AMQP accepts connections. */
async function startBroker(endpoints) {
  const [amqp, mgmt, prom] = [await freePort(), await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), "warren-mo-"));
  const env = {
    ...process.env,
    WARREN_MANAGEMENT_PORT: endpoints ? String(mgmt) : "0",
    WARREN_PROMETHEUS_PORT: endpoints ? String(prom) : "0",
  };
  const child = spawn(
    process.execPath,
    [join(ROOT, "packages/cli/dist/main.js"), "server", "--port", String(amqp), "--data-dir", dataDir],
    { env, stdio: "ignore" },
  );
  await sleep(1500);
  return { child, amqp, mgmt, prom, dataDir };
}

/** Scrapes the endpoints once a second until stopped; the number of scrapes and the slowest (ms). */
function scrapeEverySecond(b) {
  let stop = false;
  const stats = { scrapes: 0, slowestMs: 0 };
  const loop = (async () => {
    while (!stop) {
      const t0 = performance.now();
      const urls = [
        ...SCRAPED.map((p) => `http://127.0.0.1:${b.mgmt}${p}`),
        `http://127.0.0.1:${b.prom}/metrics`,
        `http://127.0.0.1:${b.prom}/metrics/per-object`,
      ];
      await Promise.all(urls.map((u) => fetch(u, { headers: AUTH }).then((r) => r.arrayBuffer())));
      const ms = performance.now() - t0;
      stats.scrapes++;
      stats.slowestMs = Math.max(stats.slowestMs, ms);
      await sleep(Math.max(0, 1000 - ms));
    }
  })();
  return {
    stats,
    stop: async () => {
      stop = true;
      await loop;
    },
  };
}

/**
 * Runs perf.mjs against the broker (asynchronously: the scraper shares this event loop);
 * { scenario: { rate, brokerUs } } from its summary lines.
 */
async function perf(b) {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "bench/perf.mjs"),
      "--url",
      `amqp://guest:guest@127.0.0.1:${b.amqp}`,
      "--broker-pid",
      String(b.child.pid),
      "--scenario",
      scenarios,
      "--duration",
      duration,
      "--warmup",
      "2",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let text = "";
  child.stdout.on("data", (d) => (text += d));
  child.stderr.on("data", (d) => (text += d));
  await new Promise((r) => child.once("close", r));
  const out = {};
  // "  noack: pub 824,572/s, cons ..., broker 1.52 us/msg (..."
  for (const m of text.matchAll(/^ {2}([a-z0-9:-]+): pub ([\d,]+)\/s.*?broker ([\d.]+) us\/msg/gm)) {
    out[m[1]] = { rate: Number(m[2].replaceAll(",", "")), brokerUs: Number(m[3]) };
  }
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const results = { off: {}, on: {} };
let slowestScrape = 0;
let scrapes = 0;
for (let round = 0; round < rounds; round++) {
  for (const mode of round % 2 ? ["on", "off"] : ["off", "on"]) {
    const b = await startBroker(mode === "on");
    const scraper = mode === "on" ? scrapeEverySecond(b) : undefined;
    const figures = await perf(b);
    if (scraper) {
      await scraper.stop();
      scrapes += scraper.stats.scrapes;
      slowestScrape = Math.max(slowestScrape, scraper.stats.slowestMs);
    }
    b.child.kill();
    await new Promise((r) => b.child.once("exit", r));
    rmSync(b.dataDir, { recursive: true, force: true });
    for (const [s, f] of Object.entries(figures)) (results[mode][s] ??= []).push(f);
    console.log(
      `round ${round + 1} ${mode.padEnd(3)} ` +
        Object.entries(figures)
          .map(([s, f]) => `${s} ${f.rate.toLocaleString("en")} msg/s (broker ${f.brokerUs} us/msg)`)
          .join(", "),
    );
  }
}
console.log(
  `\nendpoints on: ${scrapes} scrapes of ${SCRAPED.length + 2} URLs, slowest ${slowestScrape.toFixed(0)} ms`,
);
console.log("scenario       off msg/s    on msg/s   on/off   off us/msg  on us/msg");
for (const s of Object.keys(results.off)) {
  const off = median(results.off[s].map((f) => f.rate));
  const on = median((results.on[s] ?? []).map((f) => f.rate));
  const offUs = median(results.off[s].map((f) => f.brokerUs));
  const onUs = median((results.on[s] ?? []).map((f) => f.brokerUs));
  console.log(
    `${s.padEnd(12)} ${off.toLocaleString("en").padStart(11)} ${on.toLocaleString("en").padStart(11)} ` +
      `${((on / off) * 100).toFixed(1).padStart(7)}% ${offUs.toFixed(2).padStart(11)} ${onUs.toFixed(2).padStart(10)}`,
  );
}
