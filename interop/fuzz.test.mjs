// Network fuzzing against a real broker process: hostile connections send random frames,
// mutated valid frame sequences (bit flips, truncated or extended sizes, wrong frame types and
// channels, bad frame-end octets), hostile field tables (unknown types, lengths past the end,
// deep nesting), 0xFFFFFFFF length fields (frames, tables, long strings, body sizes), content
// headers followed by body frames of the wrong size, and valid frames split byte by byte across
// writes, while a bystander connection publishes with confirms and consumes through its own
// queue. The broker must survive all of it, close or keep every hostile connection, never
// stall the bystander, and never lose, duplicate or corrupt one of its messages.
//
// The engine (interop/lib/fuzz-engine.mjs) is seeded: the seed is printed, and
//   FUZZ_SEED=<seed> FUZZ_ITERATIONS=<n> node --test interop/fuzz.test.mjs
// runs the same connections again (FUZZ_DURATION_MS caps the run, 25 s by default, so that a
// slow machine stays within CI's budget). One connection alone, traced, or reduced to the
// fewest frames that still fail:
//   node bench/fuzz.mjs --seed <seed> --replay <i>
//   node bench/fuzz.mjs --seed <seed> --minimize <i>
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { test } from "node:test";
import amqp from "amqplib";
import { startBroker } from "./lib/broker.mjs";
import { logErrors, runFuzz, summary, warningLines } from "./lib/fuzz-engine.mjs";
import { assertAmqplibWorks, withTimeout } from "./node/helpers.mjs";

const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) >>> 0 : randomInt(2 ** 32);
const iterations = Number(process.env.FUZZ_ITERATIONS ?? 1200);
const durationMs = Number(process.env.FUZZ_DURATION_MS ?? 25000);
/**
 * The bystander waits at most this long for any confirm, not counting the time its own thread
 * did not run (issue 7/: "a stall over one second" fails; runs on this 2-core box stay near
 * 200-300 ms).
 */
const MAX_GAP_MS = 1000;
/** Issue 7/ asks for at least this many random and mutated frames in a default run. */
const MIN_FRAMES = 20_000;

test(
  "network fuzz: hostile connections neither crash nor stall the broker, nor disturb a bystander",
  { timeout: 120000 },
  async (t) => {
    console.log(
      `fuzz seed ${seed}, up to ${iterations} hostile connections or ${durationMs / 1000} s ` +
        `(reproduce: FUZZ_SEED=${seed} FUZZ_ITERATIONS=${iterations} node --test interop/fuzz.test.mjs)`,
    );
    const broker = await startBroker();
    let exitInfo = "";
    broker.proc?.once(
      "exit",
      (code, signal) => (exitInfo = `broker exited (code ${code}, signal ${signal})`),
    );
    const alive = () => broker.proc.exitCode === null && broker.proc.signalCode === null;
    try {
      const s = await runFuzz({
        host: broker.host,
        port: broker.port,
        url: broker.url,
        seed,
        iterations,
        durationMs,
        concurrency: 32,
        brokerAlive: broker.external ? undefined : alive,
        brokerExitInfo: () => exitInfo,
        brokerLog: broker.external ? undefined : broker.log,
        // Against a reference broker (INTEROP_TARGET_URL): RabbitMQ waits 30 s for close-ok
        // before it closes a socket, so that is not checked.
        lenient: broker.external,
      });
      const b = s.bystander;
      t.diagnostic(summary(s));
      t.diagnostic(
        `actions sent: ${Object.entries(s.actions)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")}`,
      );
      for (const w of warningLines(s)) t.diagnostic(`warning: ${w}`);
      t.diagnostic(
        `bystander: max confirm gap ${Math.round(b.maxConfirmGapMs)} ms, ${Math.round(b.maxBrokerGapMs)} ms less ` +
          `its own stalls (bound ${MAX_GAP_MS} ms; longest own stall ${Math.round(b.maxSelfStallMs)} ms)`,
      );
      console.log(
        `fuzz seed ${seed}: ${s.connections} connections, ${s.framesSent} frames, max gap ${Math.round(b.maxConfirmGapMs)} ms`,
      );

      // Every hostile connection ended closed by the broker or still open; none showed a
      // malformed frame, a close with an unknown reply code, or a close not followed by the socket
      // closing.
      const failures = s.failures.map(
        (f) =>
          `${f.kind}: ${f.detail}${f.candidates.length ? ` [connections ${f.candidates.join(" ")}]` : ""}`,
      );
      assert.deepEqual(
        failures,
        [],
        `fuzz failures with seed ${seed} (node bench/fuzz.mjs --seed ${seed} --replay <i>)`,
      );
      assert.ok(s.connections > 0, "no hostile connection ran");
      if (process.env.FUZZ_ITERATIONS === undefined && process.env.FUZZ_DURATION_MS === undefined)
        assert.ok(s.framesSent >= MIN_FRAMES, `only ${s.framesSent} hostile frames (at least ${MIN_FRAMES})`);

      if (!broker.external) {
        assert.equal(broker.proc.exitCode, null, exitInfo);
        assert.equal(broker.proc.signalCode, null, exitInfo);
      }
      // ... and still answers a fresh connection.
      const fresh = await withTimeout(amqp.connect(broker.url), 5000, "a fresh connection after the fuzzing");
      try {
        await assertAmqplibWorks(fresh);
      } finally {
        await fresh.close();
      }

      // The bystander: never disconnected, never stalled, lost nothing.
      assert.equal(b.closedByBroker, null, "the broker closed the bystander's connection");
      assert.deepEqual(b.errors, [], "bystander errors");
      assert.ok(b.confirmed > 50, `the bystander barely ran: ${b.confirmed} confirms`);
      assert.equal(b.nacked, 0, "publishes nacked");
      assert.equal(b.confirmed, b.sent, "every publish confirmed");
      assert.equal(b.lost, 0, "confirmed messages never delivered");
      assert.equal(b.received, b.confirmed, "every confirmed message delivered once");
      assert.equal(b.duplicates, 0, "duplicate deliveries without the redelivered flag");
      assert.equal(b.unexpected, 0, "deliveries the bystander never published");
      assert.equal(b.corrupted, 0, "corrupted bodies");
      assert.equal(b.outOfOrder, 0, "deliveries out of order");
      // The wait for a confirm, less any time the bystander's own thread did not run within it:
      // a paused VM or a starved machine stalls everyone, the broker included, and is not its fault.
      assert.ok(
        b.maxBrokerGapMs < MAX_GAP_MS,
        `the bystander waited ${Math.round(b.maxBrokerGapMs)} ms for a confirm (raw ${Math.round(b.maxConfirmGapMs)} ms)`,
      );

      // No stack trace, internal error or uncaught exception in the broker's output.
      if (!broker.external) assert.deepEqual(logErrors(broker.log()), [], "errors in the broker log");
    } finally {
      await broker.stop();
    }
  },
);
