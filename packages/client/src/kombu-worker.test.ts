import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ChannelError, ReplyCode } from "@warren/protocol";
import type { Channel } from "./channel.js";
import type { Connection } from "./connection.js";
import { ClosedError, TimeoutError } from "./errors.js";
import { BrokerConnection, isRecoverable } from "./kombu/broker-connection.js";
import { Consumer } from "./kombu/consumer.js";
import { type ConsumerFactory, ConsumerMixin, ConsumerProducerMixin } from "./kombu/mixins.js";
import { Producer } from "./kombu/producer.js";
import { Queue } from "./kombu/queue.js";
import { delay, until } from "./testkit.js";
import { useBroker } from "./broker-testkit.js";

/* kombu's long-running workers (issue 14): drainEvents(), autoretry(), ConsumerMixin. */

// INTEROP_TARGET_URL runs these against another broker (RabbitMQ, to check the behaviour).
const brokerUrl = useBroker();
const fast = { intervalStart: 0.02, intervalStep: 0.02, intervalMax: 0.1 };

/** Breaks the TCP connection under the client, as the seed's driver shuts the socket down. */
function cut(conn: Connection | undefined): void {
  assert.ok(conn, "no live connection to cut");
  (conn as unknown as { socket: { destroy(): void } }).socket.destroy();
}

const names = new Set<string>();
/** A queue name of this run (deleted at the end of each test that uses it). */
function qname(base: string): string {
  const n = `${base}-${process.pid}-${names.size}`;
  names.add(n);
  return n;
}

async function deleteQueues(conn: BrokerConnection, ...queues: string[]): Promise<void> {
  const ch = await conn.channel();
  for (const q of queues) await ch.queueDelete(q);
  await ch.close();
}

describe("BrokerConnection.drainEvents", () => {
  it("waits for a delivery to be handled (async callbacks settled), counting earlier ones", async () => {
    const conn = new BrokerConnection(brokerUrl());
    const name = qname("drain");
    const q = new Queue(name, { durable: false });
    const finished: unknown[] = [];
    const consumer = new Consumer(conn, {
      queues: q,
      callbacks: [
        async (body, m) => {
          await delay(30);
          finished.push(body);
          m.ack();
        },
      ],
    });
    await consumer.consume();
    const producer = new Producer(conn);
    await producer.publish({ n: 1 }, { routingKey: name });
    await conn.drainEvents({ timeout: 5 });
    assert.deepEqual(finished, [{ n: 1 }]);

    // Two handled before anyone drains: the next two calls return at once, the third waits.
    await producer.publish({ n: 2 }, { routingKey: name });
    await producer.publish({ n: 3 }, { routingKey: name });
    await until(() => finished.length === 3);
    await conn.drainEvents({ timeout: 0.01 });
    await conn.drainEvents({ timeout: 0.01 });
    const t0 = Date.now();
    await assert.rejects(
      conn.drainEvents({ timeout: 0.15 }),
      (e: Error) => e instanceof TimeoutError && e.timeout === 150,
    );
    assert.ok(Date.now() - t0 >= 140, "timed out early");

    await consumer.cancel();
    await deleteQueues(conn, name);
    await conn.close();
    await assert.rejects(conn.drainEvents(), ClosedError);
  });

  it("rejects with the connection's error when the connection is lost, and on close()", async () => {
    const conn = new BrokerConnection(brokerUrl());
    await conn.connect();
    const lost = conn.drainEvents({ timeout: 5 });
    cut(conn.connection);
    await assert.rejects(lost, (e: Error) => isRecoverable(e));

    await conn.connect();
    const closed = assert.rejects(conn.drainEvents(), ClosedError);
    await conn.close();
    await closed;
  });
});

describe("BrokerConnection.autoretry", () => {
  it("reruns fn on a revived channel after a lost connection and returns [result, channel]", async () => {
    const conn = new BrokerConnection(brokerUrl());
    const name = qname("autoretry");
    const calls: Channel[] = [];
    const errbacks: [string, number][] = [];
    const declare = conn.autoretry(
      async (ch, queue: string) => {
        calls.push(ch);
        if (calls.length === 1) cut(ch.connection);
        return (await ch.queueDeclare(queue, { durable: false })).queue;
      },
      { ...fast, maxRetries: 3, errback: (e, interval) => errbacks.push([e.name, interval]) },
    );
    const [result, channel] = await declare(name);
    assert.equal(result, name);
    assert.equal(calls.length, 2);
    assert.equal(channel, calls[1]);
    assert.notEqual(calls[0]!.connection, calls[1]!.connection);
    assert.deepEqual(errbacks, [["ClosedError", 0.02]]);

    // With a channel of the caller's: fn starts on it; a channel error is not retried.
    const own = await conn.channel();
    const passive = conn.autoretry((ch) => ch.queueDeclare(qname("absent"), { passive: true }), {
      channel: own,
      ...fast,
    });
    await assert.rejects(
      passive(),
      (e: Error) => e instanceof ChannelError && e.code === ReplyCode.NOT_FOUND,
    );
    assert.equal(own.isOpen, false);
    const [, revived] = await conn.autoretry((ch) => ch.queueDeclare(name, { passive: true }), {
      channel: own,
    })();
    assert.notEqual(revived, own);
    await deleteQueues(conn, name);
    await conn.close();
  });

  it("gives up after maxRetries with the last error", async () => {
    const dead = new BrokerConnection("amqp://127.0.0.1:1");
    const seen: number[] = [];
    const fn = dead.autoretry(() => "never", { ...fast, maxRetries: 2, errback: (_e, i) => seen.push(i) });
    await assert.rejects(fn(), (e: Error) => isRecoverable(e));
    assert.deepEqual(seen, [0.02, 0.04]);
  });
});

/** A worker of one queue that records what it gets and what its hooks saw. */
class Recorder extends ConsumerMixin {
  readonly got: unknown[] = [];
  readonly hooks: string[] = [];
  iterations = 0;
  constructor(
    connection: BrokerConnection,
    readonly queue: Queue,
  ) {
    super(connection);
  }
  getConsumers(Consumer: ConsumerFactory): Consumer[] {
    const onTask = (body: unknown, m: { ack(): void }): void => {
      if ((body as { boom?: boolean }).boom) throw new Error("boom");
      this.got.push(body);
      m.ack();
    };
    return [Consumer({ queues: [this.queue], callbacks: [onTask], accept: ["json"] })];
  }
  override onConnectionRevived(): void {
    this.hooks.push("revived");
  }
  override onConsumeReady(_c: BrokerConnection, consumers: readonly Consumer[]): void {
    this.hooks.push(`ready ${consumers.length}`);
  }
  override onConsumeEnd(): void {
    this.hooks.push("end");
  }
  override onIteration(): void {
    this.iterations++;
  }
  override onConnectionError(err: Error, interval: number): void {
    this.hooks.push(`error ${err.name} ${interval}`);
  }
}

describe("ConsumerMixin", () => {
  it("consumes until stop(), starting over on a new connection when it is lost", async () => {
    const conn = new BrokerConnection(brokerUrl(), { retryPolicy: fast });
    const errors: Error[] = [];
    conn.on("error", (e) => errors.push(e));
    const name = qname("mixin");
    const worker = new Recorder(conn, new Queue(name, { durable: false }));
    const running = worker.run({ safetyInterval: 0.05 });
    await until(() => worker.hooks.includes("ready 1"));
    const producer = new Producer(conn);
    await producer.publish({ n: 1 }, { routingKey: name });
    await until(() => worker.got.length === 1);

    // The worker's own connection is a clone: cutting it makes run() start over on a new one.
    cut(worker["active"]?.connection);
    await until(() => worker.hooks.filter((h) => h === "ready 1").length === 2);
    assert.deepEqual(worker.hooks, ["revived", "ready 1", "end", "revived", "ready 1"]);
    assert.ok(errors.some(isRecoverable), "the loss is reported to the connection's 'error' listeners");
    await producer.publish({ n: 2 }, { routingKey: name });
    await producer.publish("not json", { routingKey: name, serializer: "text" });
    await producer.publish({ boom: true }, { routingKey: name });
    // {n: 1} may come twice: its ack can be lost with the connection (at-least-once).
    await until(() => JSON.stringify(worker.got.at(-1)) === '{"n":2}');
    // A callback that throws: its error reaches the application's connection, its message is
    // rejected (it is not left in the queue, below).
    await until(() => errors.some((e) => e.message === "boom"));
    const t0 = Date.now();
    worker.stop();
    await running;
    assert.ok(Date.now() - t0 < 1000, "stop() should end run() at once");
    assert.deepEqual([...new Set(worker.got.map((b) => JSON.stringify(b)))], ['{"n":1}', '{"n":2}']);
    assert.equal(worker.hooks.at(-1), "end");
    assert.ok(worker.iterations >= 3);
    // The text body was refused by the accept list: reported and acked (kombu's default), not left queued.
    assert.ok(errors.some((e) => e.name === "ContentDisallowed"));
    const ch = await conn.channel();
    assert.equal((await ch.queueDeclare(name, { durable: false })).messageCount, 0);
    await ch.queueDelete(name);
    await conn.close();
  });

  it("calls onConnectionError while the broker is unreachable, and rejects on `timeout`", async () => {
    const dead = new BrokerConnection("amqp://127.0.0.1:1", { retryPolicy: fast });
    const unreachable = new Recorder(dead, new Queue("never"));
    unreachable.connectMaxRetries = 1;
    dead.on("error", () => {});
    const running = unreachable.run();
    await until(() => unreachable.hooks.length >= 2, 5000);
    unreachable.stop();
    await running;
    // Each start: one retry (errback), then the give-up goes to 'error' and run() starts over.
    assert.match(unreachable.hooks[0]!, /^error Error 0.02$/);

    const conn = new BrokerConnection(brokerUrl());
    const idle = new Recorder(conn, new Queue("", { exclusive: true, durable: false }));
    await assert.rejects(idle.run({ timeout: 0.2, safetyInterval: 0.05 }), TimeoutError);
    assert.deepEqual(idle.hooks, ["revived", "ready 1", "end"]);
    await conn.close();
  });
});

describe("ConsumerProducerMixin", () => {
  it("replies through a producer on a connection of its own", async () => {
    const conn = new BrokerConnection(brokerUrl());
    const name = qname("rpc");
    const replies = qname("replies");
    class Echo extends ConsumerProducerMixin {
      ready = false;
      override onConsumeReady(): void {
        this.ready = true;
      }
      getConsumers(Consumer: ConsumerFactory): Consumer[] {
        return [
          Consumer({
            queues: [new Queue(name, { durable: false })],
            callbacks: [
              async (body, m) => {
                await this.producer().publish({ echo: body }, { routingKey: m.properties.replyTo! });
                m.ack();
              },
            ],
          }),
        ];
      }
    }
    const worker = new Echo(conn);
    const running = worker.consume({ limit: 1 });
    const got: unknown[] = [];
    const rq = new Queue(replies, { durable: false });
    const client = new Consumer(conn, { queues: rq, noAck: true, callbacks: [(b) => got.push(b)] });
    await client.consume();
    await until(() => worker.ready);
    await new Producer(conn).publish("hi", { routingKey: name, replyTo: replies, serializer: "json" });
    await running; // limit: 1 event
    await until(() => got.length === 1);
    assert.deepEqual(got, [{ echo: "hi" }]);
    await client.cancel();
    await deleteQueues(conn, name, replies);
    await conn.close();
  });
});
