import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, describe, it } from "node:test";
import { Broker, BrokerAdmin, lineLogger } from "@warren/broker";
import { ChannelError, ConnectionError, ReplyCode } from "@warren/protocol";
import type { Message } from "./message.js";
import { connect } from "./connection.js";
import { BrokerConnection } from "./kombu/broker-connection.js";
import { Consumer } from "./kombu/consumer.js";
import { Exchange } from "./kombu/exchange.js";
import { Producer } from "./kombu/producer.js";
import { Queue } from "./kombu/queue.js";
import { closeMemoryBrokers } from "./memory-transport.js";
import { RecoveringConnection } from "./recovering-connection.js";
import { parseUrl } from "./url.js";
import { delay, until } from "./testkit.js";

after(() => closeMemoryBrokers());

describe("memory:// with connect()", () => {
  it("talks AMQP to a Warren broker embedded in the process", async () => {
    const c = await connect("memory://plain");
    assert.equal(c.serverProperties.product, "Warren");
    assert.equal(c.heartbeat, 0);
    const ch = await c.createChannel();
    await ch.queueDeclare("q", { durable: true });
    // Big enough to be split into many frames and written as one large chunk.
    const big = Buffer.alloc(1 << 20, 7);
    await ch.confirmSelect();
    ch.basicPublish("", "q", Buffer.from("small"), { deliveryMode: 2 });
    ch.basicPublish("", "q", big);
    await ch.waitForConfirms();
    assert.equal((await ch.queueDeclare("q", { passive: true })).messageCount, 2);
    assert.equal((await ch.basicGet("q", { noAck: true }))?.body.toString(), "small");
    assert.ok((await ch.basicGet("q", { noAck: true }))?.body.equals(big));
    // A broker's errors, as over TCP.
    await assert.rejects(
      ch.queueDeclare("missing", { passive: true }),
      (e: Error) => e instanceof ChannelError && e.code === ReplyCode.NOT_FOUND,
    );
    await c.close();
  });

  it("shares one broker per name: connections to it see each other's messages", async () => {
    const a = await connect("memory://");
    const b = await connect("memory://localhost/");
    const other = await connect("memory://elsewhere");
    const cha = await a.createChannel();
    const chb = await b.createChannel();
    await cha.queueDeclare("shared");
    const got: string[] = [];
    await chb.basicConsume("shared", (m) => got.push(m.body.toString()), { noAck: true });
    cha.basicPublish("", "shared", Buffer.from("from a"));
    await until(() => got.length === 1);
    assert.deepEqual(got, ["from a"]);
    // Another name is another broker.
    const cho = await other.createChannel();
    await assert.rejects(cho.queueDeclare("shared", { passive: true }), ChannelError);
    await Promise.all([a.close(), b.close(), other.close()]);

    // The broker outlives its connections (as kombu's memory transport's state does).
    const again = await connect("memory://");
    assert.equal(
      (await (await again.createChannel()).queueDeclare("shared", { passive: true })).queue,
      "shared",
    );
    await again.close();
  });

  it("creates the URL's vhost on first use, separate from the others", async () => {
    const v = await connect("memory://vh/orders");
    await (await v.createChannel()).queueDeclare("in-orders");
    const root = await connect("memory://vh");
    await assert.rejects(
      (await root.createChannel()).queueDeclare("in-orders", { passive: true }),
      ChannelError,
    );
    await Promise.all([v.close(), root.close()]);
  });

  it("parses memory:// URLs and refuses ports and credentials", () => {
    const o = parseUrl("memory://name/v?heartbeat=5");
    assert.equal(o.protocol, "memory");
    assert.equal(o.hostname, "name");
    assert.equal(o.vhost, "v");
    assert.equal(o.heartbeat, 5);
    assert.equal(typeof o.transport, "function");
    assert.equal(parseUrl("memory://").hostname, "default");
    assert.equal(parseUrl("memory://localhost").hostname, "default");
    assert.throws(() => parseUrl("memory://u:p@name"), TypeError);
    assert.throws(() => parseUrl("memory://name:5672"), TypeError);
  });

  it("takes protocol 'memory' in connect options as the URL", async () => {
    const a = await connect("memory://opts/v");
    await (await a.createChannel()).queueDeclare("by-options");
    const b = await connect({ protocol: "memory", hostname: "opts", vhost: "v" });
    await (await b.createChannel()).queueDeclare("by-options", { passive: true });
    await Promise.all([a.close(), b.close()]);
  });

  it("closeMemoryBrokers() closes the connections with 320 and the next connect starts afresh", async () => {
    const c = await connect("memory://reset");
    const ch = await c.createChannel();
    await ch.queueDeclare("kept");
    const errors: Error[] = [];
    c.on("error", (e) => errors.push(e));
    await closeMemoryBrokers("reset");
    await c.closed;
    assert.ok(errors[0] instanceof ConnectionError, String(errors[0]));
    assert.equal((errors[0] as ConnectionError).code, ReplyCode.CONNECTION_FORCED);
    const fresh = await connect("memory://reset");
    await assert.rejects((await fresh.createChannel()).queueDeclare("kept", { passive: true }), ChannelError);
    await fresh.close();
  });
});

describe("memory:// with RecoveringConnection", () => {
  it("reconnects through the transport to the new broker after closeMemoryBrokers()", async () => {
    const rc = await RecoveringConnection.connect("memory://recover", {
      recovery: { initialDelay: 10, maxDelay: 50 },
    });
    rc.on("error", () => {});
    let recovered = false;
    rc.on("recovered", () => (recovered = true));
    const ch = await rc.createChannel();
    await ch.queueDeclare("recovered-q", { durable: true });
    await closeMemoryBrokers("recover");
    await until(() => recovered);
    // A new, empty broker: recovery declared the queue on it again.
    const plain = await connect("memory://recover");
    assert.equal(
      (await (await plain.createChannel()).queueDeclare("recovered-q", { passive: true })).messageCount,
      0,
    );
    await plain.close();
    await rc.close();
  });
});

describe("Broker.connectInProcess() and ConnectOptions.transport", () => {
  it("serves an in-process connection like a TCP one, without a listener", async () => {
    const broker = new Broker({ listen: false, log: lineLogger(() => {}) });
    assert.throws(() => broker.connectInProcess(), /not started/);
    assert.equal(await broker.start(), 0);
    // guest may log in: in-process counts as loopback (loopback_users).
    const c = await connect({ transport: () => broker.connectInProcess(), connectionName: "unit" });
    const views = new BrokerAdmin(broker).listConnections();
    assert.equal(views.length, 1);
    assert.equal(views[0]!.peerHost, "in-process");
    assert.equal(views[0]!.user, "guest");
    const ch = await c.createChannel();
    await ch.queueDeclare("x");
    const closed = new Promise<Error | undefined>((r) => c.once("close", r));
    await broker.stop();
    // The broker's connection.close arrives before the stream closes, as over TCP.
    const err = await closed;
    assert.ok(err instanceof ConnectionError, String(err));
    assert.equal(err.code, ReplyCode.CONNECTION_FORCED);
    assert.throws(() => broker.connectInProcess(), /stopped/);
  });
});

describe("memory:// with the kombu layer", () => {
  const url = "memory://kombu";

  it("declares, publishes, consumes and acks through a direct exchange", async () => {
    const conn = new BrokerConnection(url);
    const jobs = new Exchange("jobs", { type: "direct" });
    const q = new Queue("jobs-q", { exchange: jobs, routingKey: "run" });
    const got: unknown[] = [];
    // onMessage: the raw message, no decoding.
    const consumer = new Consumer(conn, {
      queues: q,
      onMessage: (m) => {
        got.push(JSON.parse(m.body.toString()));
        m.ack();
      },
    });
    await consumer.consume();
    const producer = new Producer(conn, { exchange: jobs });
    await producer.publish({ n: 1 }, { routingKey: "run" });
    await producer.publish({ n: 2 }, { routingKey: "run" });
    await producer.publish({ n: 3 }, { routingKey: "elsewhere" });
    await until(() => got.length === 2);
    assert.deepEqual(got, [{ n: 1 }, { n: 2 }]);
    await consumer.cancel();
    const ch = await conn.channel();
    // Acked: nothing left, nothing unacked.
    const st = await q.status(ch);
    assert.equal(st.messageCount, 0);
    await conn.close();
  });

  it("redelivers a message rejected with requeue", async () => {
    const conn = new BrokerConnection(url);
    const q = new Queue("requeue-q", { durable: false });
    const seen: { body: unknown; redelivered: boolean }[] = [];
    const consumer = new Consumer(conn, {
      queues: q,
      callbacks: [
        (body, m: Message) => {
          seen.push({ body, redelivered: m.fields.redelivered });
          if (seen.length === 1) m.reject(true);
          else m.ack();
        },
      ],
    });
    await consumer.consume();
    await new Producer(conn).publish("again", { routingKey: "requeue-q", serializer: "text" });
    await until(() => seen.length === 2);
    assert.deepEqual(seen, [
      { body: "again", redelivered: false },
      { body: "again", redelivered: true },
    ]);
    await consumer.cancel();
    await conn.close();
  });

  it("routes through topic and headers exchanges as a broker does", async () => {
    const conn = new BrokerConnection(url);
    const logs = new Exchange("logs", { type: "topic" });
    const tagged = new Exchange("tagged", { type: "headers" });
    const queues = {
      errors: new Queue("t-errors", { exchange: logs, routingKey: "*.error" }),
      all: new Queue("t-all", { exchange: logs, routingKey: "app.#" }),
      both: new Queue("h-all", { exchange: tagged, bindingArguments: { "x-match": "all", a: "1", b: "2" } }),
      any: new Queue("h-any", { exchange: tagged, bindingArguments: { "x-match": "any", a: "1", b: "2" } }),
    };
    const ch = await conn.channel();
    for (const q of Object.values(queues)) await q.declare(ch);
    const topic = new Producer(conn, { exchange: logs, serializer: "text" });
    for (const key of ["app.error", "app.db.info", "db.error", "app"])
      await topic.publish(key, { routingKey: key });
    const headers = new Producer(conn, { exchange: tagged, serializer: "text" });
    await headers.publish("ab", { headers: { a: "1", b: "2" } });
    await headers.publish("a", { headers: { a: "1" } });
    await headers.publish("none", { headers: { c: "3" } });
    const drain = async (q: Queue): Promise<string[]> => {
      const out: string[] = [];
      for (let m = await q.get(ch, { noAck: true }); m; m = await q.get(ch, { noAck: true }))
        out.push(m.body.toString());
      return out;
    };
    assert.deepEqual(await drain(queues.errors), ["app.error", "db.error"]);
    assert.deepEqual(await drain(queues.all), ["app.error", "app.db.info", "app"]);
    assert.deepEqual(await drain(queues.both), ["ab"]);
    assert.deepEqual(await drain(queues.any), ["ab", "a"]);
    await conn.close();
  });

  it("holds back deliveries beyond the prefetch count until acks", async () => {
    const conn = new BrokerConnection(url);
    const q = new Queue("prefetch-q", { durable: false });
    const held: Message[] = [];
    const consumer = new Consumer(conn, {
      queues: q,
      prefetchCount: 2,
      callbacks: [(_body, m) => void held.push(m)],
    });
    await consumer.consume();
    const producer = new Producer(conn);
    for (let i = 0; i < 5; i++) await producer.publish({ i }, { routingKey: "prefetch-q" });
    await until(() => held.length === 2);
    // A round trip through the broker: had more been sent, they would have arrived by now.
    const ch = await conn.channel();
    assert.equal((await q.status(ch)).messageCount, 3);
    assert.equal(held.length, 2);
    held[0]!.ack();
    await until(() => held.length === 3);
    for (const m of held.slice(1)) m.ack();
    await until(() => held.length === 5);
    for (const m of held.slice(3)) m.ack();
    await consumer.cancel();
    await conn.close();
  });
});

describe("process lifetime", () => {
  // (That an open one keeps the process alive is InProcessSocket's test, in @warren/broker.)
  const script = `
    import { connect } from ${JSON.stringify(new URL("./index.js", import.meta.url).href)};
    const c = await connect("memory://");
    const ch = await c.createChannel();
    await ch.queueDeclare("life");
    await ch.basicConsume("life", (m) => {
      ch.ack(m);
      console.log("got " + m.body);
      c.close().then(() => console.log("closed"));
    });
    ch.basicPublish("", "life", Buffer.from("it"));
  `;

  /** Runs an ES module in a new Node.js process. */
  function run(code: string): { exited: Promise<number | null>; out: () => string; kill: () => void } {
    const p = spawn(process.execPath, ["--input-type=module", "-e", code], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    return {
      exited: new Promise((r) => p.on("exit", (code) => r(code))),
      out: () => out,
      kill: () => p.kill(),
    };
  }

  it("loads @warren/broker only for memory://, and says to install it when it is missing", async () => {
    // A resolve hook that makes @warren/broker missing, as in a project without it.
    const dir = mkdtempSync(join(tmpdir(), "warren-memory-"));
    const hooks = join(dir, "hooks.mjs");
    writeFileSync(
      hooks,
      `export async function resolve(specifier, context, next) {
        if (specifier === "@warren/broker")
          throw Object.assign(new Error("Cannot find package '@warren/broker'"), { code: "ERR_MODULE_NOT_FOUND" });
        return next(specifier, context);
      }`,
    );
    const child = run(
      `import { register } from "node:module";
      register(${JSON.stringify(pathToFileURL(hooks).href)});
      const { connect, parseUrl } = await import(${JSON.stringify(new URL("./index.js", import.meta.url).href)});
      parseUrl("memory://");
      console.log("loaded");
      await connect("memory://").catch((e) => console.log(e.message));`,
    );
    const code = await child.exited;
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0);
    assert.equal(
      child.out(),
      "loaded\nmemory:// URLs need the @warren/broker package: npm install @warren/broker\n",
    );
  });

  it("exits by itself once its memory:// connections are closed", async () => {
    const child = run(script);
    // Start-up may be slow on a loaded machine; the exit after the close may not.
    await until(() => child.out().endsWith("closed\n"), 30_000);
    const code = await Promise.race([child.exited, delay(3000).then(() => "hung")]);
    if (code === "hung") child.kill();
    assert.equal(code, 0, child.out());
    assert.equal(child.out(), "got it\nclosed\n");
  });
});
