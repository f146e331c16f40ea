// Runs the Python queue-feature scripts in interop/python/ (pika 1.2 and py-amqp 5.1, the
// Debian packages, under /usr/bin/python3) against the broker: TTL + dead-lettering with x-death,
// length limits under publisher confirms, priorities, RPC over direct reply-to, and Celery-style
// delayed delivery built from TTL + DLX chains over topic exchanges. Each script asserts what
// it sees and exits non-zero on the first failure; see interop/python/qf_common.py.
//
//   node --test interop/queue-features-py.test.mjs                 (a fresh Warren broker)
//   INTEROP_TARGET_URL=amqp://guest:guest@localhost:5682 node --test interop/queue-features-py.test.mjs
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startBroker } from "./lib/broker.mjs";
import { runPython } from "./lib/python.mjs";

const DIR = join(dirname(fileURLToPath(import.meta.url)), "python");

/** @type {Awaited<ReturnType<typeof startBroker>>} */
let broker;

before(async () => {
  broker = await startBroker();
});

after(async () => {
  await broker?.stop();
});

/** Runs one script with the broker's address in its environment; resolves with its output. */
function runScript(name, timeoutMs = 30000) {
  return runPython([join(DIR, name)], {
    cwd: DIR,
    timeoutMs,
    env: {
      WARREN_TEST_URL: broker.url,
      WARREN_TEST_HOST: broker.host === "localhost" ? "127.0.0.1" : broker.host,
      WARREN_TEST_PORT: String(broker.port),
    },
  });
}

const SCRIPTS = [
  ["pika_ttl_dlx.py", "pika: expiration 100 ms dead-lettered to a DLX queue with a correct x-death"],
  [
    "pyamqp_ttl_dlx.py",
    "py-amqp: expiration + reject dead-lettering history, validation and equivalence errors",
  ],
  ["pika_max_length.py", "pika: max-length drop-head, reject-publish and reject-publish-dlx under confirms"],
  ["pyamqp_reject_publish.py", "py-amqp: reject-publish nacks, drop-head and max-length-bytes"],
  ["pika_priority.py", "pika: priority ordering with 10 levels"],
  ["pika_rpc.py", "pika: RPC over direct reply-to, and its misuse errors"],
  [
    "pika_celery_delayed.py",
    "pika: Celery-style delayed delivery from TTL + DLX chains over topic exchanges",
  ],
];

describe("queue features through Python clients", { concurrency: true }, () => {
  for (const [script, title] of SCRIPTS) {
    test(title, async () => {
      const { code, signal, out } = await runScript(script);
      assert.equal(code, 0, `${script} exited with ${code ?? signal}:\n${out}`);
      assert.match(out, /^OK$/m, `${script} did not finish:\n${out}`);
    });
  }
});
