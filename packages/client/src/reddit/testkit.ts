/*
 * Test support for the reddit wrapper's tests (not exported by the package): the broker the
 * tests talk to, a TCP proxy that can be down, paused or cut, and small AMQP probes.
 *
 * The broker is a real Warren broker started in this process on a free port, or, when
 * INTEROP_TARGET_URL is set (for example a RabbitMQ at amqp://guest:guest@localhost:5682),
 * that broker instead, so every test can be checked against the reference.
 */
import net from "node:net";
import { after, before } from "node:test";
import { Broker, lineLogger } from "@warren/broker";
import type { Channel } from "../channel.js";
import { type Connection, connect } from "../connection.js";
import { Amqp, type AmqpConfig, type UnroutableItem } from "./amqp.js";
import { MessageQueue } from "./message-queue.js";
import type { Item } from "./publisher.js";
import { Queues } from "./queues.js";

/** The broker under test. */
export interface Target {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Starts an embedded broker, or names the one INTEROP_TARGET_URL points at. */
export async function startTarget(): Promise<Target> {
  const external = process.env.INTEROP_TARGET_URL;
  if (external) {
    const u = new URL(external);
    return { url: external, host: u.hostname, port: Number(u.port || 5672), stop: async () => {} };
  }
  const broker = new Broker({ port: 0, log: lineLogger(() => {}) });
  const port = await broker.start();
  return { url: `amqp://guest:guest@127.0.0.1:${port}/`, host: "127.0.0.1", port, stop: () => broker.stop() };
}

/** The broker and a probe on it, for one test file: started before its tests, stopped after. */
export function useBroker(): { readonly target: Target; readonly probe: Probe } {
  const f = {} as { target: Target; probe: Probe };
  before(async () => {
    f.target = await startTarget();
    f.probe = await Probe.open(f.target.url);
  });
  after(async () => {
    await f.probe?.close();
    await f.target?.stop();
  });
  return f;
}

/**
 * The seed's declare_queues() (vote_comment_q bound to itself and to vote_comment_q_test,
 * newcomments_q to new_link and link_text_edited), with names unique to this run.
 */
export function seedQueues() {
  const exchange = unique("reddit_exchange");
  const vote = unique("vote_comment_q");
  const news = unique("newcomments_q");
  const queues = new Queues({
    [vote]: new MessageQueue({ bindToSelf: true }),
    [news]: new MessageQueue(),
  });
  queues.get(vote).bind("vote_comment_q_test");
  queues.get(news).bind("new_link", "link_text_edited");
  return { exchange, vote, news, queues };
}

/** What withAmqp() gives a test. */
export type AmqpContext = ReturnType<typeof seedQueues> & {
  amqp: Amqp;
  /** What the wrapper logged. */
  lines: string[];
  /** 'unroutable' events so far. */
  unroutable: UnroutableItem[];
  /** 'error' events so far. */
  errors: { err: Error; item: Item | undefined }[];
};

/**
 * Runs fn with an Amqp on seedQueues() (its events collected, its log captured), then
 * closes it and deletes the queues and the exchange. With `declare`, the foreground
 * connection declares everything before fn runs.
 */
export async function withAmqp(
  broker: { readonly target: Target; readonly probe: Probe },
  opts: Partial<AmqpConfig> & { declare?: boolean },
  fn: (c: AmqpContext) => Promise<void>,
): Promise<void> {
  const f = seedQueues();
  const { declare, ...config } = opts;
  const lines: string[] = [];
  const amqp = new Amqp({
    url: broker.target.url,
    exchange: f.exchange,
    queues: f.queues,
    log: (l) => lines.push(l),
    ...config,
  });
  const c: AmqpContext = { ...f, amqp, lines, unroutable: [], errors: [] };
  amqp.on("unroutable", (u) => c.unroutable.push(u));
  amqp.on("error", (err, item) => c.errors.push({ err, item }));
  try {
    if (declare) await amqp.getChannel();
    await fn(c);
  } finally {
    await amqp.close();
    await broker.probe.cleanup([f.vote, f.news], [f.exchange]);
  }
}

/** A name no other test run uses, for queues and exchanges on a shared broker. */
export function unique(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The URL with another port (for the proxy). */
export function withPort(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = "127.0.0.1";
  u.port = String(port);
  return u.toString();
}

/** A free TCP port on loopback (nothing listens on it when this resolves). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A proxy on a free port in front of the target (listening unless `listen` is false), and its URL. */
export async function openProxy(target: Target, listen = true): Promise<{ proxy: TcpProxy; url: string }> {
  const port = await freePort();
  const proxy = new TcpProxy(port, target);
  if (listen) await proxy.listen();
  return { proxy, url: withPort(target.url, port) };
}

/**
 * A TCP proxy in front of the broker, for broker-independent failure tests: it can start
 * listening late (the broker "comes up"), hold back what the broker sends (a confirm that
 * never arrives), and cut every connection (the network fails).
 */
export class TcpProxy {
  /** Connections accepted so far. */
  accepted = 0;
  private server: net.Server | undefined;
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private held = false;

  constructor(
    readonly port: number,
    private readonly target: Target,
  ) {}

  /** Starts listening on `port`. */
  listen(): Promise<void> {
    const server = net.createServer((client) => {
      this.accepted++;
      const upstream = net.connect(this.target.port, this.target.host);
      const pair = { client, upstream };
      this.pairs.add(pair);
      client.on("data", (d) => upstream.write(d));
      upstream.on("data", (d) => {
        if (!this.held) client.write(d);
      });
      const end = (): void => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on("close", end).on("error", end);
      upstream.on("close", end).on("error", end);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
  }

  /** From now on, drop what the broker sends (the client hears nothing more). */
  hold(): void {
    this.held = true;
  }

  /** Cuts every connection; new ones are forwarded normally again. */
  cut(): void {
    this.held = false;
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Cuts every connection and stops listening. */
  async close(): Promise<void> {
    this.cut();
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

/** A connection and channel for looking at the broker from outside the code under test. */
export class Probe {
  private constructor(
    readonly connection: Connection,
    private channel: Channel,
  ) {}

  static async open(url: string): Promise<Probe> {
    const c = await connect(url);
    return new Probe(c, await c.createChannel());
  }

  /** A channel that is open (a failed passive declare closes the previous one). */
  async ch(): Promise<Channel> {
    if (!this.channel.isOpen) this.channel = await this.connection.createChannel();
    return this.channel;
  }

  /** Ready messages in the queue. */
  async depth(queue: string): Promise<number> {
    return (await (await this.ch()).queueDeclare(queue, { passive: true })).messageCount;
  }

  /** Waits (bounded) until the queue holds n ready messages. */
  waitDepth(queue: string, n: number, timeoutMs = 5000): Promise<void> {
    return this.waitFor(queue, "messageCount", n, timeoutMs);
  }

  /** Waits (bounded) until the queue has n consumers. */
  waitConsumers(queue: string, n: number, timeoutMs = 5000): Promise<void> {
    return this.waitFor(queue, "consumerCount", n, timeoutMs);
  }

  private async waitFor(
    queue: string,
    what: "messageCount" | "consumerCount",
    n: number,
    timeoutMs: number,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = (await (await this.ch()).queueDeclare(queue, { passive: true }))[what];
      if (got === n) return;
      if (Date.now() > deadline) throw new Error(`queue ${queue}: ${what} is ${got}, not ${n}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Takes every ready message (acked), returning bodies and whether they were redelivered. */
  async drain(queue: string): Promise<{ body: string; redelivered: boolean }[]> {
    const ch = await this.ch();
    const out: { body: string; redelivered: boolean }[] = [];
    for (
      let m = await ch.basicGet(queue, { noAck: true });
      m;
      m = await ch.basicGet(queue, { noAck: true })
    ) {
      out.push({ body: m.body.toString(), redelivered: m.fields.redelivered });
    }
    return out;
  }

  /** Publishes bodies to the default exchange straight into the queue, confirmed. */
  async fill(queue: string, bodies: readonly string[]): Promise<void> {
    const ch = await this.connection.createChannel();
    await ch.confirmSelect();
    for (const b of bodies) ch.publishConfirm("", queue, b).catch(() => {});
    await ch.waitForConfirms();
    await ch.close();
  }

  /** Deletes queues and exchanges (missing ones are fine). */
  async cleanup(queues: readonly string[], exchanges: readonly string[] = []): Promise<void> {
    for (const q of queues) await (await this.ch()).queueDelete(q).catch(() => {});
    for (const x of exchanges) await (await this.ch()).exchangeDelete(x).catch(() => {});
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
