#!/usr/bin/env node
// Client benchmark: @warren/client against amqplib and rabbitmq-client, each used the way its
// documentation shows, on the same broker in the same run. It prints figures; nothing here
// passes or fails on speed.
//
//   noack    publish --count messages into a queue while a no-ack consumer on a second
//            connection takes them: messages per second end to end. Publishers follow their
//            library's flow control: wait for 'drain' when publish() returns false (Warren,
//            amqplib); rabbitmq-client's basicPublish returns a promise, so at most --window
//            of them are pending.
//   confirm  publish --count messages in confirm mode, at most --window unconfirmed: msgs/s.
//   flood    call publish --flood times in one loop without waiting for anything (fire and
//            forget), then issue one round trip on the same channel and wait for it: how long
//            the loop took, how much the heap and the resident memory grew, and how long until
//            the broker had everything. The target queue keeps its last 1000 messages
//            (x-max-length), so the broker's memory is not what is measured.
//   bounded  the flood through @warren/client's bounded publish() (promise ignored, refusals
//            counted): only when the build has it (basicPublish() beside publish()).
//
// Each (client, scenario) runs in a child process of its own (node --expose-gc), so one
// client's garbage does not land on the next one's figures.
//
//   npm run build && node bench/client-bench.mjs                    # a Warren it starts
//   node bench/client-bench.mjs --url amqp://guest:guest@localhost:5682   # also a RabbitMQ
//   node bench/client-bench.mjs --count 20000 --flood 200000 --clients warren,amqplib
//
// Plain ESM, Node 20; amqplib and rabbitmq-client from the repository's devDependencies.
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import * as warren from "@warren/client";
import amqplib from "amqplib";
import { Connection as RabbitConnection } from "rabbitmq-client";
import {
  DEFAULT_CLI,
  fmtInt,
  fmtMB,
  log,
  parseCommandLine,
  printColumns,
  sleep,
  spawnWarren,
} from "./lib/common.mjs";

const USAGE = `usage: node bench/client-bench.mjs [options]

  --url URL        also run against this broker (e.g. RabbitMQ 3.10.8 at amqp://guest:guest@localhost:5682;
                   default $INTEROP_TARGET_URL); a Warren is always started from --cli
  --cli PATH       Warren CLI to start (default ${DEFAULT_CLI})
  --clients LIST   comma list of warren, amqplib, rabbitmq-client (default all)
  --scenarios LIST comma list of noack, confirm, flood, bounded (default all)
  --count N        messages per noack / confirm run (default 200000)
  --flood N        publishes in the flood loop (default 1000000)
  --size BYTES     message body size (default 16)
  --window N       unconfirmed (confirm) or pending (rabbitmq-client) publishes allowed (default 1000)
  --json           print JSON instead of the table
`;

const CLIENTS = ["warren", "amqplib", "rabbitmq-client"];
const SCENARIOS = ["noack", "confirm", "flood", "bounded"];
const LABEL = { warren: "@warren/client", amqplib: "amqplib", "rabbitmq-client": "rabbitmq-client" };
const FLOOD_QUEUE_LENGTH = 1000;

// ---------------------------------------------------------------------------------------------
// One adapter per client: the same operations, each the way that library's users write them.

const warrenAdapter = {
  async open(url, { confirm = false } = {}) {
    const conn = await warren.connect(url);
    const ch = await conn.createChannel();
    if (confirm) await ch.confirmSelect();
    // publish() is the fire-and-forget call until the bounded publish() arrives; then it is
    // basicPublish() (and publish() is the bounded one).
    const fireAndForget = typeof ch.basicPublish === "function" ? ch.basicPublish : ch.publish;
    return {
      declare: async (q, args = {}) =>
        void (await ch.queueDeclare(q, { autoDelete: false, arguments: args })),
      count: async (q) => (await ch.queueDeclare(q, { passive: true })).messageCount,
      remove: async (q) => void (await ch.queueDelete(q)),
      /** false: wait for drain() before publishing more. */
      send: (q, body) => fireAndForget.call(ch, "", q, body),
      drain: () => new Promise((r) => ch.once("drain", r)),
      confirmed: (q, body) => ch.publishConfirm("", q, body),
      bounded: typeof ch.basicPublish === "function" ? (q, body) => ch.publish("", q, body) : undefined,
      consume: async (q, onMessage) => void (await ch.basicConsume(q, onMessage, { noAck: true })),
      close: () => conn.close(),
    };
  },
};

const amqplibAdapter = {
  async open(url, { confirm = false } = {}) {
    const conn = await amqplib.connect(url);
    const ch = confirm ? await conn.createConfirmChannel() : await conn.createChannel();
    return {
      declare: async (q, args = {}) => void (await ch.assertQueue(q, { durable: false, arguments: args })),
      count: async (q) => (await ch.checkQueue(q)).messageCount,
      remove: async (q) => void (await ch.deleteQueue(q)),
      send: (q, body) => ch.publish("", q, body),
      drain: () => new Promise((r) => ch.once("drain", r)),
      confirmed: (q, body) =>
        new Promise((resolve, reject) =>
          ch.publish("", q, body, {}, (err) => (err ? reject(err) : resolve())),
        ),
      consume: async (q, onMessage) => void (await ch.consume(q, onMessage, { noAck: true })),
      close: () => conn.close(),
    };
  },
};

const rabbitmqClientAdapter = {
  async open(url, { confirm = false } = {}) {
    // No reconnection for a benchmark: a failed connection should fail the run.
    const conn = new RabbitConnection({ url, retryLow: 100, retryHigh: 100, connectionTimeout: 10_000 });
    const ch = await conn.acquire();
    if (confirm) await ch.confirmSelect();
    return {
      declare: async (q, args = {}) => void (await ch.queueDeclare({ queue: q, arguments: args })),
      count: async (q) => (await ch.queueDeclare({ queue: q, passive: true })).messageCount,
      remove: async (q) => void (await ch.queueDelete({ queue: q })),
      /** A promise: settles once written (plain) or confirmed (confirm mode); no drain(). */
      send: (q, body) => ch.basicPublish({ routingKey: q }, body),
      confirmed: (q, body) => ch.basicPublish({ routingKey: q }, body),
      consume: async (q, onMessage) => void (await ch.basicConsume({ queue: q, noAck: true }, onMessage)),
      close: async () => {
        await ch.close();
        await conn.close();
      },
    };
  },
};

const ADAPTERS = { warren: warrenAdapter, amqplib: amqplibAdapter, "rabbitmq-client": rabbitmqClientAdapter };

// ---------------------------------------------------------------------------------------------
// The scenarios, run in a child process: each returns a plain object of figures.

/** Calls next() n times with at most `window` of its promises pending (they settle in order). */
async function windowed(n, window, next) {
  const ring = new Array(window);
  for (let i = 0; i < n; i++) {
    const slot = i % window;
    if (i >= window) await ring[slot];
    ring[slot] = next();
  }
  await Promise.all(ring);
}

/** Publishes n messages with the client's own flow control (drain, or a window of promises). */
async function publishPaced(c, q, body, n, window) {
  if (!c.drain) return windowed(n, window, () => c.send(q, body));
  for (let i = 0; i < n;) {
    let ok = true;
    while (ok && i < n) {
      ok = c.send(q, body);
      i++;
    }
    if (!ok) await c.drain();
  }
}

const queueName = (o, what) => `client-bench.${o.client}.${what}.${process.pid}`;

const SCENARIO_RUNS = {
  async noack(adapter, o, body) {
    const pub = await adapter.open(o.url);
    const sub = await adapter.open(o.url);
    const q = queueName(o, "noack");
    await pub.declare(q);
    let received = 0;
    let done;
    const all = new Promise((r) => (done = r));
    await sub.consume(q, () => {
      if (++received === o.count) done();
    });
    const t0 = performance.now();
    await publishPaced(pub, q, body, o.count, o.window);
    const published = performance.now();
    await all;
    const secs = (performance.now() - t0) / 1000;
    await pub.remove(q);
    await sub.close();
    await pub.close();
    return { rate: o.count / secs, publishRate: o.count / ((published - t0) / 1000) };
  },

  async confirm(adapter, o, body) {
    const c = await adapter.open(o.url, { confirm: true });
    const q = queueName(o, "confirm");
    await c.declare(q, { "x-max-length": FLOOD_QUEUE_LENGTH });
    const t0 = performance.now();
    await windowed(o.count, o.window, () => c.confirmed(q, body));
    const secs = (performance.now() - t0) / 1000;
    await c.remove(q);
    await c.close();
    return { rate: o.count / secs };
  },

  flood: (adapter, o, body) => flood(adapter, o, body, "send"),
  bounded: (adapter, o, body) => flood(adapter, o, body, "bounded"),
};

/**
 * `o.flood` calls of c[method] in one synchronous loop, nothing awaited; then one round trip on
 * the same channel, which the broker answers after every publish before it.
 */
async function flood(adapter, o, body, method) {
  const c = await adapter.open(o.url);
  if (method === "bounded" && !c.bounded) return { unavailable: "no bounded publish() in this build" };
  const q = queueName(o, method);
  await c.declare(q, { "x-max-length": FLOOD_QUEUE_LENGTH });
  let unhandled = 0;
  process.on("unhandledRejection", () => unhandled++);
  globalThis.gc?.();
  await sleep(100);
  const base = process.memoryUsage();
  let peakRss = base.rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20);
  const publish = c[method];
  let refused = 0;
  const t0 = performance.now();
  for (let i = 0; i < o.flood; i++) {
    try {
      publish(q, body);
    } catch (e) {
      // The bounded publish() refuses (BufferFullError) once its buffer is full.
      if (e?.name !== "BufferFullError") throw e;
      refused++;
    }
  }
  const loopMs = performance.now() - t0;
  const afterLoop = process.memoryUsage();
  peakRss = Math.max(peakRss, afterLoop.rss);
  const inQueue = await c.count(q);
  const drainedMs = performance.now() - t0;
  clearInterval(sampler);
  await c.remove(q);
  await c.close();
  return {
    loopMs,
    drainedMs,
    heapGrowth: afterLoop.heapUsed - base.heapUsed,
    rssGrowth: peakRss - base.rss,
    refused,
    inQueue,
    unhandled,
  };
}

// ---------------------------------------------------------------------------------------------
// The parent: start the broker(s), run every (client, scenario) in a child, print the table.

/** Runs one scenario in a child process; resolves with its figures or { error }. */
function runChild(o, client, scenario, url) {
  const args = [
    "--expose-gc",
    fileURLToPath(import.meta.url),
    "--child",
    JSON.stringify({ ...o, client, scenario, url }),
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("exit", (code, signal) => {
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()));
      } catch {
        resolve({ error: `exited with ${code ?? signal}` });
      }
    });
  });
}

/** A cell of the table for one figure of one result. */
function cell(r, show) {
  if (!r) return "-";
  if (r.error) return "FAILED";
  if (r.unavailable) return "n/a";
  return show(r);
}

function printTable(results, o) {
  for (const [broker, rows] of Object.entries(results)) {
    console.log(
      `\n${broker}: ${o.size}-byte bodies, noack/confirm ${fmtInt(o.count)} msgs, flood ${fmtInt(o.flood)}`,
    );
    const lines = [
      [
        "client",
        "noack msg/s",
        "confirm msg/s",
        "flood loop",
        "heap +",
        "RSS peak +",
        "all sent after",
        "refused",
      ],
    ];
    for (const [client, r] of Object.entries(rows)) {
      const floodCells = (f) => [
        cell(f, (x) => `${(x.loopMs / 1000).toFixed(2)} s`),
        cell(f, (x) => fmtMB(x.heapGrowth)),
        cell(f, (x) => fmtMB(x.rssGrowth)),
        cell(f, (x) => `${(x.drainedMs / 1000).toFixed(2)} s`),
        cell(f, (x) => fmtInt(x.refused)),
      ];
      lines.push([
        LABEL[client],
        cell(r.noack, (x) => fmtInt(x.rate)),
        cell(r.confirm, (x) => fmtInt(x.rate)),
        ...floodCells(r.flood),
      ]);
      if (client === "warren" && r.bounded) {
        lines.push(["  bounded publish()", "", "", ...floodCells(r.bounded)]);
      }
    }
    printColumns(lines, (i) => i > 0);
    const notes = Object.entries(rows).flatMap(([client, r]) =>
      Object.entries(r)
        .filter(([, x]) => x?.error || x?.unhandled)
        .map(([s, x]) => `  ${LABEL[client]} ${s}: ${x.error ?? `${x.unhandled} unhandled rejections`}`),
    );
    if (notes.length > 0) console.log(notes.join("\n"));
  }
  if (!Object.values(results).some((rows) => rows.warren?.bounded && !rows.warren.bounded.unavailable)) {
    console.log(
      "\nbounded publish(): slot left for @warren/client's bounded publish (issue 13); this build has none.",
    );
  }
}

async function main() {
  const { values, int } = parseCommandLine(
    process.argv.slice(2),
    {
      url: { type: "string", default: process.env.INTEROP_TARGET_URL },
      cli: { type: "string", default: DEFAULT_CLI },
      clients: { type: "string", default: CLIENTS.join(",") },
      scenarios: { type: "string", default: SCENARIOS.join(",") },
      count: { type: "string", default: "200000" },
      flood: { type: "string", default: "1000000" },
      size: { type: "string", default: "16" },
      window: { type: "string", default: "1000" },
      json: { type: "boolean", default: false },
    },
    USAGE,
  );
  const list = (name, known) => {
    const l = values[name].split(",").filter(Boolean);
    for (const x of l)
      if (!known.includes(x)) throw new Error(`--${name}: unknown ${x} (${known.join(", ")})`);
    return l;
  };
  const clients = list("clients", CLIENTS);
  const scenarios = list("scenarios", SCENARIOS);
  const o = {
    count: int("count", 1),
    flood: int("flood", 1),
    size: int("size", 0),
    window: int("window", 1),
  };

  const w = await spawnWarren({ cli: values.cli, label: "client-bench" });
  const brokers = [[`warren (${values.cli})`, w.url]];
  if (values.url) brokers.push([values.url.replace(/\/\/[^@]*@/, "//"), values.url]);
  const results = {};
  try {
    for (const [name, url] of brokers) {
      results[name] = {};
      for (const client of clients) {
        results[name][client] = {};
        for (const scenario of scenarios) {
          if (scenario === "bounded" && client !== "warren") continue;
          log(`${name}: ${LABEL[client]} ${scenario}`);
          results[name][client][scenario] = await runChild(o, client, scenario, url);
        }
      }
    }
  } finally {
    await w.stop();
  }
  if (values.json) console.log(JSON.stringify({ options: o, results }, null, 2));
  else printTable(results, o);
}

if (process.argv[2] === "--child") {
  const o = JSON.parse(process.argv[3]);
  const body = Buffer.alloc(o.size, 0x78);
  SCENARIO_RUNS[o.scenario](ADAPTERS[o.client], o, body).then(
    (r) => {
      console.log(JSON.stringify(r));
      process.exit(0);
    },
    (e) => {
      console.error(`${o.client} ${o.scenario}: ${e?.stack ?? e}`);
      console.log(JSON.stringify({ error: String(e?.message ?? e) }));
      process.exit(1);
    },
  );
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
