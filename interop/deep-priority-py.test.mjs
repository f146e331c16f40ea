// A deep durable priority queue through pika (Debian's python3-pika): 100,000 persistent
// messages with mixed priorities published to an x-max-priority 10 queue, then consumed, some
// requeued on the way, highest priority first and FIFO within a priority
// (interop/python/pika_deep_priority.py). Between the two phases the test checks that Warren
// keeps most of the backlog in per-level tail files (docs/storage.md, "Deep queues"), and after
// the drain that none is left.
//
//   node --test interop/deep-priority-py.test.mjs
//   INTEROP_TARGET_URL=amqp://guest:guest@localhost:5682 node --test interop/deep-priority-py.test.mjs
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startBroker } from "./lib/broker.mjs";
import { runPython } from "./lib/python.mjs";

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "python", "pika_deep_priority.py");
const N = 100_000;

/** @type {Awaited<ReturnType<typeof startBroker>>} */
let broker;

before(async () => {
  broker = await startBroker();
});

after(async () => {
  await broker?.stop();
});

async function phase(name, queue) {
  const { code, signal, out } = await runPython([SCRIPT, name, queue, String(N)], {
    cwd: dirname(SCRIPT),
    timeoutMs: 300_000,
    env: {
      WARREN_TEST_URL: broker.url,
      WARREN_TEST_HOST: broker.host === "localhost" ? "127.0.0.1" : broker.host,
      WARREN_TEST_PORT: String(broker.port),
    },
  });
  assert.equal(code, 0, `${name} exited with ${code ?? signal}:\n${out}`);
  assert.match(out, /^OK$/m, `${name} did not finish:\n${out}`);
}

const tailFiles = () => {
  const dir = join(broker.dataDir ?? "", "tails");
  return existsSync(dir) ? readdirSync(dir) : [];
};

test("pika: 100k persistent messages of mixed priorities through a deep priority queue, in order", async () => {
  const queue = `interop.py.deep-prio.${process.pid}`;
  await phase("publish", queue);
  // Every level in use (0-10) spilled past its window to a tail file of its own.
  if (!broker.external) assert.equal(tailFiles().length, 11, `tail files: ${tailFiles()}`);
  await phase("consume", queue);
  if (!broker.external) assert.deepEqual(tailFiles(), [], "the drained queue left no tail file");
});
