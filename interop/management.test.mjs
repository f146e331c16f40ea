// The management HTTP API and Prometheus endpoint, driven by the real tools: Debian's
// /usr/bin/rabbitmqadmin (the python3 script RabbitMQ ships), amqplib for connections, and
// parse-prometheus-text-format for a scrape. Each expectation was first checked against
// RabbitMQ 3.10.8 with the management and prometheus plugins:
//
//   node --test interop/management.test.mjs                      (a fresh Warren process)
//   INTEROP_TARGET_URL=amqp://guest:guest@localhost:5682 \
//   MANAGEMENT_TARGET_URL=http://localhost:15672 PROMETHEUS_TARGET_URL=http://localhost:15692 \
//     node --test interop/management.test.mjs                    (RabbitMQ)
//
// On a shared RabbitMQ every object is named mgmt-<run>-... and removed afterwards.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import amqplib from "amqplib";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { eventually, startManagementTarget } from "./lib/management.mjs";

const ADMIN = "/usr/bin/rabbitmqadmin";
const PYTHON = "/usr/bin/python3";
const RUN = `mgmt-${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const skip = existsSync(ADMIN) ? false : `${ADMIN} is missing (Debian's rabbitmq-server package installs it)`;

/** @type {Awaited<ReturnType<typeof startManagementTarget>>["broker"]} */
let broker;
let http; // management API base URL
let metrics; // Prometheus base URL
let workDir;

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), "warren-mgmt-"));
  ({ broker, http, metrics } = await startManagementTarget());
});

after(async () => {
  // Leave a shared broker as it was, whatever failed.
  for (const [kind, name] of [
    ["queue", `${RUN}-q`],
    ["queue", `${RUN}-dq`],
    ["exchange", `${RUN}-x`],
    ["user", `${RUN}-u`],
    ["user", `${RUN}-notag`],
    ["vhost", `${RUN}-v`],
  ]) {
    admin("delete", kind, `name=${name}`);
  }
  await broker?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** Runs rabbitmqadmin against the API under test; { status, out, err }. */
function admin(...args) {
  return adminAs("guest", "guest", ...args);
}

function adminAs(user, pass, ...args) {
  const r = spawnSync(
    PYTHON,
    [ADMIN, "-H", http.hostname, "-P", http.port || "80", "-u", user, "-p", pass, ...args],
    { encoding: "utf8", timeout: 30_000 },
  );
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/** rabbitmqadmin that must succeed; its stdout. */
function ok(...args) {
  const r = admin(...args);
  assert.equal(r.status, 0, `rabbitmqadmin ${args.join(" ")} failed: ${r.err}${r.out}`);
  return r.out;
}

/** A list or show as JSON (rabbitmqadmin -f raw_json). */
function json(...args) {
  return JSON.parse(ok("-f", "raw_json", ...args));
}

test("show overview: version, cluster name, object totals", { skip }, () => {
  const [o] = json("show", "overview");
  assert.equal(typeof o.rabbitmq_version, "string");
  assert.match(o.rabbitmq_version, /^3\./);
  assert.equal(typeof o.cluster_name, "string");
  assert.equal(typeof o.object_totals.queues, "number");
  // The table form prints the same columns.
  assert.match(ok("show", "overview"), /rabbitmq_version.*cluster_name/s);
});

test("declare, list and delete a queue, an exchange and a binding", { skip }, async () => {
  const q = `${RUN}-q`;
  const x = `${RUN}-x`;
  assert.match(ok("declare", "queue", `name=${q}`, "durable=false"), /queue declared/);
  assert.match(ok("declare", "exchange", `name=${x}`, "type=topic", "durable=false"), /exchange declared/);
  assert.match(
    ok("declare", "binding", `source=${x}`, `destination=${q}`, "routing_key=a.*"),
    /binding declared/,
  );
  // Declaring again with the same properties is fine (204), with others refused (400).
  ok("declare", "queue", `name=${q}`, "durable=false");
  const clash = admin("declare", "queue", `name=${q}`, "durable=true");
  assert.notEqual(clash.status, 0);
  assert.match(clash.err + clash.out, /inequivalent arg 'durable'/);

  const queues = json("list", "queues", "name", "durable", "auto_delete");
  assert.deepEqual(
    queues.find((i) => i.name === q),
    { name: q, durable: false, auto_delete: false },
  );
  const exchanges = json("list", "exchanges", "name", "type");
  assert.deepEqual(
    exchanges.find((i) => i.name === x),
    { name: x, type: "topic" },
  );
  const bindings = json("list", "bindings", "source", "destination", "routing_key");
  assert.ok(bindings.some((b) => b.source === x && b.destination === q && b.routing_key === "a.*"));
  // The default exchange's implicit binding is listed too, as RabbitMQ does.
  assert.ok(bindings.some((b) => b.source === "" && b.destination === q && b.routing_key === q));

  ok("delete", "binding", `source=${x}`, "destination_type=queue", `destination=${q}`, "properties_key=a.*");
  assert.ok(!json("list", "bindings", "source", "destination").some((b) => b.source === x));
  ok("delete", "exchange", `name=${x}`);
  ok("delete", "queue", `name=${q}`);
  assert.ok(!json("list", "queues", "name").some((i) => i.name === q));
  assert.ok(!json("list", "exchanges", "name").some((i) => i.name === x));
  // Deleting what is gone is a 404: rabbitmqadmin says "Not found".
  const gone = admin("delete", "queue", `name=${q}`);
  assert.notEqual(gone.status, 0);
  assert.match(gone.err + gone.out, /Not found/);
});

test("publish via amq.default and through an exchange, get, purge", { skip }, async () => {
  const q = `${RUN}-q`;
  const x = `${RUN}-x`;
  ok("declare", "queue", `name=${q}`, "durable=false");
  ok("declare", "exchange", `name=${x}`, "type=direct", "durable=false");
  ok("declare", "binding", `source=${x}`, `destination=${q}`, "routing_key=k");
  assert.match(ok("publish", `routing_key=${q}`, "payload=first"), /Message published$/m);
  assert.match(
    ok("publish", `exchange=${x}`, "routing_key=k", "payload=second", 'properties={"headers":{"h":1}}'),
    /Message published$/m,
  );
  assert.match(ok("publish", `exchange=${x}`, "routing_key=nowhere", "payload=lost"), /NOT routed/);

  // ack_requeue_true (rabbitmqadmin's default) leaves them in the queue, now redelivered.
  const got = json("get", `queue=${q}`, "count=5");
  assert.deepEqual(
    got.map((m) => [
      m.payload,
      m.payload_encoding,
      m.exchange,
      m.routing_key,
      m.redelivered,
      m.payload_bytes,
    ]),
    [
      ["first", "string", "", q, false, 5],
      ["second", "string", x, "k", false, 6],
    ],
  );
  assert.deepEqual(got[1].properties, { headers: { h: 1 } });
  assert.equal(got[0].message_count, 1);
  const again = json("get", `queue=${q}`, "count=1");
  assert.equal(again[0].payload, "first");
  assert.equal(again[0].redelivered, true);
  await eventually(
    () => json("list", "queues", "name", "messages").find((i) => i.name === q)?.messages === 2,
    "the queue to show 2 messages",
  );

  assert.match(ok("purge", "queue", `name=${q}`), /queue purged/);
  assert.deepEqual(json("get", `queue=${q}`, "count=5"), []);
  // A publish to a missing exchange is a 400 carrying the AMQP error.
  const missing = admin("publish", `exchange=${RUN}-none`, "routing_key=k", "payload=x");
  assert.notEqual(missing.status, 0);
  assert.match(missing.err + missing.out, /404 NOT_FOUND - no exchange/);
  ok("delete", "exchange", `name=${x}`);
  ok("delete", "queue", `name=${q}`);
});

test("vhost, user and permission: create, list, use, delete", { skip }, async () => {
  const v = `${RUN}-v`;
  const u = `${RUN}-u`;
  ok("declare", "vhost", `name=${v}`);
  ok("declare", "user", `name=${u}`, "password=s3cret", "tags=management");
  ok("declare", "permission", `vhost=${v}`, `user=${u}`, "configure=.*", "write=.*", "read=.*");
  assert.ok(json("list", "vhosts", "name").some((i) => i.name === v));
  assert.deepEqual(
    json("list", "users", "name", "tags").find((i) => i.name === u),
    { name: u, tags: ["management"] },
  );
  assert.deepEqual(
    json("list", "permissions").find((p) => p.user === u),
    { user: u, vhost: v, configure: ".*", write: ".*", read: ".*" },
  );
  // A management user sees only the vhosts it has permissions in, and may not list users.
  const seen = JSON.parse(adminAs(u, "s3cret", "-f", "raw_json", "list", "vhosts", "name").out);
  assert.deepEqual(seen, [{ name: v }]);
  const users = adminAs(u, "s3cret", "list", "users");
  assert.notEqual(users.status, 0);
  // The new user and vhost work over AMQP at once.
  const url = new URL(broker.url);
  url.username = u;
  url.password = "s3cret";
  url.pathname = `/${encodeURIComponent(v)}`;
  const conn = await amqplib.connect(url.toString());
  await conn.close();

  ok("delete", "permission", `vhost=${v}`, `user=${u}`);
  assert.ok(!json("list", "permissions").some((p) => p.user === u));
  ok("delete", "user", `name=${u}`);
  ok("delete", "vhost", `name=${v}`);
  assert.ok(!json("list", "users", "name").some((i) => i.name === u));
  assert.ok(!json("list", "vhosts", "name").some((i) => i.name === v));
});

test("auth: a wrong password and a user without a management tag get 401", { skip }, () => {
  const bad = adminAs("guest", "wrong", "list", "queues");
  assert.notEqual(bad.status, 0);
  assert.match(bad.err + bad.out, /Access refused/);
  const u = `${RUN}-notag`;
  ok("declare", "user", `name=${u}`, "password=pw", "tags=");
  const r = adminAs(u, "pw", "list", "queues");
  assert.notEqual(r.status, 0);
  assert.match(r.err + r.out, /Access refused/);
  ok("delete", "user", `name=${u}`);
});

test("export and import definitions", { skip }, () => {
  const q = `${RUN}-dq`;
  ok("declare", "queue", `name=${q}`, "durable=true", 'arguments={"x-max-length":10}');
  const file = join(workDir, "defs.json");
  assert.match(ok("export", file), /Exported definitions/);
  const defs = JSON.parse(readFileSync(file, "utf8"));
  for (const key of ["users", "vhosts", "permissions", "queues", "exchanges", "bindings"]) {
    assert.ok(Array.isArray(defs[key]), key);
  }
  const mine = defs.queues.find((i) => i.name === q);
  assert.deepEqual(mine, {
    name: q,
    vhost: "/",
    durable: true,
    auto_delete: false,
    arguments: { "x-max-length": 10 },
  });
  ok("delete", "queue", `name=${q}`);
  // Import only this run's queue: re-importing a shared broker's everything is not ours to do.
  const only = join(workDir, "only.json");
  writeFileSync(only, JSON.stringify({ queues: [mine] }));
  assert.match(ok("import", only), /Uploaded definitions/);
  assert.deepEqual(
    json("list", "queues", "name", "durable", "arguments").find((i) => i.name === q),
    { name: q, durable: true, arguments: { "x-max-length": 10 } },
  );
  ok("delete", "queue", `name=${q}`);
});

test("list connections and close one: the client sees 320 CONNECTION_FORCED", { skip }, async () => {
  const name = `${RUN}-conn`;
  const conn = await amqplib.connect(broker.url, { clientProperties: { connection_name: name } });
  const closed = new Promise((resolve) => conn.once("close", resolve));
  conn.on("error", () => {});
  await conn.createChannel();
  const mine = await eventually(
    () =>
      json("list", "connections", "name", "user", "channels", "client_properties").find(
        (c) => c.client_properties?.connection_name === name && c.channels === 1,
      ),
    "the connection and its channel to be listed",
  );
  assert.equal(mine.user, "guest");
  await eventually(
    () =>
      json("list", "channels", "name", "user").some(
        (c) => c.name === `${mine.name} (1)` && c.user === "guest",
      ),
    "the channel to be listed",
  );
  assert.match(ok("close", "connection", `name=${mine.name}`), /connection closed/);
  const err = await closed;
  assert.match(String(err?.message), /320.*CONNECTION_FORCED - Closed via management plugin/s);
});

test("aliveness test, whoami, nodes", { skip }, async () => {
  const auth = { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}` };
  const get = async (path) => {
    const r = await fetch(`${http.origin}/api${path}`, { headers: auth });
    return [r.status, await r.json()];
  };
  assert.deepEqual(await get("/aliveness-test/%2F"), [200, { status: "ok" }]);
  assert.deepEqual(await get("/whoami"), [200, { name: "guest", tags: ["administrator"] }]);
  const [status, nodes] = await get("/nodes");
  assert.equal(status, 200);
  assert.equal(nodes.length, 1);
  assert.equal(typeof nodes[0].name, "string");
  assert.deepEqual(await get("/queues/%2F/no-such-queue-anywhere"), [
    404,
    { error: "Object Not Found", reason: "Not Found" },
  ]);
  // Paging: RabbitMQ's paged shape.
  const [, page] = await get("/exchanges?page=1&page_size=2&name=amq.&columns=name");
  assert.deepEqual(Object.keys(page).sort(), [
    "filtered_count",
    "item_count",
    "items",
    "page",
    "page_count",
    "page_size",
    "total_count",
  ]);
  assert.equal(page.item_count, 2);
  assert.deepEqual(page.items[0], { name: "amq.direct" });
  await fetch(`${http.origin}/api/queues/%2F/aliveness-test`, { method: "DELETE", headers: auth });
});

test("the requests of KEDA's RabbitMQ scaler and of Celery Flower's broker view", { skip }, async () => {
  const auth = { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}` };
  const get = async (path) => {
    const r = await fetch(`${http.origin}${path}`, { headers: auth });
    assert.equal(r.status, 200, path);
    return r.json();
  };
  const q1 = `${RUN}-keda-1`;
  const q2 = `${RUN}-keda-2`;
  ok("declare", "queue", `name=${q1}`, "durable=false");
  ok("declare", "queue", `name=${q2}`, "durable=false");
  try {
    ok("publish", `routing_key=${q1}`, "payload=a");
    ok("publish", `routing_key=${q1}`, "payload=b");
    // KEDA, one queue: GET /api/queues/{vhost}/{queue}; it reads messages,
    // messages_unacknowledged and message_stats.publish_details.rate (when present).
    const one = await eventually(async () => {
      const q = await get(`/api/queues/%2F/${encodeURIComponent(q1)}`);
      return q.messages === 2 && q;
    }, "the queue to show 2 messages");
    assert.equal(one.name, q1);
    assert.equal(one.messages_unacknowledged, 0);
    if (one.message_stats) assert.equal(typeof one.message_stats.publish_details.rate, "number");
    // KEDA with useRegex: the paged shape even with pagination=false; it reads items and
    // page_count (more than one page is an error for it).
    const page = await get(
      `/api/queues/%2F?page=1&use_regex=true&pagination=false&name=${encodeURIComponent(`^${RUN}-keda-`)}&page_size=100`,
    );
    assert.equal(page.page_count, 1);
    assert.equal(page.filtered_count, 2);
    assert.deepEqual(page.items.map((q) => q.name).sort(), [q1, q2]);
    assert.equal(page.items.find((q) => q.name === q1).messages, 2);
    // Flower: GET /api/queues/{vhost} (no paging), filtered by name on its side.
    const all = await get("/api/queues/%2F");
    assert.ok(Array.isArray(all));
    const mine = all.find((q) => q.name === q1);
    assert.deepEqual([mine.messages, mine.messages_ready, mine.messages_unacknowledged], [2, 2, 0]);
  } finally {
    ok("delete", "queue", `name=${q1}`);
    ok("delete", "queue", `name=${q2}`);
  }
});

test("prometheus: /metrics parses and carries RabbitMQ's aggregated metrics", async (t) => {
  if (!metrics) return t.skip("no PROMETHEUS_TARGET_URL");
  const r = await fetch(`${metrics}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type") ?? "", /^text\/plain/);
  const families = new Map(parsePrometheusTextFormat(await r.text()).map((f) => [f.name, f]));
  const expect = {
    rabbitmq_connections: "GAUGE",
    rabbitmq_channels: "GAUGE",
    rabbitmq_consumers: "GAUGE",
    rabbitmq_queues: "GAUGE",
    rabbitmq_queue_messages_ready: "GAUGE",
    rabbitmq_queue_messages_unacked: "GAUGE",
    rabbitmq_queue_messages: "GAUGE",
    rabbitmq_global_messages_received_total: "COUNTER",
    rabbitmq_global_messages_routed_total: "COUNTER",
    rabbitmq_global_messages_delivered_total: "COUNTER",
    rabbitmq_global_messages_acknowledged_total: "COUNTER",
    rabbitmq_global_messages_confirmed_total: "COUNTER",
    rabbitmq_connections_opened_total: "COUNTER",
    rabbitmq_connections_closed_total: "COUNTER",
    rabbitmq_channel_messages_published_total: "COUNTER",
    rabbitmq_process_resident_memory_bytes: "GAUGE",
    rabbitmq_resident_memory_limit_bytes: "GAUGE",
    rabbitmq_identity_info: "UNTYPED",
  };
  for (const [name, type] of Object.entries(expect)) {
    const f = families.get(name);
    assert.ok(f, `${name} is missing`);
    assert.equal(f.type, type, name);
    assert.ok(f.metrics.length > 0, name);
    for (const m of f.metrics) assert.ok(Number.isFinite(Number(m.value)), name);
  }
  assert.equal(families.get("rabbitmq_global_messages_received_total").metrics[0].labels.protocol, "amqp091");
  assert.ok(families.get("rabbitmq_identity_info").metrics[0].labels.rabbitmq_node);
  assert.ok(Number(families.get("rabbitmq_connections_opened_total").metrics[0].value) >= 1);
});
