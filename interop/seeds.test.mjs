// Runs every pika / kombu / py-amqp code sample from the seed documents (copied into
// interop/seeds/, see interop/seeds/README.md) unmodified against the broker, and checks
// what the broker did: messages delivered, acks honoured, fair dispatch, fanout, requeue
// on reject, batch acks, kombu round trips.
//
//   node --test interop/seeds.test.mjs                       (a fresh Warren broker)
//   INTEROP_TARGET_URL=amqp://guest:guest@localhost:5682 node --test interop/seeds.test.mjs
//
// The samples connect to fixed addresses (localhost:5672, 127.0.0.1:5673,
// 192.168.230.107:5672); interop/seeds/shim/sitecustomize.py redirects those to the broker
// under test and is put on PYTHONPATH only when the broker is not already there.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { reddit as redditTs } from "../packages/client/dist/index.js";
import { startBroker } from "./lib/broker.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const SEEDS = join(HERE, "seeds");
const SHIM = join(SEEDS, "shim");
const FIXTURE = join(HERE, "fixtures", "definitions.json");
const PYTHON = "/usr/bin/python3";
const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;
const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

// Queues and exchanges whose names the samples fix; removed before and after the run.
const FIXED_QUEUES = ["hello", "task_queue", "vote_comment_q", "newcomments_q", "test-12", "asynt_queue"];
const FIXED_EXCHANGES = ["logs", "reddit_exchange", "test-11", "test-12", "asynt_exchange"];

/** @type {Awaited<ReturnType<typeof startBroker>>} */
let broker;
/** Why the users/vhost of the fixture could not be created on an external broker, if so. */
let provisioningSkip = "";
let provisionedWithRabbitmqctl = false;
const running = new Set();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tail = (s, n = 3000) => (s.length > n ? `...${s.slice(-n)}` : s);

/** The broker's URL with other credentials / vhost. */
function brokerUrl({ user = "guest", pass = "guest", vhost = "/" } = {}) {
  const u = new URL(broker.url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(pass);
  u.pathname = `/${encodeURIComponent(vhost)}`;
  return u.toString();
}

/**
 * Environment for a sample. fromPorts / fromHosts: the addresses the sample itself dials.
 * The shim goes on PYTHONPATH only if one of them is not where the broker really is.
 */
function sampleEnv({ fromPorts = [5672], fromHosts = [] } = {}) {
  const env = { ...process.env, PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" };
  delete env.PYTHONPATH;
  env.WARREN_TEST_URL = brokerUrl();
  const needShim =
    fromHosts.length > 0 || !LOOPBACK.has(broker.host) || fromPorts.some((p) => p !== broker.port);
  if (needShim) {
    env.PYTHONPATH = SHIM;
    env.WARREN_TEST_PORT = String(broker.port);
    env.WARREN_TEST_HOST = broker.host === "localhost" ? "127.0.0.1" : broker.host;
    env.WARREN_TEST_FROM_PORTS = fromPorts.join(",");
    env.WARREN_TEST_FROM_HOSTS = fromHosts.join(",");
  }
  return env;
}

/** Starts interop/seeds/<rel> in the background. */
function startPy(rel, args = [], env = sampleEnv()) {
  const script = join(SEEDS, rel);
  const proc = spawn(PYTHON, [script, ...args], {
    cwd: dirname(script),
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const h = {
    rel,
    proc,
    stdout: "",
    stderr: "",
    done: false,
    /** @type {Promise<{code: number|null, signal: string|null}>} */
    exited: Promise.resolve({ code: null, signal: null }),
    describe() {
      return `${rel} ${args.join(" ")}\n--- stdout:\n${tail(h.stdout)}\n--- stderr:\n${tail(h.stderr)}`;
    },
    /** Resolves once pred(stdout) holds; rejects on timeout or if the process ends first. */
    async waitFor(pred, what, ms = 10000) {
      const deadline = Date.now() + ms;
      for (;;) {
        if (pred(h.stdout)) return;
        if (h.done) throw new Error(`exited before ${what}: ${h.describe()}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${h.describe()}`);
        await sleep(25);
      }
    },
    async stop() {
      if (!h.done) {
        proc.kill("SIGTERM");
        const t = setTimeout(() => h.done || proc.kill("SIGKILL"), 2000);
        await h.exited;
        clearTimeout(t);
      }
    },
  };
  proc.stdout.setEncoding("utf8");
  proc.stderr.setEncoding("utf8");
  proc.stdout.on("data", (d) => {
    h.stdout += d;
  });
  proc.stderr.on("data", (d) => {
    h.stderr += d;
  });
  h.exited = new Promise((resolve) =>
    proc.once("close", (code, signal) => {
      h.done = true;
      running.delete(h);
      resolve({ code, signal });
    }),
  );
  running.add(h);
  return h;
}

/** Runs interop/seeds/<rel> to completion (killed after ms). */
async function runPy(rel, args = [], env = sampleEnv(), ms = 20000) {
  const h = startPy(rel, args, env);
  const timer = setTimeout(() => h.proc.kill("SIGKILL"), ms);
  const { code, signal } = await h.exited;
  clearTimeout(timer);
  return { code, signal, stdout: h.stdout, stderr: h.stderr, describe: h.describe };
}

async function runPyOk(rel, args = [], env = sampleEnv(), ms = 20000) {
  const r = await runPy(rel, args, env, ms);
  assert.equal(r.code, 0, `${rel} failed: ${r.describe()}`);
  return r;
}

/** helpers/broker_admin.py: inspects / tidies the broker directly (no shim). */
async function admin(args, url = brokerUrl()) {
  const env = { ...sampleEnv(), WARREN_TEST_URL: url };
  delete env.PYTHONPATH;
  const r = await runPy("helpers/broker_admin.py", args, env);
  assert.equal(r.code, 0, `broker_admin ${args.join(" ")} failed: ${r.describe()}`);
  return JSON.parse(r.stdout);
}

async function queueState(queue, url) {
  return (await admin(["state", queue], url))[0];
}

/** Polls the queue until pred(state) holds. */
async function waitQueue(queue, pred, what, { url, ms = 10000 } = {}) {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await queueState(queue, url);
    if (pred(s)) return s;
    if (Date.now() > deadline)
      throw new Error(`queue ${queue}: timed out waiting for ${what}; last ${JSON.stringify(s)}`);
    await sleep(50);
  }
}

/**
 * After consumers were stopped: waits until the broker has dropped their consumers (it
 * requeues their unacknowledged messages in the same step), then returns the state.
 */
async function settledQueue(queue, opts = {}) {
  const s = await waitQueue(queue, (st) => st.consumers === 0, "its consumers to go away", opts);
  await sleep(100);
  return { ...s, ...(await queueState(queue, opts.url)) };
}

function skipWithoutProvisioning(t) {
  if (provisioningSkip) {
    t.skip(provisioningSkip);
    return true;
  }
  return false;
}

function rabbitmqctl(args, input) {
  const ctl = process.env.INTEROP_RABBITMQCTL || "rabbitmqctl";
  return spawnSync(ctl, args, { encoding: "utf8", timeout: 60000, input });
}

/** Creates the fixture's extra users and vhosts on an external RabbitMQ (its guest is left alone). */
async function provisionExternal() {
  const probe = rabbitmqctl(["-q", "list_vhosts"]);
  if (probe.error || probe.status !== 0) {
    provisioningSkip =
      "rabbitmqctl is not available, so the vhost 'phptest' and the users 'phptest' and 'openstack' " +
      "that these samples log in with cannot be created on the external broker";
    return;
  }
  const defs = JSON.parse(readFileSync(FIXTURE, "utf8"));
  defs.users = defs.users.filter((u) => u.name !== "guest");
  defs.vhosts = defs.vhosts.filter((v) => v.name !== "/");
  defs.permissions = defs.permissions.filter((p) => p.user !== "guest");
  // from stdin: rabbitmqctl may run as another user that cannot read our temp files
  const r = rabbitmqctl(["import_definitions", "--format", "json"], JSON.stringify(defs));
  assert.equal(r.status, 0, `rabbitmqctl import_definitions failed:\n${r.stdout}\n${r.stderr}`);
  provisionedWithRabbitmqctl = true;
  // The import is asynchronous: wait until both users can log in.
  const deadline = Date.now() + 20000;
  for (;;) {
    const env = { ...sampleEnv() };
    delete env.PYTHONPATH;
    const a = await runPy("helpers/broker_admin.py", ["state", "x"], {
      ...env,
      WARREN_TEST_URL: brokerUrl({ user: "phptest", pass: "phptest", vhost: "phptest" }),
    });
    const b = await runPy("helpers/broker_admin.py", ["state", "x"], {
      ...env,
      WARREN_TEST_URL: brokerUrl({ user: "openstack", pass: "comleader@123" }),
    });
    if (a.code === 0 && b.code === 0) return;
    if (Date.now() > deadline) throw new Error(`imported users cannot log in:\n${a.stderr}\n${b.stderr}`);
    await sleep(200);
  }
}

async function cleanupFixed() {
  await admin(["delete-queue", ...FIXED_QUEUES]);
  await admin(["delete-exchange", ...FIXED_EXCHANGES]);
}

before(async () => {
  broker = await startBroker({ args: ["--definitions", FIXTURE] });
  if (broker.external) await provisionExternal();
  await cleanupFixed();
});

after(async () => {
  await Promise.all([...running].map((h) => h.stop()));
  try {
    if (broker) await cleanupFixed();
  } finally {
    if (provisionedWithRabbitmqctl) {
      rabbitmqctl(["delete_user", "phptest"]);
      rabbitmqctl(["delete_user", "openstack"]);
      rabbitmqctl(["delete_vhost", "phptest"]);
    }
    await broker?.stop();
  }
});

// ---------------------------------------------------------------------------------------
// The sample files and the fixture themselves

test("sample files are the seed text plus only the fixes recorded in the manifest", async (t) => {
  const r = await runPy("tools/extract_seeds.py", ["--check"]);
  if (r.stdout.startsWith("SKIP")) return t.skip(r.stdout.trim());
  assert.equal(r.code, 0, r.describe());
  assert.doesNotMatch(r.stdout, /MISMATCH/);
});

test("fixture definitions.json: rabbit_password_hashing_sha256 hashes match the sample credentials", () => {
  const defs = JSON.parse(readFileSync(FIXTURE, "utf8"));
  const creds = { guest: "guest", phptest: "phptest", openstack: "comleader@123" };
  for (const [name, password] of Object.entries(creds)) {
    const user = defs.users.find((u) => u.name === name);
    assert.ok(user, `user ${name} missing`);
    assert.equal(user.hashing_algorithm, "rabbit_password_hashing_sha256");
    const raw = Buffer.from(user.password_hash, "base64");
    assert.equal(raw.length, 36);
    const salt = raw.subarray(0, 4);
    const digest = createHash("sha256")
      .update(Buffer.concat([salt, Buffer.from(password, "utf8")]))
      .digest();
    assert.deepEqual(raw.subarray(4), digest, `hash of ${name}`);
  }
  assert.ok(defs.vhosts.some((v) => v.name === "phptest"));
  for (const [user, vhost] of [
    ["guest", "/"],
    ["phptest", "phptest"],
    ["openstack", "/"],
  ]) {
    const p = defs.permissions.find((x) => x.user === user && x.vhost === vhost);
    assert.deepEqual([p?.configure, p?.write, p?.read], [".*", ".*", ".*"], `${user}@${vhost}`);
  }
});

// ---------------------------------------------------------------------------------------
// Seed 001: the pika tutorial (hello world, work queues, durability, fair dispatch, fanout)

test(
  "pika tutorial: receive.py gets the message send.py publishes to 'hello'",
  {
    timeout: 30000,
  },
  async () => {
    await admin(["delete-queue", "hello"]);
    const rx = startPy("pika_tutorial/receive.py");
    await rx.waitFor((s) => s.includes("[*] Waiting for messages"), "the consumer");
    const tx = await runPyOk("pika_tutorial/send.py");
    assert.match(tx.stdout, /\[x\] Sent 'Hello World!'/);
    await rx.waitFor((s) => s.includes(" [x] Received b'Hello World!'"), "the delivery");
    await sleep(200);
    await rx.stop();
    assert.equal(rx.stdout.match(/Received/g).length, 1, rx.describe());
    const s = await settledQueue("hello");
    assert.equal(s.messages, 0, "auto_ack consumer left the message in the queue");
  },
);

test(
  "pika tutorial: the send/receive fragments, run in order, make the same round trip",
  {
    timeout: 30000,
  },
  async () => {
    await admin(["delete-queue", "hello"]);
    const rx = startPy("pika_tutorial/driver_receive_fragments.py");
    await rx.waitFor((s) => s.includes("[*] Waiting for messages"), "the consumer");
    const tx = await runPyOk("pika_tutorial/driver_send_fragments.py");
    assert.match(tx.stdout, /\[x\] Sent 'Hello World!'/);
    await rx.waitFor((s) => s.includes(" [x] Received b'Hello World!'"), "the delivery");
    await rx.stop();
    assert.equal((await settledQueue("hello")).messages, 0);
  },
);

test(
  "pika tutorial: new_task.py publishes persistent messages; worker.py acks them",
  {
    timeout: 30000,
  },
  async () => {
    await admin(["delete-queue", "task_queue"]);
    const body1 = `persistent ${RUN_ID}`;
    const tx1 = await runPyOk("pika_tutorial/new_task.py", body1.split(" "));
    assert.match(tx1.stdout, /\[x\] Sent 'persistent /);
    await waitQueue("task_queue", (s) => s.messages === 1, "the message");
    const [got] = await admin(["get", "task_queue"]);
    assert.equal(got.body, body1);
    assert.equal(got.delivery_mode, 2, "delivery_mode=2 must survive the round trip");

    const w = startPy("pika_tutorial/worker.py");
    await waitQueue("task_queue", (s) => s.consumers === 1, "worker.py to consume");
    const body2 = `First message. ${RUN_ID}`;
    await runPyOk("pika_tutorial/new_task.py", body2.split(" "));
    await w.waitFor((s) => s.includes(`[x] Received b'${body2}'`), "the task");
    await w.waitFor((s) => s.includes("[x] Done"), "the task to finish (1 s)");
    await sleep(300); // basic.ack is written right after "Done"
    await w.stop();
    const s = await settledQueue("task_queue");
    assert.equal(s.messages, 0, "the acked task came back: basic.ack was not honoured");
  },
);

test(
  "pika tutorial: a task whose worker dies before acking is redelivered to another worker",
  {
    timeout: 30000,
  },
  async () => {
    await admin(["delete-queue", "task_queue"]);
    const w1 = startPy("pika_tutorial/worker.py");
    await waitQueue("task_queue", (s) => s.consumers === 1, "worker 1 to consume");
    const body = `unfinished task.. ${RUN_ID}`; // two dots: the worker sleeps 2 s before acking
    await runPyOk("pika_tutorial/new_task.py", body.split(" "));
    await w1.waitFor((s) => s.includes(`Received b'${body}'`), "worker 1 to get the task");
    w1.proc.kill("SIGKILL");
    await w1.exited;
    assert.doesNotMatch(w1.stdout, /Done/, "worker 1 finished before it was killed; test is void");
    const w2 = startPy("pika_tutorial/worker.py");
    await w2.waitFor((s) => s.includes(`Received b'${body}'`), "worker 2 to get the requeued task");
    await w2.waitFor((s) => s.includes("[x] Done"), "worker 2 to finish (2 s)", 15000);
    await sleep(300);
    await w2.stop();
    assert.equal((await settledQueue("task_queue")).messages, 0);
  },
);

test(
  "pika tutorial: prefetch_count=1 gives quick tasks to the idle worker (fair dispatch)",
  {
    timeout: 45000,
  },
  async () => {
    await admin(["delete-queue", "task_queue"]);
    const w1 = startPy("pika_tutorial/worker.py");
    const w2 = startPy("pika_tutorial/worker.py");
    await waitQueue("task_queue", (s) => s.consumers === 2, "both workers to consume");
    const slow = `slow.... ${RUN_ID}`; // 4 s
    await runPyOk("pika_tutorial/new_task.py", slow.split(" "));
    const slowRe = new RegExp(`Received b'${slow.replace(/\./g, "\\.")}'`);
    await Promise.any([w1, w2].map((w) => w.waitFor((s) => slowRe.test(s), "the slow task"))).catch(() => {
      throw new Error(`no worker got the slow task:\n${w1.describe()}\n${w2.describe()}`);
    });
    const [busy, idle] = slowRe.test(w1.stdout) ? [w1, w2] : [w2, w1];
    const quick = [1, 2, 3, 4].map((i) => `quick${i}-${RUN_ID}`);
    for (const q of quick) await runPyOk("pika_tutorial/new_task.py", [q]);
    const doneCount = () =>
      (w1.stdout.match(/\[x\] Done/g) ?? []).length + (w2.stdout.match(/\[x\] Done/g) ?? []).length;
    const deadline = Date.now() + 20000;
    while (doneCount() < 5) {
      if (Date.now() > deadline)
        throw new Error(`not all 5 tasks finished:\n${w1.describe()}\n${w2.describe()}`);
      await sleep(50);
    }
    await sleep(300);
    await Promise.all([w1.stop(), w2.stop()]);
    for (const q of quick) {
      assert.ok(
        idle.stdout.includes(`Received b'${q}'`),
        `idle worker did not get ${q}:\n${idle.describe()}`,
      );
      assert.ok(
        !busy.stdout.includes(q),
        `busy worker (unacked slow task, prefetch 1) got ${q}:\n${busy.describe()}`,
      );
    }
    assert.equal((busy.stdout.match(/Received/g) ?? []).length, 1);
    assert.equal((await settledQueue("task_queue")).messages, 0);
  },
);

test(
  "pika tutorial: the ack-callback and basic_qos fragments ack on 'hello'",
  {
    timeout: 30000,
  },
  async () => {
    await admin(["delete-queue", "hello"]);
    const w = startPy("pika_tutorial/driver_ack_worker.py");
    await waitQueue("hello", (s) => s.consumers === 1, "the fragment consumer");
    await runPyOk("pika_tutorial/send.py");
    await w.waitFor((s) => s.includes(" [x] Received b'Hello World!'") && s.includes(" [x] Done"), "the ack");
    await sleep(300);
    await w.stop();
    assert.equal((await settledQueue("hello")).messages, 0, "manually acked message came back");
  },
);

test(
  "pika tutorial: the durability fragment; redeclaring 'hello' with other durability is 406",
  {
    timeout: 30000,
  },
  async () => {
    await admin(["delete-queue", "hello", "task_queue"]);
    await admin(["declare-queue", "task_queue", "--durable"]);
    const body = `durable fragment ${RUN_ID}`;
    const r = await runPyOk("pika_tutorial/driver_durable_publish.py", [body]);
    assert.match(r.stdout, /\[x\] Sent/);
    await waitQueue("task_queue", (s) => s.messages === 1, "the persistent message");
    const [got] = await admin(["get", "task_queue"]);
    assert.equal(got.body, body);
    assert.equal(got.delivery_mode, 2);

    // 'hello' is now durable; the plain send.py declares it non-durable.
    const bad = await runPy("pika_tutorial/send.py");
    assert.notEqual(bad.code, 0, `send.py should fail: ${bad.describe()}`);
    assert.match(bad.stderr, /406/);
    assert.match(bad.stderr, /PRECONDITION_FAILED/);

    // And the other way round: a non-durable 'hello' refuses the fragment's durable declare.
    await admin(["delete-queue", "hello"]);
    await runPyOk("pika_tutorial/send.py");
    const bad2 = await runPy("pika_tutorial/driver_durable_publish.py", [body]);
    assert.notEqual(bad2.code, 0, `durable declare should fail: ${bad2.describe()}`);
    assert.match(bad2.stderr, /406/);
    assert.match(bad2.stderr, /PRECONDITION_FAILED/);
    await admin(["delete-queue", "hello"]);
    await admin(["purge", "task_queue"]);
  },
);

test(
  "pika tutorial: the fanout 'logs' exchange reaches two subscribers' server-named queues",
  {
    timeout: 30000,
  },
  async () => {
    await admin(["delete-exchange", "logs"]);
    const subs = [
      startPy("pika_tutorial/driver_fanout.py", ["subscribe"]),
      startPy("pika_tutorial/driver_fanout.py", ["subscribe"]),
    ];
    const queueRe = /Queue (\S+) bound to logs/;
    for (const s of subs) await s.waitFor((out) => queueRe.test(out), "the subscriber's queue");
    const names = subs.map((s) => s.stdout.match(queueRe)[1]);
    assert.notEqual(names[0], names[1]);
    for (const n of names) assert.match(n, /^amq\.gen-/, "server-named queue");
    const msg = `fanout ${RUN_ID}`;
    await runPyOk("pika_tutorial/driver_fanout.py", ["publish", msg]);
    for (const s of subs) await s.waitFor((out) => out.includes(` [x] b'${msg}'`), "the broadcast");
    await Promise.all(subs.map((s) => s.stop()));
    for (const n of names) {
      await waitQueue(n, (st) => !st.exists, "the exclusive queue to be deleted with its connection");
    }
  },
);

// ---------------------------------------------------------------------------------------
// Seed 004: pika with its own vhost and credentials

test(
  "pika vhost sample: phptest:phptest@127.0.0.1:5673/phptest publishes and consumes via 'gcy2'",
  {
    timeout: 30000,
  },
  async (t) => {
    if (skipWithoutProvisioning(t)) return;
    const url = brokerUrl({ user: "phptest", pass: "phptest", vhost: "phptest" });
    await admin(["delete-queue", "myqeueu"], url);
    await admin(["delete-exchange", "gcy2"], url);
    const r = await runPyOk("pika_vhost/driver_pika_vhost.py", [], sampleEnv({ fromPorts: [5672, 5673] }));
    assert.match(r.stdout, /connect success/);
    assert.match(r.stdout, /start send data\nend/);
    assert.match(r.stdout, /get body b'wtffffff1' {2}\S+/);
    assert.match(r.stdout, /get body b'wtffffff2' {2}\S+/);
    assert.match(r.stdout, /DRIVER: both messages consumed/);
    const s = await queueState("myqeueu", url);
    assert.deepEqual([s.exists, s.messages], [true, 0], "acked messages must be gone");
    // vhost isolation: the queue is not visible in '/'
    assert.equal((await queueState("myqeueu")).exists, false);
    await admin(["delete-queue", "myqeueu"], url);
    await admin(["delete-exchange", "gcy2"], url);
  },
);

// ---------------------------------------------------------------------------------------
// Seed 000: reddit's amqp wrapper

const reddit = "reddit_amqp/driver.py";

test(
  "reddit wrapper: declare_queues() bindings and init_queue() declarations",
  {
    timeout: 30000,
  },
  async () => {
    await admin(["delete-queue", "vote_comment_q", "newcomments_q"]);
    await admin(["delete-exchange", "reddit_exchange"]);
    const r = await runPyOk(reddit, ["declare"]);
    for (const b of [
      "('vote_comment_q', 'vote_comment_q')",
      "('vote_comment_q', 'vote_comment_q_test')",
      "('newcomments_q', 'new_link')",
      "('newcomments_q', 'link_text_edited')",
    ]) {
      assert.ok(r.stdout.includes(b), `binding ${b} missing: ${r.stdout}`);
    }
    for (const q of ["vote_comment_q", "newcomments_q"]) {
      assert.deepEqual(await queueState(q), { queue: q, exists: true, messages: 0, consumers: 0 });
    }
  },
);

test(
  "reddit wrapper: add_item() routes through reddit_exchange; mandatory unroutable is returned",
  {
    timeout: 30000,
  },
  async () => {
    await admin(["purge", "vote_comment_q", "newcomments_q"]);
    const r = await runPyOk(reddit, [
      "publish",
      ...["vote_comment_q", "a1", "vote_comment_q_test", "a2", "new_link", "a3"],
      ...["link_text_edited", "a4", "no_such_routing_key", "a5"],
    ]);
    assert.equal((r.stdout.match(/Message was returned/g) ?? []).length, 1, r.describe());
    assert.match(r.stdout, /a5\nMessage was returned/);
    assert.match(r.stdout, /DRIVER: published 5/);
    await waitQueue("vote_comment_q", (s) => s.messages === 2, "2 messages");
    await waitQueue("newcomments_q", (s) => s.messages === 2, "2 messages");
    const vote = await admin(["get", "vote_comment_q", "5"]);
    assert.deepEqual(
      vote.map((m) => [m.body, m.routing_key, m.exchange]),
      [
        ["a1", "vote_comment_q", "reddit_exchange"],
        ["a2", "vote_comment_q_test", "reddit_exchange"],
      ],
    );
    const news = await admin(["get", "newcomments_q", "5"]);
    assert.deepEqual(
      news.map((m) => [m.body, m.routing_key]),
      [
        ["a3", "new_link"],
        ["a4", "link_text_edited"],
      ],
    );
  },
);

test(
  "reddit wrapper: consume_items() rejects message_0005 with requeue and it is redelivered",
  {
    timeout: 30000,
  },
  async () => {
    await admin(["purge", "vote_comment_q"]);
    const bodies = [
      "message_0001",
      "message_0002",
      "message_0003",
      "message_0004",
      "message_0005",
      "message_0006",
    ];
    await runPyOk(reddit, ["publish", ...bodies.flatMap((b) => ["vote_comment_q", b])]);
    await waitQueue("vote_comment_q", (s) => s.messages === 6, "6 messages");
    const c = startPy(reddit, ["consume"]);
    const deliveries = () =>
      [
        ...c.stdout.matchAll(
          /^_callback: b'(message_\d+)' <Basic\.Deliver\(\[.*'redelivered=(True|False)'/gm,
        ),
      ].map((m) => ({ body: m[1], redelivered: m[2] === "True" }));
    await c.waitFor(
      () =>
        bodies.every((b) => deliveries().some((d) => d.body === b)) &&
        deliveries().filter((d) => d.body === "message_0005" && d.redelivered).length >= 2,
      "all six messages and message_0005 redelivered",
    );
    await c.stop();
    const ds = deliveries();
    for (const b of bodies.filter((x) => x !== "message_0005")) {
      const mine = ds.filter((d) => d.body === b);
      assert.equal(mine.length, 1, `${b} delivered ${mine.length} times`);
      assert.equal(mine[0].redelivered, false);
    }
    const five = ds.filter((d) => d.body === "message_0005");
    assert.equal(five[0].redelivered, false);
    assert.ok(
      five.slice(1).every((d) => d.redelivered),
      "requeued deliveries must carry redelivered=True",
    );
    assert.match(c.stdout, /_run_changed: \(b'message_0001',\) \{\}/);
    const s = await settledQueue("vote_comment_q");
    assert.equal(s.messages, 1, "only the rejected message_0005 may remain");
    const [left] = await admin(["get", "vote_comment_q"]);
    assert.equal(left.body, "message_0005");
    assert.equal(left.redelivered, true);
  },
);

test(
  "reddit wrapper: handle_items() basic_get batches acked with basic_ack(0, multiple=True)",
  {
    timeout: 30000,
  },
  async () => {
    await admin(["purge", "newcomments_q"]);
    const bodies = [1, 2, 3, 4, 5, 6].map((i) => `item${i}-${RUN_ID}`);
    await runPyOk(reddit, [
      "publish",
      ...bodies.flatMap((b, i) => [i === 2 ? "link_text_edited" : "new_link", b]),
    ]);
    await waitQueue("newcomments_q", (s) => s.messages === 6, "6 messages");
    const r = await runPyOk(reddit, ["handle", "newcomments_q", "3"]);
    assert.match(r.stdout, new RegExp(`DRIVER: batch ${bodies.slice(0, 3).join(" ")}\n`));
    assert.match(r.stdout, new RegExp(`DRIVER: batch ${bodies.slice(3).join(" ")}\n`));
    assert.match(r.stdout, /DRIVER: drained/);
    const counts = [...r.stdout.matchAll(/'message_count=(\d+)'/g)].map((m) => Number(m[1]));
    assert.deepEqual(counts, [5, 4, 3, 2, 1, 0], "basic.get-ok message_count");
    await sleep(500); // the driver exits without closing; unacked messages would be requeued now
    const s = await queueState("newcomments_q");
    assert.equal(s.messages, 0, "basic_ack(0, multiple=True) must ack every outstanding basic.get");
  },
);

test(
  "reddit wrapper: the TypeScript port declares what the Python wrapper declares, and they exchange items both ways",
  {
    timeout: 30000,
  },
  async () => {
    await admin(["purge", "vote_comment_q", "newcomments_q"]);
    // The seed's declare_queues(), with @warren/client's reddit namespace.
    const queues = new redditTs.Queues({
      vote_comment_q: new redditTs.MessageQueue({ bindToSelf: true }),
      newcomments_q: new redditTs.MessageQueue(),
    });
    queues.get("vote_comment_q").bind("vote_comment_q_test");
    queues.get("newcomments_q").bind("new_link", "link_text_edited");
    const amqp = new redditTs.Amqp({ url: brokerUrl(), queues, log: () => {} });
    try {
      // The Python wrapper declared them in the first reddit test: different flags would be
      // 406 PRECONDITION_FAILED here.
      await amqp.getChannel();

      // TypeScript addItem() -> Python handle_items().
      const fromTs = [1, 2, 3].map((i) => `ts${i}-${RUN_ID}`);
      for (const b of fromTs) amqp.addItem("new_link", b);
      await amqp.join();
      const r = await runPyOk(reddit, ["handle", "newcomments_q", "3"]);
      assert.match(r.stdout, new RegExp(`DRIVER: batch ${fromTs.join(" ")}\n`));

      // Python add_item() -> TypeScript handleItems().
      const fromPy = [1, 2, 3, 4].map((i) => `py${i}-${RUN_ID}`);
      await runPyOk(reddit, ["publish", ...fromPy.flatMap((b) => ["vote_comment_q_test", b])]);
      await waitQueue("vote_comment_q", (s) => s.messages === 4, "4 messages");
      const batches = [];
      const modes = [];
      await amqp.handleItems(
        "vote_comment_q",
        (items) => {
          batches.push(items.map((m) => m.body.toString()));
          modes.push(...items.map((m) => m.properties.deliveryMode));
        },
        { limit: 3, drain: true },
      );
      assert.deepEqual(batches, [fromPy.slice(0, 3), fromPy.slice(3)]);
      // The seed's _add_item() accepts delivery_mode but never sets it: its messages are transient.
      assert.deepEqual(modes, [undefined, undefined, undefined, undefined]);
    } finally {
      await amqp.close();
    }
    const s = await settledQueue("vote_comment_q");
    assert.equal(s.messages, 0, "handleItems acked every batch");
  },
);

// ---------------------------------------------------------------------------------------
// Seed 002: kombu (Hub example, Producer / pools / Consumer samples)

test(
  "kombu Hub example: async event loop consumer gets and acks the producer's message",
  {
    timeout: 30000,
  },
  async () => {
    await admin(["delete-queue", "asynt_queue"]);
    await admin(["delete-exchange", "asynt_exchange"]);
    const h = startPy("kombu/driver_hub_example.py");
    await h.waitFor((s) => /received: .*hello world/.test(s), "the message through the Hub loop");
    assert.match(h.stdout, /message sent/);
    await sleep(300);
    await h.stop();
    const s = await settledQueue("asynt_queue");
    assert.deepEqual([s.exists, s.messages], [true, 0], "message.ack() was not honoured");
  },
);

const kombuAddr = { fromPorts: [5672], fromHosts: ["192.168.230.107"] };

test(
  "kombu: _transport_func() publishes to 'test-12' and the Consumer sample drains it",
  {
    timeout: 30000,
  },
  async (t) => {
    if (skipWithoutProvisioning(t)) return;
    await admin(["delete-queue", "test-12"]);
    await admin(["delete-exchange", "test-12"]);
    const data = { seed: RUN_ID, n: 12 };
    await runPyOk(
      "kombu/driver_transport_func.py",
      ["direct", "test-12", JSON.stringify(data)],
      sampleEnv(kombuAddr),
    );
    await waitQueue("test-12", (s) => s.messages === 1, "the message");
    const r = await runPyOk("kombu/consumer.py", [], sampleEnv(kombuAddr));
    // the sample publishes json.dumps(data) with the json serializer; the consumer prints the decoded str
    assert.equal(r.stdout.trim(), `The body is {"seed": "${RUN_ID}", "n": 12}`);
    assert.equal((await settledQueue("test-12")).messages, 0, "message.ack() was not honoured");
  },
);

test(
  "kombu: _transport_func_use_pool() publishes JSON through connection and producer pools",
  {
    timeout: 30000,
  },
  async (t) => {
    if (skipWithoutProvisioning(t)) return;
    const q = `seeds-pool-${RUN_ID}`;
    const data = { seed: RUN_ID, via: "pools" };
    try {
      await runPyOk(
        "kombu/driver_transport_func.py",
        ["pool", q, JSON.stringify(data)],
        sampleEnv(kombuAddr),
      );
      await waitQueue(q, (s) => s.messages === 1, "the message");
      const [m] = await admin(["get", q]);
      assert.deepEqual(JSON.parse(m.body), data);
      assert.equal(m.content_type, "application/json");
      assert.equal(m.exchange, "test-11");
      assert.equal(m.routing_key, q);
      assert.equal(m.delivery_mode, 2);
    } finally {
      await admin(["delete-queue", q]);
    }
  },
);

// ---------------------------------------------------------------------------------------
// Seed 004: oslo.messaging's kombu usage and Connection.autoretry

test(
  "kombu oslo fragment: AMQPLAIN, confirm_publish, queue_arguments, consume, autoretry",
  {
    timeout: 30000,
  },
  async () => {
    const q = `seeds-oslo-${RUN_ID}`;
    try {
      const r = await runPyOk("kombu/driver_oslo_connection.py", [q]);
      assert.match(
        r.stdout,
        /DRIVER: consumer got '\{"method": "ping", "args": \{"n": 1\}\}' redelivered=False/,
      );
      assert.match(r.stdout, /DRIVER: autoretry returned 'published'/);
      assert.match(r.stdout, /DRIVER: current channel set/);
      assert.match(r.stdout, /DRIVER: login mechanism AMQPLAIN/);
      assert.match(r.stdout, /DRIVER: confirm_publish True/);
      assert.match(r.stdout, /DRIVER: done/);
      assert.equal((await queueState(q)).messages, 0);
    } finally {
      await admin(["delete-queue", q]);
      await admin(["delete-exchange", `${q}-exchange`]);
    }
  },
);

test(
  "kombu autoretry copy: a publish whose socket breaks is retried on a revived channel",
  {
    timeout: 30000,
  },
  async () => {
    const q = `seeds-autoretry-${RUN_ID}`;
    try {
      const r = await runPyOk("kombu/driver_autoretry.py", [q]);
      assert.match(r.stdout, /DRIVER: errback /);
      assert.match(r.stdout, /DRIVER: revived with channel/);
      assert.match(r.stdout, /published on call 2; returned channel is the revived one: True/);
      assert.match(r.stdout, /DRIVER: read back \{'hello': 'autoretry'\}/);
    } finally {
      await admin(["delete-queue", q]);
    }
  },
);

// ---------------------------------------------------------------------------------------
// Seed 003: py-amqp internals

test(
  "py-amqp read_frame excerpt reads connection.start with the capabilities clients rely on",
  {
    timeout: 30000,
  },
  async () => {
    const r = await runPyOk("pyamqp/driver_read_frame.py");
    const f = JSON.parse(r.stdout);
    assert.deepEqual([f.frame_type, f.channel, f.class_id, f.method_id], [1, 0, 10, 10]);
    assert.deepEqual(f.version, [0, 9]);
    assert.ok(f.mechanisms.includes("PLAIN"), `mechanisms ${f.mechanisms}`);
    assert.ok(
      f.mechanisms.includes("AMQPLAIN"),
      `mechanisms ${f.mechanisms} (kombu/oslo log in with AMQPLAIN)`,
    );
    const caps = f.server_properties.capabilities ?? {};
    // pika's confirm_delivery() needs publisher_confirms and basic.nack; py-amqp/oslo negotiate the rest
    for (const c of [
      "publisher_confirms",
      "basic.nack",
      "consumer_cancel_notify",
      "connection.blocked",
      "authentication_failure_close",
    ]) {
      assert.equal(caps[c], true, `capability ${c}`);
    }
  },
);

test(
  "py-amqp channel flow from the notes: declare, bind, consume, delivery_info",
  {
    timeout: 30000,
  },
  async () => {
    const q = `seeds-flow-${RUN_ID}`;
    try {
      const r = await runPyOk("pyamqp/driver_channel_flow.py", [q]);
      const o = JSON.parse(r.stdout);
      assert.deepEqual(o.declare_ok, [q, 0, 0]);
      assert.deepEqual(o.after_publish, [q, 2, 0]);
      assert.ok(o.consumer_tag.length > 0, "server-generated consumer tag");
      assert.deepEqual(
        o.deliveries.map((d) => [d.body, d.content_type, d.headers]),
        [
          ["m1", "text/plain", null],
          ["m2", null, { k: "v" }],
        ],
      );
      for (const [i, d] of o.deliveries.entries()) {
        assert.deepEqual(d.delivery_info, {
          consumer_tag: o.consumer_tag,
          delivery_tag: i + 1,
          redelivered: false,
          exchange: `${q}-exchange`,
          routing_key: "rk",
        });
      }
      assert.deepEqual(o.while_consuming, [q, 0, 1], "unacked messages are not counted; one consumer");
      assert.equal(o.queue_delete, 0);
      assert.match(
        o.exchange_after_queue_delete,
        /^404/,
        "auto-delete exchange must go with its last binding",
      );
    } finally {
      await admin(["delete-queue", q]);
    }
  },
);
