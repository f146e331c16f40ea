// In-process tests of the management API's rules (auth, vhost visibility, paging, request
// bodies, binding keys, counters) with fastify's inject: no sockets for HTTP, milliseconds
// each. The real-tool tests (rabbitmqadmin, Prometheus parser) are in
// interop/management.test.mjs.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Broker, BrokerAdmin, lineLogger } from "@warren/broker";
import { connect } from "@warren/client";
import type { FastifyInstance } from "fastify";
import type { ApiContext } from "./api-context.js";
import { buildManagementApp } from "./management-server.js";
import { renderMetrics } from "./prometheus.js";

let broker: Broker;
let app: FastifyInstance;
let ctx: ApiContext;
let amqpPort: number;

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
const GUEST = basic("guest", "guest");

/** One request as guest (or as auth); the status and the parsed body (undefined when empty). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
async function call(method: string, url: string, body?: unknown, auth = GUEST): Promise<[number, any]> {
  const r = await app.inject({
    method: method as "GET",
    url,
    headers: { authorization: auth, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { payload: typeof body === "string" ? body : JSON.stringify(body) } : {}),
    remoteAddress: "127.0.0.1",
  });
  return [r.statusCode, r.body === "" ? undefined : JSON.parse(r.body)];
}

before(async () => {
  broker = new Broker({ port: 0, log: lineLogger(() => {}) });
  amqpPort = await broker.start();
  ({ app, ctx } = buildManagementApp(broker));
  await app.ready();
});

after(async () => {
  await app.close();
  await broker.stop();
});

test("auth: no credentials, a wrong password, no management tag, not an administrator", async () => {
  const none = await app.inject({ method: "GET", url: "/api/overview", remoteAddress: "127.0.0.1" });
  assert.equal(none.statusCode, 401);
  assert.equal(none.headers["www-authenticate"], 'Basic realm="RabbitMQ Management"');
  assert.deepEqual(await call("GET", "/api/overview", undefined, basic("guest", "nope")), [
    401,
    { error: "not_authorized", reason: "Login failed" },
  ]);
  broker.putUser("plain", { password: "pw", tags: [] });
  assert.deepEqual(await call("GET", "/api/overview", undefined, basic("plain", "pw")), [
    401,
    { error: "not_authorised", reason: "Not management user" },
  ]);
  broker.putUser("mon", { password: "pw", tags: ["monitoring"] });
  assert.equal((await call("GET", "/api/overview", undefined, basic("mon", "pw")))[0], 200);
  assert.deepEqual(await call("PUT", "/api/vhosts/v1", {}, basic("mon", "pw")), [
    401,
    { error: "not_authorised", reason: "Not administrator user" },
  ]);
  // guest logs in from loopback only, over HTTP as over AMQP.
  const remote = await app.inject({
    method: "GET",
    url: "/api/overview",
    headers: { authorization: GUEST },
    remoteAddress: "10.1.2.3",
  });
  assert.equal(remote.statusCode, 401);
  broker.deleteUser("plain");
  broker.deleteUser("mon");
});

test("a management user sees only the vhosts it has permissions in", async () => {
  assert.equal((await call("PUT", "/api/vhosts/mine"))[0], 201);
  assert.equal((await call("PUT", "/api/vhosts/theirs"))[0], 201);
  assert.equal((await call("PUT", "/api/users/mgr", { password: "pw", tags: "management" }))[0], 201);
  assert.equal(
    (await call("PUT", "/api/permissions/mine/mgr", { configure: ".*", write: ".*", read: ".*" }))[0],
    201,
  );
  const mgr = basic("mgr", "pw");
  const [, vhosts] = await call("GET", "/api/vhosts?columns=name", undefined, mgr);
  assert.deepEqual(vhosts, [{ name: "mine" }]);
  assert.deepEqual(await call("GET", "/api/queues/theirs", undefined, mgr), [
    401,
    { error: "not_authorised", reason: "User not authorised to access virtual host" },
  ]);
  assert.equal((await call("GET", "/api/queues/mine", undefined, mgr))[0], 200);
  assert.equal((await call("DELETE", "/api/users/mgr"))[0], 204);
  assert.equal((await call("DELETE", "/api/vhosts/mine"))[0], 204);
  assert.equal((await call("DELETE", "/api/vhosts/theirs"))[0], 204);
  assert.equal((await call("DELETE", "/api/vhosts/theirs"))[0], 404);
});

test("request bodies: booleans as strings, bad booleans, bad JSON, an empty body", async () => {
  assert.deepEqual(await call("PUT", "/api/queues/%2F/b1", { durable: "true", auto_delete: "false" }), [
    201,
    undefined,
  ]);
  const [, q] = await call("GET", "/api/queues/%2F/b1");
  assert.equal(q.durable, true);
  assert.deepEqual(await call("PUT", "/api/queues/%2F/b2", { durable: "maybe" }), [
    400,
    { error: "bad_request", reason: ["not_boolean", "maybe"] },
  ]);
  assert.deepEqual(await call("PUT", "/api/queues/%2F/b2", "{nope"), [
    400,
    { error: "bad_request", reason: "not_json" },
  ]);
  // No body at all: the API's defaults (durable false).
  assert.equal((await call("PUT", "/api/queues/%2F/b3"))[0], 201);
  assert.equal((await call("GET", "/api/queues/%2F/b3"))[1].durable, false);
  assert.deepEqual(await call("PUT", "/api/queues/%2F/b3", { durable: true }), [
    400,
    {
      error: "bad_request",
      reason:
        "inequivalent arg 'durable' for queue 'b3' in vhost '/': received 'true' but current is 'false'",
    },
  ]);
  await call("DELETE", "/api/queues/%2F/b1");
  await call("DELETE", "/api/queues/%2F/b3");
});

test("bindings: properties keys, '~' for an empty key, Location of a new binding", async () => {
  await call("PUT", "/api/exchanges/%2F/bx", { type: "direct" });
  await call("PUT", "/api/queues/%2F/bq");
  const made = await app.inject({
    method: "POST",
    url: "/api/bindings/%2F/e/bx/q/bq",
    headers: { authorization: GUEST, "content-type": "application/json" },
    payload: JSON.stringify({ routing_key: "" }),
    remoteAddress: "127.0.0.1",
  });
  assert.equal(made.statusCode, 201);
  assert.equal(made.headers.location, "bindings/%2F/e/bx/q/bq/~");
  await call("POST", "/api/bindings/%2F/e/bx/q/bq", { routing_key: "k" });
  const [, list] = await call("GET", "/api/bindings/%2F/e/bx/q/bq?columns=routing_key,properties_key");
  assert.deepEqual(list, [
    { routing_key: "", properties_key: "~" },
    { routing_key: "k", properties_key: "k" },
  ]);
  assert.equal((await call("DELETE", "/api/bindings/%2F/e/bx/q/bq/~"))[0], 204);
  assert.equal((await call("DELETE", "/api/bindings/%2F/e/bx/q/bq/~"))[0], 404);
  assert.deepEqual(await call("POST", "/api/bindings/%2F/e/nox/q/bq", {}), [
    404,
    { error: "not_found", reason: "no exchange 'nox' in vhost '/'" },
  ]);
  await call("DELETE", "/api/exchanges/%2F/bx");
  await call("DELETE", "/api/queues/%2F/bq");
});

test("lists: paging, name filters, regex, columns, sort", async () => {
  for (let i = 0; i < 5; i++) await call("PUT", `/api/queues/%2F/page-${i}`);
  const [, p] = await call("GET", "/api/queues/%2F?page=2&page_size=2&name=page-&columns=name");
  assert.deepEqual(p, {
    filtered_count: 5,
    item_count: 2,
    items: [{ name: "page-2" }, { name: "page-3" }],
    page: 2,
    page_count: 3,
    page_size: 2,
    total_count: 5,
  });
  const [, re] = await call("GET", "/api/queues?page=1&name=%5EPAGE-%5B34%5D%24&use_regex=true&columns=name");
  assert.deepEqual(re.items, [{ name: "page-3" }, { name: "page-4" }]);
  const [, caseless] = await call("GET", "/api/queues?page=1&name=PAGE-1&columns=name");
  assert.deepEqual(caseless.items, [{ name: "page-1" }]);
  const [, sorted] = await call("GET", "/api/queues/%2F?columns=name&sort=name&sort_reverse=true");
  assert.deepEqual(sorted.slice(0, 2), [{ name: "page-4" }, { name: "page-3" }]);
  assert.deepEqual(await call("GET", "/api/queues?page=9"), [
    400,
    { error: "page_out_of_range", reason: "Page out of range, page: 9 page size: 100, len: 5" },
  ]);
  for (let i = 0; i < 5; i++) await call("DELETE", `/api/queues/%2F/page-${i}`);
});

test("counters: AMQP traffic shows in overview, queues, channels and /metrics", async () => {
  const conn = await connect(`amqp://guest:guest@127.0.0.1:${amqpPort}`);
  const ch = await conn.createChannel();
  await ch.queueDeclare("counted");
  const [, before] = await call("GET", "/api/overview");
  ctx.rates.sample(); // the queue exists: its rates start from here
  for (let i = 0; i < 3; i++) ch.publish("", "counted", `m${i}`);
  let acked = 0;
  await new Promise<void>((resolve) => {
    void ch.basicConsume("counted", (msg) => {
      msg.ack();
      if (++acked === 3) resolve();
    });
  });
  await new Promise((r) => setTimeout(r, 50)); // the acks reach the broker
  ctx.rates.sample();
  const [, after] = await call("GET", "/api/overview");
  assert.ok(after.message_stats.publish_details.rate > 0, "overview publish rate");
  assert.equal(after.message_stats.publish - before.message_stats.publish, 3);
  assert.equal(after.message_stats.deliver_get - before.message_stats.deliver_get, 3);
  assert.equal(after.message_stats.ack - before.message_stats.ack, 3);
  assert.equal(after.object_totals.connections, 1);
  const [, q] = await call("GET", "/api/queues/%2F/counted");
  assert.deepEqual(
    [q.message_stats.publish, q.message_stats.deliver_get, q.message_stats.ack, q.consumers],
    [3, 3, 3, 1],
  );
  assert.equal(q.consumer_details.length, 1);
  assert.ok(q.message_stats.publish_details.rate > 0, "queue publish rate");
  assert.ok(q.message_stats.ack_details.rate > 0, "queue ack rate");
  const [, channels] = await call("GET", "/api/channels");
  assert.equal(channels.length, 1);
  assert.equal(channels[0].message_stats.publish, 3);
  assert.equal(channels[0].consumer_count, 1);
  assert.ok(channels[0].message_stats.publish_details.rate > 0, "channel publish rate");
  assert.ok(channels[0].message_stats.ack_details.rate > 0, "channel ack rate");
  const [, connections] = await call("GET", "/api/connections");
  assert.ok(connections[0].recv_oct_details.rate > 0, "connection receive rate");
  assert.ok(connections[0].send_oct_details.rate > 0, "connection send rate");
  const [, consumers] = await call("GET", "/api/consumers/%2F");
  assert.equal(consumers[0].queue.name, "counted");
  const text = await renderMetrics(new BrokerAdmin(broker), "warren@test", undefined);
  assert.match(text, /^rabbitmq_consumers 1$/m);
  assert.match(text, /^rabbitmq_global_messages_received_total\{protocol="amqp091"\} \d+$/m);
  await conn.close();
  await call("DELETE", "/api/queues/%2F/counted");
});

test("health checks: ok without alarms, 503 for a missing listener", async () => {
  assert.deepEqual(await call("GET", "/api/health/checks/alarms"), [200, { status: "ok" }]);
  assert.deepEqual(await call("GET", "/api/health/checks/local-alarms"), [200, { status: "ok" }]);
  assert.deepEqual(await call("GET", `/api/health/checks/port-listener/${amqpPort}`), [
    200,
    { status: "ok", port: amqpPort },
  ]);
  assert.deepEqual(await call("GET", "/api/health/checks/protocol-listener/amqp"), [
    200,
    { status: "ok", protocol: "amqp" },
  ]);
  const [status, body] = await call("GET", "/api/health/checks/protocol-listener/mqtt");
  assert.equal(status, 503);
  assert.equal(body.reason, "No active listener");
});

test("users, vhosts, permissions and policies made through the API survive a restart", async () => {
  const dir = mkdtempSync(join(tmpdir(), "warren-mgmt-persist-"));
  try {
    const first = new Broker({ port: 0, dataDir: dir, log: lineLogger(() => {}) });
    await first.start();
    const api = buildManagementApp(first).app;
    const put = (url: string, body: unknown) =>
      api.inject({
        method: "PUT",
        url,
        headers: { authorization: GUEST, "content-type": "application/json" },
        payload: JSON.stringify(body),
        remoteAddress: "127.0.0.1",
      });
    assert.equal((await put("/api/vhosts/kept", {})).statusCode, 201);
    assert.equal((await put("/api/users/keeper", { password: "pw", tags: "monitoring" })).statusCode, 201);
    assert.equal(
      (await put("/api/permissions/kept/keeper", { configure: "", write: ".*", read: ".*" })).statusCode,
      201,
    );
    assert.equal((await put("/api/queues/kept/kq", { durable: true })).statusCode, 201);
    const policy = { pattern: "^kq$", definition: { "max-length": 3 }, priority: 2, "apply-to": "queues" };
    assert.equal((await put("/api/policies/kept/cap", policy)).statusCode, 201);
    assert.equal(
      (await put("/api/operator-policies/kept/op", { ...policy, definition: { "max-length": 1 } }))
        .statusCode,
      201,
    );
    await api.close();
    await first.stop();

    const second = new Broker({ port: 0, dataDir: dir, log: lineLogger(() => {}) });
    await second.start();
    const admin = new BrokerAdmin(second);
    assert.ok(admin.listVhosts().includes("kept"));
    assert.deepEqual(admin.listUsers().find((u) => u.name === "keeper")?.tags, ["monitoring"]);
    assert.deepEqual(
      admin.listPermissions().find((p) => p.user === "keeper"),
      { user: "keeper", vhost: "kept", configure: "", write: ".*", read: ".*" },
    );
    assert.equal(admin.queueInfo("kept", "kq")?.durable, true);
    assert.deepEqual(admin.listPolicies("kept"), [
      {
        vhost: "kept",
        name: "cap",
        pattern: "^kq$",
        applyTo: "queues",
        definition: { "max-length": 3 },
        priority: 2,
      },
    ]);
    assert.deepEqual(
      admin.listPolicies("kept", true).map((p) => p.name),
      ["op"],
    );
    // Applied again at boot: the recovered queue has both.
    const kq = admin.queueInfo("kept", "kq");
    assert.deepEqual(
      [kq?.policy, kq?.operatorPolicy, kq?.effectivePolicyDefinition],
      ["cap", "op", { "max-length": 1 }],
    );
    assert.ok(second.login("keeper", "pw", "10.0.0.1"), "the password works after the restart");
    await second.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
