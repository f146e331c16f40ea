import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { Broker, lineLogger } from "@warren/broker";
import { ChannelError, ConnectionError, ReplyCode } from "@warren/protocol";
import { ClosedError } from "./errors.js";
import { type Connection, connect } from "./connection.js";
import type { Message } from "./message.js";
import { parseUrl } from "./url.js";
import { delay } from "./testkit.js";

let broker: Broker;
let url: string;

before(async () => {
  broker = new Broker({ port: 0, log: lineLogger(() => {}) });
  const port = await broker.start();
  url = `amqp://guest:guest@127.0.0.1:${port}`;
});

after(async () => {
  await broker.stop();
});

/** Runs fn with a fresh connection, closed afterwards whatever happens. */
async function withConnection(fn: (conn: Connection) => Promise<void>): Promise<void> {
  const conn = await connect(url);
  try {
    await fn(conn);
  } finally {
    await conn.close();
  }
}

/** Resolves with the next n messages handed to the returned callback. */
function collector(n: number): { onMessage: (m: Message) => void; done: Promise<Message[]> } {
  const got: Message[] = [];
  let resolve!: (v: Message[]) => void;
  const done = new Promise<Message[]>((r) => (resolve = r));
  return {
    onMessage: (m) => {
      got.push(m);
      if (got.length === n) resolve(got);
    },
    done,
  };
}

describe("parseUrl", () => {
  it("parses credentials, host, port, vhost and query", () => {
    assert.deepEqual(parseUrl("amqp://u%40x:p%2Fw@example.com:5673/%2fprod?heartbeat=5&frame_max=8192"), {
      protocol: "amqp",
      hostname: "example.com",
      port: 5673,
      username: "u@x",
      password: "p/w",
      vhost: "/prod",
      heartbeat: 5,
      frameMax: 8192,
    });
    assert.equal(parseUrl("amqp://localhost/").vhost, "/");
    assert.equal(parseUrl("amqps://[::1]").hostname, "::1");
    assert.throws(() => parseUrl("http://localhost"), TypeError);
  });

  it("parses RabbitMQ's TLS and SASL query parameters", () => {
    const o = parseUrl(
      "amqps://broker:5999?auth_mechanism=external&verify=verify_none&server_name_indication=mq.example",
    );
    assert.equal(o.protocol, "amqps");
    assert.equal(o.authMechanism, "EXTERNAL");
    assert.deepEqual(o.tls, { rejectUnauthorized: false, servername: "mq.example" });
    assert.equal(parseUrl("amqps://broker").tls, undefined);
    assert.throws(() => parseUrl("amqps://broker?auth_mechanism=cr-demo"), TypeError);
    assert.throws(() => parseUrl("amqps://broker?verify=maybe"), TypeError);
  });
});

describe("Connection", () => {
  it("connects, negotiates tune parameters and closes", async () => {
    const conn = await connect(url, { heartbeat: 5, frameMax: 65536 });
    assert.equal(conn.isOpen, true);
    assert.equal(conn.heartbeat, 5);
    assert.equal(conn.frameMax, 65536);
    assert.equal(conn.serverProperties.product, "Warren");
    const closed = once(conn, "close");
    await conn.close();
    const [err] = await closed;
    assert.equal(err, undefined);
    assert.equal(conn.isOpen, false);
    await assert.rejects(conn.createChannel(), ClosedError);
  });

  it("takes the server's heartbeat when none is asked for", async () => {
    await withConnection(async (conn) => {
      assert.equal(conn.heartbeat, 60);
      assert.equal(conn.channelMax, 2047);
    });
  });

  it("rejects bad credentials and an unknown vhost", async () => {
    await assert.rejects(connect(url, { password: "wrong" }), (e: Error) => {
      assert.ok(e instanceof ConnectionError);
      assert.equal(e.code, ReplyCode.ACCESS_REFUSED);
      return true;
    });
    await assert.rejects(connect(url, { vhost: "nope" }), (e: Error) => {
      assert.ok(e instanceof ConnectionError);
      assert.equal(e.code, ReplyCode.NOT_ALLOWED);
      return true;
    });
  });

  it("fails to connect to a closed port", async () => {
    await assert.rejects(connect({ hostname: "127.0.0.1", port: 1 }), { code: "ECONNREFUSED" });
  });

  it("surfaces a server connection.close as a ConnectionError with the reply code", async () => {
    const conn = await connect(url);
    const ch = await conn.createChannel();
    const errors: Error[] = [];
    conn.on("error", (e) => errors.push(e));
    const closed = closeEvent(conn);
    for (const c of broker.connections) c.shutdown();
    const err = await closed;
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.code, ReplyCode.CONNECTION_FORCED);
    assert.match(err.message, /^CONNECTION_FORCED - broker forced connection closure/);
    assert.deepEqual(errors, [err]);
    assert.equal(ch.isOpen, false);
    assert.throws(() => ch.publish("", "q", "x"), ClosedError);
  });
});

describe("Channel", () => {
  it("declares, binds and deletes exchanges and queues", async () => {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      await ch.exchangeDeclare("t.x", "topic");
      await ch.exchangeDeclare("t.x2", "fanout", { autoDelete: false });
      await ch.exchangeBind("t.x2", "t.x", "a.#");
      const q = await ch.queueDeclare("", { exclusive: true });
      assert.match(q.queue, /^amq\.gen-/);
      assert.deepEqual({ m: q.messageCount, c: q.consumerCount }, { m: 0, c: 0 });
      await ch.queueBind(q.queue, "t.x2");
      ch.publish("t.x", "a.b", "via e2e");
      ch.publish("t.x", "b.a", "unrouted");
      await ch.basicQos(10);
      const m = await waitForMessage(ch, q.queue);
      assert.equal(m.body.toString(), "via e2e");
      assert.equal(m.fields.exchange, "t.x");
      assert.equal(m.fields.routingKey, "a.b");
      assert.equal(m.fields.messageCount, 0);
      m.ack();
      await ch.queueUnbind(q.queue, "t.x2");
      await ch.exchangeUnbind("t.x2", "t.x", "a.#");
      assert.deepEqual(await ch.queuePurge(q.queue), { messageCount: 0 });
      assert.deepEqual(await ch.queueDelete(q.queue), { messageCount: 0 });
      await ch.exchangeDelete("t.x2");
      await ch.exchangeDelete("t.x");
      await ch.close();
      assert.equal(ch.isOpen, false);
    });
  });

  it("round-trips a message with properties and headers through a consumer", async () => {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      const { queue } = await ch.queueDeclare("", { exclusive: true });
      const c = collector(2);
      const tag = await ch.basicConsume(queue, c.onMessage, { noAck: true });
      const properties = {
        contentType: "application/json",
        contentEncoding: "utf-8",
        headers: { "x-string": "s", "x-int": 42, "x-bool": true, "x-nested": { a: [1, "b"] } },
        deliveryMode: 2,
        priority: 3,
        correlationId: "corr",
        replyTo: "reply",
        expiration: "60000",
        messageId: "id-1",
        timestamp: 1_700_000_000,
        type: "kind",
        appId: "test",
      };
      assert.equal(ch.basicPublish("", queue, Buffer.from('{"a":1}'), properties), true);
      ch.publish("", queue, "");
      const [m1, m2] = await c.done;
      assert.equal(m1!.body.toString(), '{"a":1}');
      assert.deepEqual(m1!.properties, properties);
      assert.equal(m1!.fields.consumerTag, tag);
      assert.equal(m1!.fields.redelivered, false);
      assert.equal(m1!.fields.deliveryTag, 1);
      assert.equal(m2!.body.length, 0);
      assert.deepEqual(m2!.properties, {});
      assert.equal(m2!.fields.deliveryTag, 2);
      await ch.basicCancel(tag);
    });
  });

  it("gets messages with basicGet, null when empty", async () => {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      const { queue } = await ch.queueDeclare("", { exclusive: true });
      assert.equal(await ch.basicGet(queue), null);
      ch.publish("", queue, "one", { headers: { n: 1 } });
      ch.publish("", queue, "two");
      const m = await waitForMessage(ch, queue);
      assert.equal(m.body.toString(), "one");
      assert.deepEqual(m.properties.headers, { n: 1 });
      assert.equal(m.fields.messageCount, 1);
      ch.ack(m);
      const m2 = await ch.basicGet(queue, { noAck: true });
      assert.equal(m2?.body.toString(), "two");
      assert.equal(await ch.basicGet(queue), null);
    });
  });

  it("confirms publishes: per message and waitForConfirms", async () => {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      const { queue } = await ch.queueDeclare("", { exclusive: true });
      await assert.rejects(ch.waitForConfirms(), /not in confirm mode/);
      await ch.confirmSelect();
      await ch.publishConfirm("", queue, "first");
      for (let i = 0; i < 500; i++) ch.publish("", queue, `m${i}`);
      assert.ok(ch.unconfirmed > 0);
      await ch.waitForConfirms();
      assert.equal(ch.unconfirmed, 0);
      // Unroutable messages are confirmed too (after the return, if mandatory).
      await Promise.all([
        ch.publishConfirm("", "no-such-queue", "x"),
        ch.publishConfirm("amq.direct", "nowhere", "y"),
      ]);
      assert.equal((await ch.queueDeclare(queue, { passive: true })).messageCount, 501);
    });
  });

  it("emits 'return' for an unroutable mandatory publish", async () => {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      const returned = once(ch, "return");
      ch.publish("amq.direct", "nobody-home", "lost?", { messageId: "r1" }, { mandatory: true });
      const [m] = (await returned) as [Message<import("./message.js").ReturnFields>];
      assert.equal(m.body.toString(), "lost?");
      assert.equal(m.properties.messageId, "r1");
      assert.deepEqual(m.fields, {
        replyCode: ReplyCode.NO_ROUTE,
        replyText: "NO_ROUTE",
        exchange: "amq.direct",
        routingKey: "nobody-home",
      });
      assert.throws(() => m.ack(), TypeError);
    });
  });

  it("carries a 1 MiB body across frames both ways", async () => {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      const { queue } = await ch.queueDeclare("", { exclusive: true });
      const body = Buffer.alloc(1 << 20);
      for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >> 8)) & 0xff;
      await ch.confirmSelect();
      await ch.publishConfirm("", queue, body, { contentType: "application/octet-stream" });
      const c = collector(1);
      await ch.basicConsume(queue, c.onMessage);
      const [m] = await c.done;
      assert.equal(m!.body.length, body.length);
      assert.ok(m!.body.equals(body));
      assert.equal(m!.properties.contentType, "application/octet-stream");
      m!.ack();
    });
  });

  it("honours prefetch: no more unacked deliveries than the limit", async () => {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      const { queue } = await ch.queueDeclare("", { exclusive: true });
      for (let i = 0; i < 10; i++) ch.publish("", queue, String(i));
      await ch.basicQos(3);
      const got: Message[] = [];
      await ch.basicConsume(queue, (m) => void got.push(m));
      await delay(100);
      assert.equal(got.length, 3);
      got[2]!.ack(true);
      await delay(100);
      assert.equal(got.length, 6);
      assert.deepEqual(
        got.map((m) => m.body.toString()),
        ["0", "1", "2", "3", "4", "5"],
      );
    });
  });

  it("redelivers a nacked (requeued) message with redelivered set", async () => {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      const { queue } = await ch.queueDeclare("", { exclusive: true });
      ch.publish("", queue, "again");
      const seen: Message[] = [];
      const c = collector(2);
      await ch.basicConsume(queue, (m) => {
        seen.push(m);
        if (seen.length === 1) m.nack();
        else m.ack();
        c.onMessage(m);
      });
      const [first, second] = await c.done;
      assert.equal(first!.fields.redelivered, false);
      assert.equal(second!.fields.redelivered, true);
      assert.equal(second!.body.toString(), "again");
      await delay(50);
      assert.equal((await ch.queueDeclare(queue, { passive: true })).messageCount, 0);
    });
  });

  it("reject without requeue drops the message", async () => {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      const { queue } = await ch.queueDeclare("", { exclusive: true });
      ch.publish("", queue, "bye");
      const m = await waitForMessage(ch, queue);
      m.reject(false);
      assert.equal(await ch.basicGet(queue), null);
    });
  });

  it("turns a server channel.close into a ChannelError; the connection stays usable", async () => {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      const errors: Error[] = [];
      ch.on("error", (e) => errors.push(e));
      const closed = closeEvent(ch);
      const declare = ch.queueDeclare("no-such-queue-here", { passive: true });
      // Pipelined behind the failing declare: never answered, so a ClosedError caused by it.
      const after = ch.basicQos(1);
      await assert.rejects(declare, (e: Error) => {
        assert.ok(e instanceof ChannelError);
        assert.equal(e.code, ReplyCode.NOT_FOUND);
        assert.equal(e.classId, 50);
        assert.equal(e.methodId, 10);
        assert.equal(e.message, "NOT_FOUND - no queue 'no-such-queue-here' in vhost '/'");
        return true;
      });
      const err = await closed;
      await assert.rejects(after, (e: Error) => e instanceof ClosedError && e.cause === err);
      assert.ok(err instanceof ChannelError);
      assert.deepEqual(errors, [err]);
      assert.equal(ch.isOpen, false);
      assert.equal(ch.error, err);
      assert.throws(
        () => ch.publish("", "q", "x"),
        (e: Error) => e instanceof ClosedError && e.cause === err,
      );
      await assert.rejects(ch.queueDeclare("x"), ClosedError);

      assert.equal(conn.isOpen, true);
      const ch2 = await conn.createChannel();
      const { queue } = await ch2.queueDeclare("", { exclusive: true });
      ch2.publish("", queue, "still fine");
      assert.equal((await waitForMessage(ch2, queue)).body.toString(), "still fine");
    });
  });

  it("rejects pending confirms when the channel is closed by the server", async () => {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      await ch.confirmSelect();
      const p = ch.publishConfirm("no-such-exchange", "k", "x");
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof ChannelError);
      assert.equal(err.code, ReplyCode.NOT_FOUND);
    });
  });

  it("commits and rolls back transactions", async () => {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      const { queue } = await ch.queueDeclare("", { exclusive: true });
      await ch.txSelect();
      ch.publish("", queue, "rolled back");
      await ch.txRollback();
      ch.publish("", queue, "committed");
      await ch.txCommit();
      const m = await ch.basicGet(queue, { noAck: true });
      assert.equal(m?.body.toString(), "committed");
      assert.equal(await ch.basicGet(queue), null);
    });
  });

  it("notifies a consumer cancelled by the server", async () => {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      const ch2 = await conn.createChannel();
      const { queue } = await ch.queueDeclare("");
      let cancelled = "";
      const tag = await ch.basicConsume(queue, () => {}, { onCancel: (t) => (cancelled = t) });
      const ev = once(ch, "cancel");
      await ch2.queueDelete(queue);
      assert.deepEqual(await ev, [tag]);
      assert.equal(cancelled, tag);
    });
  });

  it("reports consumer callback errors on the channel's 'error' event", async () => {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      const { queue } = await ch.queueDeclare("", { exclusive: true });
      const errors: Error[] = [];
      ch.on("error", (e) => errors.push(e));
      const c = collector(2);
      await ch.basicConsume(
        queue,
        (m) => {
          c.onMessage(m);
          if (m.body.toString() === "boom") throw new Error("handler failed");
        },
        { noAck: true },
      );
      ch.publish("", queue, "boom");
      ch.publish("", queue, "fine");
      const [, m2] = await c.done;
      assert.equal(m2!.body.toString(), "fine");
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!.message, "handler failed");
      assert.equal(ch.isOpen, true);
    });
  });

  it("signals backpressure and drains", async () => {
    await withConnection(async (conn) => {
      const ch = await conn.createChannel();
      const { queue } = await ch.queueDeclare("", { exclusive: true });
      const chunk = Buffer.alloc(64 * 1024);
      let writable = true;
      let n = 0;
      while (writable && n < 1000) {
        writable = ch.basicPublish("", queue, chunk);
        n++;
      }
      assert.equal(writable, false);
      await once(ch, "drain");
      await ch.queuePurge(queue);
    });
  });

  it("keeps many channels on one connection apart", async () => {
    await withConnection(async (conn) => {
      const chans = await Promise.all(Array.from({ length: 20 }, () => conn.createChannel()));
      assert.equal(new Set(chans.map((c) => c.id)).size, 20);
      const queues = await Promise.all(chans.map((c) => c.queueDeclare("", { exclusive: true })));
      chans.forEach((c, i) => c.publish("", queues[i]!.queue, `chan ${c.id}`));
      const got = await Promise.all(chans.map((c, i) => waitForMessage(c, queues[i]!.queue)));
      got.forEach((m, i) => assert.equal(m.body.toString(), `chan ${chans[i]!.id}`));
      await Promise.all(chans.map((c) => c.close()));
    });
  });
});

/** The error of the next 'close' event (events.once would reject on 'error' instead). */
function closeEvent(e: {
  once(ev: "close", fn: (err: Error | undefined) => void): unknown;
}): Promise<Error | undefined> {
  return new Promise((resolve) => e.once("close", resolve));
}

/** Polls basicGet until a message arrives (publishes are asynchronous). */
async function waitForMessage(ch: import("./channel.js").Channel, queue: string): Promise<Message> {
  for (let i = 0; i < 200; i++) {
    const m = await ch.basicGet(queue);
    if (m) return m;
    await delay(5);
  }
  throw new Error(`no message in ${queue}`);
}
