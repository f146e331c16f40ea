// In-process tests of queue semantics: TTLs, length limits and overflow, dead-lettering and
// x-death, priorities, consumer dispatch (round-robin, x-priority, single active consumer,
// prefetch), requeue order and quorum-queue rules. A Queue is driven through a VHost and a
// recording ConsumerOwner (a stand-in for the channel), without sockets. The expectations are
// those interop/node/{queue-features,behaviour,redelivery}.test.mjs check over TCP, validated
// against RabbitMQ 3.10.8.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ChannelError, decodeRawProperties, type FieldTable, TypedValue, typed } from "@warren/protocol";
import { Message } from "../message.js";
import { PublishResult, type QueueOptions, type VHost } from "../vhost.js";
import {
  bodies,
  deaths,
  drainAll,
  headersOf,
  num,
  OWNER,
  publish,
  Recorder,
  sleep,
  text,
  vhost,
} from "../vhost-testkit.js";
import type { Delivered, Queue } from "./queue.js";

function declare(v: VHost, name: string, args: FieldTable = {}, o: QueueOptions = {}): Queue {
  return v.declareQueue(name, { ...o, args }, OWNER);
}

/** A fanout exchange "dlx" with queue "dlq" bound to it: the usual dead-letter target. */
function dlxQueue(v: VHost): Queue {
  v.declareExchange("dlx", "fanout", {});
  const dlq = declare(v, "dlq");
  v.bindQueue("dlq", "dlx", "", {}, OWNER);
  return dlq;
}

/** The keys of an x-death entry, in the order RabbitMQ writes them. */
const X_DEATH_KEYS = ["count", "reason", "queue", "time", "exchange", "routing-keys", "original-expiration"];

// ---------------------------------------------------------------------------------------------
// TTL

test("TTL 0 (queue or message): delivered if a consumer can take it at once, otherwise expired", () => {
  const v = vhost();
  const dlq = dlxQueue(v);
  const q = declare(v, "q", { "x-message-ttl": 0, "x-dead-letter-exchange": "dlx" });
  const q2 = declare(v, "q2", { "x-dead-letter-exchange": "dlx" });
  publish(v, "", "q", "nobody-home");
  publish(v, "", "q2", "msg-ttl-0", { expiration: "0" });
  assert.equal(q.messageCount + q2.messageCount, 0);
  const dead = drainAll(dlq);
  assert.deepEqual(text(dead), ["nobody-home", "msg-ttl-0"]);
  for (const m of dead) assert.equal(deaths(m)[0]!.reason, "expired");

  const r = new Recorder();
  r.consume(q, { noAck: true });
  r.consume(q2, { noAck: true, tag: "c2" });
  publish(v, "", "q", "taken");
  publish(v, "", "q2", "taken-too", { expiration: "0" });
  assert.deepEqual(r.bodies(), ["taken", "taken-too"]);
  assert.equal(dlq.messageCount, 0, "a delivered message is not also dead-lettered");

  // A consumer without room does not count: the message expires.
  r.paused = true;
  publish(v, "", "q", "busy");
  assert.deepEqual(bodies(dlq), ["busy"]);
});

test("expired message x-death: exactly as RabbitMQ 3.10 writes it; expiration removed, headers sorted", () => {
  const v = vhost();
  const dlq = dlxQueue(v);
  v.declareExchange("src", "direct", {});
  declare(v, "q", { "x-dead-letter-exchange": "dlx" });
  v.bindQueue("q", "src", "k1", {}, OWNER);
  const before = Math.floor(Date.now() / 1000);
  publish(v, "src", "k1", "short-lived", { expiration: "0", headers: { zulu: typed.byte(1), app: "x" } });
  const [m] = drainAll(dlq);
  assert.ok(m);
  assert.deepEqual([m.body.toString(), m.exchange, m.routingKey], ["short-lived", "dlx", "k1"]);
  const props = decodeRawProperties(m.rawProps);
  assert.equal(props.expiration, undefined, "the expiration property is removed when dead-lettering");
  const h = props.headers!;
  assert.deepEqual(
    Object.keys(h),
    ["app", "x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason", "zulu"],
    "RabbitMQ sorts the headers table when it adds x-death",
  );
  assert.equal(h.app, "x", "other headers are kept");
  assert.deepEqual(h.zulu, typed.byte(1), "with their wire types");
  const ds = deaths(m);
  assert.equal(ds.length, 1);
  const d = ds[0]!;
  assert.deepEqual(Object.keys(d), X_DEATH_KEYS);
  assert.deepEqual(d.count, typed.long(1), "count is a long");
  assert.ok(d.time instanceof TypedValue && d.time.type === "T", "time is a timestamp");
  const t = num(d.time)!;
  assert.ok(t >= before && t <= Math.floor(Date.now() / 1000) + 1, `time ${t}`);
  assert.deepEqual(
    { ...d, count: undefined, time: undefined },
    {
      count: undefined,
      reason: "expired",
      queue: "q",
      time: undefined,
      exchange: "src",
      "routing-keys": ["k1"],
      "original-expiration": "0",
    },
  );
  assert.equal(h["x-first-death-reason"], "expired");
  assert.equal(h["x-first-death-queue"], "q");
  assert.equal(h["x-first-death-exchange"], "src");
  assert.deepEqual(
    Object.keys(h).filter((k) => k.startsWith("x-last-death")),
    [],
    "RabbitMQ 3.10 writes no x-last-death-* headers",
  );
});

test("queue TTL and per-message expiration: the lower one applies", async () => {
  const v = vhost();
  const dlq = dlxQueue(v);
  const shortQueueTtl = declare(v, "short", { "x-message-ttl": 30, "x-dead-letter-exchange": "dlx" });
  const longQueueTtl = declare(v, "long", { "x-message-ttl": 60000, "x-dead-letter-exchange": "dlx" });
  publish(v, "", "short", "queue-ttl-wins", { expiration: "60000" });
  publish(v, "", "long", "message-ttl-wins", { expiration: "30" });
  publish(v, "", "long", "control", { expiration: "60000" });
  // The short TTLs have not run out yet.
  assert.deepEqual([shortQueueTtl.messageCount, longQueueTtl.messageCount, dlq.messageCount], [1, 2, 0]);
  await sleep(80);
  assert.deepEqual(bodies(dlq).sort(), ["message-ttl-wins", "queue-ttl-wins"]);
  assert.equal(shortQueueTtl.messageCount, 0);
  assert.deepEqual(bodies(longQueueTtl), ["control"]);
});

test("expiry survives requeue: a message past its TTL is dead-lettered, not redelivered", async () => {
  const v = vhost();
  const dlq = dlxQueue(v);
  const q = declare(v, "q", { "x-message-ttl": 40, "x-dead-letter-exchange": "dlx" });
  publish(v, "", "q", "old");
  publish(v, "", "q", "young", { expiration: "60000" }); // the lower TTL applies: 40
  const old = q.get(false)!;
  assert.equal(old.msg.body.toString(), "old");
  await sleep(70);
  assert.equal(dlq.messageCount, 1, "young expired at the head while old was out");
  // "young" expired at the head while "old" was out; "old" expires on its way back.
  q.requeue([old], true);
  await sleep(10);
  const dead = drainAll(dlq);
  assert.deepEqual(text(dead).sort(), ["old", "young"]);
  for (const m of dead) assert.equal(deaths(m)[0]!.reason, "expired");
  assert.equal(q.get(true), undefined);

  // Control: a requeued message whose TTL has not run out comes back, redelivered.
  const q2 = declare(v, "q2", { "x-message-ttl": 60000 });
  publish(v, "", "q2", "fresh");
  q2.requeue([q2.get(false)!], true);
  const fresh = q2.get(true)!;
  assert.deepEqual([fresh.msg.body.toString(), fresh.count], ["fresh", 1]);
});

test("expired messages never reach a consumer that was busy while they expired", async () => {
  const v = vhost();
  const dlq = dlxQueue(v);
  const q = declare(v, "q", { "x-message-ttl": 40, "x-dead-letter-exchange": "dlx" });
  const r = new Recorder();
  r.consume(q, { prefetch: 1 });
  for (const b of ["m1", "m2", "m3"]) publish(v, "", "q", b);
  assert.deepEqual(r.bodies(), ["m1"]);
  await sleep(80);
  assert.deepEqual(bodies(dlq), ["m2", "m3"]);
  r.ack();
  assert.deepEqual(r.bodies(), ["m1"]);
  assert.equal(q.messageCount, 0);
});

test("expired messages at the head are dropped on basic.get and on drain, before any timer", () => {
  const v = vhost();
  const q = declare(v, "q");
  publish(v, "", "q", "stale", { expiration: "1" });
  publish(v, "", "q", "live");
  const until = Date.now() + 3;
  while (Date.now() < until); // let the 1 ms expiration pass without yielding to the timer
  assert.deepEqual(bodies(q), ["live"]);
});

// ---------------------------------------------------------------------------------------------
// Length limits

test("x-max-length drop-head (default): the oldest are dropped and dead-lettered with reason maxlen", () => {
  const v = vhost();
  const dlq = dlxQueue(v);
  const q = declare(v, "q", { "x-max-length": 2, "x-dead-letter-exchange": "dlx" });
  for (const b of ["m1", "m2", "m3", "m4"]) assert.equal(publish(v, "", "q", b), PublishResult.ROUTED);
  assert.deepEqual(bodies(q), ["m3", "m4"]);
  const dead = drainAll(dlq);
  assert.deepEqual(text(dead), ["m1", "m2"]);
  for (const m of dead) assert.deepEqual([deaths(m)[0]!.reason, deaths(m)[0]!.queue], ["maxlen", "q"]);
});

test("requeued messages count too: drop-head drops the head, reject-publish lets the queue run over", () => {
  const v = vhost();
  const dlq = dlxQueue(v);
  const dropHead = declare(v, "drop", { "x-max-length": 2, "x-dead-letter-exchange": "dlx" });
  const rejectPublish = declare(v, "reject", { "x-max-length": 2, "x-overflow": "reject-publish" });
  for (const q of [dropHead, rejectPublish]) {
    publish(v, "", q.name, "m1");
    const m1 = q.get(false)!;
    assert.equal(publish(v, "", q.name, "m2"), PublishResult.ROUTED);
    assert.equal(publish(v, "", q.name, "m3"), PublishResult.ROUTED, "both fit: m1 is out");
    q.requeue([m1], true);
  }
  const [dead, ...rest] = drainAll(dlq);
  assert.deepEqual(rest, []);
  assert.deepEqual([dead?.body.toString(), deaths(dead!)[0]!.reason], ["m1", "maxlen"]);
  assert.deepEqual(bodies(dropHead), ["m2", "m3"]);
  assert.deepEqual(bodies(rejectPublish), ["m1", "m2", "m3"]);
});

test("x-max-length-bytes counts body bytes", () => {
  const v = vhost();
  const q = declare(v, "q", { "x-max-length-bytes": 10 });
  for (const b of ["aaaa", "bbbb", "cccc", "dddd"]) publish(v, "", "q", b);
  assert.deepEqual(bodies(q), ["cccc", "dddd"]);
  // With reject-publish, a message that would go past the byte limit is refused.
  const r = declare(v, "r", { "x-max-length-bytes": 10, "x-overflow": "reject-publish" });
  assert.deepEqual(
    ["aaaa", "bbbb", "cc", "d"].map((b) => publish(v, "", "r", b)),
    [
      PublishResult.ROUTED,
      PublishResult.ROUTED,
      PublishResult.ROUTED,
      PublishResult.ROUTED | PublishResult.REJECTED,
    ],
  );
  assert.deepEqual(bodies(r), ["aaaa", "bbbb", "cc"]);
});

test("reject-publish: REJECTED and not dead-lettered; room again after draining", () => {
  const v = vhost();
  const dlq = dlxQueue(v);
  const q = declare(v, "q", {
    "x-max-length": 2,
    "x-overflow": "reject-publish",
    "x-dead-letter-exchange": "dlx",
  });
  const { ROUTED, REJECTED } = PublishResult;
  assert.deepEqual(
    ["m1", "m2", "m3"].map((b) => publish(v, "", "q", b)),
    [ROUTED, ROUTED, ROUTED | REJECTED],
  );
  assert.equal(dlq.messageCount, 0, "reject-publish does not dead-letter");
  assert.deepEqual(bodies(q), ["m1", "m2"]);
  assert.equal(publish(v, "", "q", "m4"), ROUTED);
});

test("reject-publish-dlx: REJECTED and dead-lettered with reason maxlen", () => {
  const v = vhost();
  const dlq = dlxQueue(v);
  const q = declare(v, "q", {
    "x-max-length": 1,
    "x-overflow": "reject-publish-dlx",
    "x-dead-letter-exchange": "dlx",
  });
  assert.equal(publish(v, "", "q", "kept"), PublishResult.ROUTED);
  assert.equal(publish(v, "", "q", "refused"), PublishResult.ROUTED | PublishResult.REJECTED);
  const [dead] = drainAll(dlq);
  assert.deepEqual([dead?.body.toString(), deaths(dead!)[0]!.reason], ["refused", "maxlen"]);
  assert.deepEqual(bodies(q), ["kept"]);
});

// ---------------------------------------------------------------------------------------------
// Dead-lettering

test("reject without requeue dead-letters (reason rejected) with the DLX routing key; requeue does not", () => {
  const v = vhost();
  v.declareExchange("dlx", "direct", {});
  const dlq = declare(v, "dlq");
  v.bindQueue("dlq", "dlx", "dead", {}, OWNER);
  v.declareExchange("src", "topic", {});
  const q = declare(v, "q", { "x-dead-letter-exchange": "dlx", "x-dead-letter-routing-key": "dead" });
  v.bindQueue("q", "src", "orders.#", {}, OWNER);
  for (const [rk, b] of [
    ["orders.eu", "r1"],
    ["orders.us", "r2"],
    ["orders.asia", "r3"],
  ])
    publish(v, "src", rk!, b!);
  const [m1, m2, m3] = [q.get(false)!, q.get(false)!, q.get(false)!];
  q.reject(m1);
  q.reject(m2);
  q.requeue([m3], true);
  const dead = drainAll(dlq);
  assert.deepEqual(text(dead), ["r1", "r2"]);
  for (const [m, rk] of [
    [dead[0]!, "orders.eu"],
    [dead[1]!, "orders.us"],
  ] as const) {
    assert.equal(m.exchange, "dlx");
    assert.equal(m.routingKey, "dead", "x-dead-letter-routing-key replaces the key");
    const d = deaths(m)[0]!;
    assert.deepEqual(
      [d.reason, d.queue, d.exchange, d["routing-keys"], num(d.count)],
      ["rejected", "q", "src", [rk], 1],
      "x-death keeps the original exchange and routing key",
    );
    assert.equal(headersOf(m)["x-first-death-reason"], "rejected");
  }
  assert.deepEqual(bodies(q), ["r3"]);
  assert.equal(q.unacked, 0);
});

test("without a dead-letter exchange (or with a missing one) a rejected message is just dropped", () => {
  const v = vhost();
  const plain = declare(v, "plain");
  const dangling = declare(v, "dangling", { "x-dead-letter-exchange": "no-such-exchange" });
  for (const q of [plain, dangling]) {
    publish(v, "", q.name, "x");
    q.reject(q.get(false)!);
    assert.deepEqual([q.messageCount, q.unacked], [0, 0], q.name);
  }
});

test("x-death history: most recent first, one entry per queue and reason, counts incremented", () => {
  const v = vhost();
  // q1 --reject--> q2 --expire--> q3 (through the default exchange)
  const q3 = declare(v, "q3");
  declare(v, "q2", { "x-message-ttl": 0, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "q3" });
  const q1 = declare(v, "q1", { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "q2" });
  publish(v, "", "q1", "traveller", { expiration: "60000" });
  q1.reject(q1.get(false)!);
  const [m] = drainAll(q3);
  assert.ok(m);
  const ds = deaths(m);
  assert.deepEqual(
    ds.map((d) => [d.queue, d.reason, num(d.count)]),
    [
      ["q2", "expired", 1],
      ["q1", "rejected", 1],
    ],
  );
  // Field order as RabbitMQ writes it: the first x-death entry in insertion order, entries
  // added to an existing x-death with their keys sorted.
  assert.deepEqual(Object.keys(ds[1]!), X_DEATH_KEYS);
  assert.deepEqual(Object.keys(ds[0]!), ["count", "exchange", "queue", "reason", "routing-keys", "time"]);
  assert.equal(ds[1]!["original-expiration"], "60000");
  assert.deepEqual([ds[0]!["routing-keys"], ds[0]!.exchange], [["q2"], ""]);
  assert.equal(headersOf(m)["x-first-death-queue"], "q1");
  assert.equal(headersOf(m)["x-first-death-reason"], "rejected");

  // A queue that dead-letters rejections back to itself: the same entry's count grows.
  const self = declare(v, "self", { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "self" });
  publish(v, "", "self", "boomerang");
  const counts: unknown[] = [];
  for (let i = 0; i < 3; i++) {
    const d = self.get(false)!;
    counts.push(deaths(d.msg).map((x) => [x.queue, x.reason, num(x.count)]));
    self.reject(d);
  }
  assert.deepEqual(counts, [[], [["self", "rejected", 1]], [["self", "rejected", 2]]]);
});

test("a dead-letter cycle without a rejection drops the message", () => {
  const v = vhost();
  // qa --expire--> fanout fb -> qb, spy;  qb --expire--> fanout fa -> qa
  v.declareExchange("fa", "fanout", {});
  v.declareExchange("fb", "fanout", {});
  const qa = declare(v, "qa", { "x-message-ttl": 0, "x-dead-letter-exchange": "fb" });
  const qb = declare(v, "qb", { "x-message-ttl": 0, "x-dead-letter-exchange": "fa" });
  const spy = declare(v, "spy");
  v.bindQueue("qa", "fa", "", {}, OWNER);
  v.bindQueue("qb", "fb", "", {}, OWNER);
  v.bindQueue("spy", "fb", "", {}, OWNER);
  publish(v, "", "qa", "looping");
  assert.equal(qa.messageCount + qb.messageCount, 0, "qa -> qb -> qa is a cycle: dropped on the way back");
  const all = drainAll(spy);
  assert.deepEqual(text(all), ["looping"]);
  assert.deepEqual(
    deaths(all[0]!).map((d) => [d.queue, d.reason]),
    [["qa", "expired"]],
  );
});

test("a client republishing a dead-lettered message is no cycle: the retry pattern works", () => {
  const v = vhost();
  const dlq = declare(v, "dlq");
  declare(v, "work", {
    "x-message-ttl": 0,
    "x-dead-letter-exchange": "",
    "x-dead-letter-routing-key": "dlq",
  });
  publish(v, "", "work", "retry-me");
  const [dead] = drainAll(dlq);
  assert.deepEqual(
    deaths(dead!).map((d) => [d.queue, d.reason, num(d.count)]),
    [["work", "expired", 1]],
  );
  // Republished by a client (x-death names "work"): routed like any publish, not dropped.
  const again = new Message("", "work", dead!.rawProps, dead!.body);
  assert.equal(v.publish(again), PublishResult.ROUTED);
  const [twice] = drainAll(dlq);
  assert.deepEqual(
    deaths(twice!).map((d) => [d.queue, d.reason, num(d.count)]),
    [["work", "expired", 2]],
  );
});

// ---------------------------------------------------------------------------------------------
// Priorities

test("priority queue (10 levels): higher first, FIFO within a priority, missing priority = 0", () => {
  const v = vhost();
  const q = declare(v, "q", { "x-max-priority": 10 });
  const sent: { body: string; p: number; i: number }[] = [];
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  for (let i = 0; i < 60; i++) {
    const r = rand() % 11; // 10 = no priority property
    const priority = r === 10 ? undefined : r;
    sent.push({ body: `m${i}`, p: priority ?? 0, i });
    publish(v, "", "q", `m${i}`, priority === undefined ? {} : { priority });
  }
  assert.equal(new Set(sent.map((m) => m.p)).size, 10, "all ten levels used");
  const expected = [...sent].sort((a, b) => b.p - a.p || a.i - b.i).map((m) => m.body);
  assert.deepEqual(bodies(q), expected);
});

test("priority queue: a priority above the maximum counts as the maximum; consumers get priority order", () => {
  const v = vhost();
  const q = declare(v, "q", { "x-max-priority": 5 });
  for (const [b, p] of [
    ["p5-first", 5],
    ["p9", 9],
    ["p200", 200],
    ["p4", 4],
  ] as const)
    publish(v, "", "q", b, { priority: p });
  assert.deepEqual(bodies(q), ["p5-first", "p9", "p200", "p4"]);

  const q3 = declare(v, "q3", { "x-max-priority": 3 });
  for (const [b, p] of [
    ["low", 1],
    ["high", 3],
    ["none", undefined],
    ["mid", 2],
  ] as const)
    publish(v, "", "q3", b, p === undefined ? {} : { priority: p });
  const r = new Recorder();
  r.consume(q3, { noAck: true });
  assert.deepEqual(r.bodies(), ["high", "mid", "low", "none"]);
});

test("priority queue: a requeued message goes back to the head of its own level", () => {
  const v = vhost();
  const q = declare(v, "q", { "x-max-priority": 5 });
  publish(v, "", "q", "hi", { priority: 5 });
  publish(v, "", "q", "lo1", { priority: 1 });
  assert.equal(q.get(true)!.msg.body.toString(), "hi");
  const lo = q.get(false)!;
  publish(v, "", "q", "lo2", { priority: 1 });
  publish(v, "", "q", "hi2", { priority: 5 });
  q.requeue([lo], true);
  assert.deepEqual(bodies(q), ["hi2", "lo1", "lo2"]);
});

// ---------------------------------------------------------------------------------------------
// Consumers

test("round-robin across two consumers: strict alternation", () => {
  const v = vhost();
  const q = declare(v, "q");
  const a = new Recorder();
  const b = new Recorder();
  a.consume(q, { noAck: true, tag: "a" });
  b.consume(q, { noAck: true, tag: "b" });
  for (let i = 0; i < 10; i++) publish(v, "", "q", String(i));
  assert.deepEqual(a.bodies(), ["0", "2", "4", "6", "8"]);
  assert.deepEqual(b.bodies(), ["1", "3", "5", "7", "9"]);
  assert.equal(q.unacked, 0, "no-ack deliveries are not counted as unacked");
});

test("round-robin also over a backlog drained when consumers arrive", () => {
  const v = vhost();
  const q = declare(v, "q");
  for (let i = 0; i < 6; i++) publish(v, "", "q", String(i));
  const a = new Recorder();
  const b = new Recorder();
  a.paused = true;
  a.consume(q, { tag: "a" });
  b.consume(q, { tag: "b", prefetch: 1 }); // takes one, then full
  assert.deepEqual([a.bodies(), b.bodies()], [[], ["0"]]);
  a.paused = false;
  q.drain(); // the channel's resume after backpressure
  assert.deepEqual(a.bodies(), ["1", "2", "3", "4", "5"]);
});

test("prefetch: a consumer whose channel has no room gets nothing until an ack", () => {
  const v = vhost();
  const q = declare(v, "q");
  const r = new Recorder();
  const c = r.consume(q, { prefetch: 2 });
  for (let i = 1; i <= 5; i++) publish(v, "", "q", `m${i}`);
  assert.deepEqual(r.bodies(), ["m1", "m2"]);
  assert.deepEqual([q.messageCount, q.unacked, c.unacked], [3, 2, 2]);
  r.ack([r.got[0]!]);
  assert.deepEqual(r.bodies(), ["m1", "m2", "m3"]);
  assert.deepEqual([q.messageCount, q.unacked, c.unacked], [2, 2, 2]);
  r.ack(r.got.slice(1));
  assert.deepEqual(r.bodies(), ["m1", "m2", "m3", "m4", "m5"]);
  assert.deepEqual([q.messageCount, q.unacked, c.unacked], [0, 2, 2]);
});

test("prefetch=1 fair dispatch: a consumer that does not ack gets exactly one message", () => {
  const v = vhost();
  const q = declare(v, "q");
  const slow = new Recorder();
  const fast = new Recorder();
  slow.consume(q, { prefetch: 1, tag: "slow" });
  fast.consume(q, { prefetch: 1, tag: "fast" });
  let acked = 0;
  for (let i = 0; i < 8; i++) {
    publish(v, "", "q", String(i));
    const pending = fast.got.slice(acked);
    acked = fast.got.length;
    fast.ack(pending); // fast acks what it has; slow never does
  }
  assert.equal(slow.got.length, 1, `slow consumer got ${slow.bodies()}`);
  assert.equal(fast.got.length, 7);
});

test("x-priority: the highest-priority consumer with room gets the messages", () => {
  const v = vhost();
  const q = declare(v, "q");
  const high = new Recorder();
  const low = new Recorder();
  low.consume(q, { prefetch: 100, args: { "x-priority": 1 } });
  high.consume(q, { prefetch: 3, args: { "x-priority": typed.long(10) } });
  for (let i = 1; i <= 5; i++) publish(v, "", "q", `m${i}`);
  // Round-robin would interleave; priorities fill the high consumer's prefetch first.
  assert.deepEqual(
    [high.bodies(), low.bodies()],
    [
      ["m1", "m2", "m3"],
      ["m4", "m5"],
    ],
  );
  high.ack([high.got[0]!]);
  publish(v, "", "q", "m6");
  assert.deepEqual(high.bodies(), ["m1", "m2", "m3", "m6"], "room again at the high priority");
});

test("consumer admission: exclusive consumers 403, a non-integer x-priority 406", () => {
  const v = vhost();
  const q = declare(v, "q");
  assert.throws(
    () => q.consumerPriority(false, { "x-priority": "high" }),
    (e: unknown) =>
      e instanceof ChannelError &&
      e.code === 406 &&
      e.text === `invalid arg 'x-priority' for queue 'q' in vhost '/': "expected integer, got longstr"`,
  );
  assert.equal(q.consumerPriority(false, { "x-priority": typed.short(-3) }), -3);
  const inUse = (e: unknown) =>
    e instanceof ChannelError && e.code === 403 && e.text === "queue 'q' in vhost '/' in exclusive use";
  const r = new Recorder();
  const c = r.consume(q, { tag: "plain" });
  assert.throws(() => r.consume(q, { exclusive: true, tag: "excl" }), inUse, "exclusive beside others");
  q.removeConsumer(c);
  const x = r.consume(q, { exclusive: true, tag: "excl" });
  assert.throws(() => r.consume(q, { tag: "other" }), inUse, "anything beside an exclusive one");
  q.removeConsumer(x);
  r.consume(q, { tag: "after" });
  assert.equal(q.consumerCount, 1);
});

test("x-single-active-consumer: one consumer gets everything; the next takes over when it leaves", () => {
  const v = vhost();
  const q = declare(v, "q", { "x-single-active-consumer": true });
  const first = new Recorder();
  const second = new Recorder();
  const c1 = first.consume(q, { prefetch: 10, tag: "first" });
  second.consume(q, { prefetch: 10, tag: "second" });
  for (let i = 1; i <= 4; i++) publish(v, "", "q", `m${i}`);
  assert.deepEqual([first.bodies(), second.bodies()], [["m1", "m2", "m3", "m4"], []]);
  first.ack([first.got[0]!]);
  // The channel closes: its consumers go first, then its unacked messages are requeued.
  q.removeConsumer(c1);
  q.requeue(first.got.slice(1), false);
  publish(v, "", "q", "m5");
  assert.deepEqual(second.flagged(), ["m2 true", "m3 true", "m4 true", "m5 false"]);
});

test("single active consumer with x-priority: no preemption; the highest priority takes over", () => {
  const v = vhost();
  const q = declare(v, "q", { "x-single-active-consumer": true });
  const [a, b, c] = [new Recorder(), new Recorder(), new Recorder()];
  const ca = a.consume(q, { noAck: true, args: { "x-priority": 1 } });
  b.consume(q, { noAck: true, args: { "x-priority": 1 } });
  c.consume(q, { noAck: true, args: { "x-priority": 5 } }); // higher, but "a" is already active
  publish(v, "", "q", "m1");
  q.removeConsumer(ca);
  publish(v, "", "q", "m2");
  assert.deepEqual([a.bodies(), b.bodies(), c.bodies()], [["m1"], [], ["m2"]]);
});

test("requeue: unacked messages of a dead consumer go back at the head in original order, redelivered", () => {
  const v = vhost();
  const q = declare(v, "q");
  for (let i = 0; i < 25; i++) publish(v, "", "q", `m${i}`);
  const dead = new Recorder();
  const c = dead.consume(q, { prefetch: 10 });
  assert.deepEqual(
    dead.bodies(),
    Array.from({ length: 10 }, (_, i) => `m${i}`),
  );
  assert.deepEqual([q.messageCount, q.consumerCount, q.unacked], [15, 1, 10]);
  q.removeConsumer(c);
  // Handed back in any order (a Map of delivery tags, a multiple nack): the queue sorts them.
  const shuffled = [...dead.got].sort((x, y) => ((x.seq * 7) % 10) - ((y.seq * 7) % 10));
  q.requeue(shuffled, false);
  assert.deepEqual([q.messageCount, q.consumerCount, q.unacked], [25, 0, 0]);
  const next = new Recorder();
  next.consume(q, { prefetch: 100 });
  assert.deepEqual(
    next.flagged(),
    Array.from({ length: 25 }, (_, i) => `m${i} ${i < 10}`),
  );
});

test("basic.recover-like requeue with the consumer still there redelivers a, b, c in order", () => {
  const v = vhost();
  const q = declare(v, "q");
  const r = new Recorder();
  r.consume(q);
  for (const s of ["a", "b", "c"]) publish(v, "", "q", s);
  q.requeue([r.got[2]!, r.got[0]!, r.got[1]!], true);
  assert.deepEqual(r.flagged(), ["a false", "b false", "c false", "a true", "b true", "c true"]);
  assert.deepEqual(
    r.got.map((d) => d.count),
    [0, 0, 0, 1, 1, 1],
  );
});

test("get: redelivered count grows with each requeue; reject drops; get-empty is undefined", () => {
  const v = vhost();
  const q = declare(v, "q");
  publish(v, "", "q", "x");
  const counts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const d = q.get(false)!;
    counts.push(d.count);
    assert.equal(q.unacked, 1);
    q.requeue([d], true);
  }
  assert.deepEqual(counts, [0, 1, 2]);
  q.reject(q.get(false)!);
  assert.deepEqual([q.messageCount, q.unacked], [0, 0]);
  assert.equal(q.get(false), undefined);
});

test("requeue onto a deleted queue drops the messages; consumers of a deleted queue are cancelled", () => {
  const v = vhost();
  const q = declare(v, "q");
  const r = new Recorder();
  r.consume(q, { tag: "c1" });
  publish(v, "", "q", "m");
  v.deleteQueue("q", false, false, OWNER);
  assert.deepEqual(r.cancelled, ["c1"]);
  q.requeue(r.got, false);
  assert.deepEqual([q.messageCount, q.unacked], [0, 0]);
});

// ---------------------------------------------------------------------------------------------
// Quorum queues

const QUORUM = { "x-queue-type": "quorum" };
const DURABLE = { durable: true };

/** x-delivery-count as a delivery of d would carry it, or undefined. */
const deliveryCount = (d: Delivered, get: boolean) =>
  num(decodeRawProperties(d.queue.deliveryProperties(d.msg, d.count, get)).headers?.["x-delivery-count"]);

test("quorum x-delivery-limit: x-delivery-count on redeliveries, then dead-lettered as delivery_limit", () => {
  const v = vhost();
  const dlq = dlxQueue(v);
  const q = declare(v, "q", { ...QUORUM, "x-delivery-limit": 2, "x-dead-letter-exchange": "dlx" }, DURABLE);
  const r = new Recorder();
  r.consume(q);
  publish(v, "", "q", "poison");
  for (let i = 0; i < 10 && dlq.messageCount === 0; i++) q.requeue([r.got.at(-1)!], true);
  assert.deepEqual(
    r.got.map((d) => [d.count > 0, deliveryCount(d, false)]),
    [
      [false, undefined],
      [true, 1],
      [true, 2],
    ],
  );
  const [dead] = drainAll(dlq);
  assert.equal(dead?.body.toString(), "poison");
  assert.deepEqual([deaths(dead!)[0]!.reason, deaths(dead!)[0]!.queue], ["delivery_limit", "q"]);
  assert.deepEqual([q.messageCount, q.unacked], [0, 0]);
});

test("quorum requeue position: returned go to the tail without a delivery limit, to the head with one or when the channel goes", () => {
  const v = vhost();
  const plain = declare(v, "plain", QUORUM, DURABLE);
  const limited = declare(v, "limited", { ...QUORUM, "x-delivery-limit": 5 }, DURABLE);
  const closing = declare(v, "closing", QUORUM, DURABLE);
  for (const q of [plain, limited, closing]) for (const b of ["m1", "m2", "m3"]) publish(v, "", q.name, b);
  const m1 = plain.get(false)!;
  const m2 = plain.get(false)!;
  plain.requeue([m2], true);
  plain.requeue([m1], true);
  limited.requeue([limited.get(false)!], true);
  closing.requeue([closing.get(false)!, closing.get(false)!], false);
  assert.deepEqual(bodies(plain), ["m3", "m2", "m1"]);
  assert.deepEqual(bodies(limited), ["m1", "m2", "m3"]);
  assert.deepEqual(bodies(closing), ["m1", "m2", "m3"]);
});

test("quorum x-overflow reject-publish-dlx falls back to drop-head (as in RabbitMQ 3.10)", () => {
  const v = vhost();
  const dlq = dlxQueue(v);
  const q = declare(
    v,
    "q",
    { ...QUORUM, "x-max-length": 1, "x-overflow": "reject-publish-dlx", "x-dead-letter-exchange": "dlx" },
    DURABLE,
  );
  assert.deepEqual(
    ["first", "second"].map((b) => publish(v, "", "q", b)),
    [PublishResult.ROUTED, PublishResult.ROUTED],
  );
  const [dead] = drainAll(dlq);
  assert.deepEqual([dead?.body.toString(), deaths(dead!)[0]!.reason], ["first", "maxlen"]);
  assert.deepEqual(bodies(q), ["second"]);
});

test("basic.get on a quorum queue always carries x-delivery-count, from 0; classic queues never", () => {
  const v = vhost();
  const q = declare(v, "q", QUORUM, DURABLE);
  publish(v, "", "q", "counted", { headers: { keep: "me" } });
  const seen: unknown[] = [];
  for (let i = 0; i < 3; i++) {
    const d = q.get(false)!;
    seen.push([d.count > 0, deliveryCount(d, true)]);
    q.requeue([d], true);
  }
  assert.deepEqual(seen, [
    [false, 0],
    [true, 1],
    [true, 2],
  ]);
  const d = q.get(false)!;
  assert.equal(
    decodeRawProperties(q.deliveryProperties(d.msg, d.count, true)).headers?.keep,
    "me",
    "other headers are kept",
  );
  const classic = declare(v, "classic");
  publish(v, "", "classic", "plain");
  const g = classic.get(false)!;
  classic.requeue([g], true);
  const again = classic.get(false)!;
  assert.equal(again.count, 1);
  assert.equal(classic.deliveryProperties(again.msg, again.count, true), again.msg.rawProps);
});
