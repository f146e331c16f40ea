#!/usr/bin/env node
// Tail latency of several brokers, interleaved: for each round, each rate, each broker (in an
// order that rotates every round), one `bench/perf.mjs --rate` run of the scenarios. On a shared
// machine tail latency follows the neighbours' load, so only runs taken side by side, round after
// round, can be compared. Prints per-round figures (with the 1-minute load average and "other
// cpu%" of each run) and the median of the rounds. See bench/README.md ("Tail latency").
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const USAGE = `usage: node bench/tail-rounds.mjs --broker NAME=URL [--broker NAME=URL ...] [options]
  --broker NAME=URL   a broker to measure (repeat; e.g. before=amqp://guest:guest@localhost:5741)
  --rates LIST        publish rates in msgs/s (default 1000,10000,50000)
  --scenario LIST     perf.mjs scenarios (default confirm-ack,persistent)
  --rounds N          rounds (default 3)
  --duration S        measured seconds per run (default 8), after a 2 s warm-up
  --json              print every run as JSON instead of the tables
  --from FILE         print the tables of a saved --json output (runs nothing)
`;

const { values } = parseArgs({
  options: {
    broker: { type: "string", multiple: true, default: [] },
    rates: { type: "string", default: "1000,10000,50000" },
    scenario: { type: "string", default: "confirm-ack,persistent" },
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "8" },
    json: { type: "boolean", default: false },
    from: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (values.help || (values.broker.length === 0 && !values.from)) {
  process.stderr.write(USAGE);
  process.exit(values.help ? 0 : 2);
}
const saved = values.from ? JSON.parse(readFileSync(values.from, "utf8")) : undefined;
const brokers = saved
  ? saved.brokers.map((name) => ({ name }))
  : values.broker.map((b) => {
      const i = b.indexOf("=");
      if (i <= 0) throw new Error(`--broker wants NAME=URL, got ${b}`);
      return { name: b.slice(0, i), url: b.slice(i + 1) };
    });
const rates = saved ? saved.rates : values.rates.split(",").map(Number);
const rounds = saved ? saved.rounds : Number(values.rounds);
const perf = join(dirname(fileURLToPath(import.meta.url)), "perf.mjs");

const runs = saved ? saved.runs : []; // { round, rate, broker, scenario, p50, p99, p999, max, other, load }
for (let r = 0; !saved && r < rounds; r++) {
  for (const rate of rates) {
    for (let k = 0; k < brokers.length; k++) {
      const b = brokers[(k + r) % brokers.length];
      const load = loadavg()[0];
      const args = [perf, "--url", b.url, "--scenario", values.scenario, "--rate", String(rate)];
      args.push("--duration", values.duration, "--json", "--quiet");
      const p = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 26 });
      if (p.status !== 0) throw new Error(`perf.mjs failed on ${b.name}: ${p.stderr}`);
      for (const res of JSON.parse(p.stdout).brokers[0].results) {
        const run = { round: r + 1, rate, broker: b.name, scenario: res.scenario, load };
        if (res.error) run.error = res.error;
        else Object.assign(run, res.latencyMs, { other: res.otherCpuPct, consumeRate: res.consumeRate });
        runs.push(run);
        process.stderr.write(
          `round ${r + 1} ${rate}/s ${b.name} ${run.scenario}: ` +
            (run.error ??
              `p50 ${fmt(run.p50)} p99 ${fmt(run.p99)} ms, other ${Math.round(run.other ?? 0)}%`) +
            `, load ${load.toFixed(2)}\n`,
        );
      }
    }
  }
}

function fmt(x) {
  return x === undefined ? "-" : x < 10 ? x.toFixed(2) : x.toPrecision(3);
}
function median(xs) {
  const s = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
  if (s.length === 0) return undefined;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

if (values.json) {
  console.log(JSON.stringify({ rates, rounds, brokers: brokers.map((b) => b.name), runs }, null, 2));
} else {
  const scenarios = [...new Set(runs.map((x) => x.scenario))];
  const head = brokers.map((b) => `${b.name} p50 / p99`);
  console.log(`| scenario | rate | ${head.join(" | ")} | load avg | other cpu% |`);
  console.log(`|---|---:|${brokers.map(() => "---|").join("")}---|---|`);
  for (const sc of scenarios) {
    for (const rate of rates) {
      const sel = runs.filter((x) => x.scenario === sc && x.rate === rate);
      const cells = brokers.map((b) => {
        const mine = sel.filter((x) => x.broker === b.name && !x.error);
        const each = mine.map((x) => fmt(x.p99)).join(", ");
        return `${fmt(median(mine.map((x) => x.p50)))} / **${fmt(median(mine.map((x) => x.p99)))}** (${each})`;
      });
      const loads = sel.map((x) => x.load);
      const others = sel.map((x) => x.other ?? 0);
      console.log(
        `| ${sc} | ${rate / 1000}k | ${cells.join(" | ")} | ${fmt(Math.min(...loads))}-${fmt(Math.max(...loads))} ` +
          `| ${Math.round(Math.min(...others))}-${Math.round(Math.max(...others))} |`,
      );
    }
  }
  console.log("\nmedian of the rounds: p50 / **p99** ms (each round's p99 in brackets)");
}
