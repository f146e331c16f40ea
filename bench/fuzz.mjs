#!/usr/bin/env node
// Long-running network fuzzer: the engine of interop/fuzz.test.mjs (interop/lib/fuzz-engine.mjs)
// for as long as you like, against a Warren process it starts (or an already running broker).
// Hostile connections throw random, mutated and hostile frames at the broker while a bystander
// connection publishes with confirms and consumes through its own queue; the run fails if the
// broker exits, logs an error, sends a malformed frame, leaves a closed connection's socket
// open, or if the bystander loses or corrupts a message or is disconnected.
//
//   npm run build
//   node bench/fuzz.mjs --iterations 200000 --seed 42     # 200k hostile connections
//   node bench/fuzz.mjs --duration 600                    # ten minutes, random seed
//   node bench/fuzz.mjs --seed 42 --dump 1234             # what connection 1234 sends
//   node bench/fuzz.mjs --seed 42 --replay 1234           # connection 1234 alone, traced
//   node bench/fuzz.mjs --seed 42 --minimize 1234         # smallest frame sequence that still fails
//
// On a failure the run stops, replays the connections that were in flight (and the last few
// finished) one by one against fresh brokers, and reduces the first that fails on its own.
//
// Plain ESM, Node 20, amqplib from the repository's node_modules.

import { startBroker } from "../interop/lib/broker.mjs";
import {
  generateScript,
  logErrors,
  runFuzz,
  runScript,
  summary,
  warningLines,
} from "../interop/lib/fuzz-engine.mjs";
import { parseCommandLine, procStatus, sleep } from "./lib/common.mjs";

const USAGE = `Usage: node bench/fuzz.mjs [options]

  --iterations N     hostile connections to run (default: unlimited with --duration, else 200000)
  --duration S       stop after S seconds (whichever of --iterations/--duration comes first)
  --seed N           32-bit seed (default: random, printed); connection i of seed N always
                     sends the same bytes
  --concurrency N    hostile connections at a time (default 64)
  --progress S       progress line every S seconds (default 10)
  --url URL          fuzz this running broker instead of starting one (no process/log checks,
                     no triage)
  --dump I           print connection I's script (labels and frame bytes) and exit
  --replay I         run connection I alone against a fresh broker, traced, and report
  --minimize I       reduce connection I to the fewest steps, then frames, that still fail
  --no-triage        on a failure, do not replay and reduce the candidates
  --help
`;

const { values } = parseCommandLine(
  process.argv.slice(2),
  {
    iterations: { type: "string" },
    duration: { type: "string" },
    seed: { type: "string" },
    concurrency: { type: "string", default: "64" },
    progress: { type: "string", default: "10" },
    url: { type: "string" },
    dump: { type: "string" },
    replay: { type: "string" },
    minimize: { type: "string" },
    "no-triage": { type: "boolean", default: false },
  },
  USAGE,
);

const seed = values.seed !== undefined ? Number(values.seed) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const fmt = (n) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : String(n);

/** Hex of a frame, long ones cut in the middle. */
function hex(b, max = 160) {
  const h = b.toString("hex");
  if (h.length <= max * 2) return h;
  return `${h.slice(0, max)}…${h.slice(-32)} (${b.length} bytes)`;
}

function printScript(script, steps = script.steps) {
  console.log(
    `connection ${script.index} of seed ${script.seed} (connection seed ${script.connectionSeed}, ` +
      `${script.gentle ? "gentle" : "hostile"}, close-ok ${script.policy.closeOk}, reopen ${script.policy.reopen}):`,
  );
  steps.forEach((st, i) => {
    console.log(
      `  step ${i}: ${st.label}${st.split ? ` (written in ${st.split})` : ""}${st.pauseMs ? ` (+${st.pauseMs} ms)` : ""}`,
    );
    for (const f of st.frames) console.log(`    ${hex(f)}`);
  });
}

/** The process's RSS in whole MiB, undefined if unreadable. */
function rssMb(pid) {
  const { rss } = procStatus(pid);
  return Number.isNaN(rss) ? undefined : Math.round(rss / 1048576);
}

/**
 * Runs steps (of connection script) against a fresh broker; waits up to settleMs for a crash
 * or a logged error. Resolves with { kind: null|"exited"|"log"|"protocol", why, log, result }.
 */
async function reproduce(script, { settleMs = 1500, trace } = {}) {
  const broker = await startBroker();
  try {
    const result = await runScript(script, { host: broker.host, port: broker.port, trace });
    const gone = () => broker.proc.exitCode !== null || broker.proc.signalCode !== null;
    const deadline = Date.now() + settleMs;
    while (Date.now() < deadline && !gone() && logErrors(broker.log()).length === 0) await sleep(25);
    const log = broker.log();
    let kind = null;
    let why = null;
    if (gone()) {
      kind = "exited";
      why = `broker exited (code ${broker.proc.exitCode}, signal ${broker.proc.signalCode})`;
    } else if (logErrors(log).length) {
      kind = "log";
      why = logErrors(log)[0];
    } else if (result.problems.length) {
      kind = "protocol";
      why = result.problems.join("; ");
    }
    return { kind, why, log, result };
  } finally {
    await broker.stop();
  }
}

/** Classic delta debugging: the smallest sub-list for which test() still holds. */
async function ddmin(items, test) {
  let n = 2;
  while (items.length >= 2) {
    const chunk = Math.ceil(items.length / n);
    let reduced = false;
    for (let i = 0; i < items.length; i += chunk) {
      const complement = [...items.slice(0, i), ...items.slice(i + chunk)];
      if (complement.length && (await test(complement))) {
        items = complement;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= items.length) break;
      n = Math.min(items.length, n * 2);
    }
  }
  return items;
}

async function minimize(script, kind) {
  let tests = 0;
  const test = async (steps) => {
    tests++;
    const r = await reproduce({ ...script, steps }, { settleMs: 1200 });
    process.stderr.write(r.kind === kind ? "x" : ".");
    return r.kind === kind;
  };
  let steps = await ddmin(script.steps, test);
  // Then frame by frame, each frame written on its own (splits dropped) if that still fails.
  const frames = steps.flatMap((st) =>
    st.frames.map((f, j) => ({ frames: [f], label: `${st.label} #${j}`, pauseMs: st.pauseMs })),
  );
  if (frames.length > 1 && (await test(frames))) steps = await ddmin(frames, test);
  process.stderr.write("\n");
  console.log(`reduced in ${tests} broker runs to ${steps.length} step(s):`);
  printScript(script, steps);
  const final = await reproduce({ ...script, steps }, { settleMs: 2000 });
  console.log(`reproduces: ${final.kind ?? "no"}${final.why ? ` (${final.why})` : ""}`);
  const all = steps.flatMap((s) => s.frames);
  console.log(`bytes (${all.reduce((a, f) => a + f.length, 0)}): ${hex(Buffer.concat(all), 2000)}`);
  console.log("broker log:");
  console.log(final.log.trimEnd().replace(/^/gm, "  | "));
  return steps;
}

async function replay(index) {
  const script = generateScript(seed, index);
  const t0 = performance.now();
  const r = await reproduce(script, {
    trace: (l) => console.log(`  ${String(Math.round(performance.now() - t0)).padStart(5)} ms ${l}`),
  });
  console.log(
    `connection ${index}: ${r.result.outcome}, ${r.result.framesSent} frames sent, failure: ${r.kind ?? "none"}`,
  );
  if (r.why) console.log(`  ${r.why}`);
  if (r.kind) console.log(r.log.trimEnd().replace(/^/gm, "  | "));
  return r;
}

if (values.dump !== undefined) {
  printScript(generateScript(seed, Number(values.dump)));
  process.exit(0);
}
if (values.replay !== undefined) {
  const r = await replay(Number(values.replay));
  process.exit(r.kind ? 1 : 0);
}
if (values.minimize !== undefined) {
  const script = generateScript(seed, Number(values.minimize));
  const r = await reproduce(script);
  if (!r.kind) {
    console.log(`connection ${values.minimize} of seed ${seed} does not fail on its own`);
    process.exit(0);
  }
  console.log(`connection ${values.minimize} fails on its own: ${r.kind}: ${r.why}`);
  await minimize(script, r.kind);
  process.exit(1);
}

// ------------------------------------------------------------------------------- the long run

const durationMs = values.duration !== undefined ? Number(values.duration) * 1000 : Infinity;
const iterations =
  values.iterations !== undefined ? Number(values.iterations) : durationMs < Infinity ? Infinity : 200000;
const concurrency = Number(values.concurrency);
const broker = values.url
  ? {
      url: values.url,
      ...(() => ({ host: new URL(values.url).hostname, port: Number(new URL(values.url).port || 5672) }))(),
    }
  : await startBroker();
const limit = [
  iterations < Infinity ? `${iterations} connections` : "",
  durationMs < Infinity ? `${durationMs / 1000} s` : "",
]
  .filter(Boolean)
  .join(" or ");
console.log(
  `fuzzing ${broker.url} with seed ${seed}: ${limit}, ${concurrency} at a time` +
    (broker.proc ? ` (broker pid ${broker.proc.pid})` : ""),
);
let exitInfo = "";
broker.proc?.once(
  "exit",
  (code, signal) => (exitInfo = `the broker process exited (code ${code}, signal ${signal})`),
);

const stats = await runFuzz({
  host: broker.host,
  port: broker.port,
  url: broker.url,
  seed,
  iterations,
  durationMs,
  concurrency,
  stopOnFailure: true,
  brokerAlive: broker.proc
    ? () => broker.proc.exitCode === null && broker.proc.signalCode === null
    : undefined,
  brokerExitInfo: () => exitInfo,
  brokerLog: broker.log,
  progressMs: Number(values.progress) * 1000,
  onProgress: (s) => {
    const b = s.bystander ?? {};
    const secs = s.elapsedMs / 1000;
    const outcomes = Object.entries(s.outcomes)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(", ");
    const rss = broker.proc ? rssMb(broker.proc.pid) : undefined;
    console.log(
      `[${secs.toFixed(0).padStart(5)} s] ${fmt(s.connections)} connections (${(s.connections / secs).toFixed(0)}/s), ` +
        `${fmt(s.framesSent)} frames, ${(s.bytesSent / 1e6).toFixed(0)} MB | ${outcomes} | bystander sent ${fmt(b.sent ?? 0)}, ` +
        `confirmed ${fmt(b.confirmed ?? 0)}, received ${fmt(b.received ?? 0)}, max gap ${Math.round(b.maxConfirmGapMs ?? 0)} ms ` +
        `(${Math.round(b.maxBrokerGapMs ?? 0)} less own stalls)` +
        (rss !== undefined ? ` | broker RSS ${rss} MB` : "") +
        ` | failures ${s.failureCount}`,
    );
  },
});

console.log(summary(stats));
const b = stats.bystander;
const bystanderProblems = [];
if (b.lost) bystanderProblems.push(`${b.lost} confirmed messages never delivered`);
if (b.duplicates) bystanderProblems.push(`${b.duplicates} duplicate deliveries without the redelivered flag`);
if (b.unexpected) bystanderProblems.push(`${b.unexpected} unexpected deliveries`);
if (b.corrupted) bystanderProblems.push(`${b.corrupted} corrupted bodies`);
if (b.outOfOrder) bystanderProblems.push(`${b.outOfOrder} deliveries out of order`);
if (b.nacked) bystanderProblems.push(`${b.nacked} publishes nacked`);
if (b.closedByBroker) bystanderProblems.push(`connection closed: ${b.closedByBroker}`);
if (b.errors?.length) bystanderProblems.push(...b.errors);
console.log(
  `bystander: sent ${b.sent}, confirmed ${b.confirmed}, received ${b.received}, redelivered duplicates ` +
    `${b.redeliveredDuplicates}, max confirm gap ${Math.round(b.maxConfirmGapMs)} ms (${Math.round(b.maxBrokerGapMs)} ms ` +
    `less the bystander's own stalls, longest ${Math.round(b.maxSelfStallMs)} ms), max round trip ` +
    `${Math.round(b.maxRoundTripMs)} ms${bystanderProblems.length ? ` | PROBLEMS: ${bystanderProblems.join("; ")}` : ""}`,
);
for (const w of warningLines(stats)) console.log(`warning: ${w}`);
if (stats.gaps.length) {
  const worst = [...stats.gaps].sort((x, y) => y.ms - x.ms).slice(0, 5);
  console.log(`confirm gaps >= 250 ms: ${stats.gaps.length}; worst, with the connections in flight:`);
  for (const g of worst) {
    console.log(
      `  ${g.ms} ms (the bystander itself stalled ${g.selfStallMs} ms of it), ${(g.at / 1000).toFixed(1)} s ` +
        `into the run: ${g.inFlight.join(" ")}`,
    );
  }
}
if (broker.proc) {
  const rss = rssMb(broker.proc.pid);
  if (rss !== undefined) console.log(`broker RSS at the end: ${rss} MB`);
}

let failed = stats.failureCount > 0 || bystanderProblems.length > 0;
for (const f of stats.failures) {
  console.log(`FAILURE (${f.kind}), seed ${f.seed}: ${f.detail}`);
  if (f.candidates.length) console.log(`  connections: ${f.candidates.join(" ")}`);
}
if (broker.proc) {
  if (stats.failureCount)
    console.log(`broker log (tail):\n${broker.log().slice(-4000).replace(/^/gm, "  | ")}`);
  await broker.stop();
}

if (stats.failures.length && broker.proc && !values["no-triage"]) {
  const f = stats.failures[0];
  const candidates = [...f.candidates].reverse().slice(0, 40);
  console.log(`triage: replaying ${candidates.length} candidate connection(s) alone, newest first`);
  let found = false;
  for (const i of candidates) {
    const r = await reproduce(generateScript(seed, i));
    console.log(`  connection ${i}: ${r.kind ? `FAILS (${r.kind}: ${r.why})` : "ok"}`);
    if (r.kind) {
      found = true;
      console.log(`reproduce: node bench/fuzz.mjs --seed ${seed} --replay ${i}`);
      await minimize(generateScript(seed, i), r.kind);
      break;
    }
  }
  if (!found) console.log("no candidate fails on its own: the failure needs several connections together");
}
if (failed) console.log(`FAILED with seed ${seed}`);
process.exit(failed ? 1 : 0);
