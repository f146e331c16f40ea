import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Broker, lineLogger } from "@warren/broker";
import { ChannelError, ReplyCode } from "@warren/protocol";
import { connect } from "./connection.js";
import { ClosedError, TimeoutError } from "./errors.js";
import type { Message } from "./message.js";
import type { RecoveringChannel } from "./recovering-channel.js";
import { type ReconnectInfo, RecoveringConnection } from "./recovering-connection.js";
import { delay, until } from "./testkit.js";

/*
 * RecoveringConnection against real (embedded) brokers that are stopped and started again on
 * the same port. The chaos test (interop/client-chaos.test.mjs) does the same to a broker
 * process with SIGKILL.
 */

const quiet = { log: lineLogger(() => {}) };
const fast = { initialDelay: 20, maxDelay: 200 };

/** A broker on a fixed port that can be stopped and started again. */
class Restartable {
  broker: Broker | undefined;
  port = 0;
  async start(): Promise<void> {
    this.broker = new Broker({ port: this.port, ...quiet });
    this.port = await this.broker.start();
  }
  async stop(): Promise<void> {
    await this.broker?.stop();
    this.broker = undefined;
  }
  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }
}

const b = new Restartable();
// INTEROP_TARGET_URL runs the tests that need no restart against another broker (RabbitMQ).
const target = process.env.INTEROP_TARGET_URL;
before(() => b.start());
after(() => b.stop());

/** Records the connection's events, in order. */
function events(rc: RecoveringConnection): string[] {
  const seen: string[] = [];
  for (const ev of [
    "connect",
    "disconnected",
    "reconnecting",
    "recovered",
    "recovery-failed",
    "close",
  ] as const) {
    rc.on(ev, () => void seen.push(ev));
  }
  rc.on("queue-renamed", (from, to) => void seen.push(`renamed ${from} -> ${to}`));
  rc.on("error", (e) => void seen.push(`error ${e.message}`));
  return seen;
}

describe("RecoveringConnection", () => {
  it("reconnects, declares its topology again, restores QoS and consumers, maps renamed queues", async () => {
    const rc = await RecoveringConnection.connect(b.url, { recovery: fast });
    const seen = events(rc);
    const ch = await rc.createChannel();
    await ch.exchangeDeclare("rec.src", "topic");
    await ch.exchangeDeclare("rec.dst", "fanout");
    await ch.exchangeBind("rec.dst", "rec.src", "a.#");
    const { queue } = await ch.queueDeclare("", { exclusive: true });
    await ch.queueBind(queue, "rec.dst");
    await ch.basicQos(1);
    const got: Message[] = [];
    await ch.basicConsume(queue, (m) => void got.push(m));

    await b.stop();
    await until(() => seen.includes("disconnected"));
    assert.equal(rc.isOpen, false);
    await b.start();
    await until(() => seen.includes("recovered"), 5000);
    assert.ok(seen.includes("reconnecting"));
    const renamed = seen.find((e) => e.startsWith("renamed "));
    assert.ok(renamed?.startsWith(`renamed ${queue} -> amq.gen-`), String(renamed));
    assert.equal(rc.isOpen, true);

    // Through the exchange-to-exchange binding to the new queue; prefetch 1 is in force again.
    await ch.publish("rec.src", "a.b", "one");
    await ch.publish("rec.src", "a.c", "two");
    // The old name still reaches the queue: the default exchange routes by the new one.
    await ch.publish("", queue, "three");
    await until(() => got.length === 1);
    await delay(100);
    assert.equal(got.length, 1, "prefetch 1 not restored");
    got[0]!.ack();
    await until(() => got.length === 2);
    got[1]!.ack();
    await until(() => got.length === 3);
    assert.deepEqual(
      got.map((m) => m.body.toString()),
      ["one", "two", "three"],
    );
    const status = await ch.queueDeclare(queue, { passive: true });
    assert.equal(status.queue, queue);
    await ch.exchangeDelete("rec.src");
    await ch.exchangeDelete("rec.dst");
    await rc.close();
    assert.deepEqual(seen.slice(-1), ["close"]);
  });

  it("holds operations and publishes made while down; they complete after recovery or time out", async () => {
    const rc = await RecoveringConnection.connect(b.url, { recovery: fast, operationTimeout: 5000 });
    rc.on("error", () => {});
    const ch = await rc.createChannel();
    await ch.confirmSelect();
    await ch.queueDeclare("rec.held", { durable: false });
    await b.stop();
    await until(() => !rc.isOpen);
    const declared = ch.queueDeclare("rec.held.2", { durable: false });
    const published = ch.publish("", "rec.held", "while down");
    assert.equal(ch.unconfirmed, 1);
    await delay(100);
    await b.start();
    await declared;
    await published;
    const m = await ch.basicGet("rec.held", { noAck: true });
    assert.equal(m?.body.toString(), "while down");
    await ch.queueDelete("rec.held");
    await ch.queueDelete("rec.held.2");
    await rc.close();

    const quick = await RecoveringConnection.connect(b.url, { recovery: fast, operationTimeout: 150 });
    const qch = await quick.createChannel();
    await b.stop();
    await until(() => !quick.isOpen);
    await assert.rejects(qch.queueDeclare("never"), TimeoutError);
    await assert.rejects(qch.publish("", "never", "x"), TimeoutError);
    await b.start();
    await quick.close();
    await assert.rejects(qch.queueDeclare("x"), ClosedError);
  });

  it("survives a channel error: the refused operation rejects, the channel comes back with its consumers", async () => {
    const rc = await RecoveringConnection.connect(target ?? b.url, { recovery: fast });
    const ch = await rc.createChannel();
    const errors: Error[] = [];
    let recovered = 0;
    ch.on("error", (e) => void errors.push(e));
    ch.on("recovered", () => void recovered++);
    const { queue } = await ch.queueDeclare("", { exclusive: true });
    const got: string[] = [];
    await ch.basicConsume(queue, (m) => {
      got.push(m.body.toString());
      m.ack();
    });
    await ch.confirmSelect();
    await assert.rejects(ch.publish("rec.missing", "k", "x"), (e: Error) => {
      assert.ok(e instanceof ChannelError);
      assert.equal(e.replyCode, ReplyCode.NOT_FOUND);
      return true;
    });
    await until(() => recovered === 1);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof ChannelError);
    await ch.publish("", queue, "after the error");
    await until(() => got.length === 1);
    assert.deepEqual(got, ["after the error"]);
    await rc.close();
  });

  it("resubscribes a consumer after a server cancel: its queue declared again, or awaited", async () => {
    const rc = await RecoveringConnection.connect(target ?? b.url, { recovery: fast });
    const ch = await rc.createChannel();
    const seen: string[] = [];
    ch.on("cancel", (tag) => void seen.push(`cancel ${tag}`));
    ch.on("resubscribed", (tag, q) => void seen.push(`resubscribed ${tag} ${q}`));
    await ch.queueDeclare("rec.own", { durable: false });
    const got: string[] = [];
    const own = await ch.basicConsume("rec.own", (m) => {
      got.push(m.body.toString());
      m.ack();
    });
    const other = await connect(target ?? b.url);
    const och = await other.createChannel();
    await och.queueDeclare("rec.foreign", { durable: false });
    const foreign = await ch.basicConsume("rec.foreign", (m) => {
      got.push(m.body.toString());
      m.ack();
    });

    // Declared through rc: declared again at once.
    await och.queueDelete("rec.own");
    await until(() => seen.includes(`resubscribed ${own} rec.own`));
    assert.deepEqual(seen, [`cancel ${own}`, `resubscribed ${own} rec.own`]);
    await och.publish("", "rec.own", "own is back");
    // Declared elsewhere: awaited until someone declares it again.
    await och.queueDelete("rec.foreign");
    await until(() => seen.includes(`cancel ${foreign}`));
    await delay(150);
    assert.ok(!seen.includes(`resubscribed ${foreign} rec.foreign`));
    await och.queueDeclare("rec.foreign", { durable: false });
    await until(() => seen.includes(`resubscribed ${foreign} rec.foreign`), 5000);
    await och.publish("", "rec.foreign", "foreign is back");
    await until(() => got.length === 2);
    assert.deepEqual(got.sort(), ["foreign is back", "own is back"]);

    // Deleted through rc itself: gone for good, not resubscribed.
    await ch.queueDelete("rec.own");
    await delay(100);
    assert.equal(seen.filter((e) => e.startsWith("resubscribed")).length, 2);
    await och.queueDelete("rec.foreign");
    await other.close();
    await rc.close();
  });

  it("fails over between URLs, and gives up after maxAttempts", async () => {
    const rc = await RecoveringConnection.connect(["amqp://127.0.0.1:1", b.url], { recovery: fast });
    assert.equal(rc.isOpen, true);
    await rc.close();

    await assert.rejects(RecoveringConnection.connect("amqp://127.0.0.1:1", { recovery: fast }), {
      code: "ECONNREFUSED",
    });

    const limited = await RecoveringConnection.connect(b.url, { recovery: { ...fast, maxAttempts: 3 } });
    const seen = events(limited);
    const retries: ReconnectInfo[] = [];
    limited.on("reconnecting", (i) => void retries.push(i));
    const ch: RecoveringChannel = await limited.createChannel();
    await b.stop();
    try {
      await until(() => seen.includes("close"), 5000);
      assert.deepEqual(
        retries.map((r) => r.attempt),
        [1, 2],
      );
      assert.ok(retries.every((r) => r.delay <= 200 && r.target === `127.0.0.1:${b.port}`));
      assert.deepEqual(seen.slice(-2), ["recovery-failed", "close"]);
      await assert.rejects(ch.queueDeclare("x"), ClosedError);
    } finally {
      await b.start();
    }
  });

  it("resends unconfirmed publishes: every publish resolves across a restart", async () => {
    const rc = await RecoveringConnection.connect(b.url, { recovery: fast });
    rc.on("error", () => {});
    const ch = await rc.createChannel({ publishWindow: 50 });
    await ch.confirmSelect();
    await ch.queueDeclare("rec.resend", { durable: false });
    const all: Promise<void>[] = [];
    for (let i = 0; i < 2000; i++) all.push(ch.publish("", "rec.resend", `m${i}`, { messageId: String(i) }));
    await delay(5);
    await b.stop();
    await b.start();
    const results = await Promise.allSettled(all);
    assert.deepEqual(
      results.filter((r) => r.status === "rejected"),
      [],
    );
    // The broker restarted empty (no data directory): what arrived after the restart is there.
    const { messageCount } = await ch.queueDeclare("rec.resend", { durable: false, passive: true });
    assert.ok(messageCount > 0 && messageCount <= 2000, `${messageCount} messages`);
    await ch.queueDelete("rec.resend");
    await rc.close();
  });
});
