// Chaos for @warren/client's RecoveringConnection: a broker process (with a data directory) is
// killed with SIGKILL and restarted 10 times under producers in confirm mode and consumers; a
// queue is deleted under its consumer (a server basic.cancel) and channel errors are provoked.
// Every confirmed message must arrive at least once, duplicates are counted (by message id, and
// how many carried the redelivered flag), consumers must resume after every recovery, and the
// scenario runs as a child process with --unhandled-rejections=strict, so that a single
// unhandled rejection fails it. See interop/lib/client-chaos.mjs.
//
//   node --test interop/client-chaos.test.mjs          (CHAOS_KILLS=3 for a shorter run)
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const SKIP = process.env.INTEROP_TARGET_URL
  ? "needs its own Warren process (INTEROP_TARGET_URL is set)"
  : false;
const SCENARIO = join(dirname(fileURLToPath(import.meta.url)), "lib", "client-chaos.mjs");

test(
  "RecoveringConnection: 10 SIGKILLs, a server cancel, channel errors; no confirmed message lost",
  { skip: SKIP, timeout: 180_000 },
  async () => {
    const { code, signal, out, err } = await new Promise((resolve, reject) => {
      const p = spawn(process.execPath, ["--unhandled-rejections=strict", SCENARIO], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, WARREN_MANAGEMENT_PORT: "0", WARREN_PROMETHEUS_PORT: "0" },
      });
      let out = "";
      let err = "";
      p.stdout.on("data", (d) => (out += d));
      p.stderr.on("data", (d) => (err += d));
      p.once("error", reject);
      p.once("exit", (code, signal) => resolve({ code, signal, out, err }));
    });
    assert.equal(code, 0, `the scenario exited with ${code ?? signal}:\n${err}\n${out}`);
    const s = JSON.parse(out.trim().split("\n").pop());
    const kills = Number(process.env.CHAOS_KILLS ?? 10);
    console.log(
      `chaos: ${s.kills} kills, ${s.recoveries} recoveries, ${s.confirmed}/${s.published} confirmed, ` +
        `${s.unique} unique received, ${s.duplicates} duplicates (${s.duplicatesRedelivered} flagged redelivered), ` +
        `publish failures ${JSON.stringify(s.publishFailures)}, ${s.channelRecoveries} channel recoveries, ${s.ms} ms`,
    );
    assert.equal(s.kills, kills);
    assert.ok(s.recoveries >= kills, `${s.recoveries} recoveries`);
    assert.equal(s.missingCount, 0, `confirmed but never received: ${s.missing.join(", ")}`);
    assert.ok(s.confirmed > 1000, `only ${s.confirmed} confirmed`);
    assert.equal(s.received, s.unique + s.duplicates);
    assert.equal(s.resumedAfterEachRecovery, true);
    assert.equal(s.sideCancelled, true);
    assert.equal(s.sideResumed, true);
    assert.ok(s.consumerChannelErrors >= 1 && s.producerChannelErrors >= 1);
    assert.ok(!s.events.includes("recovery-failed"));
    // Publishes cut off by a kill are sent again and confirmed, not failed: the only failures are
    // those of the channel the provoked 404 closed (its unconfirmed publishes reject with it).
    assert.deepEqual(
      Object.keys(s.publishFailures).filter((k) => k !== "ChannelError"),
      [],
    );
    assert.ok((s.publishFailures.ChannelError ?? 0) <= 200 * 8);
    assert.deepEqual(s.warnings, []);
  },
);
