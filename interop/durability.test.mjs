// Durability of a real Warren process with a --data-dir: persistent messages and durable
// definitions must survive SIGKILL at any moment, torn or damaged segment tails, restarts and
// clean stops; a second broker must not open a data directory that is in use.
//
//   node --test interop/durability.test.mjs
//   DURABILITY_SEED=123 node --test interop/durability.test.mjs     (replay the random choices)
//
// These tests kill and restart the broker, so they need a Warren process of their own and are
// skipped when INTEROP_TARGET_URL points the interop suites at another broker. The torn-write
// test reads and damages segment files, so it knows the on-disk record layout of
// packages/broker/src/store/record.ts.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import amqp from "amqplib";
import { CLI, freePort, startBroker } from "./lib/broker.mjs";
import { sleep, waitFor, withTimeout } from "./node/helpers.mjs";

const SKIP = process.env.INTEROP_TARGET_URL
  ? "needs its own Warren process (INTEROP_TARGET_URL is set)"
  : false;
const SEED = Number(process.env.DURABILITY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const noop = () => {};

/** A small seeded PRNG (mulberry32), so a failing run's choices can be replayed. */
function prng(seed) {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const tempDir = (what) => mkdtempSync(join(tmpdir(), `warren-durability-${what}-`));

/** Starts the broker and waits for its recovery report. */
async function boot(port, dataDir) {
  const b = await startBroker({ port, dataDir });
  await waitFor(() => /listening on port/.test(b.log()), 5000, "the broker's listening line");
  return b;
}

/**
 * The broker's start-up report (the message of a log line): "recovered N messages in Q durable queues from S
 * segments in X ms; skipped B bytes of damaged records (T torn at the tail)".
 */
function recoveryReport(log) {
  const m =
    /recovered (\d+) messages in (\d+) durable queues from (\d+) segments in (\d+) ms(?:; skipped (\d+) bytes of damaged records \((\d+) torn at the tail\))?/.exec(
      log,
    );
  assert.ok(m, `no recovery report in the broker log:\n${log}`);
  return {
    messages: Number(m[1]),
    queues: Number(m[2]),
    segments: Number(m[3]),
    ms: Number(m[4]),
    skipped: Number(m[5] ?? 0),
    torn: Number(m[6] ?? 0),
  };
}

async function connect(url) {
  const conn = await amqp.connect(url);
  conn.on("error", noop);
  return conn;
}

async function channel(conn, confirm = false) {
  const ch = confirm ? await conn.createConfirmChannel() : await conn.createChannel();
  ch.on("error", noop);
  return ch;
}

/** "exists" or "missing" (404), by a passive declare on a throw-away channel. */
async function exists(conn, kind, name) {
  const ch = await channel(conn);
  try {
    if (kind === "queue") await ch.checkQueue(name);
    else await ch.checkExchange(name);
    await ch.close();
    return true;
  } catch (e) {
    assert.equal(e.code, 404, `passive declare of ${kind} ${name}: ${e.message}`);
    return false;
  }
}

/**
 * Takes every ready message out of a queue (no-ack consumer) and checks the queue is empty
 * afterwards; resolves with the amqplib messages in delivery order.
 */
async function drainQueue(conn, queue) {
  const ch = await channel(conn);
  const { messageCount } = await ch.checkQueue(queue);
  const out = [];
  if (messageCount > 0) {
    let done;
    const all = new Promise((r) => (done = r));
    const { consumerTag } = await ch.consume(
      queue,
      (m) => {
        if (!m) return;
        out.push(m);
        if (out.length >= messageCount) done();
      },
      { noAck: true },
    );
    await withTimeout(all, 30_000, `${messageCount} messages from ${queue} (got ${out.length})`);
    await ch.cancel(consumerTag);
  }
  assert.equal((await ch.checkQueue(queue)).messageCount, 0, `${queue} is empty after draining`);
  await ch.close();
  return out;
}

const idOf = (m) => m.properties.messageId;

// ---------------------------------------------------------------------------------------------
// 1. SIGKILL at random moments while publishing (and sometimes consuming)

const CRASH_CYCLES = 22;
const WINDOW = 256; // unconfirmed publishes in flight
const PREFETCH = 40;

const EXCHANGES = [
  { name: "dur.direct", type: "direct" },
  { name: "dur.fanout", type: "fanout" },
];
const QUEUES = ["dur.d1", "dur.d2", "dur.f1", "dur.f2", "dur.plain"];
const BINDINGS = [
  { queue: "dur.d1", exchange: "dur.direct", key: "k1" },
  { queue: "dur.d2", exchange: "dur.direct", key: "k2" },
  { queue: "dur.f1", exchange: "dur.fanout", key: "" },
  { queue: "dur.f2", exchange: "dur.fanout", key: "" },
];
const ROUTES = [
  { ex: "dur.direct", rk: "k1", queues: ["dur.d1"] },
  { ex: "dur.direct", rk: "k2", queues: ["dur.d2"] },
  { ex: "dur.fanout", rk: "", queues: ["dur.f1", "dur.f2"] },
  { ex: "", rk: "dur.plain", queues: ["dur.plain"] },
];

/** The body of message id: its id, then filler of a size that depends on the id. */
function crashBody(id, n) {
  return Buffer.from(`${id}|${"abcdefghij".repeat(n % 60)}`);
}

test(
  "crash: SIGKILL at random moments loses no confirmed message and no definition",
  // 22 broker boots: on a loaded 2-core machine this takes 60-90 s; the timeout only catches a hang.
  { skip: SKIP, timeout: 180_000 },
  async (t) => {
    const rnd = prng(SEED);
    t.diagnostic(`seed ${SEED} (DURABILITY_SEED=${SEED} replays the random choices)`);
    const dataDir = tempDir("crash");
    const port = await freePort();
    let broker = await boot(port, dataDir);
    /** id -> { n, id, route, cycle, confirmed, nacked } */
    const msgs = new Map();
    /** `${queue}\0${id}` -> { deliveries, lastAcked, lastCycle, sentBefore } */
    const pairs = new Map();
    const rows = [];
    // The broker writes deliveries lazily (with the next group commit, as RabbitMQ's queue
    // index does), so one received just before a kill may come back redelivered=false. It is
    // surely on disk once a publish sent after it was received (number > sentBefore) has been
    // confirmed in the same cycle: that confirm's commit carries the delivery record too.
    const surelyRecorded = (p) =>
      (rows.find((r) => r.cycle === p.lastCycle)?.lastConfirmed ?? 0) > p.sentBefore;
    const pairKey = (q, id) => `${q}\u0000${id}`;
    const problems = [];
    const problem = (s) => {
      if (problems.length < 50) problems.push(s);
    };
    let n = 0;
    const t0 = Date.now();
    try {
      {
        const conn = await connect(broker.url);
        const ch = await channel(conn);
        for (const e of EXCHANGES) await ch.assertExchange(e.name, e.type, { durable: true });
        for (const q of QUEUES) await ch.assertQueue(q, { durable: true });
        for (const b of BINDINGS) await ch.bindQueue(b.queue, b.exchange, b.key);
        await conn.close();
      }

      for (let cycle = 1; cycle <= CRASH_CYCLES; cycle++) {
        const row = {
          cycle,
          confirmed: 0,
          nacked: 0,
          unconfirmed: 0,
          delivered: 0,
          acked: 0,
          lastConfirmed: 0,
        };
        if (cycle > 1) {
          broker = await boot(port, dataDir);
          const r = recoveryReport(broker.log());
          // Every confirmed queue membership whose last delivery was not acked must be back.
          let mustHave = 0;
          let mayHave = 0;
          for (const m of msgs.values()) {
            for (const q of m.route.queues) {
              mayHave++;
              if (m.confirmed && !pairs.get(pairKey(q, m.id))?.lastAcked) mustHave++;
            }
          }
          rows.at(-1).recovered = r.messages;
          rows.at(-1).mustHave = mustHave;
          rows.at(-1).ms = r.ms;
          assert.ok(
            r.messages >= mustHave && r.messages <= mayHave,
            `after cycle ${cycle - 1}: recovered ${r.messages} messages, expected ${mustHave}..${mayHave}`,
          );
        }

        // Publisher: confirmed persistent messages to random routes, WINDOW in flight.
        const pconn = await connect(broker.url);
        const pch = await channel(pconn, true);
        let closed = false;
        let inflight = 0;
        let wake;
        const poke = () => {
          const w = wake;
          wake = undefined;
          w?.();
        };
        pch.on("close", () => {
          closed = true;
          poke();
        });
        const publishing = (async () => {
          while (!closed) {
            if (inflight >= WINDOW) {
              await new Promise((r) => (wake = r));
              continue;
            }
            const route = ROUTES[Math.floor(rnd() * ROUTES.length)];
            const k = ++n;
            const id = `m${k}`;
            const rec = { n: k, id, route, cycle, confirmed: false, nacked: false };
            msgs.set(id, rec);
            try {
              pch.publish(
                route.ex,
                route.rk,
                crashBody(id, k),
                { persistent: true, messageId: id, headers: { "x-id": id, "x-cycle": cycle } },
                (err) => {
                  inflight--;
                  if (err === null || err === undefined) {
                    rec.confirmed = true;
                    row.confirmed++;
                    row.lastConfirmed = Math.max(row.lastConfirmed, k);
                  } else if (/nack/.test(err.message)) {
                    rec.nacked = true;
                    row.nacked++;
                  } else row.unconfirmed++;
                  poke();
                },
              );
            } catch {
              msgs.delete(id); // channel already closed: never sent
              break;
            }
            inflight++;
            if (k % 64 === 0) await new Promise((r) => setImmediate(r));
          }
          while (inflight > 0) await new Promise((r) => (wake = r));
        })();

        // Consumer, in some cycles: acks most deliveries, leaves some unacked.
        let consumerClosed = Promise.resolve();
        if (cycle % 3 === 0 || rnd() < 0.25) {
          const cconn = await connect(broker.url);
          consumerClosed = new Promise((r) => cconn.on("close", r));
          const cch = await channel(cconn);
          await cch.prefetch(PREFETCH);
          const chosen = QUEUES.filter(() => rnd() < 0.5);
          const lastN = new Map();
          for (const q of chosen.length > 0 ? chosen : [QUEUES[cycle % QUEUES.length]]) {
            await cch.consume(q, (m) => {
              if (!m) return;
              row.delivered++;
              const id = idOf(m);
              const rec = msgs.get(id);
              if (!rec || !rec.route.queues.includes(q))
                problem(`cycle ${cycle}: ${q} delivered unknown ${id}`);
              else if (!m.content.equals(crashBody(id, rec.n))) problem(`cycle ${cycle}: ${id} body damaged`);
              if (rec && rec.n < (lastN.get(q) ?? 0))
                problem(`cycle ${cycle}: ${q} delivered ${id} out of order`);
              if (rec) lastN.set(q, rec.n);
              if (m.properties.headers?.["x-id"] !== id)
                problem(`cycle ${cycle}: ${id} lost its x-id header`);
              const key = pairKey(q, id);
              let p = pairs.get(key);
              if (!p) pairs.set(key, (p = { deliveries: 0, lastAcked: false, lastCycle: 0 }));
              if (p.lastCycle === cycle) problem(`cycle ${cycle}: ${id} delivered twice from ${q}`);
              if (p.deliveries > 0 && !m.fields.redelivered && surelyRecorded(p))
                problem(`cycle ${cycle}: ${id} from ${q} delivered before but redelivered=false`);
              if (p.deliveries === 0 && rec?.cycle === cycle && m.fields.redelivered)
                problem(`cycle ${cycle}: ${id} from ${q} is new but redelivered=true`);
              p.deliveries++;
              p.lastCycle = cycle;
              p.sentBefore = n;
              p.lastAcked = false;
              if (rnd() < 0.8) {
                try {
                  cch.ack(m);
                  p.lastAcked = true;
                  row.acked++;
                } catch {
                  // The broker is gone: not acked.
                }
              }
            });
          }
        }

        await sleep(100 + Math.floor(rnd() * 500));
        await broker.kill("SIGKILL");
        await withTimeout(publishing, 10_000, "the publisher to see the broker die");
        await withTimeout(consumerClosed, 10_000, "the consumer to see the broker die");
        rows.push(row);
      }

      const cyclesMs = Date.now() - t0;
      // Last restart: everything confirmed and not acked is there once, in publish order.
      broker = await boot(port, dataDir);
      const last = recoveryReport(broker.log());
      rows.at(-1).recovered = last.messages;
      const conn = await connect(broker.url);
      for (const e of EXCHANGES)
        assert.ok(await exists(conn, "exchange", e.name), `exchange ${e.name} recovered`);
      for (const q of QUEUES) assert.ok(await exists(conn, "queue", q), `queue ${q} recovered`);
      {
        // Recovered as declared: a durable redeclare is equivalent (else 406 closes the channel).
        const ch = await channel(conn);
        for (const e of EXCHANGES) await ch.assertExchange(e.name, e.type, { durable: true });
        for (const q of QUEUES) await ch.assertQueue(q, { durable: true });
        await ch.close();
      }
      const stats = { present: 0, ackedBack: 0, unconfirmedBack: 0, unconfirmedLost: 0, nacked: 0 };
      const seen = new Set();
      let recovered = 0;
      for (const q of QUEUES) {
        const got = await drainQueue(conn, q);
        recovered += got.length;
        let prev = 0;
        for (const m of got) {
          const id = idOf(m);
          const rec = msgs.get(id);
          if (!rec || !rec.route.queues.includes(q)) {
            problem(`final: ${q} holds unknown message ${id}`);
            continue;
          }
          if (!m.content.equals(crashBody(id, rec.n))) problem(`final: ${id} body damaged`);
          const key = pairKey(q, id);
          if (seen.has(key)) problem(`final: ${id} is in ${q} twice`);
          seen.add(key);
          if (rec.n < prev) problem(`final: ${q} out of order: ${id} after m${prev}`);
          prev = rec.n;
          const p = pairs.get(key);
          if (p && !m.fields.redelivered && surelyRecorded(p))
            problem(`final: ${id} from ${q} was delivered before but redelivered=false`);
          if (!rec.confirmed) stats.unconfirmedBack++;
          else if (p?.lastAcked) stats.ackedBack++;
          else stats.present++;
        }
      }
      let missing = 0;
      let required = 0;
      for (const m of msgs.values()) {
        if (m.nacked) stats.nacked++;
        for (const q of m.route.queues) {
          const key = pairKey(q, m.id);
          if (m.confirmed && !pairs.get(key)?.lastAcked) {
            required++;
            if (!seen.has(key)) {
              missing++;
              problem(`final: confirmed ${m.id} (cycle ${m.cycle}) missing from ${q}`);
            }
          } else if (!m.confirmed && !seen.has(key)) stats.unconfirmedLost++;
        }
      }

      for (const r of rows) {
        t.diagnostic(
          `cycle ${String(r.cycle).padStart(2)}: confirmed ${r.confirmed}, unconfirmed ${r.unconfirmed}, nacked ${r.nacked}, ` +
            `delivered ${r.delivered}, acked ${r.acked}; restart recovered ${r.recovered} queue entries` +
            (r.mustHave !== undefined ? ` (>= ${r.mustHave} required) in ${r.ms} ms` : ""),
        );
      }
      const confirmed = [...msgs.values()].filter((m) => m.confirmed).length;
      const redelivered = [...pairs.values()].filter((p) => p.deliveries > 1).length;
      t.diagnostic(
        `total: ${msgs.size} published, ${confirmed} confirmed, ${stats.nacked} nacked over ${CRASH_CYCLES} kills; ` +
          `final drain ${recovered} entries: ${stats.present} of ${required} required present, ${missing} missing, ` +
          `${stats.ackedBack} acked-before-the-kill back (duplicates), ${stats.unconfirmedBack} unconfirmed kept, ` +
          `${stats.unconfirmedLost} unconfirmed lost; ${redelivered} entries delivered in more than one cycle; ` +
          `${cyclesMs} ms of cycles, ${Date.now() - t0 - cyclesMs} ms to recover and check`,
      );
      assert.deepEqual(problems, []);
      assert.equal(missing, 0);
      assert.ok(
        confirmed > 1000,
        `only ${confirmed} messages were confirmed: the test did not exercise much`,
      );

      // Every binding declared at the start still routes, and only where it should.
      const ch = await channel(conn, true);
      for (const [i, r] of ROUTES.entries()) {
        ch.publish(r.ex, r.rk, Buffer.from(`marker${i}`), { persistent: true, messageId: `marker${i}` });
      }
      await ch.waitForConfirms();
      for (const q of QUEUES) {
        const want = ROUTES.flatMap((r, i) => (r.queues.includes(q) ? [`marker${i}`] : []));
        assert.deepEqual((await drainQueue(conn, q)).map(idOf), want, `markers routed to ${q}`);
      }
      await conn.close();
    } finally {
      await broker.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);

// ---------------------------------------------------------------------------------------------
// 2. Torn and damaged segment tails

const SEGMENT_HEADER = 16;
const PUB = 1;
const align4 = (n) => (n + 3) & ~3;

/** The records of a segment file: { pos, end, type, bodyStart, id } (id and bodyStart for PUBs). */
function parseSegment(buf) {
  assert.equal(buf.toString("latin1", 0, 8), "WRNSEG01", "segment magic");
  const recs = [];
  let pos = SEGMENT_HEADER;
  while (pos + 12 <= buf.length) {
    const len = buf.readUInt32LE(pos + 4);
    const end = pos + 8 + align4(len);
    if (end > buf.length) break;
    const rec = { pos, end, type: buf[pos + 8] };
    if (rec.type === PUB) {
      rec.bodyStart = pos + 20 + buf[pos + 9] + buf[pos + 10] + buf.readUInt32LE(pos + 16);
      rec.id = buf.toString("latin1", rec.bodyStart, pos + 8 + len).split("|")[0];
    }
    recs.push(rec);
    pos = end;
  }
  assert.equal(pos, buf.length, "segment parses to its end");
  return recs;
}

function newestSegment(dir) {
  const names = readdirSync(dir)
    .filter((f) => f.endsWith(".wseg"))
    .sort();
  assert.ok(names.length > 0, `segment files in ${dir}`);
  return join(dir, names.at(-1));
}

test(
  "torn writes: a damaged segment tail costs only the damaged records",
  { skip: SKIP, timeout: 40_000 },
  async (t) => {
    const rnd = prng(SEED ^ 0x5eed);
    const N = 200;
    const Q = "torn.q";
    const pristine = tempDir("torn");
    const dirs = [pristine];
    const port = await freePort();
    let broker = await boot(port, pristine);
    try {
      const conn = await connect(broker.url);
      const ch = await channel(conn, true);
      await ch.assertQueue(Q, { durable: true });
      const ids = [];
      for (let i = 0; i < N; i++) {
        const id = `t${i}`;
        ids.push(id);
        const body = Buffer.from(`${id}|${"x".repeat(Math.floor(rnd() * 1500))}`);
        ch.sendToQueue(Q, body, { persistent: true, messageId: id });
      }
      await ch.waitForConfirms();
      await broker.kill("SIGKILL");

      const segFile = newestSegment(pristine);
      const segName = segFile.slice(pristine.length + 1);
      const seg = readFileSync(segFile);
      const pubs = parseSegment(seg).filter((r) => r.type === PUB);
      assert.deepEqual(
        pubs.map((r) => r.id),
        ids,
        "the newest segment holds the messages in publish order",
      );
      const last = pubs.at(-1);
      const inside = (r, from = r.pos + 1) => from + Math.floor(rnd() * (r.end - 1 - from));

      /** scenario: { name, damage(file), lost: ids lost, skipped, torn } */
      const scenarios = [];
      const cut = (k, at) => {
        const r = pubs.at(-k);
        const off = at ?? inside(r);
        scenarios.push({
          name: `truncated at byte ${off - r.pos} of record -${k}`,
          damage: (f) => truncateSync(f, off),
          lost: pubs.slice(-k).map((p) => p.id),
          skipped: off - r.pos,
          torn: off - r.pos,
        });
      };
      cut(1, last.pos + 3); // inside the record header
      cut(1);
      cut(3);
      cut(6);
      const smash = (name, r, from, to, torn) => {
        scenarios.push({
          name,
          damage: (f) => {
            const b = readFileSync(f);
            for (let i = from; i < to; i++) b[i] ^= 1 + Math.floor(rnd() * 255);
            writeFileSync(f, b);
          },
          lost: [r.id],
          skipped: r.end - r.pos,
          torn: torn ? r.end - r.pos : 0,
        });
      };
      const at = inside(last, last.bodyStart);
      smash("garbage inside the last record's body", last, at, Math.min(at + 16, last.end), true);
      smash("garbage over the last record's header", last, last.pos, last.pos + 12, true);
      const mid = pubs[N >> 1];
      const atMid = inside(mid, mid.bodyStart);
      smash("garbage inside a record in the middle", mid, atMid, Math.min(atMid + 8, mid.end), false);

      for (const [i, s] of scenarios.entries()) {
        const dir = tempDir(`torn${i}`);
        dirs.push(dir);
        cpSync(pristine, dir, { recursive: true });
        s.damage(join(dir, segName));
        broker = await boot(port, dir);
        const r = recoveryReport(broker.log());
        const want = ids.filter((id) => !s.lost.includes(id));
        t.diagnostic(
          `${s.name}: recovered ${r.messages}/${N}, skipped ${r.skipped} bytes (${r.torn} torn at the tail)`,
        );
        assert.deepEqual([r.skipped, r.torn], [s.skipped, s.torn], `${s.name}: skipped/torn bytes reported`);
        assert.equal(r.messages, want.length, `${s.name}: recovered count`);
        const c = await connect(broker.url);
        const got = await drainQueue(c, Q);
        assert.deepEqual(got.map(idOf), want, `${s.name}: every message before the damage, in order`);
        for (const m of got) assert.ok(m.content.toString("latin1").startsWith(`${idOf(m)}|`));
        if (i === 1) {
          // The torn tail was cut off for good: the next start reports no damage, and new
          // messages land behind the recovered ones.
          const pc = await channel(c, true);
          pc.sendToQueue(Q, Buffer.from("after|"), { persistent: true, messageId: "after" });
          await pc.waitForConfirms();
          await c.close();
          await broker.kill("SIGKILL");
          broker = await boot(port, dir);
          const again = recoveryReport(broker.log());
          assert.deepEqual(
            [again.skipped, again.torn, again.messages],
            [0, 0, 1],
            "second start after a torn tail",
          );
          const c2 = await connect(broker.url);
          assert.deepEqual((await drainQueue(c2, Q)).map(idOf), ["after"]);
          await c2.close();
        } else await c.close();
        await broker.kill("SIGKILL");
      }
    } finally {
      await broker.kill("SIGKILL");
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  },
);

// ---------------------------------------------------------------------------------------------
// 3. Definitions across restarts

test(
  "restart keeps durable definitions and drops transient and exclusive ones",
  { skip: SKIP, timeout: 30_000 },
  async () => {
    const dataDir = tempDir("defs");
    const port = await freePort();
    let broker = await boot(port, dataDir);
    try {
      const conn = await connect(broker.url);
      const ch = await channel(conn);
      await ch.assertExchange("defs.topic", "topic", { durable: true });
      await ch.assertExchange("defs.dst", "fanout", { durable: true });
      await ch.bindExchange("defs.dst", "defs.topic", "a.*");
      await ch.assertQueue("defs.e2e", { durable: true });
      await ch.bindQueue("defs.e2e", "defs.dst", "");
      await ch.assertExchange("defs.dlx", "fanout", { durable: true });
      await ch.assertQueue("defs.dlq", { durable: true });
      await ch.bindQueue("defs.dlq", "defs.dlx", "");
      const limitedArgs = { "x-max-length": 3, "x-dead-letter-exchange": "defs.dlx" };
      await ch.assertQueue("defs.limited", { durable: true, arguments: limitedArgs });
      await ch.assertExchange("defs.headers", "headers", { durable: true });
      await ch.assertQueue("defs.hq", { durable: true });
      await ch.bindQueue("defs.hq", "defs.headers", "", { "x-match": "all", color: "red", size: 10 });
      await ch.assertQueue("defs.transient", { durable: false });
      await ch.assertExchange("defs.transient.ex", "direct", { durable: false });
      await ch.assertQueue("defs.exclusive", { exclusive: true, durable: false });
      await ch.assertQueue("defs.exclusive.durable", { exclusive: true, durable: true });
      await ch.assertQueue("defs.autodel", { durable: true, autoDelete: true });
      await ch.consume("defs.autodel", noop);
      // SIGKILL right after the last declare-ok: what was acknowledged must be on disk.
      await broker.kill("SIGKILL");

      const durable = {
        exchange: ["defs.topic", "defs.dst", "defs.dlx", "defs.headers"],
        queue: ["defs.e2e", "defs.dlq", "defs.limited", "defs.hq", "defs.autodel"],
      };
      const gone = {
        exchange: ["defs.transient.ex"],
        queue: ["defs.transient", "defs.exclusive", "defs.exclusive.durable"],
      };
      const checkAll = async (c, when) => {
        for (const [kind, names] of Object.entries(durable)) {
          for (const name of names) assert.ok(await exists(c, kind, name), `${kind} ${name} exists ${when}`);
        }
        for (const [kind, names] of Object.entries(gone)) {
          for (const name of names)
            assert.ok(!(await exists(c, kind, name)), `${kind} ${name} is gone ${when}`);
        }
      };
      // Two restarts: the recovered definitions must also be saved again correctly.
      broker = await boot(port, dataDir);
      let c = await connect(broker.url);
      await checkAll(c, "after a kill");
      await c.close();
      await broker.kill("SIGKILL");
      broker = await boot(port, dataDir);
      c = await connect(broker.url);
      await checkAll(c, "after a second kill");

      const pch = await channel(c, true);
      // Exchange-to-exchange binding: a.* reaches defs.e2e through defs.dst, b.* does not.
      pch.publish("defs.topic", "a.x", Buffer.from("e2e-yes"), { persistent: true });
      pch.publish("defs.topic", "b.x", Buffer.from("e2e-no"), { persistent: true });
      // Binding arguments: x-match all needs both headers.
      pch.publish("defs.headers", "", Buffer.from("h-yes"), { headers: { color: "red", size: 10 } });
      pch.publish("defs.headers", "", Buffer.from("h-no"), { headers: { color: "red" } });
      // Queue arguments: max-length 3 drops the head to the dead-letter exchange.
      for (let i = 0; i < 5; i++) pch.sendToQueue("defs.limited", Buffer.from(`l${i}`), { persistent: true });
      await pch.waitForConfirms();
      const bodies = async (q) => (await drainQueue(c, q)).map((m) => m.content.toString());
      assert.deepEqual(await bodies("defs.e2e"), ["e2e-yes"]);
      assert.deepEqual(await bodies("defs.hq"), ["h-yes"]);
      assert.deepEqual(await bodies("defs.limited"), ["l2", "l3", "l4"]);
      const dead = await drainQueue(c, "defs.dlq");
      assert.deepEqual(
        dead.map((m) => m.content.toString()),
        ["l0", "l1"],
      );
      assert.equal(dead[0].properties.headers["x-death"]?.[0]?.reason, "maxlen");
      // Same arguments are equivalent; different ones are refused (406).
      await pch.assertQueue("defs.limited", { durable: true, arguments: limitedArgs });
      const other = await channel(c);
      await assert.rejects(
        other.assertQueue("defs.limited", {
          durable: true,
          arguments: { ...limitedArgs, "x-max-length": 4 },
        }),
        (e) => e.code === 406,
      );

      // The auto-delete queue outlived its consumer's connection (the broker died); it goes
      // when a consumer it gets now leaves.
      const ach = await channel(c);
      const { consumerTag } = await ach.consume("defs.autodel", noop);
      assert.ok(await exists(c, "queue", "defs.autodel"), "auto-delete queue kept while consumed");
      await ach.cancel(consumerTag);
      assert.ok(
        !(await exists(c, "queue", "defs.autodel")),
        "auto-delete queue gone after its consumer left",
      );
      await c.close();
    } finally {
      await broker.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);

// ---------------------------------------------------------------------------------------------
// 4. The data directory lock

test(
  "a second broker on the same data directory refuses to start",
  { skip: SKIP, timeout: 30_000 },
  async () => {
    const dataDir = tempDir("lock");
    let broker = await boot(await freePort(), dataDir);
    try {
      const conn = await connect(broker.url);
      const ch = await channel(conn, true);
      await ch.assertQueue("lock.q", { durable: true });
      ch.sendToQueue("lock.q", Buffer.from("before"), { persistent: true, messageId: "before" });
      await ch.waitForConfirms();
      const files = readdirSync(dataDir).sort();

      const port2 = await freePort();
      const second = spawn(
        process.execPath,
        [CLI, "server", "--port", String(port2), "--data-dir", dataDir],
        {
          stdio: ["ignore", "pipe", "pipe"],
          env: { WARREN_MANAGEMENT_PORT: "0", WARREN_PROMETHEUS_PORT: "0", ...process.env },
        },
      );
      let out = "";
      second.stdout.on("data", (d) => (out += d));
      second.stderr.on("data", (d) => (out += d));
      const code = await withTimeout(
        new Promise((r) => second.once("exit", (c) => r(c))),
        10_000,
        "the second broker to exit",
      ).catch((e) => {
        second.kill("SIGKILL");
        throw e;
      });
      assert.notEqual(code, 0, `second broker exit code (output: ${out})`);
      assert.match(out, new RegExp(`locked by running process ${broker.proc.pid}`), "names the lock holder");
      assert.doesNotMatch(out, /listening/);
      assert.deepEqual(readdirSync(dataDir).sort(), files, "the second broker touched no file");
      assert.equal(readFileSync(join(dataDir, "LOCK"), "utf8").trim(), String(broker.proc.pid));

      // The first one carries on.
      assert.equal(broker.proc.exitCode, null);
      ch.sendToQueue("lock.q", Buffer.from("after"), { persistent: true, messageId: "after" });
      await ch.waitForConfirms();
      assert.deepEqual((await drainQueue(conn, "lock.q")).map(idOf), ["before", "after"]);
      ch.sendToQueue("lock.q", Buffer.from("kept"), { persistent: true, messageId: "kept" });
      await ch.waitForConfirms();
      await conn.close();

      // A lock left by a dead broker is taken over.
      const port = broker.port;
      await broker.kill("SIGKILL");
      broker = await boot(port, dataDir);
      const c = await connect(broker.url);
      assert.deepEqual((await drainQueue(c, "lock.q")).map(idOf), ["kept"]);
      await c.close();
    } finally {
      await broker.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);

// ---------------------------------------------------------------------------------------------
// 5. Clean stops, and the redelivered flag after a kill

test("a clean stop (SIGTERM) keeps messages and acks", { skip: SKIP, timeout: 30_000 }, async () => {
  const dataDir = tempDir("clean");
  const port = await freePort();
  let broker = await boot(port, dataDir);
  try {
    const N = 300;
    const conn = await connect(broker.url);
    const ch = await channel(conn, true);
    await ch.assertQueue("clean.q", { durable: true });
    for (let i = 0; i < N; i++) {
      ch.sendToQueue("clean.q", Buffer.from(`c${i}`), {
        persistent: true,
        messageId: `c${i}`,
        contentType: "text/plain",
        correlationId: `corr${i}`,
        priority: 3,
        timestamp: 1_700_000_000 + i,
        headers: { n: i, s: "str", b: true, nested: { k: "v" } },
      });
    }
    // A transient message in a durable queue does not survive a restart.
    ch.sendToQueue("clean.q", Buffer.from("transient"), { persistent: false, messageId: "transient" });
    await ch.waitForConfirms();
    // Consume 20: ack the first 10, leave 10 unacked.
    const cch = await channel(conn);
    await cch.prefetch(20);
    const got = [];
    await cch.consume("clean.q", (m) => m && got.push(m));
    await waitFor(() => got.length === 20, 5000, "20 deliveries");
    for (const m of got.slice(0, 10)) cch.ack(m);
    await cch.checkQueue("clean.q"); // a round trip: the acks have been processed
    assert.ok(got.every((m) => !m.fields.redelivered));

    await broker.kill("SIGTERM");
    assert.equal(broker.proc.exitCode, 0, `clean exit (log: ${broker.log()})`);
    assert.ok(!existsSync(join(dataDir, "LOCK")), "the lock is released on a clean stop");

    broker = await boot(port, dataDir);
    assert.equal(recoveryReport(broker.log()).messages, N - 10);
    const c = await connect(broker.url);
    const back = await drainQueue(c, "clean.q");
    assert.deepEqual(
      back.map(idOf),
      Array.from({ length: N - 10 }, (_, i) => `c${i + 10}`),
      "acked messages stay gone, the rest come back in order",
    );
    // c10..c19 were delivered and not acked; the 10 acks made room for c20..c29, delivered
    // after the check above. Everything else was never delivered.
    for (const m of back.slice(0, 20))
      assert.ok(m.fields.redelivered, `${idOf(m)} was delivered: redelivered`);
    for (const m of back.slice(20))
      assert.ok(!m.fields.redelivered, `${idOf(m)} was never delivered: not redelivered`);
    const m = back[5];
    const i = 15;
    assert.equal(m.content.toString(), `c${i}`);
    assert.equal(m.properties.contentType, "text/plain");
    assert.equal(m.properties.correlationId, `corr${i}`);
    assert.equal(m.properties.priority, 3);
    assert.equal(m.properties.deliveryMode, 2);
    assert.equal(m.properties.timestamp, 1_700_000_000 + i);
    assert.deepEqual(m.properties.headers, { n: i, s: "str", b: true, nested: { k: "v" } });
    await c.close();
  } finally {
    await broker.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test(
  "after a kill, only messages delivered and not acked come back redelivered, in order, none missing",
  { skip: SKIP, timeout: 30_000 },
  async () => {
    const dataDir = tempDir("redeliver");
    const port = await freePort();
    let broker = await boot(port, dataDir);
    const client = new AMQPClient(broker.url);
    try {
      const N = 300;
      const K = 60;
      const conn = await client.connect();
      conn.onerror = noop;
      const ch = await conn.channel();
      await ch.queueDeclare("redeliver.q", { durable: true });
      await ch.queueDeclare("redeliver.get", { durable: true });
      await ch.confirmSelect();
      const publishAll = (q, prefix) =>
        Promise.all(
          Array.from({ length: N }, (_, i) =>
            ch.basicPublish("", q, `${prefix}${i}`, { deliveryMode: 2, messageId: `${prefix}${i}` }),
          ),
        );
      await publishAll("redeliver.q", "r");
      await publishAll("redeliver.get", "g");
      // A consumer takes the first K and acks every third: the unacked ones are not a prefix.
      const cch = await conn.channel();
      await cch.basicQos(K);
      const first = [];
      await cch.basicConsume("redeliver.q", { noAck: false }, (m) => {
        first.push(m);
        if (first.length % 3 === 0) m.ack();
      });
      await waitFor(() => first.length === K, 5000, `${K} deliveries`);
      assert.ok(first.every((m) => !m.redelivered));
      // basic.get without ack on the second queue: g0..g4 delivered, not acked.
      const gch = await conn.channel();
      for (let i = 0; i < 5; i++)
        assert.equal((await gch.basicGet("redeliver.get", { noAck: false }))?.properties.messageId, `g${i}`);
      // One more confirmed publish: its commit carries the delivery records (they are written
      // lazily, with the next group commit, like RabbitMQ's queue index).
      await ch.basicPublish("", "redeliver.q", "after", { deliveryMode: 2, messageId: "after" });
      await broker.kill("SIGKILL");

      broker = await boot(port, dataDir);
      const acked = new Set(first.filter((_, i) => (i + 1) % 3 === 0).map((m) => m.properties.messageId));
      assert.equal(recoveryReport(broker.log()).messages, N + 1 - acked.size + N);
      // Once more, through the segment index that open wrote: the deliveries are in a segment
      // that is closed now and replayed from its .widx instead of being read.
      assert.ok(
        readdirSync(dataDir).some((f) => f.endsWith(".widx")),
        "the first open indexed the segment holding the deliveries",
      );
      await broker.kill("SIGKILL");
      broker = await boot(port, dataDir);
      assert.equal(recoveryReport(broker.log()).messages, N + 1 - acked.size + N);
      const c = await connect(broker.url);
      const back = await drainQueue(c, "redeliver.q");
      const want = [...Array.from({ length: N }, (_, i) => `r${i}`).filter((id) => !acked.has(id)), "after"];
      assert.deepEqual(back.map(idOf), want, "in order, none missing, acked ones gone");
      const delivered = new Set(first.map((m) => m.properties.messageId));
      assert.deepEqual(
        back.filter((m) => m.fields.redelivered).map(idOf),
        want.filter((id) => delivered.has(id)),
        "redelivered exactly the delivered-unacked messages",
      );
      const got = await drainQueue(c, "redeliver.get");
      assert.deepEqual(
        got.map(idOf),
        Array.from({ length: N }, (_, i) => `g${i}`),
      );
      assert.deepEqual(
        got.filter((m) => m.fields.redelivered).map(idOf),
        ["g0", "g1", "g2", "g3", "g4"],
        "basic.get deliveries count too",
      );
      await c.close();
    } finally {
      await broker.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);
