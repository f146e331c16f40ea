// `warren server --config FILE`: a real Warren process configured by a rabbitmq.conf-syntax file,
// checked from outside with a real client (amqplib) and the management API: listeners, the
// default user, vhost and tags, a connection limit, precedence of flags over environment over
// file, start refusals that name the key and line, and the JSON log lines of a connection.
//
// With CONFIG_TEST_RABBITMQ=1 the same file (less Warren's own keys) also boots a RabbitMQ
// 3.10.8 node (rabbitmq-server, as root) and the same checks run against it: the file means
// the same to both. That takes ~25 s more and is off by default.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import amqplib from "amqplib";
import { CLI, freePort, logRecords, waitForPort } from "./lib/broker.mjs";
import { sleep, waitFor, withTimeout } from "./node/helpers.mjs";

const SKIP = process.env.INTEROP_TARGET_URL ? "starts its own Warren processes" : false;
const dir = mkdtempSync(join(tmpdir(), "warren-config-test-"));
chmodSync(dir, 0o755); // RabbitMQ (user rabbitmq) reads the config file from here
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** Writes a config file; returns its path. */
function conf(lines) {
  const path = join(dir, `${files++}.conf`);
  writeFileSync(path, `${lines.join("\n")}\n`, { mode: 0o644 });
  return path;
}

/** The environment without WARREN_* variables of the test run (they would override the file). */
function cleanEnv(extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("WARREN_")));
  return { ...env, ...extra };
}

/** Starts `warren server` with exactly these arguments; its output is collected. */
function server(args, env = {}) {
  const proc = spawn(process.execPath, [CLI, "server", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: cleanEnv(env),
  });
  let out = "";
  let err = "";
  proc.stdout.on("data", (d) => (out += d));
  proc.stderr.on("data", (d) => (err += d));
  const exited = new Promise((resolve) => proc.once("exit", (code) => resolve(code)));
  return {
    proc,
    out: () => out,
    err: () => err,
    records: () => logRecords(out),
    exited,
    /** Resolves with the start banner's record once it is logged. */
    async started() {
      const banner = () => logRecords(out).find((r) => r.msg.startsWith("Warren ") && r.listeners);
      await Promise.race([
        waitFor(banner, 15_000, "the start banner"),
        exited.then((code) => assert.fail(`exited with ${code} before starting:\n${out}${err}`)),
      ]);
      return banner();
    },
    async stop() {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      return withTimeout(exited, 10_000, "warren server to stop");
    },
  };
}

const url = (port) => `amqp://cfg-admin:cfg-secret@127.0.0.1:${port}/cfg-vhost`;
const basic = (user, pass) => ({
  authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`,
});

/**
 * The checks a configured broker must pass, Warren or RabbitMQ: the default user logs in to
 * the default vhost and round-trips a message, guest is gone, and the management API knows the
 * user's tags. Resolves with the local port of the connection it opened, and a second
 * connection, still open.
 */
async function checkConfigured(amqpPort, managementPort) {
  const guest = amqplib.connect(`amqp://guest:guest@127.0.0.1:${amqpPort}/cfg-vhost`).then(
    () => assert.fail("guest logged in"),
    (e) => e,
  );
  const c1 = await amqplib.connect(url(amqpPort));
  const ch = await c1.createChannel();
  const { queue } = await ch.assertQueue("", { exclusive: true });
  ch.sendToQueue(queue, Buffer.from("configured"));
  await waitFor(async () => (await ch.get(queue, { noAck: true }))?.content.toString() === "configured");
  const r = await fetch(`http://127.0.0.1:${managementPort}/api/whoami`, {
    headers: basic("cfg-admin", "cfg-secret"),
  });
  assert.equal(r.status, 200);
  const me = await r.json();
  assert.equal(me.name, "cfg-admin");
  assert.deepEqual([...me.tags].sort(), ["administrator", "monitoring"]);
  assert.match(String(await guest), /ACCESS_REFUSED|403|refused|closed/i, "guest is not created");
  const localPort = c1.connection.stream.localPort;
  await c1.close();
  return { localPort, second: await amqplib.connect(url(amqpPort)) };
}

/** The config of the main test: RabbitMQ's keys only, so that RabbitMQ can read it too. */
function sharedConf(amqpPort, managementPort) {
  return [
    "# The config both Warren and RabbitMQ 3.10.8 start with",
    `listeners.tcp.default = 127.0.0.1:${amqpPort}`,
    `management.tcp.port = ${managementPort}`,
    "management.tcp.ip = 127.0.0.1",
    "default_user = cfg-admin",
    "default_pass = cfg-secret # a comment ends the value",
    "default_vhost = cfg-vhost",
    "default_user_tags.administrator = true",
    "default_user_tags.monitoring = true",
    "connection_max = 2",
    "disk_free_limit.absolute = 1MB",
    "vm_memory_high_watermark.relative = 0.6",
    "log.default.level = info",
  ];
}

describe("warren server --config", { skip: SKIP }, () => {
  test("a config file sets the listeners, the default user, vhost and tags, limits; connections are logged as JSON", async () => {
    const [amqpPort, managementPort] = [await freePort(), await freePort()];
    const file = conf([
      ...sharedConf(amqpPort, managementPort),
      "prometheus.tcp.port = 0",
      `warren.data_dir = ${dir}/data1`,
    ]);
    const w = server(["--config", file]);
    try {
      const banner = await w.started();
      assert.deepEqual(banner.listeners, { amqp: amqpPort, management: managementPort });
      assert.equal(banner.data_dir, `${dir}/data1`);
      assert.equal(banner.level, "info");
      assert.match(banner.version, /^\d+\.\d+\.\d+/);
      const { localPort, second } = await checkConfigured(amqpPort, managementPort);
      // connection_max = 2: a third connection is refused at connection.open (RabbitMQ 3.10.8
      // enforces it only roughly, in its TCP acceptors; see docs/configuration.md).
      const third = await amqplib.connect(url(amqpPort));
      await assert.rejects(amqplib.connect(url(amqpPort)), /got <ConnectionClose/, "connection_max = 2");
      await Promise.all([second.close(), third.close()]);

      // One connection's life in JSON lines: accepted, opened, closed by the client.
      const peer = `127.0.0.1:${localPort}`;
      const name = `${peer} -> 127.0.0.1:${amqpPort}`;
      const mine = () => w.records().filter((r) => r.connection === name);
      await waitFor(() => mine().length === 3, 5000, "three log lines of the connection");
      const [accepted, opened, closed] = mine();
      assert.equal(accepted.msg, `accepting AMQP connection (${name})`);
      assert.deepEqual([accepted.level, accepted.peer], ["info", peer]);
      assert.deepEqual(
        { level: opened.level, peer: opened.peer, user: opened.user, vhost: opened.vhost },
        { level: "info", peer, user: "cfg-admin", vhost: "cfg-vhost" },
      );
      assert.match(opened.msg, /user 'cfg-admin' authenticated and granted access to vhost 'cfg-vhost'$/);
      assert.deepEqual(
        { level: closed.level, user: closed.user, vhost: closed.vhost, reply_code: closed.reply_code },
        { level: "info", user: "cfg-admin", vhost: "cfg-vhost", reply_code: 200 },
      );
      assert.match(closed.reason, /^client closed the connection/);
      assert.match(
        closed.msg,
        /^closing AMQP connection \(.*, vhost: 'cfg-vhost', user: 'cfg-admin'\): client closed/,
      );
      for (const r of w.records()) assert.match(r.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      // The refused third connection: a connection error raised by the broker.
      // Its closing line may be written after the client has seen the refusal.
      await waitFor(() => w.records().some((r) => r.reply_code === 530), 5000, "the refusal's log line");
      const refused = w.records().find((r) => r.reply_code === 530);
      assert.equal(refused?.level, "error");
      assert.match(refused.reason, /node connection limit \(2\) is reached/);
    } finally {
      assert.equal(await w.stop(), 0);
    }
  });

  test("precedence: a flag beats the environment, which beats the file", async () => {
    const [fromFile, fromEnv, fromFlag] = [await freePort(), await freePort(), await freePort()];
    const file = conf([
      `listeners.tcp.default = ${fromFile}`,
      "management.tcp.port = 0",
      "prometheus.tcp.port = 0",
      "default_vhost = from-file",
      `warren.data_dir = ${dir}/data2`,
    ]);
    const env = { WARREN_PORT: String(fromEnv), WARREN_DEFAULT_VHOST: "" };
    const all = server(["--config", file, "--port", String(fromFlag)], env);
    try {
      assert.equal((await all.started()).listeners.amqp, fromFlag);
    } finally {
      await all.stop();
    }
    const noFlag = server([], { ...env, WARREN_CONFIG: file, WARREN_DATA_DIR: `${dir}/data3` });
    try {
      assert.equal((await noFlag.started()).listeners.amqp, fromEnv);
      // The rest of the file still applies: its default vhost (an empty variable is unset).
      const c = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${fromEnv}/from-file`);
      await c.close();
    } finally {
      await noFlag.stop();
    }
  });

  test("an unknown key or a bad value stops the start, naming the key and the line", async () => {
    const cases = [
      [
        conf(["# ok so far", "listeners.tcp.default = 5672", "log.level = debug"]),
        /line 3: unknown key 'log.level'/,
      ],
      [conf(["", "management.tcp.port = 15672x"]), /line 2: management.tcp.port: expected a port/],
      [conf(["disk_free_limit.absolute = lots"]), /line 1: disk_free_limit.absolute: invalid size "lots"/],
    ];
    for (const [file, message] of cases) {
      const w = server(["--config", file, "--data-dir", `${dir}/never`]);
      assert.equal(await withTimeout(w.exited, 10_000, "the refusal"), 2, w.err());
      assert.match(w.err(), message);
      assert.match(w.err(), new RegExp(file.replace(/[.]/g, "\\.")));
      assert.equal(w.records().length, 0, "nothing started, nothing logged");
    }
    const bad = server([], { WARREN_MAX_CONNECTIONS: "many" });
    assert.equal(await bad.exited, 2);
    assert.match(
      bad.err(),
      /WARREN_MAX_CONNECTIONS: expected a number of connections or infinity, got "many"/,
    );
  });

  test(
    "RabbitMQ 3.10.8 reads the same file the same way",
    {
      skip: process.env.CONFIG_TEST_RABBITMQ !== "1" && "set CONFIG_TEST_RABBITMQ=1 (boots rabbitmq-server)",
    },
    async () => {
      const [amqpPort, managementPort] = [await freePort(), await freePort()];
      const rabbit = await startRabbit(
        conf([...sharedConf(amqpPort, managementPort), `prometheus.tcp.port = ${await freePort()}`]),
      );
      try {
        await waitForPort(amqpPort, 60_000);
        await (await checkConfigured(amqpPort, managementPort)).second.close();
      } finally {
        await rabbit.stop();
      }
      const refused = await startRabbit(conf(["log.level = debug"]));
      assert.match(
        await refused.failure(),
        /You've tried to set log.level, but there is no setting with that name/,
      );
    },
  );
});

/** Boots a RabbitMQ node of its own (name, ports, directories) with this config file. */
async function startRabbit(file) {
  const base = mkdtempSync(join(tmpdir(), "warren-config-rmq-"));
  const node = `warren-cfg-${process.pid}-${files}@localhost`;
  writeFileSync(join(base, "enabled_plugins"), "[rabbitmq_management,rabbitmq_prometheus].");
  spawnSync("chown", ["-R", "rabbitmq", base]);
  const env = {
    ...cleanEnv(),
    RABBITMQ_NODENAME: node,
    RABBITMQ_CONFIG_FILE: file,
    RABBITMQ_MNESIA_BASE: join(base, "mnesia"),
    RABBITMQ_LOG_BASE: join(base, "log"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(base, "enabled_plugins"),
    RABBITMQ_DIST_PORT: String(await freePort()),
    HOME: base,
  };
  const proc = spawn("rabbitmq-server", [], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  proc.stdout.on("data", (d) => (out += d));
  proc.stderr.on("data", (d) => (out += d));
  const exited = new Promise((resolve) => proc.once("exit", resolve));
  return {
    /** The boot's output once it has failed (it must). */
    async failure() {
      await withTimeout(exited, 60_000, "RabbitMQ to refuse the config");
      rmSync(base, { recursive: true, force: true });
      return out;
    },
    async stop() {
      spawnSync("rabbitmqctl", ["-n", node, "stop"], { env, timeout: 30_000 });
      await Promise.race([exited, sleep(20_000)]);
      rmSync(base, { recursive: true, force: true });
    },
  };
}
