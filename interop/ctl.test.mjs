// `warren ctl` (packages/cli/src/commands/ctl), run as a child process the way an operator or a
// script runs it, against a real management API: a fresh Warren process by default, or
// RabbitMQ 3.10.8 with the management plugin (every expectation was first checked there):
//
//   node --test interop/ctl.test.mjs                                     (a fresh Warren process)
//   INTEROP_TARGET_URL=amqp://guest:guest@localhost:5682 \
//   MANAGEMENT_TARGET_URL=http://localhost:15672 node --test interop/ctl.test.mjs   (RabbitMQ)
//
// Table output is parsed by the header's column offsets, JSON output with JSON.parse, and the
// exit codes are the documented ones (docs/ctl.md). On a shared RabbitMQ every object is named
// ctl-<run>-... and removed afterwards.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import amqplib from "amqplib";
import { CLI, freePort } from "./lib/broker.mjs";
import { eventually, startManagedBroker } from "./lib/management.mjs";

const RUN = `ctl-${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const onRabbit = process.env.MANAGEMENT_TARGET_URL !== undefined;

/** @type {Awaited<ReturnType<typeof startManagedBroker>>["broker"]} */
let broker;
let api; // management API origin
let workDir;

/** API paths of what the cases may leave behind when they fail: removed afterwards. */
const LEFTOVERS = [
  ["queues", "/", `${RUN}-q`],
  ["queues", "/", `${RUN}-cq`],
  ["queues", "/", `${RUN}-imp`],
  ["users", `${RUN}-u`],
  ["vhosts", `${RUN}-v`],
  ["policies", "/", `${RUN}-p`],
];

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), "warren-ctl-"));
  const target = await startManagedBroker();
  broker = target.broker;
  api = target.http.origin;
});

after(async () => {
  // Straight to the API: a CLI process each would cost more than the deletes.
  const authorization = `Basic ${Buffer.from("guest:guest").toString("base64")}`;
  await Promise.all(
    LEFTOVERS.map((segments) =>
      fetch(`${api}/api/${segments.map(encodeURIComponent).join("/")}`, {
        method: "DELETE",
        headers: { authorization },
      }).catch(() => {}),
    ),
  );
  await broker?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** Runs `warren ctl --url <api> ...args`; resolves with { status, out, err }. */
function ctl(args, { input, env, url = api } = {}) {
  // Only what the test passes: an operator's WARREN_CTL_* must not leak in.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("WARREN_CTL_")));
  const p = spawn(process.execPath, [CLI, "ctl", ...(url ? ["--url", url] : []), ...args], {
    env: { ...clean, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  p.stdout.on("data", (d) => (out += d));
  p.stderr.on("data", (d) => (err += d));
  p.stdin.end(input ?? "");
  return new Promise((resolve) => p.once("close", (status) => resolve({ status, out, err })));
}

/** ctl that must exit 0; its stdout. */
async function ok(...args) {
  const r = await ctl(args);
  assert.equal(r.status, 0, `warren ctl ${args.join(" ")} exited ${r.status}: ${r.err}${r.out}`);
  return r.out;
}

/** ctl that must fail with the given exit code; stderr must match `why`. */
async function fails(code, why, ...args) {
  const r = await ctl(args);
  assert.equal(r.status, code, `warren ctl ${args.join(" ")}: ${r.err}${r.out}`);
  assert.match(r.err, why);
  return r;
}

/** A list as JSON: an array of objects keyed by the columns asked for. */
async function json(...args) {
  return JSON.parse(await ok("--format", "json", ...args));
}

/**
 * A quiet table as rows of objects, cut at the header's column offsets: values may hold spaces
 * (connection names do), header names do not.
 */
function parseTable(text) {
  const [header, ...lines] = text.split("\n").filter((l) => l !== "");
  const cols = [...header.matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index }));
  return lines.map((l) =>
    Object.fromEntries(cols.map((c, i) => [c.name, l.slice(c.at, cols[i + 1]?.at ?? l.length).trimEnd()])),
  );
}

const table = async (...args) => parseTable(await ok("-q", ...args));

// The cases touch different objects; running them side by side overlaps their waits (RabbitMQ's
// 5-s statistics lag, the 3 s before a refused AMQP login is answered).
describe("warren ctl", { concurrency: 4 }, () => {
  test("usage errors exit 64; --help exits 0", async () => {
    const help = await ctl(["--help"]);
    assert.equal(help.status, 0);
    assert.match(help.out, /list_queues \[columns\.\.\.\]/);
    assert.match(help.out, /Exit codes/);
    assert.equal((await ctl([])).status, 64);
    await fails(64, /unknown command 'lsit_queues'/, "lsit_queues");
    await fails(64, /missing required argument 'username'/, "add_user");
    await fails(64, /unknown option '--bogus'/, "list_queues", "--bogus");
    await fails(64, /unknown column "nope"/, "list_queues", "name", "nope");
    await fails(64, /definition is not JSON/, "set_policy", "p", ".*", "{max-length: 1}");
    await fails(64, /not a port/, "--port", "99999", "status");
  });

  test("unreachable port 69, refused login 77, no answer in time 75", async () => {
    const closed = await freePort();
    const r = await ctl(["list_queues"], { url: `http://127.0.0.1:${closed}` });
    assert.equal(r.status, 69, r.err);
    assert.match(r.err, /cannot reach the management API at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    await fails(77, /Login failed \(HTTP 401/, "--password", "wrong", "list_queues");
    // Credentials in the URL work, and a wrong one there is refused the same way.
    const u = new URL(api);
    u.username = "guest";
    u.password = "nope";
    assert.equal((await ctl(["list_vhosts"], { url: u.href })).status, 77);
    // A server that accepts and never answers.
    const silent = net.createServer(() => {});
    await new Promise((res) => silent.listen(0, "127.0.0.1", res));
    try {
      const t = await ctl(["-t", "0.3", "status"], { url: `http://127.0.0.1:${silent.address().port}` });
      assert.equal(t.status, 75, t.err);
      assert.match(t.err, /no answer from .* within 0\.3 s/);
    } finally {
      silent.close();
    }
  });

  test("status: table and json; --host/--port and WARREN_CTL_URL select the API", async () => {
    const text = await ok("status");
    assert.match(text, /^Status of node \S+ \.\.\.$/m);
    const s = await json("status");
    assert.match(s.rabbitmq_version, /^3\.10\./);
    assert.equal(s.product_name, onRabbit ? "RabbitMQ" : "Warren");
    assert.equal(typeof s.node, "string");
    assert.ok(s.listeners.some((l) => l.protocol === "amqp" && l.port === broker.port));
    assert.deepEqual(s.alarms, []);
    for (const k of ["connections", "channels", "queues", "exchanges", "consumers", "messages"]) {
      assert.equal(typeof s[k], "number", k);
    }
    assert.ok(s.exchanges >= 6);
    // The table says the same thing, one "Label  value" line each.
    const line = (label) => new RegExp(`^${label} +(.*)$`, "m").exec(text)?.[1];
    assert.equal(line("Node"), s.node);
    assert.equal(line("RabbitMQ API"), s.management_version);
    assert.equal(line("Alarms"), "none");
    const { hostname, port } = new URL(api);
    const viaFlags = await ctl(["--format", "json", "--host", hostname, "--port", port, "status"], {
      url: null,
    });
    assert.equal(JSON.parse(viaFlags.out).node, s.node);
    const viaEnv = await ctl(["--format", "json", "status"], { url: null, env: { WARREN_CTL_URL: api } });
    assert.equal(JSON.parse(viaEnv.out).node, s.node);
  });

  test("vhosts, users, tags, passwords and permissions", async () => {
    const v = `${RUN}-v`;
    const u = `${RUN}-u`;
    assert.match(await ok("add_vhost", v), new RegExp(`^Adding vhost "${v}" \\.\\.\\.$`, "m"));
    assert.ok((await table("list_vhosts")).some((r) => r.name === v));
    assert.deepEqual(
      (await json("list_vhosts", "name", "tracing")).find((r) => r.name === v),
      { name: v, tracing: false },
    );
    // The password from stdin, as when rabbitmqctl prompts for it.
    const added = await ctl(["-q", "add_user", u], { input: "first\n" });
    assert.equal(added.status, 0, added.err);
    assert.equal(added.out, "", "--quiet prints nothing");
    await fails(65, /already exists/, "add_user", u, "x");
    await ok("set_user_tags", u, "management", "monitoring");
    assert.deepEqual(
      (await table("list_users")).find((r) => r.user === u),
      { user: u, tags: "[management, monitoring]" },
    );
    await ok("set_permissions", "-p", v, u, "^cfg", ".*", "");
    assert.deepEqual(
      (await json("-p", v, "list_permissions")).find((p) => p.user === u),
      { user: u, configure: "^cfg", write: ".*", read: "" },
    );
    assert.deepEqual(
      (await table("list_permissions", "--vhost", v, "user", "configure")).find((p) => p.user === u),
      { user: u, configure: "^cfg" },
    );
    // The password set through stdin logs in; the changed one replaces it and the tags stay.
    const login = async (pw) => {
      const url = new URL(broker.url);
      url.username = u;
      url.password = pw;
      url.pathname = `/${encodeURIComponent(v)}`;
      const conn = await amqplib.connect(url.href);
      await conn.close();
    };
    await login("first");
    await ok("change_password", u, "second");
    await login("second");
    await assert.rejects(login("first"));
    assert.deepEqual(
      (await json("list_users")).find((r) => r.user === u),
      {
        user: u,
        tags: ["management", "monitoring"],
      },
    );
    // set_user_tags kept the password: still "second".
    await ok("set_user_tags", u, "policymaker");
    await login("second");

    await ok("clear_permissions", "-p", v, u);
    assert.ok(!(await json("list_permissions", "-p", v)).some((p) => p.user === u));
    await fails(65, /vhost_or_user_not_found/, "set_permissions", "-p", v, `${RUN}-nobody`, ".*", ".*", ".*");
    await ok("delete_user", u);
    await fails(67, new RegExp(`user "${u}" does not exist`), "delete_user", u);
    await fails(67, /does not exist/, "change_password", u, "x");
    await ok("delete_vhost", v);
    await fails(65, /does not exist/, "delete_vhost", v);
  });

  test("queues, exchanges and bindings: list, purge, delete; a missing queue is 65", async () => {
    const q = `${RUN}-q`;
    const x = `${RUN}-x`;
    const conn = await amqplib.connect(broker.url);
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue(q, { durable: false, arguments: { "x-max-length": 100 } });
      await ch.assertExchange(x, "topic", { durable: false });
      await ch.bindQueue(q, x, "a.*");
      for (const m of ["1", "2", "3"]) ch.publish(x, "a.b", Buffer.from(m));
      await ch.close();
    } finally {
      await conn.close();
    }
    const row = await eventually(
      async () =>
        (await table("list_queues", "name", "messages", "durable", "arguments")).find(
          (r) => r.name === q && r.messages === "3",
        ),
      "the queue to show 3 messages",
    );
    assert.deepEqual(row, { name: q, messages: "3", durable: "false", arguments: '{"x-max-length":100}' });
    const [mine] = (await json("list_queues", "name,messages", "consumers", "message_stats.publish")).filter(
      (r) => r.name === q,
    );
    // A dotted path reaches into the API's JSON; a value the server lacks is null.
    const { "message_stats.publish": published, ...rest } = mine;
    assert.deepEqual(rest, { name: q, messages: 3, consumers: 0 });
    assert.ok(published === null || published === 3, `message_stats.publish: ${published}`);
    // Without -q the banner comes first, then the header row.
    const lines = (await ok("list_queues")).split("\n");
    assert.equal(lines[0], "Listing queues for vhost / ...");
    assert.match(lines[1], /^name +messages$/);
    // --no-table-headers: rows only.
    assert.ok((await ok("-q", "--no-table-headers", "list_queues", "name")).split("\n").includes(q));

    assert.deepEqual(
      (await table("list_exchanges")).find((r) => r.name === x),
      { name: x, type: "topic" },
    );
    assert.deepEqual(
      (await json("list_exchanges", "name", "type", "durable")).find((r) => r.name === x),
      {
        name: x,
        type: "topic",
        durable: false,
      },
    );
    assert.deepEqual(
      (await table("list_bindings")).find((b) => b.source_name === x),
      {
        source_name: x,
        source_kind: "exchange",
        destination_name: q,
        destination_kind: "queue",
        routing_key: "a.*",
        arguments: "{}",
      },
    );
    // The default exchange's implicit binding is listed, with an empty source name.
    assert.ok(
      (await json("list_bindings", "source_name", "destination_name", "routing_key")).some(
        (b) => b.source_name === "" && b.destination_name === q && b.routing_key === q,
      ),
    );

    await fails(65, /not empty/, "delete_queue", "--if-empty", q);
    assert.match(
      await ok("purge_queue", q),
      new RegExp(`^Purging queue '${q}' in vhost '/' \\.\\.\\.$`, "m"),
    );
    await eventually(
      async () => (await json("list_queues", "name", "messages")).find((r) => r.name === q)?.messages === 0,
      "the purged queue to show 0 messages",
    );
    await ok("delete_queue", q, "-e", "-u");
    assert.ok(!(await table("list_queues")).some((r) => r.name === q));
    await fails(65, new RegExp(`queue '${q}' in vhost '/' not found`), "delete_queue", q);
    await fails(65, /not found/, "purge_queue", q);
    const c = await amqplib.connect(broker.url);
    const ch = await c.createChannel();
    await ch.deleteExchange(x);
    await c.close();
  });

  test("connections, channels and consumers; close_connection sends 320 with the reason", async () => {
    const q = `${RUN}-cq`;
    const name = `${RUN}-conn`;
    const conn = await amqplib.connect(broker.url, { clientProperties: { connection_name: name } });
    conn.on("error", () => {});
    const closed = new Promise((resolve) => conn.once("close", resolve));
    const ch = await conn.createChannel();
    await ch.assertQueue(q, { durable: false });
    await ch.prefetch(7);
    const { consumerTag } = await ch.consume(q, () => {}, { consumerTag: `${RUN}-tag` });

    const mine = await eventually(
      async () =>
        (
          await json(
            "list_connections",
            "name",
            "user",
            "state",
            "channels",
            "client_properties.connection_name",
          )
        ).find((c) => c["client_properties.connection_name"] === name && c.channels === 1),
      "the connection and its channel to be listed",
    );
    assert.equal(mine.user, "guest");
    assert.equal(mine.state, "running");
    // The table shows the same connection; its name holds spaces ("a:1 -> b:2").
    assert.ok(
      (await table("list_connections", "name", "user")).some(
        (r) => r.name === mine.name && r.user === "guest",
      ),
    );
    // The default columns: rabbitmqctl's user, peer_host, peer_port, state.
    const localPort = String(conn.connection.stream.localPort);
    const row = (await table("list_connections")).find((r) => r.peer_port === localPort);
    assert.deepEqual(
      { ...row, peer_host: typeof row?.peer_host },
      {
        user: "guest",
        peer_host: "string",
        peer_port: localPort,
        state: "running",
      },
    );
    const channel = await eventually(
      async () =>
        (
          await json(
            "list_channels",
            "name",
            "connection",
            "number",
            "user",
            "consumer_count",
            "prefetch_count",
          )
        ).find((c) => c.connection === mine.name),
      "the channel to be listed",
    );
    assert.deepEqual(channel, {
      name: `${mine.name} (1)`,
      connection: mine.name,
      number: 1,
      user: "guest",
      consumer_count: 1,
      prefetch_count: 7,
    });
    assert.ok((await table("list_channels")).some((c) => c.pid === channel.name && c.consumer_count === "1"));
    const consumers = await json("list_consumers");
    assert.deepEqual(
      consumers.find((c) => c.consumer_tag === consumerTag),
      {
        queue_name: q,
        channel_pid: channel.name,
        consumer_tag: consumerTag,
        ack_required: true,
        prefetch_count: 7,
        active: true,
        arguments: {},
      },
    );
    assert.ok(
      (await table("list_consumers", "queue_name", "consumer_tag")).some(
        (c) => c.consumer_tag === consumerTag,
      ),
    );

    await ok("close_connection", mine.name, "maintenance window");
    const err = await closed;
    assert.match(String(err?.message), /320.*CONNECTION_FORCED - maintenance window/s);
    await fails(65, /connection ".*" not found/, "close_connection", mine.name);
    await ok("delete_queue", q);
  });

  test("policies: list, set, clear", async () => {
    assert.ok(Array.isArray(await json("list_policies")));
    const empty = await ok("list_policies");
    assert.match(empty, /^vhost +name +pattern +apply-to +definition +priority$/m);
    await fails(65, /not found/, "list_policies", "-p", `${RUN}-none`);
    const p = `${RUN}-p`;
    await ok("set_policy", "--priority", "3", "--apply-to", "queues", p, `^${RUN}`, '{"max-length":5}');
    assert.deepEqual(
      (await json("list_policies")).find((r) => r.name === p),
      {
        vhost: "/",
        name: p,
        pattern: `^${RUN}`,
        "apply-to": "queues",
        definition: { "max-length": 5 },
        priority: 3,
      },
    );
    assert.deepEqual(
      (await table("list_policies", "name", "priority", "definition")).find((r) => r.name === p),
      {
        name: p,
        priority: "3",
        definition: '{"max-length":5}',
      },
    );
    await fails(65, /not recognised policy settings/, "set_policy", p, ".*", '{"no-such-key":1}');
    await ok("clear_policy", p);
    assert.ok(!(await json("list_policies")).some((r) => r.name === p));
    await fails(65, new RegExp(`policy "${p}" not found`), "clear_policy", p);
  });

  test("export_definitions to a file and to stdout; import_definitions from a file and stdin", async () => {
    const q = `${RUN}-imp`;
    const file = join(workDir, "defs.json");
    assert.match(await ok("export_definitions", file), /Exporting definitions in JSON to a file at/);
    const defs = JSON.parse(readFileSync(file, "utf8"));
    for (const key of ["users", "vhosts", "permissions", "queues", "exchanges", "bindings", "policies"]) {
      assert.ok(Array.isArray(defs[key]), key);
    }
    assert.ok(defs.users.some((u) => u.name === "guest"));

    // Only this run's queue: re-importing a shared broker's everything is not ours to do.
    const queue = {
      name: q,
      vhost: "/",
      durable: true,
      auto_delete: false,
      arguments: { "x-max-length": 10 },
    };
    const only = join(workDir, "only.json");
    writeFileSync(only, JSON.stringify({ queues: [queue] }));
    await ok("import_definitions", only);
    assert.deepEqual(
      (await json("list_queues", "name", "durable", "arguments")).find((r) => r.name === q),
      { name: q, durable: true, arguments: { "x-max-length": 10 } },
    );
    // Without a file (or with "-"), stdout: the definitions alone, without a banner.
    const exported = JSON.parse(await ok("export_definitions", "-"));
    assert.deepEqual(Object.keys(exported).sort(), Object.keys(defs).sort());
    assert.ok(exported.queues.some((i) => i.name === q));
    await ok("delete_queue", q);
    const fromStdin = await ctl(["import_definitions", "-"], { input: JSON.stringify({ queues: [queue] }) });
    assert.equal(fromStdin.status, 0, fromStdin.err);
    assert.ok((await json("list_queues", "name")).some((r) => r.name === q));
    await ok("delete_queue", q);

    const bad = await ctl(["import_definitions", "-"], { input: "{not json" });
    assert.equal(bad.status, 65);
    assert.match(bad.err, /stdin: not JSON/);
    await fails(66, /cannot read .*: ENOENT/, "import_definitions", join(workDir, "missing.json"));
    await fails(73, /cannot write .*: ENOENT/, "export_definitions", join(workDir, "no", "dir.json"));
    // The server refuses an exchange of an unknown type: 400, exit 65.
    const refused = await ctl(["import_definitions", "-"], {
      input: JSON.stringify({
        exchanges: [{ name: `${RUN}-badx`, vhost: "/", type: "no-such-type", durable: false, arguments: {} }],
      }),
    });
    assert.equal(refused.status, 65, refused.err);
    assert.match(refused.err, /HTTP 400/);
  });
});
