#!/usr/bin/env node
// memory:// against loopback TCP: the same Warren broker embedded in the same process, the
// same client, only the transport between them differs. It prints figures; nothing here
// passes or fails on speed.
//
//   noack    publish --count messages into a queue while a no-ack consumer on a second
//            connection takes them (publisher waits for 'drain' when publish returns false):
//            messages per second end to end.
//   ack      the same with manual acks (prefetch 1000, one ack per message) and publisher
//            confirms (at most 1000 unconfirmed): messages per second end to end.
//
// Every round runs in a fresh child process (one transport per process, so neither inherits
// the other's garbage or JIT state), and the transports alternate round by round, so that
// load from elsewhere on the machine hits both alike. The table shows each transport's
// median over the rounds: messages per second, and the CPU time (user + system) the process
// spent per message, which load from other processes disturbs much less than the rate; and
// the load average seen at the start and the end.
//
//   npm run build && node bench/memory-transport-bench.mjs
//   node bench/memory-transport-bench.mjs --count 100000 --rounds 5 --size 256
//
// Plain ESM, Node 20.
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values: o } = parseArgs({
  options: {
    count: { type: "string", default: "200000" },
    rounds: { type: "string", default: "4" },
    size: { type: "string", default: "16" },
    child: { type: "string" },
    scenario: { type: "string" },
  },
});
const count = Number(o.count);
const size = Number(o.size);

if (o.child) {
  const result = await runChild(o.child, o.scenario);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  await main();
}

async function main() {
  const self = fileURLToPath(import.meta.url);
  const rounds = Number(o.rounds);
  const load0 = loadavg()[0].toFixed(2);
  const rates = {};
  const cpus = {};
  for (const scenario of ["noack", "ack"]) {
    for (let r = 0; r < rounds; r++) {
      // Alternate which transport goes first, too.
      const order = r % 2 === 0 ? ["memory", "tcp"] : ["tcp", "memory"];
      for (const transport of order) {
        const res = await runProcess(self, transport, scenario);
        (rates[`${scenario}/${transport}`] ??= []).push(res.rate);
        (cpus[`${scenario}/${transport}`] ??= []).push(res.cpuUs);
        process.stderr.write(
          `${scenario} ${transport} round ${r + 1}: ${Math.round(res.rate)} msg/s, ${res.cpuUs.toFixed(2)} µs CPU/msg, event loop idle ${Math.round(res.idleMs)} ms\n`,
        );
      }
    }
  }
  const load1 = loadavg()[0].toFixed(2);
  console.log(
    `${count} messages of ${size} B per run, ${rounds} rounds, medians; load average ${load0} -> ${load1}`,
  );
  console.log("scenario  memory:// msg/s  TCP msg/s  ratio   memory:// CPU µs/msg  TCP CPU µs/msg  ratio");
  for (const scenario of ["noack", "ack"]) {
    const m = median(rates[`${scenario}/memory`]);
    const t = median(rates[`${scenario}/tcp`]);
    const mc = median(cpus[`${scenario}/memory`]);
    const tc = median(cpus[`${scenario}/tcp`]);
    console.log(
      `${scenario.padEnd(8)}  ${fmt(m).padStart(15)}  ${fmt(t).padStart(9)}  ${(m / t).toFixed(2).padStart(5)}   ${mc.toFixed(2).padStart(20)}  ${tc.toFixed(2).padStart(14)}  ${(mc / tc).toFixed(2).padStart(5)}`,
    );
  }
}

function runProcess(self, transport, scenario) {
  return new Promise((resolve, reject) => {
    const args = [
      self,
      "--child",
      transport,
      "--scenario",
      scenario,
      "--count",
      String(count),
      "--size",
      String(size),
    ];
    const p = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child exited ${code}`)),
    );
  });
}

/** One measured run: a broker in this process, reached over the given transport. */
async function runChild(transport, scenario) {
  const { connect, closeMemoryBrokers } = await import("@warren/client");
  let url = "memory://bench";
  let broker;
  if (transport === "tcp") {
    const { Broker, lineLogger } = await import("@warren/broker");
    broker = new Broker({ port: 0, heartbeat: 0, log: lineLogger(() => {}) });
    url = `amqp://guest:guest@127.0.0.1:${await broker.start()}`;
  }
  const pub = await connect(url);
  const sub = await connect(url);
  const pch = await pub.createChannel();
  const sch = await sub.createChannel();
  const q = "bench";
  await pch.queueDeclare(q, { durable: false });
  const body = Buffer.alloc(size, 1);
  const manual = scenario === "ack";
  if (manual) {
    await sch.basicQos(1000);
    await pch.confirmSelect();
  }
  let received = 0;
  let done;
  const all = new Promise((r) => (done = r));
  await sch.basicConsume(
    q,
    (m) => {
      if (manual) sch.ack(m);
      if (++received === count) done();
    },
    { noAck: !manual },
  );
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  if (manual) {
    // At most 1000 unconfirmed: wait for the confirms of each batch.
    for (let i = 0; i < count; i += 1000) {
      for (let j = i; j < Math.min(count, i + 1000); j++) pch.basicPublish("", q, body);
      await pch.waitForConfirms();
    }
  } else {
    for (let i = 0; i < count;) {
      let ok = true;
      while (ok && i < count) {
        ok = pch.basicPublish("", q, body);
        i++;
      }
      if (!ok) await new Promise((r) => pch.once("drain", r));
    }
  }
  await all;
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  await pub.close();
  await sub.close();
  await broker?.stop();
  await closeMemoryBrokers();
  return { rate: count / secs, cpuUs: (cpu.user + cpu.system) / count, idleMs: elu.idle };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function fmt(n) {
  return Math.round(n).toLocaleString("en-US");
}
