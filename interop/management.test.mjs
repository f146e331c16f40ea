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
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import amqplib from "amqplib";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { adminClient, eventually, skipWithoutAdmin as skip, startManagedBroker } from "./lib/management.mjs";

const RUN = `mgmt-${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;

/** @type {Awaited<ReturnType<typeof startManagedBroker>>["broker"]} */
let broker;
let http; // management API base URL
let metrics; // Prometheus base URL
let workDir;
/** rabbitmqadmin against the API under test (see lib/management.mjs). */
let admin, adminAs, ok, json;

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), "warren-mgmt-"));
  ({ broker, http, metrics } = await startManagedBroker());
  ({ run: admin, as: adminAs, ok, json } = adminClient(http));
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
    admin?.("delete", kind, `name=${name}`);
  }
  await broker?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

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

/** The families of one scrape of path, by name. */
async function scrape(path) {
  const r = await fetch(`${metrics}${path}`);
  assert.equal(r.status, 200, path);
  assert.match(r.headers.get("content-type") ?? "", /^text\/plain/);
  return new Map(parsePrometheusTextFormat(await r.text()).map((f) => [f.name, f]));
}

/** The samples of a family whose labels include all of labels. */
const samples = (families, name, labels = {}) =>
  (families.get(name)?.metrics ?? []).filter((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  );

test("prometheus: /metrics/per-object and /metrics/detailed label queues, channels, connections", async (t) => {
  if (!metrics) return t.skip("no PROMETHEUS_TARGET_URL");
  const q = `${RUN}-pq`;
  const x = `${RUN}-px`;
  const conn = await amqplib.connect(broker.url);
  try {
    const ch = await conn.createChannel();
    await ch.assertExchange(x, "topic", { durable: false });
    await ch.assertQueue(q, { durable: false });
    await ch.bindQueue(q, x, "#");
    for (let i = 0; i < 2; i++) ch.publish(x, "k", Buffer.from("abc"));
    const ch2 = await conn.createChannel();
    await ch2.assertQueue(`${RUN}-pq-idle`, { durable: false, exclusive: true });
    await ch2.consume(`${RUN}-pq-idle`, () => {});
    const mine = { vhost: "/", queue: q };
    // RabbitMQ updates queue metrics every 5 s (collect_statistics_interval).
    const perObject = await eventually(async () => {
      const f = await scrape("/metrics/per-object");
      return Number(samples(f, "rabbitmq_queue_messages_ready", mine)[0]?.value) === 2 ? f : undefined;
    }, "per-object ready count");
    assert.equal(Number(samples(perObject, "rabbitmq_queue_messages", mine)[0].value), 2);
    assert.equal(perObject.get("rabbitmq_queue_messages_ready").type, "GAUGE");
    // Channels and connections carry a "channel" label (RabbitMQ: a pid; Warren: the name).
    for (const name of ["rabbitmq_channel_consumers", "rabbitmq_connection_incoming_bytes_total"]) {
      const s = samples(perObject, name);
      assert.ok(s.length >= 1, name);
      assert.ok(
        s.every((m) => typeof m.labels.channel === "string" && m.labels.channel !== ""),
        name,
      );
    }
    assert.ok(samples(perObject, "rabbitmq_channel_consumers").some((m) => Number(m.value) === 1));

    const detailed = await scrape("/metrics/detailed?family=queue_coarse_metrics&vhost=%2F");
    assert.equal(Number(samples(detailed, "rabbitmq_detailed_queue_messages_ready", mine)[0].value), 2);
    assert.equal(
      detailed.has("rabbitmq_queue_messages_ready"),
      false,
      "detailed has only rabbitmq_detailed_*",
    );
    assert.equal(
      detailed.has("rabbitmq_detailed_connection_incoming_bytes_total"),
      false,
      "family not asked for",
    );
    assert.ok(detailed.has("rabbitmq_identity_info"));

    const elsewhere = await scrape(`/metrics/detailed?family=queue_coarse_metrics&vhost=${RUN}-nosuch`);
    assert.equal(
      samples(elsewhere, "rabbitmq_detailed_queue_messages_ready", mine).length,
      0,
      "vhost filter",
    );

    const names = await scrape("/metrics/detailed?family=exchange_names&family=connection_churn_metrics");
    assert.deepEqual(
      samples(names, "rabbitmq_cluster_exchange_name", { vhost: "/", exchange: x }).map((m) => m.labels.type),
      ["topic"],
    );
    assert.equal(
      samples(names, "rabbitmq_cluster_exchange_name", { exchange: "" }).length,
      0,
      "no default exchange",
    );
    assert.ok(Number(samples(names, "rabbitmq_detailed_connections_opened_total")[0].value) >= 1);
  } finally {
    await conn.close().catch(() => {});
    admin("delete", "queue", `name=${q}`);
    admin("delete", "exchange", `name=${x}`);
  }
});

/** One API request as user:pass; [status, parsed body or undefined]. */
async function request(method, path, body, user = "guest", pass = "guest") {
  const r = await fetch(`${http.origin}${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`,
      "content-type": "application/json",
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  return [r.status, text === "" ? undefined : JSON.parse(text)];
}

test("a management user's operations are checked against its configure, write and read patterns", async () => {
  const u = `${RUN}-pu`;
  const mine = `${RUN}-pu-q`; // matches the user's patterns
  const other = `${RUN}-other`;
  const pattern = `^${RUN}-pu-.*`;
  const as = (method, path, body) => request(method, path, body, u, "p");
  const get = { count: 1, ackmode: "ack_requeue_true", encoding: "auto" };
  try {
    assert.equal((await request("PUT", `/api/users/${u}`, { password: "p", tags: "management" }))[0], 201);
    const perms = { configure: pattern, write: pattern, read: pattern };
    assert.equal((await request("PUT", `/api/permissions/%2F/${u}`, perms))[0], 201);
    assert.equal((await request("PUT", `/api/queues/%2F/${other}`, {}))[0], 201);
    const refused = [401, { error: "not_authorised", reason: "Access refused." }];
    assert.deepEqual(await as("PUT", `/api/queues/%2F/${RUN}-nope`, {}), refused);
    assert.deepEqual(await as("DELETE", `/api/queues/%2F/${other}`), refused);
    assert.deepEqual(await as("DELETE", `/api/queues/%2F/${other}/contents`), refused);
    assert.deepEqual(await as("PUT", `/api/exchanges/%2F/${RUN}-nopex`, { type: "direct" }), refused);
    assert.deepEqual(await as("POST", `/api/queues/%2F/${other}/get`, get), [
      401,
      {
        error: "not_authorised",
        reason: `ACCESS_REFUSED - access to queue '${other}' in vhost '/' refused for user '${u}'`,
      },
    ]);
    const publish = { routing_key: other, payload: "x", payload_encoding: "string", properties: {} };
    assert.deepEqual(await as("POST", "/api/exchanges/%2F/amq.default/publish", publish), [
      400,
      {
        error: "bad_request",
        reason: `403 ACCESS_REFUSED - access to exchange 'amq.default' in vhost '/' refused for user '${u}'`,
      },
    ]);
    assert.equal((await as("PUT", `/api/queues/%2F/${mine}`, {}))[0], 201);
    // Binding needs read on the source exchange too: amq.direct does not match the pattern.
    assert.deepEqual(
      await as("POST", `/api/bindings/%2F/e/amq.direct/q/${mine}`, { routing_key: "k" }),
      refused,
    );
    assert.deepEqual(await as("POST", `/api/queues/%2F/${mine}/get`, get), [200, []]);
    assert.equal((await as("DELETE", `/api/queues/%2F/${mine}/contents`))[0], 204);
    assert.equal((await as("DELETE", `/api/queues/%2F/${mine}`))[0], 204);
  } finally {
    await request("DELETE", `/api/queues/%2F/${other}`);
    await request("DELETE", `/api/queues/%2F/${mine}`);
    await request("DELETE", `/api/users/${u}`);
  }
});

test("get with reject_requeue_false dead-letters the message", async () => {
  const q = `${RUN}-rq`;
  const dlq = `${RUN}-rdlq`;
  try {
    assert.equal((await request("PUT", `/api/queues/%2F/${dlq}`, {}))[0], 201);
    const args = { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq };
    assert.equal((await request("PUT", `/api/queues/%2F/${q}`, { arguments: args }))[0], 201);
    const publish = { routing_key: q, payload: "bye", payload_encoding: "string", properties: {} };
    assert.deepEqual(await request("POST", "/api/exchanges/%2F/amq.default/publish", publish), [
      200,
      { routed: true },
    ]);
    const [status, got] = await request("POST", `/api/queues/%2F/${q}/get`, {
      count: 1,
      ackmode: "reject_requeue_false",
      encoding: "auto",
    });
    assert.equal(status, 200);
    assert.equal(got[0].payload, "bye");
    const [, dead] = await request("POST", `/api/queues/%2F/${dlq}/get`, {
      count: 1,
      ackmode: "ack_requeue_false",
      encoding: "auto",
    });
    assert.equal(dead.length, 1, "the rejected message reached the dead-letter queue");
    assert.equal(dead[0].payload, "bye");
    assert.equal(dead[0].properties.headers["x-death"][0].reason, "rejected");
  } finally {
    await request("DELETE", `/api/queues/%2F/${q}`);
    await request("DELETE", `/api/queues/%2F/${dlq}`);
  }
});

test("vhost and user limits: set, list, enforce, export, clear", async () => {
  const vh = `${RUN}-lv`;
  const u = `${RUN}-lu`;
  try {
    assert.equal((await request("PUT", `/api/vhosts/${vh}`))[0], 201);
    // Its creator gets full permissions in a new vhost.
    assert.deepEqual((await request("GET", `/api/vhosts/${vh}/permissions`))[1], [
      { vhost: vh, user: "guest", configure: ".*", write: ".*", read: ".*" },
    ]);
    assert.equal((await request("PUT", `/api/vhost-limits/${vh}/max-queues`, { value: 3 }))[0], 204);
    assert.equal((await request("PUT", `/api/vhost-limits/${vh}/max-connections`, { value: 2 }))[0], 204);
    const bad = (reason) => [400, { error: "bad_request", reason }];
    assert.deepEqual(
      await request("PUT", `/api/vhost-limits/${vh}/max-foo`, { value: 2 }),
      bad('Validation failed\n\nUnrecognised terms [{<<"max-foo">>,2}] in limits\n'),
    );
    assert.deepEqual(
      await request("PUT", `/api/vhost-limits/${vh}/max-queues`, { value: "x" }),
      bad('Validation failed\n\nmax-queues should be a number, actually was <<"x">>\n'),
    );
    assert.deepEqual(
      await request("PUT", `/api/vhost-limits/${vh}/max-queues`, {}),
      bad("[{key_missing,value}]"),
    );
    const [, limits] = await request("GET", `/api/vhost-limits/${vh}`);
    assert.deepEqual(limits, [{ vhost: vh, value: { "max-connections": 2, "max-queues": 3 } }]);
    const [, all] = await request("GET", "/api/vhost-limits");
    assert.ok(all.some((l) => l.vhost === vh));
    const [, defs] = await request("GET", "/api/definitions");
    const param = defs.parameters.find((p) => p.vhost === vh && p.component === "vhost-limits");
    assert.deepEqual(param.value, { "max-connections": 2, "max-queues": 3 });

    assert.equal((await request("PUT", `/api/vhost-limits/${vh}/max-queues`, { value: 0 }))[0], 204);
    assert.deepEqual(
      await request("PUT", `/api/queues/${vh}/q`, {}),
      bad(`cannot declare queue 'q': queue limit in vhost '${vh}' (0) is reached`),
    );
    assert.equal((await request("DELETE", `/api/vhost-limits/${vh}/max-queues`))[0], 204);
    assert.deepEqual((await request("GET", `/api/vhost-limits/${vh}`))[1], [
      { vhost: vh, value: { "max-connections": 2 } },
    ]);
    assert.equal((await request("PUT", `/api/queues/${vh}/q`, {}))[0], 201);

    assert.equal((await request("PUT", `/api/users/${u}`, { password: "p", tags: "" }))[0], 201);
    assert.equal((await request("PUT", `/api/user-limits/${u}/max-channels`, { value: 3 }))[0], 204);
    assert.deepEqual((await request("GET", `/api/user-limits/${u}`))[1], [
      { user: u, value: { "max-channels": 3 } },
    ]);
    assert.equal((await request("GET", `/api/user-limits/${RUN}-nosuch`))[0], 404);
    assert.equal((await request("DELETE", `/api/user-limits/${u}/max-channels`))[0], 204);
    assert.deepEqual((await request("GET", `/api/user-limits/${u}`))[1], []);
  } finally {
    await request("DELETE", `/api/vhosts/${vh}`);
    await request("DELETE", `/api/users/${u}`);
  }
});

test("a monitoring user sees every vhost and connection but only the queues of its vhosts", async () => {
  const vh = `${RUN}-mv`;
  const u = `${RUN}-mon`;
  const as = (path) => request("GET", path, undefined, u, "p");
  try {
    assert.equal((await request("PUT", `/api/vhosts/${vh}`))[0], 201);
    assert.equal((await request("PUT", `/api/queues/${vh}/mq`, {}))[0], 201);
    assert.equal((await request("PUT", `/api/users/${u}`, { password: "p", tags: "monitoring" }))[0], 201);
    const [, vhosts] = await as("/api/vhosts");
    assert.ok(
      vhosts.some((v) => v.name === vh),
      "every vhost's name",
    );
    const [, queues] = await as("/api/queues");
    assert.equal(queues.filter((q) => q.vhost === vh).length, 0, "no queues of a vhost without permissions");
    assert.deepEqual(await as(`/api/queues/${vh}`), [
      401,
      { error: "not_authorised", reason: "User not authorised to access virtual host" },
    ]);
    assert.equal((await as("/api/connections"))[0], 200);
    const perms = { configure: ".*", write: ".*", read: ".*" };
    assert.equal((await request("PUT", `/api/permissions/${vh}/${u}`, perms))[0], 201);
    const [, after] = await as(`/api/queues/${vh}`);
    assert.deepEqual(
      after.map((q) => q.name),
      ["mq"],
    );
  } finally {
    await request("DELETE", `/api/vhosts/${vh}`);
    await request("DELETE", `/api/users/${u}`);
  }
});

test("definitions import refuses unknown vhosts, unknown users and non-boolean flags as RabbitMQ", async () => {
  const bad = (reason) => [400, { error: "bad_request", reason }];
  const q = { name: `${RUN}-iq`, durable: false, auto_delete: false, arguments: {} };
  assert.deepEqual(
    await request("POST", "/api/definitions", { queues: [{ ...q, vhost: `${RUN}-novh` }] }),
    bad(["no_such_vhost", `${RUN}-novh`]),
  );
  assert.deepEqual(
    await request("POST", "/api/definitions", {
      permissions: [{ user: `${RUN}-nouser`, vhost: "/", configure: ".*", write: ".*", read: ".*" }],
    }),
    bad(["no_such_user", `${RUN}-nouser`]),
  );
  assert.deepEqual(
    await request("POST", "/api/definitions", { queues: [{ ...q, vhost: "/", durable: "maybe" }] }),
    bad("function_clause"),
  );
  // A binding whose source is missing is left out, not refused.
  const binding = {
    source: `${RUN}-nox`,
    vhost: "/",
    destination: q.name,
    destination_type: "queue",
    routing_key: "k",
    arguments: {},
  };
  assert.equal((await request("POST", "/api/definitions", { bindings: [binding] }))[0], 204);
  assert.equal((await request("GET", `/api/queues/%2F/${q.name}`))[0], 404, "nothing was imported");
  const [, vhosts] = await request("GET", "/api/vhosts");
  assert.ok(!vhosts.some((v) => v.name === `${RUN}-novh`), "no vhost was created");
});
