// In-process tests of VHost semantics: routing through the default exchange, exchange-to-exchange
// bindings and alternate exchanges, what VHost.publish reports, declarations and their errors,
// exclusive queues, auto-delete and deletes. The expectations (reply codes and texts) are those
// interop/node/{behaviour,errors,queue-features}.test.mjs check over TCP, validated against
// RabbitMQ 3.10.8; here they run in milliseconds without a socket.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ChannelError, ConnectionError, type FieldTable, typed } from "@warren/protocol";
import { Message } from "./message.js";
import { Consumer, type ConsumerOwner } from "./queue/consumer.js";
import type { Queue } from "./queue/queue.js";
import { PublishResult, REPLY_TO } from "./vhost.js";
import { bodies, OWNER, publish, sleep, throwsAmqp, vhost } from "./vhost-testkit.js";

const OTHER = {};

/** A stand-in for the channel a consumer lives on: takes everything, records cancels. */
class Owner implements ConsumerOwner {
  readonly got: string[] = [];
  readonly cancelled: string[] = [];
  canDeliver(): boolean {
    return true;
  }
  deliver(c: Consumer, _q: Queue, msg: Message): boolean {
    this.got.push(msg.body.toString());
    return !c.noAck;
  }
  cancelledByServer(c: Consumer): void {
    this.cancelled.push(c.tag);
  }
  consume(q: Queue, tag: string, exclusive = false): Consumer {
    const c = new Consumer(tag, this, q, true, exclusive, 0, {}, q.consumerPriority(exclusive, {}));
    q.addConsumer(c);
    return c;
  }
}

// ---------------------------------------------------------------------------------------------
// Routing and PublishResult

test("default exchange routes by exact queue name; unroutable publishes report UNROUTED", () => {
  const v = vhost();
  const q = v.declareQueue("orders", {}, OWNER);
  assert.equal(publish(v, "", "orders", "via default"), PublishResult.ROUTED);
  assert.equal(publish(v, "", "orders.nope", "x"), PublishResult.UNROUTED);
  assert.equal(publish(v, "", "ORDERS", "x"), PublishResult.UNROUTED, "names are case-sensitive");
  assert.equal(publish(v, "amq.direct", "orders", "x"), PublishResult.UNROUTED, "no implicit binding");
  assert.equal(publish(v, "no-such-exchange", "orders", "x"), PublishResult.UNROUTED);
  const m = q.get(true)!.msg;
  assert.deepEqual([m.body.toString(), m.exchange, m.routingKey], ["via default", "", "orders"]);
  assert.equal(q.get(true), undefined);
});

test("exchange-to-exchange bindings deliver once per queue, even with several paths and cycles", () => {
  const v = vhost();
  v.declareExchange("x", "fanout", {});
  v.declareExchange("y", "fanout", {});
  v.declareExchange("z", "topic", {});
  const q1 = v.declareQueue("q1", {}, OWNER);
  const q2 = v.declareQueue("q2", {}, OWNER);
  v.bindExchange("y", "x", "", {});
  v.bindExchange("z", "x", "", {});
  v.bindQueue("q1", "x", "", {}, OWNER); // q1 is reachable via x, y and twice via z
  v.bindQueue("q1", "y", "", {}, OWNER);
  v.bindQueue("q1", "z", "#", {}, OWNER);
  v.bindQueue("q1", "z", "k", {}, OWNER);
  v.bindQueue("q2", "z", "k", {}, OWNER); // q2 only via x -> z
  publish(v, "x", "k", "once");
  publish(v, "x", "other", "q1 only");
  v.bindExchange("x", "y", "", {}); // a cycle x -> y -> x
  assert.equal(publish(v, "x", "k", "cycle"), PublishResult.ROUTED);
  assert.deepEqual(bodies(q1), ["once", "q1 only", "cycle"]);
  assert.deepEqual(bodies(q2), ["once", "cycle"]);
});

test("exchange-to-exchange: the destination exchange's own type filters; unbind and delete cut the path", () => {
  const v = vhost();
  v.declareExchange("src", "fanout", {});
  v.declareExchange("dst", "direct", {});
  const q = v.declareQueue("q", {}, OWNER);
  v.bindExchange("dst", "src", "", {});
  v.bindQueue("q", "dst", "k", {}, OWNER);
  assert.equal(publish(v, "src", "k", "m1"), PublishResult.ROUTED);
  assert.equal(publish(v, "src", "other", "x"), PublishResult.UNROUTED, "dst is direct: key must match");
  v.unbindExchange("dst", "src", "", {});
  assert.equal(publish(v, "src", "k", "x"), PublishResult.UNROUTED);
  v.bindExchange("dst", "src", "", {});
  assert.equal(publish(v, "src", "k", "m2"), PublishResult.ROUTED);
  v.deleteExchange("dst", false);
  assert.equal(v.getExchange("src").bindings.size, 0, "bindings to a deleted exchange go too");
  assert.equal(publish(v, "src", "k", "x"), PublishResult.UNROUTED);
  assert.deepEqual(bodies(q), ["m1", "m2"]);
  assert.equal(q.bindings.size, 0, "the queue's bindings from the deleted exchange are forgotten");
});

test("alternate exchanges: followed as a chain; AE-routed messages count as routed", () => {
  const v = vhost();
  v.declareExchange("last", "fanout", {});
  v.declareExchange("middle", "direct", { args: { "alternate-exchange": "last" } });
  v.declareExchange("first", "direct", { args: { "alternate-exchange": "middle" } });
  const qMain = v.declareQueue("main", {}, OWNER);
  const qMiddle = v.declareQueue("mid", {}, OWNER);
  const qAe = v.declareQueue("ae", {}, OWNER);
  v.bindQueue("main", "first", "known", {}, OWNER);
  v.bindQueue("mid", "middle", "mid", {}, OWNER);
  v.bindQueue("ae", "last", "", {}, OWNER);
  for (const [key, body] of [
    ["known", "direct-hit"],
    ["mid", "via-middle"],
    ["nowhere", "via-chain"],
  ])
    assert.equal(publish(v, "first", key!, body!), PublishResult.ROUTED, body);
  assert.deepEqual(bodies(qMain), ["direct-hit"]);
  assert.deepEqual(bodies(qMiddle), ["via-middle"]);
  assert.deepEqual(bodies(qAe), ["via-chain"]);
  // A routed message does not also go to the AE.
  assert.deepEqual(bodies(qAe), []);
});

test("an alternate-exchange loop or a missing AE ends routing: unroutable", () => {
  const v = vhost();
  v.declareExchange("a", "direct", { args: { "alternate-exchange": "b" } });
  v.declareExchange("b", "direct", { args: { "alternate-exchange": "a" } });
  v.declareExchange("dangling", "direct", { args: { "alternate-exchange": "missing" } });
  assert.equal(publish(v, "a", "x", "loop"), PublishResult.UNROUTED);
  assert.equal(publish(v, "dangling", "x", "dangling"), PublishResult.UNROUTED);
  // A loop back to an exchange that does route is still followed once.
  const q = v.declareQueue("q", {}, OWNER);
  v.bindQueue("q", "a", "ka", {}, OWNER);
  assert.equal(publish(v, "b", "ka", "b -> a"), PublishResult.ROUTED);
  assert.deepEqual(bodies(q), ["b -> a"]);
});

test("PERSISTED only for a persistent message taken by a durable queue", () => {
  const v = vhost();
  v.declareExchange("fan", "fanout", {});
  const durable = v.declareQueue("durable", { durable: true }, OWNER);
  const transient = v.declareQueue("transient", {}, OWNER);
  const { ROUTED, PERSISTED } = PublishResult;
  assert.equal(publish(v, "", "durable", "p", { deliveryMode: 2 }), ROUTED | PERSISTED);
  assert.equal(publish(v, "", "durable", "t", { deliveryMode: 1 }), ROUTED);
  assert.equal(publish(v, "", "durable", "none"), ROUTED);
  assert.equal(publish(v, "", "transient", "p", { deliveryMode: 2 }), ROUTED);
  v.bindQueue("durable", "fan", "", {}, OWNER);
  v.bindQueue("transient", "fan", "", {}, OWNER);
  assert.equal(publish(v, "fan", "", "both", { deliveryMode: 2 }), ROUTED | PERSISTED);
  assert.equal(publish(v, "fan", "", "both-transient"), ROUTED);
  assert.deepEqual(bodies(durable), ["p", "t", "none", "both", "both-transient"]);
  assert.deepEqual(bodies(transient), ["p", "both", "both-transient"]);
});

test("REJECTED when a reject-publish queue is full; the message still reaches the other queues", () => {
  const v = vhost();
  v.declareExchange("fan", "fanout", {});
  const limited = v.declareQueue(
    "limited",
    { durable: true, args: { "x-max-length": 2, "x-overflow": "reject-publish" } },
    OWNER,
  );
  const other = v.declareQueue("other", {}, OWNER);
  v.bindQueue("limited", "fan", "", {}, OWNER);
  v.bindQueue("other", "fan", "", {}, OWNER);
  const { ROUTED, PERSISTED, REJECTED } = PublishResult;
  assert.deepEqual(
    ["m1", "m2", "m3"].map((b) => publish(v, "fan", "", b)),
    [ROUTED, ROUTED, ROUTED | REJECTED],
  );
  // Persistent: a durable queue that refused it does not make it PERSISTED.
  assert.equal(publish(v, "fan", "", "m4", { deliveryMode: 2 }), ROUTED | REJECTED);
  assert.deepEqual(bodies(other), ["m1", "m2", "m3", "m4"]);
  assert.deepEqual(bodies(limited), ["m1", "m2"]);
  assert.equal(publish(v, "fan", "", "m5", { deliveryMode: 2 }), ROUTED | PERSISTED, "room again");
});

test("publishTarget: 404 for a missing exchange, 403 for an internal one (which still routes e2e)", () => {
  const v = vhost();
  throwsAmqp(() => v.publishTarget("missing"), ChannelError, 404, "no exchange 'missing' in vhost '/'");
  v.declareExchange("inner", "fanout", { internal: true });
  throwsAmqp(
    () => v.publishTarget("inner"),
    ChannelError,
    403,
    "cannot publish to internal exchange 'inner' in vhost '/'",
  );
  v.declareExchange("outer", "fanout", {});
  v.bindExchange("inner", "outer", "", {});
  const q = v.declareQueue("q", {}, OWNER);
  v.bindQueue("q", "inner", "", {}, OWNER);
  assert.equal(v.publishTarget("outer").name, "outer");
  assert.equal(publish(v, "outer", "", "via internal"), PublishResult.ROUTED);
  assert.deepEqual(bodies(q), ["via internal"]);
});

test("direct reply-to: the default exchange delivers amq.rabbitmq.reply-to.<key> to its target", () => {
  const v = vhost();
  const replies: string[] = [];
  const key = v.addReplyTarget({ deliverReply: (m) => replies.push(m.body.toString()) });
  assert.equal(publish(v, "", `${REPLY_TO}.${key}`, "reply"), PublishResult.ROUTED);
  assert.equal(publish(v, "", `${REPLY_TO}.unknown`, "lost"), PublishResult.UNROUTED);
  v.removeReplyTarget(key);
  assert.equal(v.hasReplyTarget(key), false);
  assert.equal(publish(v, "", `${REPLY_TO}.${key}`, "late"), PublishResult.UNROUTED);
  assert.deepEqual(replies, ["reply"]);
});

// ---------------------------------------------------------------------------------------------
// Declarations

test("server-named queues start with amq.gen-", () => {
  const v = vhost();
  const a = v.declareQueue("", { exclusive: true }, OWNER);
  const b = v.declareQueue("", { exclusive: true }, OWNER);
  assert.match(a.name, /^amq\.gen-[A-Za-z0-9_-]+$/);
  assert.notEqual(a.name, b.name);
  assert.equal(v.queues.get(a.name), a);
});

test("reserved amq.* names and the default exchange: 403 ACCESS_REFUSED with RabbitMQ's texts", () => {
  const v = vhost();
  throwsAmqp(
    () => v.declareExchange("amq.interop-new", "direct", {}),
    ChannelError,
    403,
    "exchange name 'amq.interop-new' contains reserved prefix 'amq.*'",
  );
  throwsAmqp(
    () => v.declareQueue("amq.interop-q", { exclusive: true }, OWNER),
    ChannelError,
    403,
    "queue name 'amq.interop-q' contains reserved prefix 'amq.*'",
  );
  throwsAmqp(
    () => v.deleteExchange("amq.direct", false),
    ChannelError,
    403,
    "deletion of system exchange 'amq.direct' in vhost '/' refused",
  );
  const dflt = "operation not permitted on the default exchange";
  v.declareQueue("q", {}, OWNER);
  throwsAmqp(() => v.declareExchange("", "direct", {}), ChannelError, 403, dflt);
  throwsAmqp(() => v.declareExchange("", "direct", { passive: true }), ChannelError, 403, dflt);
  throwsAmqp(() => v.deleteExchange("", false), ChannelError, 403, dflt);
  throwsAmqp(() => v.bindQueue("q", "", "q", {}, OWNER), ChannelError, 403, dflt);
  throwsAmqp(() => v.unbindQueue("q", "", "q", {}), ChannelError, 403, dflt);
  throwsAmqp(() => v.bindExchange("amq.direct", "", "k", {}), ChannelError, 403, dflt);
  assert.equal(v.exchanges.has("amq.interop-new"), false);
  assert.equal(v.queues.has("amq.interop-q"), false);
  assert.equal(v.declareExchange("amq.direct", "direct", { durable: true }).name, "amq.direct");
});

test("passive declares of missing queues and exchanges: 404 NOT_FOUND", () => {
  const v = vhost();
  throwsAmqp(
    () => v.declareQueue("missing", { passive: true }, OWNER),
    ChannelError,
    404,
    "no queue 'missing' in vhost '/'",
  );
  throwsAmqp(
    () => v.declareExchange("missing", "direct", { passive: true }),
    ChannelError,
    404,
    "no exchange 'missing' in vhost '/'",
  );
  throwsAmqp(
    () => v.bindQueue("missing", "amq.direct", "k", {}, OWNER),
    ChannelError,
    404,
    "no queue 'missing' in vhost '/'",
  );
  v.declareQueue("q", {}, OWNER);
  throwsAmqp(
    () => v.bindQueue("q", "missing", "k", {}, OWNER),
    ChannelError,
    404,
    "no exchange 'missing' in vhost '/'",
  );
  // A passive declare does not care about the other fields.
  assert.equal(v.declareQueue("q", { passive: true, durable: true }, OWNER).name, "q");
  assert.equal(v.declareExchange("amq.topic", "fanout", { passive: true }).type, "topic");
});

test("an unknown exchange type is a connection error 503", () => {
  const v = vhost();
  throwsAmqp(
    () => v.declareExchange("x", "no-such-type", {}),
    ConnectionError,
    503,
    "invalid exchange type 'no-such-type'",
  );
  assert.equal(v.exchanges.has("x"), false);
});

test("exchange redeclare: type, flags and alternate-exchange must match (406, RabbitMQ's texts)", () => {
  const v = vhost();
  v.declareExchange("x", "direct", { args: { "alternate-exchange": "ae-one", "x-custom": 1 } });
  const where = "for exchange 'x' in vhost '/'";
  // Other arguments are ignored.
  v.declareExchange("x", "direct", { args: { "alternate-exchange": "ae-one", "x-custom": 2 } });
  throwsAmqp(
    () => v.declareExchange("x", "fanout", { args: { "alternate-exchange": "ae-one" } }),
    ChannelError,
    406,
    `inequivalent arg 'type' ${where}: received 'fanout' but current is 'direct'`,
  );
  throwsAmqp(
    () => v.declareExchange("x", "direct", { durable: true, args: { "alternate-exchange": "ae-one" } }),
    ChannelError,
    406,
    `inequivalent arg 'durable' ${where}: received 'true' but current is 'false'`,
  );
  throwsAmqp(
    () => v.declareExchange("x", "direct", { args: { "alternate-exchange": "ae-two" } }),
    ChannelError,
    406,
    `inequivalent arg 'alternate-exchange' ${where}: received 'ae-two' but current is 'ae-one'`,
  );
  throwsAmqp(
    () => v.declareExchange("x", "direct", {}),
    ChannelError,
    406,
    `inequivalent arg 'alternate-exchange' ${where}: received none but current is the value 'ae-one' of type 'longstr'`,
  );
  throwsAmqp(
    () => v.declareExchange("bad-ae", "direct", { args: { "alternate-exchange": typed.byte(5) } }),
    ChannelError,
    406,
    "invalid type 'byte' for arg 'alternate-exchange' in exchange 'bad-ae' in vhost '/'",
  );
  assert.equal(v.exchanges.has("bad-ae"), false);
});

test("queue redeclare: durable / auto_delete 406; a different exclusive flag is 405 RESOURCE_LOCKED", () => {
  const v = vhost();
  v.declareQueue("q", {}, OWNER);
  throwsAmqp(
    () => v.declareQueue("q", { durable: true }, OWNER),
    ChannelError,
    406,
    "inequivalent arg 'durable' for queue 'q' in vhost '/': received 'true' but current is 'false'",
  );
  throwsAmqp(
    () => v.declareQueue("q", { autoDelete: true }, OWNER),
    ChannelError,
    406,
    "inequivalent arg 'auto_delete' for queue 'q' in vhost '/': received 'true' but current is 'false'",
  );
  const locked = (name: string) =>
    `cannot obtain exclusive access to locked queue '${name}' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.`;
  // Even from the same owner, in both directions.
  throwsAmqp(() => v.declareQueue("q", { exclusive: true }, OWNER), ChannelError, 405, locked("q"));
  v.declareQueue("qx", { exclusive: true }, OWNER);
  throwsAmqp(() => v.declareQueue("qx", {}, OWNER), ChannelError, 405, locked("qx"));
  assert.equal(v.declareQueue("q", {}, OWNER).name, "q", "an identical redeclare is fine");
});

test("queue redeclare equivalence: only known arguments count, integer types compare by value", () => {
  const v = vhost();
  v.declareQueue(
    "q",
    { args: { "x-message-ttl": typed.short(1000), "x-max-length": 10, "x-custom": "a" } },
    OWNER,
  );
  v.declareQueue(
    "q",
    {
      args: {
        "x-message-ttl": typed.long(1000),
        "x-max-length": 10,
        "x-custom": "b",
        "x-other": true,
        "x-queue-type": "classic",
      },
    },
    OWNER,
  );
  const where = "for queue 'q' in vhost '/'";
  const cases: [FieldTable, string][] = [
    [
      { "x-message-ttl": 2000, "x-max-length": 10 },
      `inequivalent arg 'x-message-ttl' ${where}: received '2000' but current is '1000'`,
    ],
    [
      { "x-max-length": 10 },
      `inequivalent arg 'x-message-ttl' ${where}: received none but current is the value '1000' of type 'short'`,
    ],
    [
      { "x-message-ttl": 1000, "x-max-length": 10, "x-overflow": "reject-publish" },
      `inequivalent arg 'x-overflow' ${where}: received the value 'reject-publish' of type 'longstr' but current is none`,
    ],
    [
      { "x-message-ttl": "1000", "x-max-length": 10 },
      `inequivalent arg 'x-message-ttl' ${where}: received '1000' but current is '1000'`,
    ],
  ];
  for (const [args, text] of cases)
    throwsAmqp(() => v.declareQueue("q", { args }, OWNER), ChannelError, 406, text);
});

test("queue arguments are validated at declare time: 406 with RabbitMQ's texts, nothing created", () => {
  const v = vhost();
  const cases: [FieldTable, string][] = [
    [
      { "x-max-priority": 256 },
      "invalid arg 'x-max-priority' for queue 'q' in vhost '/': {max_value_exceeded,256}",
    ],
    [
      { "x-max-priority": -1 },
      "invalid arg 'x-max-priority' for queue 'q' in vhost '/': {value_negative,-1}",
    ],
    [
      { "x-max-priority": "10" },
      `invalid arg 'x-max-priority' for queue 'q' in vhost '/': "expected integer, got longstr"`,
    ],
    [{ "x-message-ttl": -1 }, "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_negative,-1}"],
    [
      { "x-message-ttl": 1.5 },
      `invalid arg 'x-message-ttl' for queue 'q' in vhost '/': "expected integer, got double"`,
    ],
    [
      { "x-message-ttl": typed.long(315360000001) },
      "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_too_large,315360000001}",
    ],
    [{ "x-expires": 0 }, "invalid arg 'x-expires' for queue 'q' in vhost '/': {value_zero,0}"],
    [{ "x-max-length": -1 }, "invalid arg 'x-max-length' for queue 'q' in vhost '/': {value_negative,-1}"],
    [
      { "x-max-length-bytes": true },
      `invalid arg 'x-max-length-bytes' for queue 'q' in vhost '/': "expected integer, got bool"`,
    ],
    [{ "x-overflow": "bogus" }, "invalid arg 'x-overflow' for queue 'q' in vhost '/': invalid_overflow"],
    [
      { "x-overflow": typed.byte(1) },
      "invalid arg 'x-overflow' for queue 'q' in vhost '/': {unacceptable_type,byte}",
    ],
    [
      { "x-dead-letter-exchange": typed.byte(5) },
      "invalid type 'byte' for arg 'x-dead-letter-exchange' in queue 'q' in vhost '/'",
    ],
    [
      { "x-dead-letter-routing-key": "rk" },
      "invalid arg 'x-dead-letter-routing-key' for queue 'q' in vhost '/': routing_key_but_no_dlx_defined",
    ],
    [
      { "x-single-active-consumer": "yes" },
      "invalid arg 'x-single-active-consumer' for queue 'q' in vhost '/': {unacceptable_type,longstr}",
    ],
    [
      { "x-queue-type": "bogus" },
      `invalid arg 'x-queue-type' for queue 'q' in vhost '/': "unsupported queue type 'bogus'"`,
    ],
    [
      { "x-delivery-limit": 3 },
      "invalid arg 'x-delivery-limit' for queue 'q' in vhost '/' of queue type rabbit_classic_queue",
    ],
  ];
  for (const [args, text] of cases) {
    throwsAmqp(() => v.declareQueue("q", { args }, OWNER), ChannelError, 406, text);
    assert.equal(v.queues.has("q"), false, text);
  }
  const quorum = { "x-queue-type": "quorum" };
  throwsAmqp(
    () => v.declareQueue("q", { args: quorum }, OWNER),
    ChannelError,
    406,
    "invalid property 'non-durable' for queue 'q' in vhost '/'",
  );
  throwsAmqp(
    () => v.declareQueue("q", { durable: true, exclusive: true, args: quorum }, OWNER),
    ChannelError,
    406,
    "invalid property 'exclusive-owner' for queue 'q' in vhost '/'",
  );
  throwsAmqp(
    () => v.declareQueue("q", { durable: true, args: { ...quorum, "x-max-priority": 5 } }, OWNER),
    ChannelError,
    406,
    "invalid arg 'x-max-priority' for queue 'q' in vhost '/' of queue type rabbit_quorum_queue",
  );
  assert.equal(v.queues.size, 0);
  // Edges of the ranges and unknown arguments are accepted.
  for (const args of [
    { "x-max-priority": 0 },
    { "x-max-priority": 255 },
    { "x-message-ttl": 0 },
    { "x-max-length": 0 },
    { "x-expires": 1 },
    { "x-overflow": "reject-publish-dlx" },
    { "x-no-such-argument": "whatever" },
  ] as FieldTable[]) {
    const name = `ok-${Object.keys(args)[0]}-${String(Object.values(args)[0])}`;
    assert.equal(v.declareQueue(name, { args }, OWNER).name, name);
  }
});

// ---------------------------------------------------------------------------------------------
// Exclusive queues, auto-delete, deletes

test("exclusive queue: 405 RESOURCE_LOCKED for another owner; publish and unbind still allowed", () => {
  const v = vhost();
  const q = v.declareQueue("excl", { exclusive: true }, OWNER);
  const text =
    "cannot obtain exclusive access to locked queue 'excl' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.";
  for (const [what, fn] of [
    ["passive declare", () => v.declareQueue("excl", { passive: true }, OTHER)],
    ["declare", () => v.declareQueue("excl", { exclusive: true }, OTHER)],
    ["get/consume lookup", () => v.getQueue("excl", OTHER)],
    ["purge", () => v.purgeQueue("excl", OTHER)],
    ["delete", () => v.deleteQueue("excl", false, false, OTHER)],
    ["bind", () => v.bindQueue("excl", "amq.direct", "k", {}, OTHER)],
  ] as const) {
    assert.throws(fn, (e: unknown) => e instanceof ChannelError && e.code === 405 && e.text === text, what);
  }
  assert.equal(v.getQueue("excl", OWNER), q);
  v.bindQueue("excl", "amq.direct", "k", {}, OWNER);
  v.unbindQueue("excl", "amq.direct", "k", {}); // from anywhere, as RabbitMQ
  assert.equal(publish(v, "", "excl", "from outside"), PublishResult.ROUTED);
  assert.deepEqual(bodies(q), ["from outside"]);
});

test("exclusive queues die with their owner, and only theirs", () => {
  const v = vhost();
  const owner = new Owner();
  const mine = v.declareQueue("mine", { exclusive: true }, OWNER);
  v.declareQueue("theirs", { exclusive: true }, OTHER);
  v.declareQueue("shared", {}, OWNER);
  v.bindQueue("mine", "amq.fanout", "", {}, OWNER);
  owner.consume(mine, "c1");
  v.removeExclusiveQueues(OWNER);
  assert.deepEqual([...v.queues.keys()].sort(), ["shared", "theirs"]);
  assert.equal(mine.deleted, true);
  assert.deepEqual(owner.cancelled, ["c1"]);
  assert.equal(v.getExchange("amq.fanout").bindings.size, 0);
  assert.equal(publish(v, "amq.fanout", "", "x"), PublishResult.UNROUTED);
});

test("auto-delete queue: kept until it had a consumer, removed after the last consumer leaves", () => {
  const v = vhost();
  const q = v.declareQueue("ad", { autoDelete: true }, OWNER);
  v.bindQueue("ad", "amq.direct", "k", {}, OWNER);
  const owner = new Owner();
  const c1 = owner.consume(q, "c1");
  const c2 = owner.consume(q, "c2");
  q.removeConsumer(c1);
  assert.equal(v.queues.get("ad"), q, "one consumer left");
  q.removeConsumer(c2);
  assert.equal(v.queues.has("ad"), false);
  assert.equal(q.deleted, true);
  assert.equal(publish(v, "amq.direct", "k", "x"), PublishResult.UNROUTED, "its bindings went with it");

  // Removing consumers in one batch (a channel closing) deletes it too.
  const q2 = v.declareQueue("ad2", { autoDelete: true }, OWNER);
  const batch = new Set([owner.consume(q2, "a"), owner.consume(q2, "b")]);
  q2.removeConsumers(batch);
  assert.equal(v.queues.has("ad2"), false);

  // Never consumed: it stays.
  v.declareQueue("ad3", { autoDelete: true }, OWNER);
  assert.equal(v.queues.has("ad3"), true);
});

test("auto-delete exchange: removed when its last binding goes", () => {
  const v = vhost();
  v.declareExchange("adx", "fanout", { autoDelete: true });
  v.declareQueue("q1", {}, OWNER);
  v.declareQueue("q2", {}, OWNER);
  v.bindQueue("q1", "adx", "", {}, OWNER);
  v.bindQueue("q2", "adx", "", {}, OWNER);
  v.unbindQueue("q1", "adx", "", {});
  assert.equal(v.exchanges.has("adx"), true);
  v.deleteQueue("q2", false, false, OWNER); // its binding goes with it
  assert.equal(v.exchanges.has("adx"), false);
});

test("queue.delete if-unused / if-empty: 406; counts; consumers cancelled; missing is not an error", () => {
  const v = vhost();
  const q = v.declareQueue("q", {}, OWNER);
  publish(v, "", "q", "keep");
  throwsAmqp(
    () => v.deleteQueue("q", false, true, OWNER),
    ChannelError,
    406,
    "queue 'q' in vhost '/' not empty",
  );
  const owner = new Owner();
  owner.consume(q, "c1");
  assert.deepEqual(owner.got, ["keep"]);
  throwsAmqp(
    () => v.deleteQueue("q", true, false, OWNER),
    ChannelError,
    406,
    "queue 'q' in vhost '/' in use",
  );
  assert.equal(v.queues.has("q"), true);
  assert.equal(v.deleteQueue("q", false, false, OWNER), 0);
  assert.deepEqual(owner.cancelled, ["c1"], "consumers of a deleted queue are cancelled");
  assert.equal(v.deleteQueue("never-declared", true, true, OWNER), 0);

  const q2 = v.declareQueue("q2", {}, OWNER);
  for (let i = 0; i < 5; i++) publish(v, "", "q2", `m${i}`);
  assert.equal(q2.messageCount, 5);
  assert.equal(q2.get(true)?.msg.body.toString(), "m0");
  assert.equal(v.purgeQueue("q2", OWNER), 4);
  assert.equal(q2.get(true), undefined);
  for (let i = 0; i < 3; i++) publish(v, "", "q2", `n${i}`);
  assert.equal(v.deleteQueue("q2", false, false, OWNER), 3, "delete reports the ready count");
  assert.equal(publish(v, "", "q2", "gone"), PublishResult.UNROUTED);
});

test("exchange.delete if-unused: only bindings where it is the source count; missing is not an error", () => {
  const v = vhost();
  v.declareExchange("x", "direct", {});
  v.declareExchange("dest", "fanout", {});
  v.declareQueue("q", {}, OWNER);
  v.bindQueue("q", "x", "k", {}, OWNER);
  throwsAmqp(() => v.deleteExchange("x", true), ChannelError, 406, "exchange 'x' in vhost '/' in use");
  v.bindExchange("dest", "x", "k", {});
  v.deleteExchange("dest", true); // merely a destination: unused
  assert.equal(v.exchanges.has("dest"), false);
  v.unbindQueue("q", "x", "k", {});
  v.unbindQueue("q", "x", "never-bound", {});
  v.deleteExchange("x", true);
  assert.equal(v.exchanges.has("x"), false);
  v.deleteExchange("never-declared", true);
});

test("x-expires: an unused queue is deleted; a passive declare restarts the clock, a consumer holds it", async () => {
  const v = vhost();
  // Margins of 150 ms and more: timers run late on a loaded machine.
  const q = v.declareQueue("exp", { args: { "x-expires": 500 } }, OWNER);
  await sleep(200);
  v.declareQueue("exp", { passive: true }, OWNER);
  await sleep(350);
  assert.equal(v.queues.get("exp"), q, "touched at 200 ms: kept past 500 ms");
  const owner = new Owner();
  const c = owner.consume(q, "c");
  await sleep(550);
  assert.equal(v.queues.get("exp"), q, "a consumer keeps it");
  q.removeConsumer(c);
  await waitFor(() => !v.queues.has("exp"), 1000);
  assert.equal(q.deleted, true);
});

test("durable definition changes notify the listener; transient ones do not", () => {
  const v = vhost();
  let calls = 0;
  v.onDefinitionsChanged = () => calls++;
  v.declareQueue("t", {}, OWNER);
  v.declareExchange("tx", "fanout", {});
  v.bindQueue("t", "tx", "", {}, OWNER);
  assert.equal(calls, 0);
  v.declareQueue("d", { durable: true }, OWNER);
  v.declareExchange("dx", "fanout", { durable: true });
  v.bindQueue("d", "dx", "", {}, OWNER);
  v.bindQueue("t", "dx", "", {}, OWNER); // transient queue: not a durable binding
  assert.equal(calls, 3);
  assert.equal(v.definitionsVersion, 3);
  v.deleteQueue("d", false, false, OWNER);
  assert.ok(calls > 3);
});

async function waitFor(pred: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(5);
  }
}
