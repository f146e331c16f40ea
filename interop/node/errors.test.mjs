// Error semantics of RabbitMQ 3.x that Warren must reproduce: for each misuse, which reply code
// comes back, whether it closes just the channel (channel.close) or the whole connection
// (connection.close), which class/method the server blames, the "NAME - explanation" reply
// text, and that everything not at fault keeps working afterwards.
//
// Channel exceptions are provoked through amqplib (which exposes code/classId/methodId);
// things no client library will send go through the raw-socket helper in raw-amqp.mjs.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import amqp from "amqplib";
import { startBroker } from "../lib/broker.mjs";
import {
  amqplibClose,
  assertAmqplibWorks,
  assertClose,
  sleep,
  uid,
  waitFor,
  withTimeout,
} from "./helpers.mjs";
import { handshake, M, PROTOCOL_HEADER, sendHeader, Writer } from "./raw-amqp.mjs";

let broker;
/** One long-lived amqplib connection; channel errors must never take it down. */
let conn;
const connErrors = [];

before(async () => {
  broker = await startBroker();
  conn = await amqp.connect(broker.url);
  conn.on("error", (e) => connErrors.push(e));
  conn.on("close", () => connErrors.push(new Error("shared connection closed")));
});

after(async () => {
  await conn?.close().catch(() => {});
  await broker?.stop();
});

const target = () => ({ host: broker.host, port: broker.port });

/**
 * Runs fn on a fresh amqplib channel and expects the server to close that channel (and only
 * that channel). Returns the decoded channel.close after checking the connection still works.
 */
async function channelError(fn, onConn = conn) {
  const ch = await onConn.createChannel();
  const closed = new Promise((resolve) => ch.once("error", resolve));
  await fn(ch).catch(() => {}); // a pending RPC rejects with the same close; the event has it all
  const close = amqplibClose(await withTimeout(closed, 3000, "channel.close"));
  assert.deepEqual(connErrors, [], "the connection must survive a channel exception");
  await assertAmqplibWorks(onConn);
  return close;
}

/** Opens a raw connection with channel 1 open. */
async function rawOpen() {
  const r = await handshake(target());
  assert.ok(r.openOk, `handshake failed: ${JSON.stringify(r.close)}`);
  await r.conn.openChannel(1);
  return r.conn;
}

/**
 * Raw connection with channel 1 open; act() misbehaves; expects connection.close on channel 0,
 * answers close-ok, expects the socket to be closed, and checks other connections still work.
 */
async function rawConnectionError(act) {
  const raw = await rawOpen();
  try {
    await act(raw);
    const f = await raw.expect(M.connectionClose, M.channelClose);
    assert.equal(
      f.channel,
      0,
      `expected a connection exception, got channel.close ${JSON.stringify(f.close)}`,
    );
    raw.closeOk(0);
    await raw.waitClosed();
    await assertAmqplibWorks(conn);
    return f.close;
  } finally {
    raw.destroy();
  }
}

/**
 * Raw connection; act() misbehaves on channel 1; expects channel.close on channel 1 only, answers
 * close-ok, then proves the same connection still works: channel 1 can be reopened and a publish
 * + get round-trips on channel 2.
 */
async function rawChannelError(act) {
  const raw = await rawOpen();
  try {
    await act(raw);
    const f = await raw.expect(M.connectionClose, M.channelClose);
    assert.equal(f.channel, 1, `expected channel.close on channel 1, got ${JSON.stringify(f.close)}`);
    raw.closeOk(1);
    await raw.openChannel(1);
    await raw.openChannel(2);
    const q = await raw.declareQueue(2);
    raw.publish(2, { routingKey: q, body: "still alive" });
    let got = null;
    await waitFor(async () => (got = await raw.get(2, q)), 2000, "basic.get-ok");
    assert.equal(got.body.toString(), "still alive");
    return f.close;
  } finally {
    raw.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Not-implemented features: RabbitMQ treats all of these as hard (connection) errors, 540.

test("basic.publish immediate=true -> 540 NOT_IMPLEMENTED, connection exception, 60/40", async () => {
  const close = await rawConnectionError(async (raw) => {
    raw.publish(1, { exchange: "amq.direct", routingKey: "x", immediate: true, body: "now" });
  });
  assertClose(close, { code: 540, name: "NOT_IMPLEMENTED", classId: 60, methodId: 40 });
  assert.equal(close.text, "NOT_IMPLEMENTED - immediate=true");
});

test("basic.qos prefetch_size != 0 -> 540 NOT_IMPLEMENTED, connection exception, 60/10", async () => {
  const close = await rawConnectionError(async (raw) => {
    raw.method(1, M.basicQos, new Writer().long(1000).short(10).bits(false));
  });
  assertClose(close, { code: 540, name: "NOT_IMPLEMENTED", classId: 60, methodId: 10 });
});

test("channel.flow active=false -> 540 NOT_IMPLEMENTED, connection exception, 20/20", async () => {
  const close = await rawConnectionError(async (raw) => {
    raw.method(1, M.channelFlow, new Writer().bits(false));
  });
  assertClose(close, { code: 540, name: "NOT_IMPLEMENTED", classId: 20, methodId: 20 });
});

test("channel.flow active=true is accepted (flow-ok active=true)", async () => {
  const raw = await rawOpen();
  try {
    raw.method(1, M.channelFlow, new Writer().bits(true));
    const ok = await raw.expect(M.channelFlowOk);
    assert.equal(ok.args.readUInt8(0) & 1, 1);
  } finally {
    raw.destroy();
  }
});

test("basic.recover requeue=false -> 540 NOT_IMPLEMENTED, connection exception, 60/110", async () => {
  const close = await rawConnectionError(async (raw) => {
    raw.method(1, M.basicRecover, new Writer().bits(false));
  });
  assertClose(close, { code: 540, name: "NOT_IMPLEMENTED", classId: 60, methodId: 110 });
});

// ---------------------------------------------------------------------------------------------
// Channel / consumer misuse

test("second channel.open on an open channel -> 504 CHANNEL_ERROR, connection exception, 20/10", async () => {
  const close = await rawConnectionError(async (raw) => {
    raw.method(1, M.channelOpen, new Writer().shortstr(""));
  });
  assertClose(close, { code: 504, name: "CHANNEL_ERROR", classId: 20, methodId: 10 });
});

test("reusing a consumer tag on a channel -> 530 NOT_ALLOWED, connection exception, 60/20", async () => {
  const close = await rawConnectionError(async (raw) => {
    const q = await raw.declareQueue(1);
    const consume = () =>
      raw.method(
        1,
        M.basicConsume,
        new Writer().short(0).shortstr(q).shortstr("dup-tag").bits(false).table({}),
      );
    consume();
    await raw.expect(M.basicConsumeOk);
    consume();
  });
  assertClose(close, { code: 530, name: "NOT_ALLOWED", classId: 60, methodId: 20 });
});

test("basic.ack of an unknown delivery tag -> 406 PRECONDITION_FAILED, channel exception, 60/80", async () => {
  const close = await channelError(async (ch) => {
    ch.ack({ fields: { deliveryTag: 999 } });
  });
  assertClose(close, { code: 406, name: "PRECONDITION_FAILED", classId: 60, methodId: 80 });
  assert.equal(close.text, "PRECONDITION_FAILED - unknown delivery tag 999");
});

test("acking the same delivery twice -> 406 PRECONDITION_FAILED, channel exception, 60/80", async () => {
  const close = await channelError(async (ch) => {
    const { queue } = await ch.assertQueue("", { exclusive: true });
    ch.sendToQueue(queue, Buffer.from("once"));
    let msg = false;
    while (!msg) msg = await ch.get(queue);
    ch.ack(msg);
    ch.ack(msg);
  });
  assertClose(close, { code: 406, name: "PRECONDITION_FAILED", classId: 60, methodId: 80 });
});

test("confirm.select on a tx channel -> 406 PRECONDITION_FAILED, channel exception, 85/10", async () => {
  const close = await rawChannelError(async (raw) => {
    raw.method(1, M.txSelect);
    await raw.expect(M.txSelectOk);
    raw.method(1, M.confirmSelect, new Writer().bits(false));
  });
  assertClose(close, { code: 406, name: "PRECONDITION_FAILED", classId: 85, methodId: 10 });
});

test("tx.select on a confirm channel -> 406 PRECONDITION_FAILED, channel exception, 90/10", async () => {
  const close = await rawChannelError(async (raw) => {
    raw.method(1, M.confirmSelect, new Writer().bits(false));
    await raw.expect(M.confirmSelectOk);
    raw.method(1, M.txSelect);
  });
  assertClose(close, { code: 406, name: "PRECONDITION_FAILED", classId: 90, methodId: 10 });
});

// ---------------------------------------------------------------------------------------------
// Declarations

test("queue.declare passive on a missing queue -> 404 NOT_FOUND, channel exception, 50/10", async () => {
  const q = uid("missing");
  const close = await channelError((ch) => ch.checkQueue(q));
  assertClose(close, { code: 404, name: "NOT_FOUND", classId: 50, methodId: 10 });
  // Reply text format: "NAME - explanation"; RabbitMQ's exact wording for this case:
  assert.equal(close.text, `NOT_FOUND - no queue '${q}' in vhost '/'`);
});

test("exchange.declare passive on a missing exchange -> 404 NOT_FOUND, channel exception, 40/10", async () => {
  const x = uid("missing");
  const close = await channelError((ch) => ch.checkExchange(x));
  assertClose(close, { code: 404, name: "NOT_FOUND", classId: 40, methodId: 10 });
  assert.equal(close.text, `NOT_FOUND - no exchange '${x}' in vhost '/'`);
});

test("exchange.declare with a different type -> 406 PRECONDITION_FAILED, channel exception, 40/10", async () => {
  const x = uid("x");
  const ch = await conn.createChannel();
  await ch.assertExchange(x, "direct", { durable: false, autoDelete: false });
  try {
    const close = await channelError((c) => c.assertExchange(x, "fanout", { durable: false }));
    assertClose(close, { code: 406, name: "PRECONDITION_FAILED", classId: 40, methodId: 10 });
    assert.match(close.text, /inequivalent arg 'type'/);
    // same type + same flags is fine
    await ch.assertExchange(x, "direct", { durable: false, autoDelete: false });
  } finally {
    await ch.deleteExchange(x);
    await ch.close();
  }
});

test("queue redeclare with different durable / auto_delete -> 406, exclusive -> 405 (channel)", async () => {
  const q = uid("q");
  const ch = await conn.createChannel();
  await ch.assertQueue(q, { durable: false, autoDelete: false, exclusive: false });
  try {
    let close = await channelError((c) => c.assertQueue(q, { durable: true, autoDelete: false }));
    assertClose(close, { code: 406, name: "PRECONDITION_FAILED", classId: 50, methodId: 10 });
    assert.match(close.text, /inequivalent arg 'durable'/);

    close = await channelError((c) => c.assertQueue(q, { durable: false, autoDelete: true }));
    assertClose(close, { code: 406, name: "PRECONDITION_FAILED", classId: 50, methodId: 10 });
    assert.match(close.text, /inequivalent arg 'auto_delete'/);

    // RabbitMQ deviation from "406 for every mismatch": a different exclusive flag is reported
    // as 405 RESOURCE_LOCKED ("cannot obtain exclusive access to locked queue"), even from the
    // same connection, in both directions.
    close = await channelError((c) =>
      c.assertQueue(q, { durable: false, autoDelete: false, exclusive: true }),
    );
    assertClose(close, { code: 405, name: "RESOURCE_LOCKED", classId: 50, methodId: 10 });

    const qx = uid("qx");
    const own = await conn.createChannel();
    await own.assertQueue(qx, { durable: false, exclusive: true });
    close = await channelError((c) => c.assertQueue(qx, { durable: false, exclusive: false }));
    assertClose(close, { code: 405, name: "RESOURCE_LOCKED", classId: 50, methodId: 10 });
    await own.deleteQueue(qx);
    await own.close();

    // identical redeclare is fine and reports the queue
    const ok = await ch.assertQueue(q, { durable: false, autoDelete: false });
    assert.equal(ok.queue, q);
  } finally {
    await ch.deleteQueue(q);
    await ch.close();
  }
});

test("declaring a new exchange named amq.* -> 403 ACCESS_REFUSED, channel exception, 40/10", async () => {
  const close = await channelError((ch) =>
    ch.assertExchange("amq.interop-new", "direct", { durable: false }),
  );
  assertClose(close, { code: 403, name: "ACCESS_REFUSED", classId: 40, methodId: 10 });
  assert.equal(
    close.text,
    "ACCESS_REFUSED - exchange name 'amq.interop-new' contains reserved prefix 'amq.*'",
  );
});

test("declaring a queue named amq.* -> 403 ACCESS_REFUSED, channel exception, 50/10", async () => {
  const close = await channelError((ch) => ch.assertQueue("amq.interop-q", { exclusive: true }));
  assertClose(close, { code: 403, name: "ACCESS_REFUSED", classId: 50, methodId: 10 });
});

test("redeclaring an existing amq.* exchange with matching type/flags is allowed", async () => {
  const ch = await conn.createChannel();
  const ok = await ch.assertExchange("amq.direct", "direct", { durable: true });
  assert.equal(ok.exchange, "amq.direct");
  await ch.close();
});

// ---------------------------------------------------------------------------------------------
// The default exchange and system exchanges

test("queue.bind / queue.unbind on the default exchange -> 403 ACCESS_REFUSED, channel, 50/20 & 50/50", async () => {
  const q = uid("q");
  const ch = await conn.createChannel();
  await ch.assertQueue(q, { durable: false, autoDelete: false });
  try {
    let close = await channelError((c) => c.bindQueue(q, "", q));
    assertClose(close, { code: 403, name: "ACCESS_REFUSED", classId: 50, methodId: 20 });
    assert.equal(close.text, "ACCESS_REFUSED - operation not permitted on the default exchange");
    close = await channelError((c) => c.unbindQueue(q, "", q));
    assertClose(close, { code: 403, name: "ACCESS_REFUSED", classId: 50, methodId: 50 });
  } finally {
    await ch.deleteQueue(q);
    await ch.close();
  }
});

test("exchange.delete of the default exchange -> 403 ACCESS_REFUSED, channel, 40/20", async () => {
  const close = await channelError((ch) => ch.deleteExchange(""));
  assertClose(close, { code: 403, name: "ACCESS_REFUSED", classId: 40, methodId: 20 });
  assert.equal(close.text, "ACCESS_REFUSED - operation not permitted on the default exchange");
});

test("exchange.delete of amq.direct -> 403 ACCESS_REFUSED, channel, 40/20", async () => {
  const close = await channelError((ch) => ch.deleteExchange("amq.direct"));
  assertClose(close, { code: 403, name: "ACCESS_REFUSED", classId: 40, methodId: 20 });
});

test("exchange.declare of the default exchange, even passive -> 403 ACCESS_REFUSED, channel, 40/10", async () => {
  // RabbitMQ refuses every exchange.declare naming "" (passive included), not only redeclaration.
  let close = await channelError((ch) => ch.assertExchange("", "direct"));
  assertClose(close, { code: 403, name: "ACCESS_REFUSED", classId: 40, methodId: 10 });
  close = await channelError((ch) => ch.checkExchange(""));
  assertClose(close, { code: 403, name: "ACCESS_REFUSED", classId: 40, methodId: 10 });
});

// ---------------------------------------------------------------------------------------------
// Publishing

test("publish to an internal exchange -> 403 ACCESS_REFUSED, channel exception, 60/40", async () => {
  const x = uid("internal");
  const ch = await conn.createChannel();
  await ch.assertExchange(x, "fanout", { durable: false, internal: true });
  try {
    const close = await channelError(async (c) => {
      c.publish(x, "", Buffer.from("nope"));
    });
    assertClose(close, { code: 403, name: "ACCESS_REFUSED", classId: 60, methodId: 40 });
    assert.equal(close.text, `ACCESS_REFUSED - cannot publish to internal exchange '${x}' in vhost '/'`);
  } finally {
    await ch.deleteExchange(x);
    await ch.close();
  }
});

test("publish to a missing exchange -> 404 NOT_FOUND, channel exception, 60/40", async () => {
  const x = uid("missing");
  const close = await channelError(async (ch) => {
    ch.publish(x, "", Buffer.from("nope"));
  });
  assertClose(close, { code: 404, name: "NOT_FOUND", classId: 60, methodId: 40 });
  assert.equal(close.text, `NOT_FOUND - no exchange '${x}' in vhost '/'`);
});

test("publish with a user-id other than the authenticated user -> 406 PRECONDITION_FAILED, channel, 60/40", async () => {
  const close = await channelError(async (ch) => {
    ch.publish("amq.direct", "x", Buffer.from("spoof"), { userId: "somebody-else" });
  });
  assertClose(close, { code: 406, name: "PRECONDITION_FAILED", classId: 60, methodId: 40 });
  assert.equal(
    close.text,
    "PRECONDITION_FAILED - user_id property set to 'somebody-else' but authenticated user was 'guest'",
  );
});

// ---------------------------------------------------------------------------------------------
// Exclusive queues

test("exclusive queue used from another connection -> 405 RESOURCE_LOCKED (channel)", async () => {
  const q = uid("excl");
  const owner = await conn.createChannel();
  await owner.assertQueue(q, { exclusive: true });
  const other = await amqp.connect(broker.url);
  try {
    const cases = [
      ["queue.declare passive", (ch) => ch.checkQueue(q), 50, 10],
      ["queue.declare", (ch) => ch.assertQueue(q, { exclusive: true }), 50, 10],
      ["basic.consume", (ch) => ch.consume(q, () => {}), 60, 20],
      ["basic.get", (ch) => ch.get(q), 60, 70],
      ["queue.purge", (ch) => ch.purgeQueue(q), 50, 30],
      ["queue.delete", (ch) => ch.deleteQueue(q), 50, 40],
      ["queue.bind", (ch) => ch.bindQueue(q, "amq.direct", "k"), 50, 20],
    ];
    for (const [what, fn, classId, methodId] of cases) {
      const close = await channelError(fn, other);
      assertClose(close, { code: 405, name: "RESOURCE_LOCKED", classId, methodId });
      assert.ok(close.text.includes(`locked queue '${q}'`), `${what}: ${close.text}`);
    }
    // ... but publishing to it from elsewhere is allowed and reaches the owner.
    const pub = await other.createChannel();
    pub.sendToQueue(q, Buffer.from("from outside"));
    await pub.close();
    let msg = false;
    while (!msg) msg = await owner.get(q, { noAck: true });
    assert.equal(msg.content.toString(), "from outside");
  } finally {
    await other.close();
    await owner.deleteQueue(q);
    await owner.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Conditional deletes

test("exchange.delete if-unused on an exchange with bindings -> 406 PRECONDITION_FAILED, channel, 40/20", async () => {
  const x = uid("x");
  const dest = uid("x-dest");
  const ch = await conn.createChannel();
  await ch.assertExchange(x, "direct", { durable: false });
  await ch.assertExchange(dest, "fanout", { durable: false });
  const { queue } = await ch.assertQueue("", { exclusive: true });
  await ch.bindQueue(queue, x, "k");
  try {
    const close = await channelError((c) => c.deleteExchange(x, { ifUnused: true }));
    assertClose(close, { code: 406, name: "PRECONDITION_FAILED", classId: 40, methodId: 20 });
    assert.equal(close.text, `PRECONDITION_FAILED - exchange '${x}' in vhost '/' in use`);
    // Only bindings where the exchange is the *source* count: an exchange that is merely the
    // destination of an exchange-to-exchange binding is "unused" and can be deleted.
    await ch.bindExchange(dest, x, "k");
    await ch.deleteExchange(dest, { ifUnused: true });
    await ch.unbindQueue(queue, x, "k");
    await ch.deleteExchange(x, { ifUnused: true });
  } finally {
    await ch.deleteExchange(x);
    await ch.deleteExchange(dest);
    await ch.close();
  }
});

test("queue.delete if-empty / if-unused -> 406 PRECONDITION_FAILED, channel, 50/40", async () => {
  const q = uid("q");
  const ch = await conn.createChannel();
  await ch.assertQueue(q, { durable: false });
  try {
    ch.sendToQueue(q, Buffer.from("keep"));
    while ((await ch.checkQueue(q)).messageCount < 1) await sleep(10);
    let close = await channelError((c) => c.deleteQueue(q, { ifEmpty: true }));
    assertClose(close, { code: 406, name: "PRECONDITION_FAILED", classId: 50, methodId: 40 });
    assert.equal(close.text, `PRECONDITION_FAILED - queue '${q}' in vhost '/' not empty`);

    await ch.consume(q, () => {}, { noAck: true });
    close = await channelError((c) => c.deleteQueue(q, { ifUnused: true }));
    assertClose(close, { code: 406, name: "PRECONDITION_FAILED", classId: 50, methodId: 40 });
    assert.equal(close.text, `PRECONDITION_FAILED - queue '${q}' in vhost '/' in use`);
  } finally {
    await ch.deleteQueue(q);
    await ch.close();
  }
});

test("NOT errors in RabbitMQ 3.x: deleting a missing queue/exchange, unbinding a missing binding", async () => {
  const ch = await conn.createChannel();
  const q = uid("never-declared");
  assert.deepEqual(await ch.deleteQueue(q), { messageCount: 0 });
  assert.deepEqual(await ch.deleteExchange(uid("never-declared")), {});
  const { queue } = await ch.assertQueue("", { exclusive: true });
  assert.deepEqual(await ch.unbindQueue(queue, "amq.direct", "never-bound"), {});
  await ch.close();
  assert.deepEqual(connErrors, []);
});

// ---------------------------------------------------------------------------------------------
// The second client library sees the same channel/connection split

test("@cloudamqp/amqp-client: 404 closes only the channel, immediate=true closes the connection", async () => {
  const client = new AMQPClient(broker.url);
  await client.connect();
  try {
    const ch = await client.channel();
    await assert.rejects(
      ch.queueDeclare(uid("missing"), { passive: true }),
      /NOT_FOUND - no queue .*\(404\)/,
    );
    assert.equal(ch.closed, true);
    assert.equal(client.closed, false);
    const ch2 = await client.channel();
    const { name } = await ch2.queueDeclare("", { exclusive: true });
    await ch2.basicPublish("", name, "ok");
    const msg = await ch2.basicGet(name, { noAck: true });
    assert.equal(msg?.bodyString(), "ok");

    const errored = new Promise((resolve) => {
      client.onerror = resolve;
    });
    await ch2.basicPublish("amq.direct", "x", "now", {}, false, true).catch(() => {});
    const err = await withTimeout(errored, 3000, "connection.close");
    assert.match(err.message, /NOT_IMPLEMENTED - immediate=true \(540\)/);
    await assertAmqplibWorks(conn);
  } finally {
    if (!client.closed) await client.close().catch(() => {});
  }
});

// ---------------------------------------------------------------------------------------------
// Handshake-level errors. RabbitMQ deliberately waits ~3 s before closing a connection that
// failed authentication or tuning, so these run concurrently.

describe("handshake", { concurrency: true }, () => {
  test("connection.open to an unknown vhost -> 530 NOT_ALLOWED, connection.close 10/40", async () => {
    const r = await handshake({ ...target(), vhost: "/interop-no-such-vhost" });
    try {
      assert.ok(r.close, "expected connection.close");
      assertClose(r.close, { code: 530, name: "NOT_ALLOWED", classId: 10, methodId: 40 });
      assert.equal(r.close.text, "NOT_ALLOWED - vhost /interop-no-such-vhost not found");
      r.conn.closeOk(0);
      await r.conn.waitClosed();
      await assertAmqplibWorks(conn);
    } finally {
      r.conn.destroy();
    }
  });

  test("bad password with authentication_failure_close -> connection.close 403 ACCESS_REFUSED", async () => {
    const r = await handshake({ ...target(), password: "wrong" });
    try {
      assert.equal(r.tune, undefined, "no connection.tune after failed auth");
      assert.ok(r.close, "expected connection.close");
      // RabbitMQ sends class/method 0/0 here, and closes the socket without waiting for close-ok.
      assertClose(r.close, { code: 403, name: "ACCESS_REFUSED", classId: 0, methodId: 0 });
      assert.match(r.close.text, /^ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN/);
      await r.conn.waitClosed();
      await assertAmqplibWorks(conn);
    } finally {
      r.conn.destroy();
    }
  });

  test("bad password without authentication_failure_close -> socket closed, no close method", async () => {
    const r = await handshake({ ...target(), password: "wrong", capabilities: {} });
    try {
      assert.equal(r.socketClosed, true);
      assert.equal(r.close, undefined);
      assert.equal(r.tune, undefined);
      assert.equal(r.conn.frames.length, 0, "nothing at all after connection.start");
    } finally {
      r.conn.destroy();
    }
  });

  test("AMQPLAIN authentication works, and a bad AMQPLAIN password is refused with 403", async () => {
    const ok = await handshake({ ...target(), mechanism: "AMQPLAIN" });
    ok.conn.destroy();
    assert.equal(ok.openOk, true);
    assert.deepEqual(ok.start.mechanisms.split(" ").sort(), ["AMQPLAIN", "PLAIN"]);
    assert.deepEqual([ok.start.versionMajor, ok.start.versionMinor], [0, 9]);
    const bad = await handshake({ ...target(), mechanism: "AMQPLAIN", password: "wrong" });
    bad.conn.destroy();
    assertClose(bad.close, { code: 403, name: "ACCESS_REFUSED" });
    assert.match(bad.close.text, /AMQPLAIN/);
  });

  // RabbitMQ internally raises 530 NOT_ALLOWED ("failed to negotiate connection parameters",
  // see its log) but, still in the tuning phase, sends NO connection.close: the socket is just
  // closed (after the ~3 s anti-brute-force delay). So the wire behaviour is "silent close".
  // frame_max = 0 and channel_max = 0 ("no limit") are refused the same way, because they
  // exceed the server's limits (131072 / 2047).
  const tuneCases = [
    ["frame_max 4095 (< 4096)", (t) => ({ ...t, frameMax: 4095 })],
    ["frame_max 0 (unlimited > server max)", (t) => ({ ...t, frameMax: 0 })],
    ["frame_max above the server's", (t) => ({ ...t, frameMax: t.frameMax + 1 })],
    ["channel_max above the server's", (t) => ({ ...t, channelMax: t.channelMax + 1 })],
    ["channel_max 0 (unlimited > server max)", (t) => ({ ...t, channelMax: 0 })],
  ];
  for (const [name, bend] of tuneCases) {
    test(`tune-ok with ${name} -> refused (RabbitMQ: silent close; Warren: 530 then close)`, async () => {
      const r = await handshake({ ...target(), tuneOk: (t) => ({ ...bend(t), heartbeat: 0 }) });
      try {
        assert.ok(r.tune, "connection.tune was received");
        assert.equal(r.openOk, undefined, "connection.open must not succeed");
        if (broker.external) {
          assert.equal(r.close, undefined, "RabbitMQ sends no connection.close here");
          assert.equal(r.socketClosed, true);
        } else {
          // Warren says why, as the issue asks: connection.close 530 NOT_ALLOWED, 10/31, then hangs up.
          assert.equal(r.close?.code, 530);
          assert.equal(r.close?.classId, 10);
          assert.equal(r.close?.methodId, 31);
          await r.conn.waitClosed(2000);
        }
      } finally {
        r.conn.destroy();
      }
    });
  }

  test("tune-ok with frame_max exactly 4096 and the server's channel_max is accepted", async () => {
    const r = await handshake({ ...target(), tuneOk: (t) => ({ ...t, frameMax: 4096, heartbeat: 0 }) });
    r.conn.destroy();
    assert.equal(r.openOk, true);
    assert.equal(r.tune.channelMax, 2047, "RabbitMQ 3.10 default channel_max");
    assert.equal(r.tune.frameMax, 131072, "RabbitMQ 3.10 default frame_max");
    assert.equal(r.tune.heartbeat, 60, "RabbitMQ 3.10 default heartbeat");
  });

  // A bad protocol header is answered with the header the server does speak, then the socket is
  // closed. (RabbitMQ 3.x also still accepts AMQP 0-8 "AMQP\x01\x01\x08\x00", not pinned here.)
  const headers = [
    ["HTTP request", Buffer.from("GET / HTTP/1.1\r\n\r\n")],
    ["AMQP 1.0", Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 1, 0, 0])],
    ["AMQP 0-10", Buffer.from([0x41, 0x4d, 0x51, 0x50, 1, 1, 0, 10])],
    ["AMQP 0-9-2", Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 2])],
  ];
  for (const [name, bytes] of headers) {
    test(`wrong protocol header (${name}) -> "AMQP\\x00\\x00\\x09\\x01" then close`, async () => {
      const { reply, closed } = await sendHeader(broker.host, broker.port, bytes);
      assert.deepEqual(reply, PROTOCOL_HEADER);
      assert.equal(closed, true);
    });
  }
});
