// In-process tests of exchange routing (direct, fanout, topic, headers) through VHost.publish,
// without sockets. The expectations are the ones interop/node/behaviour.test.mjs checks over TCP
// and that were validated against RabbitMQ 3.10.8.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { type FieldTable, type FieldValue, typed } from "@warren/protocol";
import type { Queue } from "../queue/queue.js";
import { MemoryStore } from "../store/memory-store.js";
import { PublishResult, VHost } from "../vhost.js";
import { bodies, OWNER, publish } from "../vhost-testkit.js";

/** A routing table validated against RabbitMQ 3.10.8, shared with interop/node/behaviour.test.mjs. */
function dataFile<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../../../interop/data/${name}`, import.meta.url), "utf8")) as T;
}

/** Topic pattern → keys it matched, in publish order. */
const TOPIC_MATCHES = dataFile<{ matches: Record<string, string[]> }>("topic-matches.json").matches;

type JsonTable = Record<string, unknown>;
/** Headers exchange bindings, messages (null: no headers) and what each binding matched ("*": all). */
const HEADERS_MATCHES = dataFile<{
  bindings: Record<string, JsonTable>;
  messages: Record<string, JsonTable | null>;
  matches: Record<string, string[] | "*">;
}>("headers-matches.json");

/** amqplib's typed-value notation ({"!": "int8", value: 5}) as field values. */
const TYPED: Record<string, (v: number) => FieldValue> = { int8: typed.byte, int64: typed.long };

function fieldTable(t: JsonTable): FieldTable {
  return mapValues(t, (v) => {
    const tv = v as { "!"?: string; value?: number } | null;
    return tv !== null && typeof tv === "object" && tv["!"] ? TYPED[tv["!"]]!(tv.value!) : (v as FieldValue);
  });
}

function mapValues<A, B>(o: Record<string, A>, f: (a: A) => B): Record<string, B> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}

function setup(type: string): { v: VHost; x: string } {
  const v = new VHost("/", new MemoryStore());
  v.declareExchange("x", type, {});
  return { v, x: "x" };
}

function queue(v: VHost, name: string): Queue {
  return v.declareQueue(name, {}, OWNER);
}

test("direct: exact, case-sensitive key match; several queues per key; unbind", () => {
  const { v, x } = setup("direct");
  const a = queue(v, "a");
  const b = queue(v, "b");
  v.bindQueue("a", x, "k", {}, OWNER);
  v.bindQueue("b", x, "k", {}, OWNER);
  v.bindQueue("b", x, "other", {}, OWNER);
  assert.equal(publish(v, x, "k", "both"), PublishResult.ROUTED);
  assert.equal(publish(v, x, "other", "b only"), PublishResult.ROUTED);
  assert.equal(publish(v, x, "K", "wrong case"), PublishResult.UNROUTED);
  assert.equal(publish(v, x, "k.more", "longer"), PublishResult.UNROUTED);
  assert.equal(publish(v, x, "", "empty"), PublishResult.UNROUTED);
  v.unbindQueue("a", x, "k", {});
  publish(v, x, "k", "after unbind");
  assert.deepEqual(bodies(a), ["both"]);
  assert.deepEqual(bodies(b), ["both", "b only", "after unbind"]);
});

test("the same queue bound twice gets one copy (direct and fanout)", () => {
  const { v, x } = setup("fanout");
  const q = queue(v, "q");
  v.bindQueue("q", x, "one", {}, OWNER);
  v.bindQueue("q", x, "two", {}, OWNER);
  v.bindQueue("q", x, "two", {}, OWNER); // identical binding: no-op
  publish(v, x, "whatever", "once");
  assert.deepEqual(bodies(q), ["once"]);
  v.unbindQueue("q", x, "one", {});
  assert.equal(publish(v, x, "k", "still bound via 'two'"), PublishResult.ROUTED);
  v.unbindQueue("q", x, "two", {});
  assert.equal(publish(v, x, "k", "unbound"), PublishResult.UNROUTED);
  assert.deepEqual(bodies(q), ["still bound via 'two'"]);

  const d = setup("direct");
  const dq = queue(d.v, "dq");
  d.v.bindQueue("dq", d.x, "k", {}, OWNER);
  d.v.bindQueue("dq", d.x, "k", { "x-any": 1 }, OWNER); // same key, other args: a second binding
  publish(d.v, d.x, "k", "once");
  assert.deepEqual(bodies(dq), ["once"]);
});

test("fanout: every bound queue, whatever the routing key", () => {
  const { v, x } = setup("fanout");
  const qs = ["f1", "f2", "f3"].map((n) => queue(v, n));
  for (const q of qs) v.bindQueue(q.name, x, q.name, {}, OWNER);
  assert.equal(publish(v, x, "", "m1"), PublishResult.ROUTED);
  assert.equal(publish(v, x, "anything.at.all", "m2"), PublishResult.ROUTED);
  for (const q of qs) assert.deepEqual(bodies(q), ["m1", "m2"], q.name);
});

test("topic patterns: *, #, empty words, # alone (RabbitMQ 3.10's answers)", () => {
  // pattern -> routing keys it matched on RabbitMQ 3.10, in publish order (shared with the
  // interop suite that checks the same table over TCP)
  const expected = TOPIC_MATCHES;

  const { v, x } = setup("topic");
  const queues = new Map<string, Queue>();
  for (const pattern of Object.keys(expected)) {
    const q = queue(v, `p:${pattern}`);
    v.bindQueue(q.name, x, pattern, {}, OWNER);
    queues.set(pattern, q);
  }
  for (const k of expected["#"]!) publish(v, x, k, k);
  const actual: Record<string, string[]> = {};
  for (const [pattern, q] of queues) actual[pattern] = bodies(q);
  assert.deepEqual(actual, expected);
});

test("topic: a queue matched by several patterns gets one copy", () => {
  const { v, x } = setup("topic");
  const q = queue(v, "q");
  for (const p of ["#", "a.*", "a.b", "*.b", "a.#.b"]) v.bindQueue("q", x, p, {}, OWNER);
  publish(v, x, "a.b", "once");
  assert.deepEqual(bodies(q), ["once"]);
});

test("topic: routing follows binding changes (no stale cached route)", () => {
  const { v, x } = setup("topic");
  const q1 = queue(v, "q1");
  const q2 = queue(v, "q2");
  v.bindQueue("q1", x, "a.*", {}, OWNER);
  publish(v, x, "a.b", "m1"); // caches the route for "a.b"
  v.bindQueue("q2", x, "#.b", {}, OWNER);
  publish(v, x, "a.b", "m2");
  v.unbindQueue("q1", x, "a.*", {});
  publish(v, x, "a.b", "m3");
  v.unbindQueue("q2", x, "#.b", {});
  assert.equal(publish(v, x, "a.b", "m4"), PublishResult.UNROUTED);
  assert.deepEqual(bodies(q1), ["m1", "m2"]);
  assert.deepEqual(bodies(q2), ["m2", "m3"]);
});

test("topic: unbinding one of two queues on the same pattern keeps the other", () => {
  const { v, x } = setup("topic");
  const q1 = queue(v, "q1");
  const q2 = queue(v, "q2");
  v.bindQueue("q1", x, "a.#.c", {}, OWNER);
  v.bindQueue("q2", x, "a.#.c", {}, OWNER);
  v.bindQueue("q2", x, "a.#", {}, OWNER);
  v.unbindQueue("q1", x, "a.#.c", {});
  publish(v, x, "a.b.c", "m");
  assert.deepEqual(bodies(q1), []);
  assert.deepEqual(bodies(q2), ["m"]);
  v.unbindQueue("q2", x, "a.#", {});
  publish(v, x, "a.b.c", "still via a.#.c");
  assert.deepEqual(bodies(q2), ["still via a.#.c"]);
});

test("headers exchange: x-match all/any, void values, x- keys ignored, numeric equality", () => {
  const bindings = mapValues(HEADERS_MATCHES.bindings, fieldTable);
  const messages = mapValues(HEADERS_MATCHES.messages, (h) => (h === null ? undefined : fieldTable(h)));
  const all = Object.keys(messages);
  const expected = mapValues(HEADERS_MATCHES.matches, (names) => (names === "*" ? all : names));
  const { v, x } = setup("headers");
  const queues = new Map<string, Queue>();
  for (const [name, args] of Object.entries(bindings)) {
    queues.set(name, queue(v, name));
    v.bindQueue(name, x, "", args, OWNER);
  }
  for (const [name, headers] of Object.entries(messages))
    publish(v, x, "ignored", name, headers === undefined ? {} : { headers });
  const actual: Record<string, string[]> = {};
  for (const [name, q] of queues) actual[name] = bodies(q);
  assert.deepEqual(actual, expected);
});

test("headers exchange: all-with-x / any-with-x also match x- headers", () => {
  const { v, x } = setup("headers");
  const allX = queue(v, "allX");
  const anyX = queue(v, "anyX");
  v.bindQueue("allX", x, "", { "x-match": "all-with-x", "x-foo": "bar", a: 1 }, OWNER);
  v.bindQueue("anyX", x, "", { "x-match": "any-with-x", "x-foo": "bar" }, OWNER);
  const messages: Record<string, FieldTable> = {
    xfooA: { "x-foo": "bar", a: 1 },
    xfoo: { "x-foo": "bar" },
    a: { a: 1 },
    xother: { "x-foo": "baz", a: 1 },
  };
  for (const [name, headers] of Object.entries(messages)) publish(v, x, "", name, { headers });
  assert.deepEqual(bodies(allX), ["xfooA"]);
  assert.deepEqual(bodies(anyX), ["xfooA", "xfoo"]);
});

test("headers exchange: unbinding removes only that binding; the routing key is ignored", () => {
  const { v, x } = setup("headers");
  const q = queue(v, "q");
  v.bindQueue("q", x, "", { "x-match": "any", a: 1 }, OWNER);
  v.bindQueue("q", x, "", { "x-match": "any", b: 2 }, OWNER);
  publish(v, x, "k1", "ab", { headers: { a: 1, b: 2 } }); // one copy, two matching bindings
  v.unbindQueue("q", x, "", { "x-match": "any", a: 1 });
  assert.equal(publish(v, x, "k2", "a", { headers: { a: 1 } }), PublishResult.UNROUTED);
  assert.equal(publish(v, x, "k3", "b", { headers: { b: 2 } }), PublishResult.ROUTED);
  assert.deepEqual(bodies(q), ["ab", "b"]);
});

test("predeclared amq.* exchanges route with their standard types", () => {
  const v = new VHost("/", new MemoryStore());
  const q = queue(v, "q");
  v.bindQueue("q", "amq.direct", "d", {}, OWNER);
  v.bindQueue("q", "amq.fanout", "", {}, OWNER);
  v.bindQueue("q", "amq.topic", "t.*", {}, OWNER);
  v.bindQueue("q", "amq.headers", "", { h: 1 }, OWNER);
  v.bindQueue("q", "amq.match", "", { m: 1 }, OWNER);
  publish(v, "amq.direct", "d", "direct");
  publish(v, "amq.direct", "t.x", "not direct");
  publish(v, "amq.fanout", "zzz", "fanout");
  publish(v, "amq.topic", "t.x", "topic");
  publish(v, "amq.headers", "", "headers", { headers: { h: 1 } });
  publish(v, "amq.match", "", "match", { headers: { m: 1 } });
  assert.deepEqual(bodies(q), ["direct", "fanout", "topic", "headers", "match"]);
  for (const [name, type] of [
    ["amq.direct", "direct"],
    ["amq.fanout", "fanout"],
    ["amq.topic", "topic"],
    ["amq.headers", "headers"],
    ["amq.match", "headers"],
  ] as const) {
    const ex = v.getExchange(name);
    assert.deepEqual([ex.type, ex.durable], [type, true], name);
    // A redeclare with the same type and flags is allowed.
    assert.equal(v.declareExchange(name, type, { durable: true }), ex);
  }
});
