// Policies, driven by the real tools: Debian's /usr/bin/rabbitmqadmin and the HTTP API to set
// them, amqplib to see what they do to queues and exchanges. Each expectation was first
// checked against RabbitMQ 3.10.8:
//
//   node --test interop/policies.test.mjs                       (a fresh Warren process)
//   INTEROP_TARGET_URL=amqp://guest:guest@localhost:5682 \
//   MANAGEMENT_TARGET_URL=http://localhost:15672 node --test interop/policies.test.mjs
//
// Everything happens in a vhost of its own (pol-<run>), removed afterwards, so the policies
// here touch nothing else on a shared RabbitMQ.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import amqplib from "amqplib";
import { adminClient, eventually, skipWithoutAdmin as skip, startManagedBroker } from "./lib/management.mjs";
import { drainQueue, sleep } from "./node/helpers.mjs";

const RUN = `pol-${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const VH = encodeURIComponent(RUN);
const GUEST = `Basic ${Buffer.from("guest:guest").toString("base64")}`;

let broker;
let http;
let admin; // rabbitmqadmin -V <our vhost>
let conn;

before(async () => {
  if (skip) return;
  ({ broker, http } = await startManagedBroker());
  admin = adminClient(http, RUN);
  adminClient(http).ok("declare", "vhost", `name=${RUN}`);
  admin.ok("declare", "permission", `vhost=${RUN}`, "user=guest", "configure=.*", "write=.*", "read=.*");
  const url = new URL(broker.url);
  url.pathname = `/${VH}`;
  conn = await amqplib.connect(url.toString());
});

after(async () => {
  await conn?.close().catch(() => {});
  if (http) {
    adminClient(http).run("delete", "vhost", `name=${RUN}`);
    for (const u of ["mgmt", "maker"]) adminClient(http).run("delete", "user", `name=${RUN}-${u}`);
  }
  await broker?.stop();
});

/** An HTTP call to the API under test; { status, body }. */
async function api(method, path, body, auth = GUEST) {
  const r = await fetch(`${http.origin}/api${path}`, {
    method,
    headers: { authorization: auth, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

const putPolicy = (name, pattern, definition, extra = {}) =>
  api("PUT", `/policies/${VH}/${name}`, { pattern, definition, ...extra });
const clearPolicy = (name) => api("DELETE", `/policies/${VH}/${name}`);

/** RabbitMQ applies a policy to its queues asynchronously, a few ms after the PUT. */
const settle = () => sleep(300);

/** A confirm channel; publish(q, body) resolves "ack" or "nack". */
async function confirmChannel() {
  const ch = await conn.createConfirmChannel();
  const publish = (exchange, key, body, opts = {}) =>
    new Promise((resolve) =>
      ch.publish(exchange, key, Buffer.from(body), opts, (err) => resolve(err ? "nack" : "ack")),
    );
  return { ch, publish };
}

/** Bodies of every message in q, taken with no-ack. */
const bodiesOf = async (ch, q) => (await drainQueue(ch, q)).map((m) => m.content.toString());

/** A fanout exchange x with queue q bound to it (a dead-letter or alternate exchange). */
async function fanoutTo(ch, x, q) {
  await ch.assertExchange(x, "fanout", { durable: false });
  await ch.assertQueue(q, { durable: false });
  await ch.bindQueue(q, x, "");
}

/** The queue as /api/queues/{vh}/{q} shows it, once its policy fields say what is expected. */
const queueShows = (q, policy) =>
  eventually(async () => {
    const { status, body } = await api("GET", `/queues/${VH}/${encodeURIComponent(q)}`);
    return status === 200 && "policy" in body && body.policy === policy && body;
  }, `queue ${q} to show policy ${policy}`);

test(
  "rabbitmqadmin declares, lists and deletes policies; the API's status codes and refusals",
  { skip },
  async () => {
    assert.match(
      admin.ok(
        "declare",
        "policy",
        "name=listed",
        "pattern=^listed\\.",
        'definition={"max-length":2,"message-ttl":5000}',
        "priority=3",
        "apply-to=queues",
      ),
      /policy declared/,
    );
    const expected = {
      vhost: RUN,
      name: "listed",
      pattern: "^listed\\.",
      "apply-to": "queues",
      definition: { "max-length": 2, "message-ttl": 5000 },
      priority: 3,
    };
    assert.deepEqual(
      admin.json("list", "policies").find((p) => p.name === "listed"),
      expected,
    );
    assert.deepEqual(await api("GET", `/policies/${VH}/listed`), { status: 200, body: expected });
    assert.ok((await api("GET", "/policies")).body.some((p) => p.vhost === RUN && p.name === "listed"));
    // The same PUT again replaces it: 204; a new one is 201 (apply-to defaults to all).
    assert.equal(
      (await putPolicy("listed", expected.pattern, expected.definition, { priority: 3 })).status,
      204,
    );
    assert.equal((await putPolicy("fresh", "^fresh$", { "max-length": 1 })).status, 201);
    assert.equal((await api("GET", `/policies/${VH}/fresh`)).body["apply-to"], "all");

    // Refusals, in RabbitMQ's words (its policy texts come HTML-escaped).
    const unknown = admin.run("declare", "policy", "name=bad", "pattern=^x", 'definition={"foo":1,"bar":2}');
    assert.notEqual(unknown.status, 0);
    assert.match(
      unknown.err + unknown.out,
      /Validation failed[\s\S]*\[\{&lt;&lt;"bar"&gt;&gt;,2\},\{&lt;&lt;"foo"&gt;&gt;,1\}\] are not recognised policy settings/,
    );
    const regex = admin.run("declare", "policy", "name=bad", "pattern=(", 'definition={"max-length":1}');
    assert.notEqual(regex.status, 0);
    assert.match(
      regex.err + regex.out,
      /pattern should be regular expression but is invalid: \{"missing \)",1\}/,
    );
    assert.deepEqual(await putPolicy("bad", "^x", { "max-length": -1 }), {
      status: 400,
      body: { error: "bad_request", reason: "Validation failed\n\n-1 is not a valid maximum length\n" },
    });
    assert.deepEqual(await putPolicy("bad", "^x", { overflow: "x" }), {
      status: 400,
      body: {
        error: "bad_request",
        reason: 'Validation failed\n\n&lt;&lt;"x"&gt;&gt; is not a valid overflow value\n',
      },
    });
    assert.deepEqual(await putPolicy("bad", "^x", { "max-length": 1 }, { "apply-to": "classic_queues" }), {
      status: 400,
      body: {
        error: "bad_request",
        reason:
          "Validation failed\n\napply-to 'classic_queues' unrecognised; should be 'queues', 'exchanges' or 'all'\n",
      },
    });
    assert.deepEqual(await api("PUT", `/policies/${VH}/bad`, { pattern: "^x" }), {
      status: 400,
      body: { error: "bad_request", reason: "[{key_missing,definition}]" },
    });
    assert.equal((await api("GET", `/policies/${VH}/bad`)).status, 404);

    assert.match(admin.ok("delete", "policy", "name=listed"), /policy deleted/);
    assert.equal((await clearPolicy("fresh")).status, 204);
    const gone = admin.run("delete", "policy", "name=listed");
    assert.notEqual(gone.status, 0);
    assert.match(gone.err + gone.out, /Not found/);
    assert.deepEqual(await api("GET", `/policies/${VH}/listed`), {
      status: 404,
      body: { error: "Object Not Found", reason: "Not Found" },
    });
  },
);

test(
  "max-length policy set on a live queue drops the head now; reject-publish nacks; clearing it stops it",
  { skip },
  async () => {
    const { ch, publish } = await confirmChannel();
    await ch.assertQueue("ml-live", { durable: false });
    for (let i = 0; i < 5; i++) await publish("", "ml-live", `m${i}`);
    assert.equal((await putPolicy("ml", "^ml-", { "max-length": 2 }, { "apply-to": "queues" })).status, 201);
    await settle();
    assert.equal((await ch.checkQueue("ml-live")).messageCount, 2);
    const shown = await queueShows("ml-live", "ml");
    assert.deepEqual(shown.effective_policy_definition, { "max-length": 2 });

    // Replaced with reject-publish: a publish to the full queue is nacked.
    assert.equal(
      (await putPolicy("ml", "^ml-", { "max-length": 2, overflow: "reject-publish" })).status,
      204,
    );
    await settle();
    assert.equal(await publish("", "ml-live", "refused"), "nack");
    assert.deepEqual(await bodiesOf(ch, "ml-live"), ["m3", "m4"]);

    assert.equal((await clearPolicy("ml")).status, 204);
    await settle();
    for (let i = 0; i < 4; i++) assert.equal(await publish("", "ml-live", `n${i}`), "ack");
    assert.equal((await ch.checkQueue("ml-live")).messageCount, 4);
    const cleared = await queueShows("ml-live", null);
    assert.deepEqual(cleared.effective_policy_definition, {});
    await ch.close();
  },
);

test(
  "message-ttl and dead-letter-exchange policies: expired and rejected messages go to the DLX",
  { skip },
  async () => {
    const { ch, publish } = await confirmChannel();
    await fanoutTo(ch, "dlx", "dlq");
    await fanoutTo(ch, "dlx2", "dlq2");
    await putPolicy(
      "ttl",
      "^ttl-",
      { "message-ttl": 200, "dead-letter-exchange": "dlx" },
      { "apply-to": "queues" },
    );
    await ch.assertQueue("ttl-q", { durable: false });
    // The queue's own dead-letter exchange wins over the policy's.
    await ch.assertQueue("ttl-arg", { durable: false, arguments: { "x-dead-letter-exchange": "dlx2" } });
    await publish("", "ttl-q", "expired");
    await publish("", "ttl-arg", "expired-arg");
    await sleep(600);
    assert.equal((await ch.checkQueue("ttl-q")).messageCount, 0);
    const dead = await ch.get("dlq", { noAck: true });
    assert.equal(dead.content.toString(), "expired");
    const death = dead.properties.headers["x-death"][0];
    assert.deepEqual([death.reason, death.queue], ["expired", "ttl-q"]);
    assert.deepEqual(await bodiesOf(ch, "dlq2"), ["expired-arg"]);

    // Rejected without requeue: dead-lettered by the policy too.
    await publish("", "ttl-q", "rejected");
    const m = await ch.get("ttl-q", { noAck: false });
    ch.nack(m, false, false);
    const rejected = await eventually(() => ch.get("dlq", { noAck: true }), "the rejected message in dlq");
    assert.equal(rejected.content.toString(), "rejected");
    assert.equal(rejected.properties.headers["x-death"][0].reason, "rejected");
    await clearPolicy("ttl");
    await ch.close();
  },
);

test(
  "alternate-exchange policy catches unroutable messages; an exchange's own argument wins",
  { skip },
  async () => {
    const ch = await conn.createChannel();
    await fanoutTo(ch, "ae", "ae-q");
    await fanoutTo(ch, "ae2", "ae2-q");
    await ch.assertExchange("src-1", "direct", { durable: false });
    await ch.assertExchange("src-2", "direct", { durable: false, alternateExchange: "ae2" });
    await putPolicy("ae", "^src-", { "alternate-exchange": "ae" }, { "apply-to": "exchanges" });
    await settle();
    ch.publish("src-1", "nowhere", Buffer.from("one"));
    ch.publish("src-2", "nowhere", Buffer.from("two"));
    await eventually(
      async () => (await ch.checkQueue("ae2-q")).messageCount === 1,
      "ae2-q to get its message",
    );
    assert.deepEqual(await bodiesOf(ch, "ae-q"), ["one"]);
    assert.deepEqual(await bodiesOf(ch, "ae2-q"), ["two"]);
    const { body } = await api("GET", `/exchanges/${VH}/src-1`);
    assert.equal(body.policy, "ae");

    await clearPolicy("ae");
    await settle();
    ch.publish("src-1", "nowhere", Buffer.from("lost"));
    await sleep(200);
    assert.equal((await ch.checkQueue("ae-q")).messageCount, 0);
    assert.equal("policy" in (await api("GET", `/exchanges/${VH}/src-1`)).body, false);
    await ch.close();
  },
);

test(
  "the highest priority wins; arguments keep the lower limit and their own overflow",
  { skip },
  async () => {
    const { ch, publish } = await confirmChannel();
    await putPolicy(
      "lo",
      "^prio-",
      { "max-length": 3, overflow: "reject-publish" },
      { "apply-to": "queues" },
    );
    await putPolicy("hi", "^prio-hi", { "max-length": 1 }, { "apply-to": "queues", priority: 5 });
    await putPolicy(
      "x-only",
      "^prio-",
      { "alternate-exchange": "nowhere" },
      { "apply-to": "exchanges", priority: 9 },
    );
    await settle();
    const sent = async (q, n) => {
      const out = [];
      for (let i = 0; i < n; i++) out.push(await publish("", q, `${q}-${i}`));
      return out;
    };
    await ch.assertQueue("prio-lo", { durable: false });
    await ch.assertQueue("prio-hi", { durable: false });
    await ch.assertQueue("prio-arg", { durable: false, arguments: { "x-max-length": 5 } });
    await ch.assertQueue("prio-ovf", { durable: false, arguments: { "x-overflow": "drop-head" } });
    assert.deepEqual(await sent("prio-lo", 4), ["ack", "ack", "ack", "nack"]);
    assert.deepEqual(await sent("prio-hi", 2), ["ack", "ack"]); // drop-head: hi sets no overflow
    assert.deepEqual(await sent("prio-arg", 4), ["ack", "ack", "ack", "nack"]); // min(5, 3)
    assert.deepEqual(await sent("prio-ovf", 4), ["ack", "ack", "ack", "ack"]);
    assert.deepEqual(await bodiesOf(ch, "prio-hi"), ["prio-hi-1"]);
    assert.deepEqual(await bodiesOf(ch, "prio-ovf"), ["prio-ovf-1", "prio-ovf-2", "prio-ovf-3"]);
    assert.equal((await queueShows("prio-hi", "hi")).policy, "hi");
    assert.equal((await queueShows("prio-lo", "lo")).policy, "lo");
    // Lowering hi below lo hands prio-hi to lo.
    await putPolicy("hi", "^prio-hi", { "max-length": 1 }, { "apply-to": "queues", priority: -1 });
    await queueShows("prio-hi", "lo");
    for (const p of ["lo", "hi", "x-only"]) await clearPolicy(p);
    await ch.close();
  },
);

test(
  "quorum queues: a delivery-limit policy; a key quorum queues lack keeps a policy off them",
  { skip },
  async () => {
    const { ch, publish } = await confirmChannel();
    await fanoutTo(ch, "qdlx", "qdlq");
    await putPolicy(
      "limit",
      "^qq-",
      { "delivery-limit": 1, "dead-letter-exchange": "qdlx" },
      { priority: 1 },
    );
    await putPolicy("lazy", "^qq-", { "queue-mode": "lazy", "max-length": 1 }, { priority: 9 });
    await ch.assertQueue("qq-poison", { durable: true, arguments: { "x-queue-type": "quorum" } });
    await settle();
    assert.equal(await publish("", "qq-poison", "poison"), "ack");
    // Get and requeue it until it turns up in the dead-letter queue.
    let deliveries = 0;
    const dead = await eventually(async () => {
      const m = await ch.get("qq-poison", { noAck: false });
      if (!m) return ch.get("qdlq", { noAck: true });
      deliveries++;
      ch.nack(m, false, true);
      return false;
    }, "the poison message in the dead-letter queue");
    assert.equal(deliveries, 2);
    assert.equal(dead.properties.headers["x-death"][0].reason, "delivery_limit");
    const shown = await queueShows("qq-poison", "limit");
    assert.deepEqual(shown.effective_policy_definition, {
      "dead-letter-exchange": "qdlx",
      "delivery-limit": 1,
    });
    await ch.deleteQueue("qq-poison");
    for (const p of ["limit", "lazy"]) await clearPolicy(p);
    await ch.close();
  },
);

test("a policymaker manages policies in its vhost; a management user only lists them", { skip }, async () => {
  const root = adminClient(http);
  for (const [u, tag] of [
    ["mgmt", "management"],
    ["maker", "policymaker"],
  ]) {
    root.ok("declare", "user", `name=${RUN}-${u}`, "password=pw", `tags=${tag}`);
    admin.ok(
      "declare",
      "permission",
      `vhost=${RUN}`,
      `user=${RUN}-${u}`,
      "configure=.*",
      "write=.*",
      "read=.*",
    );
  }
  const as = (u) => `Basic ${Buffer.from(`${RUN}-${u}:pw`).toString("base64")}`;
  const body = { pattern: "^auth$", definition: { "max-length": 1 } };
  const refused = {
    status: 401,
    body: { error: "not_authorised", reason: "User not authorised to access object" },
  };
  assert.deepEqual(await api("PUT", `/policies/${VH}/by-mgmt`, body, as("mgmt")), refused);
  assert.equal((await api("PUT", `/policies/${VH}/by-maker`, body, as("maker"))).status, 201);
  const listed = await api("GET", `/policies/${VH}`, undefined, as("mgmt"));
  assert.equal(listed.status, 200);
  assert.ok(listed.body.some((p) => p.name === "by-maker"));
  assert.ok(!listed.body.some((p) => p.name === "by-mgmt"));
  assert.deepEqual(await api("GET", `/policies/${VH}/by-maker`, undefined, as("mgmt")), refused);
  assert.deepEqual(await api("DELETE", `/policies/${VH}/by-maker`, undefined, as("mgmt")), refused);
  assert.equal((await api("DELETE", `/policies/${VH}/by-maker`, undefined, as("maker"))).status, 204);
  // Operator policies are for administrators.
  assert.deepEqual(await api("PUT", `/operator-policies/${VH}/op`, body, as("maker")), {
    status: 401,
    body: { error: "not_authorised", reason: "Not administrator user" },
  });
});

test(
  "definitions: the export carries policies and operator policies, an import creates them",
  { skip },
  async () => {
    await putPolicy("exported", "^exp$", { "max-length": 4 }, { "apply-to": "queues", priority: 2 });
    assert.equal(
      (
        await api("PUT", `/operator-policies/${VH}/op-exported`, {
          pattern: "^exp$",
          definition: { "max-length": 2 },
        })
      ).status,
      201,
    );
    const { body: defs } = await api("GET", `/definitions/${VH}`);
    assert.deepEqual(
      defs.policies.find((p) => p.name === "exported"),
      {
        vhost: RUN,
        name: "exported",
        pattern: "^exp$",
        "apply-to": "queues",
        definition: { "max-length": 4 },
        priority: 2,
      },
    );
    assert.deepEqual(
      defs.parameters.find((p) => p.name === "op-exported"),
      {
        vhost: RUN,
        component: "operator_policy",
        name: "op-exported",
        value: { pattern: "^exp$", definition: { "max-length": 2 }, priority: 0, "apply-to": "all" },
      },
    );
    await clearPolicy("exported");
    await api("DELETE", `/operator-policies/${VH}/op-exported`);
    const imported = {
      vhost: RUN,
      name: "imported",
      pattern: "^imp$",
      "apply-to": "all",
      definition: { expires: 60000 },
      priority: 1,
    };
    assert.equal((await api("POST", "/definitions", { policies: [imported] })).status, 204);
    assert.deepEqual((await api("GET", `/policies/${VH}/imported`)).body, imported);
    await clearPolicy("imported");
  },
);
