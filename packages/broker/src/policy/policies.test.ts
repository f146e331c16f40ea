// In-process tests of policies: validation texts, matching (pattern, apply-to, priority,
// queue type), how policy values and queue arguments combine, and what a policy change does to
// live queues and exchanges. The expectations were checked against RabbitMQ 3.10.8 (see
// interop/policies.test.mjs for the same rules over the management API and AMQP).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { FieldTable } from "@warren/protocol";
import { MemoryStore } from "../store/memory-store.js";
import { exportDefinitions, importDefinitions } from "../definitions.js";
import { UserStore } from "../auth/users.js";
import { PublishResult, type QueueOptions, VHost } from "../vhost.js";
import { bodies, deaths, drainAll, OWNER, publish, Recorder, sleep, text, vhost } from "../vhost-testkit.js";
import { PolicyError } from "./policy-definition.js";
import { makePolicy, type PolicySpec } from "./policy-store.js";

const declare = (v: VHost, name: string, args: FieldTable = {}, o: QueueOptions = {}) =>
  v.declareQueue(name, { ...o, args }, OWNER);
const quorum = (v: VHost, name: string, args: FieldTable = {}) =>
  declare(v, name, { "x-queue-type": "quorum", ...args }, { durable: true });

function setPolicy(v: VHost, name: string, spec: Partial<PolicySpec>, operator = false): boolean {
  return v.setPolicy(
    makePolicy(v.name, name, { pattern: ".*", definition: {}, ...spec }, operator),
    operator,
  );
}

/** The PolicyError text for a spec. */
function refusal(spec: Partial<PolicySpec>, operator = false): string {
  try {
    makePolicy("/", "p", { pattern: "a", definition: { "max-length": 1 }, ...spec }, operator);
  } catch (e) {
    assert.ok(e instanceof PolicyError);
    return e.reason.replace(/^Validation failed\n\n/, "").replace(/\n$/, "");
  }
  return "accepted";
}

test("validation: RabbitMQ 3.10.8's texts, keys checked before unknown keys are named", () => {
  assert.equal(
    refusal({ definition: { foo: 1, bar: 2 } }),
    `[{<<"bar">>,2},{<<"foo">>,1}] are not recognised policy settings`,
  );
  assert.equal(
    refusal({ definition: { "max-length": 1, foo: 2, overflow: "bad" } }),
    `<<"bad">> is not a valid overflow value`,
  );
  assert.equal(refusal({ definition: { "max-length": -1 } }), "-1 is not a valid maximum length");
  assert.equal(refusal({ definition: { "max-length": "x" } }), `<<"x">> is not a valid maximum length`);
  assert.equal(
    refusal({ definition: { "max-length": [1, "a", { b: null }] } }),
    `[1,<<"a">>,#{<<"b">> => null}] is not a valid maximum length`,
  );
  assert.equal(refusal({ definition: { "message-ttl": 1.5 } }), "1.5 is not a valid message TTL");
  assert.equal(refusal({ definition: { expires: 0 } }), "0 is not a valid queue expiry");
  assert.equal(
    refusal({ definition: { "alternate-exchange": 1 } }),
    "1 is not a valid alternate exchange name",
  );
  assert.equal(refusal({ definition: { "delivery-limit": -1 } }), "-1 is not a valid delivery limit");
  assert.equal(refusal({ definition: {} }), "no policy provided");
  assert.equal(refusal({ definition: "x" }), `definition must be a dictionary: <<"x">>`);
  assert.equal(
    refusal({ pattern: "(" }),
    `pattern should be regular expression but is invalid: {"missing )",1}`,
  );
  assert.equal(refusal({ pattern: 1 }), "pattern should be a binary but was 1");
  assert.equal(
    refusal({ applyTo: "classic_queues" }),
    "apply-to 'classic_queues' unrecognised; should be 'queues', 'exchanges' or 'all'",
  );
  assert.equal(refusal({ priority: "5" }), `priority should be a number, actually was <<"5">>`);
  assert.equal(refusal({ priority: null }), "priority should be a number, actually was null");
  assert.equal(
    refusal({ definition: { "ha-params": 2 } }),
    "ha-mode must be specified to specify ha-params, ha-sync-mode or ha-promote-on-shutdown",
  );
  assert.equal(
    refusal({ definition: { "ha-mode": "exactly" } }),
    `ha-mode="exactly" takes an integer, none given`,
  );
  assert.equal(
    refusal({ definition: { "queue-master-locator": "x" } }),
    `<<"x">> invalid queue-master-locator value`,
  );
  // Accepted without effect in Warren, as RabbitMQ accepts them.
  for (const definition of [
    { "ha-mode": "all", "ha-sync-mode": "automatic" },
    { "queue-mode": "lazy" },
    { "max-age": "1D" },
  ])
    assert.equal(refusal({ definition }), "accepted");
  assert.equal(refusal({ priority: 1.5, pattern: "(?i)^A" }), "accepted");
  // Operator policies take only the limits.
  assert.equal(
    refusal({ definition: { "max-length": 1, foo: 1, overflow: "x" } }, true),
    `[{<<"foo">>,1},{<<"overflow">>,<<"x">>}] are not recognised policy settings`,
  );
});

test("matching: the highest priority wins; apply-to; a pattern is an unanchored search; (?i)", () => {
  const v = vhost();
  setPolicy(v, "lo", { pattern: "^orders", definition: { "max-length": 3 } });
  setPolicy(v, "hi", { pattern: "^orders\\.eu", definition: { "max-length": 1 }, priority: 5 });
  setPolicy(v, "ex", { pattern: "orders", definition: { "alternate-exchange": "ae" }, applyTo: "exchanges" });
  setPolicy(v, "ci", { pattern: "(?i)^MIXED", definition: { "max-length": 7 }, applyTo: "queues" });
  const us = declare(v, "orders.us");
  const eu = declare(v, "orders.eu");
  const other = declare(v, "my-orders-queue");
  const mixed = declare(v, "mixed-case");
  assert.deepEqual(
    [us.policy.name, eu.policy.name, other.policy.name, mixed.policy.name],
    ["lo", "hi", undefined, "ci"],
  );
  assert.deepEqual([us.a.maxLength, eu.a.maxLength, mixed.a.maxLength], [3, 1, 7]);
  const ex = v.declareExchange("orders-x", "direct", {});
  assert.equal(ex.policy, "ex");
  assert.equal(ex.alternate, "ae");
  assert.equal(v.exchanges.get("amq.direct")!.policy, undefined);
  // Priorities tie: the name that sorts first.
  setPolicy(v, "a-same", { pattern: "^orders\\.eu", definition: { "max-length": 9 }, priority: 5 });
  assert.equal(eu.policy.name, "a-same");
});

test("queue type: a key a type cannot use keeps the whole policy off it, the next match applies", () => {
  const v = vhost();
  setPolicy(v, "lo", { pattern: "^q", definition: { "max-length": 3 } });
  setPolicy(v, "lazy", { pattern: "^q", definition: { "max-length": 2, "queue-mode": "lazy" }, priority: 5 });
  setPolicy(v, "limit", { pattern: "^q", definition: { "max-length": 1, "delivery-limit": 2 }, priority: 3 });
  const classic = declare(v, "qc");
  const qq = quorum(v, "qq");
  assert.equal(classic.policy.name, "lazy"); // delivery-limit keeps "limit" off classic queues
  assert.equal(qq.policy.name, "limit"); // queue-mode keeps "lazy" off quorum queues
  assert.deepEqual([classic.a.maxLength, qq.a.maxLength, qq.a.deliveryLimit], [2, 1, 2]);
});

test("arguments and policies: the lower limit, TTL and expiry; the argument's overflow and dead-letter keys", async () => {
  const v = vhost();
  setPolicy(v, "p", {
    pattern: "^c-",
    definition: {
      "max-length": 2,
      overflow: "reject-publish",
      "message-ttl": 300,
      expires: 60_000,
      "dead-letter-exchange": "pdlx",
    },
  });
  const big = declare(v, "c-big", {
    "x-max-length": 5,
    "x-message-ttl": 60_000,
    "x-dead-letter-exchange": "adlx",
  });
  const small = declare(v, "c-small", { "x-max-length": 1, "x-expires": 1000, "x-overflow": "drop-head" });
  assert.deepEqual(
    [big.a.maxLength, big.a.messageTtl, big.a.overflow, big.a.deadLetterExchange, big.a.expires],
    [2, 300, "reject-publish", "adlx", 60_000],
  );
  assert.deepEqual(
    [small.a.maxLength, small.a.messageTtl, small.a.overflow, small.a.deadLetterExchange, small.a.expires],
    [1, 300, "drop-head", "pdlx", 1000],
  );
  // Publishes see the result: reject-publish from the policy, drop-head from the argument.
  const results = ["1", "2", "3"].map((b) => publish(v, "", "c-big", b) & PublishResult.REJECTED);
  assert.deepEqual(results, [0, 0, PublishResult.REJECTED]);
  for (const b of ["1", "2"]) publish(v, "", "c-small", b);
  assert.deepEqual(bodies(small), ["2"]);
});

test("quorum queues: the policy's overflow and expires win, the lower delivery-limit and length", () => {
  const v = vhost();
  setPolicy(v, "p", {
    pattern: "^qq-",
    definition: { overflow: "drop-head", expires: 60_000, "delivery-limit": 5, "max-length": 2 },
  });
  const q = quorum(v, "qq-a", {
    "x-overflow": "reject-publish",
    "x-expires": 1000,
    "x-delivery-limit": 1,
    "x-max-length": 5,
  });
  assert.deepEqual(
    [q.a.overflow, q.a.expires, q.a.deliveryLimit, q.a.maxLength],
    ["drop-head", 60_000, 1, 2],
  );
  setPolicy(v, "p", { pattern: "^qq-", definition: { overflow: "reject-publish-dlx" } });
  assert.equal(q.a.overflow, "drop-head"); // 3.10's quorum queues fall back to drop-head
});

test("a policy set on a live queue: a shorter max-length drops (and dead-letters) the head now", () => {
  const v = vhost();
  v.declareExchange("dlx", "fanout", {});
  const dlq = declare(v, "dlq");
  v.bindQueue("dlq", "dlx", "", {}, OWNER);
  const q = declare(v, "live");
  for (const b of ["m0", "m1", "m2", "m3", "m4"]) publish(v, "", "live", b);
  setPolicy(v, "p", { pattern: "^live$", definition: { "max-length": 2, "dead-letter-exchange": "dlx" } });
  assert.equal(q.messageCount, 2);
  const dead = drainAll(dlq);
  assert.deepEqual(text(dead), ["m0", "m1", "m2"]);
  assert.equal(deaths(dead[0]!)[0]!.reason, "maxlen");
  // Cleared: the queue takes what it is given again.
  assert.equal(v.clearPolicy("p"), true);
  assert.equal(v.clearPolicy("p"), false);
  for (const b of ["n0", "n1", "n2"]) publish(v, "", "live", b);
  assert.equal(q.messageCount, 5);
  assert.equal(q.policy.name, undefined);
  assert.equal(q.a, q.declared);
});

test("a message-ttl policy applies to messages that arrive after it, not to those already there", async () => {
  const v = vhost();
  const q = declare(v, "t");
  publish(v, "", "t", "old");
  setPolicy(v, "ttl", { pattern: "^t$", definition: { "message-ttl": 30 } });
  publish(v, "", "t", "new");
  await sleep(80);
  const r = new Recorder();
  r.consume(q, { noAck: true });
  assert.deepEqual(r.bodies(), ["old"]);
});

test("an expires policy deletes an unused queue; clearing it in time keeps the queue", async () => {
  const v = vhost();
  declare(v, "gone");
  declare(v, "kept");
  setPolicy(v, "e1", { pattern: "^gone$", definition: { expires: 30 } });
  setPolicy(v, "e2", { pattern: "^kept$", definition: { expires: 30 } });
  v.clearPolicy("e2");
  await sleep(80);
  assert.deepEqual([...v.queues.keys()], ["kept"]);
});

test("alternate-exchange policy: catches unroutable messages unless the exchange's argument names another", () => {
  const v = vhost();
  v.declareExchange("ae", "fanout", {});
  v.declareExchange("arg-ae", "fanout", {});
  const caught = declare(v, "caught");
  const argCaught = declare(v, "arg-caught");
  v.bindQueue("caught", "ae", "", {}, OWNER);
  v.bindQueue("arg-caught", "arg-ae", "", {}, OWNER);
  v.declareExchange("x1", "direct", {});
  v.declareExchange("x2", "direct", { args: { "alternate-exchange": "arg-ae" } });
  setPolicy(v, "ae", { pattern: "^x", definition: { "alternate-exchange": "ae" }, applyTo: "exchanges" });
  assert.equal(publish(v, "x1", "nowhere", "a"), PublishResult.ROUTED);
  publish(v, "x2", "nowhere", "b");
  assert.deepEqual([bodies(caught), bodies(argCaught)], [["a"], ["b"]]);
  v.clearPolicy("ae");
  assert.equal(publish(v, "x1", "nowhere", "c"), PublishResult.UNROUTED);
});

test("operator policies: the lower of policy and operator policy, merged in the effective definition", () => {
  const v = vhost();
  setPolicy(v, "pol", { pattern: "^q", definition: { "max-length": 5, "message-ttl": 1000 } });
  setPolicy(v, "op", { pattern: "^q", definition: { "max-length": 3, expires: 9000 } }, true);
  const q = declare(v, "q1");
  assert.deepEqual(q.policy, {
    name: "pol",
    operatorName: "op",
    definition: { expires: 9000, "max-length": 3, "message-ttl": 1000 },
  });
  assert.deepEqual([q.a.maxLength, q.a.messageTtl, q.a.expires], [3, 1000, 9000]);
  v.clearPolicy("op", true);
  assert.deepEqual([q.a.maxLength, q.a.expires], [5, undefined]);
});

test("definitions: policies and operator policies export in RabbitMQ's shapes and import back", () => {
  const users = new UserStore();
  const vhosts = new Map<string, VHost>();
  const target = {
    users,
    addVhost: (n: string) => {
      const vh = new VHost(n, new MemoryStore());
      vhosts.set(n, vh);
      return vh;
    },
    vhost: (n: string) => vhosts.get(n),
  };
  const vh = target.addVhost("/");
  setPolicy(vh, "p", {
    pattern: "^q",
    definition: { "message-ttl": 5, "max-length": 2 },
    priority: 3,
    applyTo: "queues",
  });
  setPolicy(vh, "op", { pattern: "^q", definition: { "max-length": 1 } }, true);
  const defs = exportDefinitions(users, vhosts.values(), "x");
  assert.deepEqual(defs.policies, [
    {
      vhost: "/",
      name: "p",
      pattern: "^q",
      "apply-to": "queues",
      definition: { "max-length": 2, "message-ttl": 5 },
      priority: 3,
    },
  ]);
  assert.deepEqual(defs.parameters, [
    {
      vhost: "/",
      component: "operator_policy",
      name: "op",
      value: { pattern: "^q", definition: { "max-length": 1 }, priority: 0, "apply-to": "all" },
    },
  ]);
  vhosts.clear();
  importDefinitions(target, {
    ...defs,
    queues: [{ name: "q1", vhost: "/", durable: true, auto_delete: false, arguments: {} }],
  });
  const q = vhosts.get("/")!.queues.get("q1")!;
  assert.deepEqual([q.policy.name, q.policy.operatorName, q.a.maxLength], ["p", "op", 1]);
  // A bad policy refuses the whole import before anything changes.
  vhosts.clear();
  assert.throws(
    () =>
      importDefinitions(target, {
        vhosts: [{ name: "v2" }],
        policies: [{ ...defs.policies![0]!, definition: { nope: 1 } }],
      }),
    PolicyError,
  );
  assert.equal(vhosts.size, 0);
});
