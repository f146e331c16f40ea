import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Broker, lineLogger } from "@warren/broker";
import { ChannelError, ReplyCode, typed } from "@warren/protocol";
import type { MessageHandler } from "./channel-types.js";
import { connect } from "./connection.js";
import { BlockedError, BufferFullError, ClosedError, NackError, ReturnedError } from "./errors.js";
import type { Message } from "./message.js";
import { RecoveringConnection } from "./recovering-connection.js";

/*
 * The bugs of issue 13 ("a client that survives"), each reproduced against a real broker.
 */

// INTEROP_TARGET_URL runs these against another broker (RabbitMQ, to check the behaviour).
const target = process.env.INTEROP_TARGET_URL;
let broker: Broker | undefined;
let url: string;

before(async () => {
  if (target) url = target;
  else {
    broker = new Broker({ port: 0, log: lineLogger(() => {}) });
    url = `amqp://guest:guest@127.0.0.1:${await broker.start()}`;
  }
});

after(async () => {
  await broker?.stop();
});

describe("closing a channel from inside its consumer", () => {
  it("stops deliveries at close(); acks after it are no-ops; the error says who closed it", async () => {
    const conn = await connect(url);
    const ch = await conn.createChannel();
    const { queue } = await ch.queueDeclare("", { exclusive: true });
    const feeder = await conn.createChannel();
    for (let i = 0; i < 3000; i++) feeder.publish("", queue, `m${i}`);
    await feeder.queueDeclare(queue, { passive: true });
    await ch.basicQos(500);
    let seen = 0;
    let afterClose = 0;
    let closing: Promise<void> | undefined;
    let done!: () => void;
    const closed = new Promise<void>((r) => (done = r));
    await ch.basicConsume(queue, (m) => {
      if (closing) afterClose++;
      seen++;
      m.ack();
      if (seen === 1000) closing = ch.close().then(done);
    });
    await closed;
    assert.equal(seen, 1000);
    assert.equal(afterClose, 0, "deliveries reached the handler after close()");
    // Publishing on the closed channel is refused, and the reason is ours, not the connection's.
    assert.throws(
      () => ch.publish("", queue, "late"),
      (e: Error) =>
        e instanceof ClosedError && e.cause === undefined && /closed by the application/.test(e.message),
    );
    // The 2000 others are back in the queue (1000 acked, the in-flight ones requeued).
    assert.equal((await feeder.queueDeclare(queue, { passive: true })).messageCount, 2000);
    await conn.close();
  });
});

describe("errors are observable", () => {
  it("a publish to a missing exchange with no listener becomes a process warning", async () => {
    const conn = await connect(url);
    const ch = await conn.createChannel();
    const warned = nextWarning();
    ch.publish("no-such-exchange-here", "k", "lost");
    const w = await warned;
    assert.ok(w instanceof ChannelError, `warning: ${String(w)}`);
    assert.equal(w.code, ReplyCode.NOT_FOUND);
    assert.equal(ch.isOpen, false);
    await conn.close();
  });

  it("a nacked publish rejects with the delivery tag of that publish", async () => {
    const conn = await connect(url);
    const ch = await conn.createChannel();
    const { queue } = await ch.queueDeclare("", {
      exclusive: true,
      arguments: { "x-max-length": 1, "x-overflow": "reject-publish" },
    });
    await ch.confirmSelect();
    const results = await Promise.allSettled([1, 2, 3].map((n) => ch.publishConfirm("", queue, `m${n}`)));
    assert.equal(results[0]!.status, "fulfilled");
    for (const [i, r] of results.entries()) {
      if (i === 0) continue;
      assert.equal(r.status, "rejected");
      const err = (r as PromiseRejectedResult).reason as Error & { deliveryTag?: number };
      assert.equal(err.name, "NackError");
      assert.equal(err.deliveryTag, i + 1);
      assert.match(err.message, new RegExp(`delivery tag ${i + 1}\\b`));
    }
    await conn.close();
  });

  it("refuses a body that is not a Buffer, Uint8Array or string", async () => {
    const conn = await connect(url);
    const ch = await conn.createChannel();
    assert.throws(() => ch.publish("", "q", { a: 1 } as unknown as Buffer), TypeError);
    assert.throws(() => ch.publish("", "q", 42 as unknown as Buffer), TypeError);
    assert.equal(ch.isOpen, true);
    await conn.close();
  });
});

describe("header values", () => {
  it("decode int64, timestamps and byte arrays to bigint or number, Date and Buffer", async () => {
    const conn = await connect(url);
    const ch = await conn.createChannel();
    const { queue } = await ch.queueDeclare("", { exclusive: true });
    const big = 2n ** 60n + 1n;
    ch.publish("", queue, "h", {
      headers: {
        big: typed.long(big),
        small: typed.long(5),
        ts: typed.timestamp(1_700_000_000),
        bin: typed.bytes(Buffer.from([1, 2, 3])),
        byte: typed.byte(-3),
        float: typed.float(1.5),
        nested: { list: [typed.long(7), typed.timestamp(0)] },
      },
    });
    const m = await getOne(ch, queue);
    assert.deepEqual(m.properties.headers, {
      big,
      small: 5,
      ts: new Date(1_700_000_000_000),
      bin: Buffer.from([1, 2, 3]),
      byte: -3,
      float: 1.5,
      nested: { list: [7, new Date(0)] },
    });
    await conn.close();
  });
});

describe("acknowledgements", () => {
  it("nack takes { requeue, multiple } on Message and Channel alike; the positional forms still work", async () => {
    const conn = await connect(url);
    const ch = await conn.createChannel();
    const { queue } = await ch.queueDeclare("", { exclusive: true });
    for (const b of ["a", "b", "c", "d"]) await ch.publish("", queue, b);
    const a = await getOne(ch, queue, false);
    assert.equal(a.nack({ requeue: false }), true);
    assert.equal(a.settled, true);
    const b = await getOne(ch, queue, false);
    assert.equal(ch.nack(b, { requeue: false }), true);
    const c = await getOne(ch, queue, false);
    c.nack(false); // deprecated Message.nack(requeue): dropped
    const d = await getOne(ch, queue, false);
    ch.nack(d, false, true); // deprecated Channel.nack(message, multiple, requeue): requeued
    const again = await getOne(ch, queue, false);
    assert.equal(again.body.toString(), "d");
    assert.equal(again.fields.redelivered, true);
    again.ack();
    assert.equal(await ch.basicGet(queue), null);
    await conn.close();
  });

  it("accepts handlers that return a value", async () => {
    const conn = await connect(url);
    const ch = await conn.createChannel();
    const { queue } = await ch.queueDeclare("", { exclusive: true });
    let n = 0;
    const handlers: MessageHandler[] = [(m) => m.ack(), async (m) => ++n + m.body.length];
    await ch.basicConsume(queue, handlers[0]!);
    await ch.basicConsume(queue, handlers[1]!, { noAck: true });
    await conn.close();
  });
});

describe("typed errors", () => {
  it("a returned mandatory publish rejects its confirm with ReturnedError; the others resolve", async () => {
    const conn = await connect(url);
    const ch = await conn.createChannel();
    const { queue } = await ch.queueDeclare("", { exclusive: true });
    await ch.confirmSelect();
    let events = 0;
    ch.on("return", () => events++);
    const results = await Promise.allSettled([
      ch.publish("", queue, "routed", {}, { mandatory: true }),
      ch.publish("amq.direct", "nowhere", "lost", { messageId: "r1" }, { mandatory: true }),
      ch.publish("amq.direct", "nowhere", "not mandatory"),
      ch.publish("", queue, "routed too", {}, { mandatory: true }),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["fulfilled", "rejected", "fulfilled", "fulfilled"],
    );
    const err = (results[1] as PromiseRejectedResult).reason as ReturnedError;
    assert.ok(err instanceof ReturnedError);
    assert.equal(err.replyCode, ReplyCode.NO_ROUTE);
    assert.equal(err.exchange, "amq.direct");
    assert.equal(err.routingKey, "nowhere");
    assert.equal(err.returned.properties.messageId, "r1");
    assert.equal(err.returned.body.toString(), "lost");
    assert.equal(events, 1);
    await conn.close();
  });

  it("a server channel.close carries replyCode, replyText, classId and methodId", async () => {
    const conn = await connect(url);
    const ch = await conn.createChannel();
    await ch.confirmSelect();
    const err = await ch.publish("no-such-exchange", "k", "x").then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ChannelError);
    assert.equal(err.replyCode, ReplyCode.NOT_FOUND);
    assert.equal(err.replyText, "NOT_FOUND - no exchange 'no-such-exchange' in vhost '/'");
    assert.deepEqual([err.classId, err.methodId], [60, 40]);
    await conn.close();
  });

  it("NackError is exported and carries the tag", () => {
    const e = new NackError(7);
    assert.equal(e.deliveryTag, 7);
    assert.equal(e.name, "NackError");
  });
});

describe("bounded publishing", () => {
  it("confirm mode: at most publishWindow unconfirmed; the rest wait in order, then all resolve", async () => {
    const conn = await connect(url);
    const ch = await conn.createChannel({ publishWindow: 10 });
    const { queue } = await ch.queueDeclare("", { exclusive: true });
    await ch.confirmSelect();
    const all = Array.from({ length: 500 }, (_, i) => ch.publish("", queue, `m${i}`));
    assert.equal(ch.unconfirmed, 10);
    assert.equal(ch.waitingPublishes, 490);
    let most = 0;
    const t = setInterval(() => (most = Math.max(most, ch.unconfirmed)), 1);
    await Promise.all(all);
    clearInterval(t);
    assert.ok(most <= 10, `unconfirmed reached ${most}`);
    const got: string[] = [];
    for (let m = await ch.basicGet(queue, { noAck: true }); m; m = await ch.basicGet(queue, { noAck: true }))
      got.push(m.body.toString());
    assert.deepEqual(
      got,
      Array.from({ length: 500 }, (_, i) => `m${i}`),
    );
    await conn.close();
  });

  it("plain mode: output stays under the high-water mark; past maxQueuedBytes publish() throws", async () => {
    const conn = await connect(url);
    const ch = await conn.createChannel({ maxQueuedBytes: 4 << 20 });
    const { queue } = await ch.queueDeclare("", { exclusive: true });
    const chunk = Buffer.alloc(256 * 1024);
    const sent: Promise<void>[] = [];
    let refused: unknown;
    try {
      for (let i = 0; i < 100; i++) sent.push(ch.publish("", queue, chunk));
    } catch (e) {
      refused = e;
    }
    assert.ok(refused instanceof BufferFullError, `got ${String(refused)}`);
    assert.ok(sent.length < 30, `${sent.length} accepted`);
    assert.ok(ch.waitingPublishes > 0);
    await Promise.all(sent);
    assert.equal(ch.waitingPublishes, 0);
    // close() lets the waiting publishes out first; by then all are in the queue.
    await ch.close();
    const ch2 = await conn.createChannel();
    assert.equal((await ch2.queueDeclare(queue, { passive: true })).messageCount, sent.length);
    await conn.close();
  });
});

describe("a broker that blocks the connection (resource alarm)", () => {
  it("publish() waits, rejects with BlockedError after publishTimeout, and flows once unblocked", async () => {
    // A 1 MiB memory watermark: the alarm is on from the start, and the broker blocks a
    // connection once it publishes (as RabbitMQ does).
    const alarmed = new Broker({ port: 0, memoryHighWatermark: 1024 * 1024, log: lineLogger(() => {}) });
    const alarmedUrl = `amqp://guest:guest@127.0.0.1:${await alarmed.start()}`;
    try {
      for (const kind of ["Channel", "RecoveringChannel"] as const) {
        const plain = kind === "Channel" ? await connect(alarmedUrl, { publishTimeout: 300 }) : undefined;
        const rc = plain
          ? undefined
          : await RecoveringConnection.connect(alarmedUrl, { publishTimeout: 300 });
        const ch = plain ? await plain.createChannel() : await rc!.createChannel();
        const blocked = new Promise<string>((r) => (plain ?? rc!).once("blocked", r));
        const { queue } = await ch.queueDeclare("", { exclusive: true });
        await ch.publish("", queue, "first");
        assert.equal(await blocked, "low on memory");
        await assert.rejects(ch.publish("", queue, "held"), (e: Error) => {
          assert.ok(e instanceof BlockedError, `${kind}: ${String(e)}`);
          assert.equal(e.reason, "low on memory");
          return true;
        });
        const unblocked = new Promise<void>((r) => (plain ?? rc!).once("unblocked", r));
        alarmed.setMemoryHighWatermark("64GiB");
        await unblocked;
        await ch.publish("", queue, "after");
        const ch2 = plain ? await plain.createChannel() : await rc!.createChannel();
        assert.equal((await ch2.queueDeclare(queue, { passive: true })).messageCount, 2);
        await (plain ?? rc!).close();
        alarmed.setMemoryHighWatermark(1024 * 1024);
      }
    } finally {
      await alarmed.stop();
    }
  });
});

describe("updateSecret", () => {
  it("is answered by update-secret-ok", async () => {
    const conn = await connect(url);
    await conn.updateSecret("guest", "rotation");
    assert.equal(conn.isOpen, true);
    await conn.close();
    await assert.rejects(conn.updateSecret("x"), ClosedError);
  });
});

/** The next process warning (rejects after 2 s). */
function nextWarning(): Promise<Error> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      process.off("warning", on);
      reject(new Error("no process warning within 2 s"));
    }, 2000);
    const on = (w: Error) => {
      clearTimeout(t);
      process.off("warning", on);
      resolve(w);
    };
    process.on("warning", on);
  });
}

async function getOne(ch: import("./channel.js").Channel, queue: string, noAck = true): Promise<Message> {
  for (let i = 0; i < 200; i++) {
    const m = await ch.basicGet(queue, { noAck });
    if (m) return m;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`no message in ${queue}`);
}
