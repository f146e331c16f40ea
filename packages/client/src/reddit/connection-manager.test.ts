import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ChannelError, ConnectionError } from "@warren/protocol";
import { ConnectionManager, type ConnectionManagerOptions } from "./connection-manager.js";
import { MessageQueue } from "./message-queue.js";
import { Queues } from "./queues.js";
import { openProxy, seedQueues, type TcpProxy, unique, useBroker } from "./testkit.js";

const broker = useBroker();

/** Publishes with the probe to the exchange and says whether the queue got it. */
async function routesTo(exchange: string, key: string, queue: string): Promise<boolean> {
  const { probe } = broker;
  const ch = await probe.ch();
  const before = await probe.depth(queue);
  await ch.confirmSelect().catch(() => {});
  await ch.publishConfirm(exchange, key, "probe");
  const after = await probe.depth(queue);
  if (after > before) await ch.queuePurge(queue);
  return after > before;
}

type Context = ReturnType<typeof seedQueues> & { m: ConnectionManager; proxy: TcpProxy | undefined };

/**
 * Runs fn with a ConnectionManager on the seed's queues (straight to the broker, or through
 * a proxy that is "up" or still "down"), then closes everything and deletes the queues.
 */
async function withManager(
  opts: { proxy?: "up" | "down" } & Partial<ConnectionManagerOptions>,
  fn: (c: Context) => Promise<void>,
): Promise<void> {
  const f = seedQueues();
  const { proxy: mode, ...rest } = opts;
  const p = mode ? await openProxy(broker.target, mode === "up") : undefined;
  const m = new ConnectionManager({
    url: p?.url ?? broker.target.url,
    exchange: f.exchange,
    queues: f.queues,
    log: () => {},
    ...rest,
  });
  try {
    await fn({ ...f, m, proxy: p?.proxy });
  } finally {
    await m.close();
    await p?.proxy.close();
    await broker.probe.cleanup([f.vote, f.news], [f.exchange]);
  }
}

describe("reddit ConnectionManager", { timeout: 20000 }, () => {
  it("connects lazily, then declares the durable direct exchange, the queues and the bindings (init_queue)", () =>
    withManager({ proxy: "up" }, async ({ m, proxy, exchange, vote, news }) => {
      assert.equal(proxy!.accepted, 0, "constructing does not connect");
      assert.equal(m.connection, undefined);
      const ch = await m.getChannel();
      assert.equal(proxy!.accepted, 1);
      assert.ok(ch.isOpen);
      assert.equal(await m.getChannel(), ch, "the same channel next time");
      assert.equal(await m.getConnection(), ch.connection);
      // Durable: declaring it non-durable now is refused (406).
      const pch = await broker.probe.ch();
      await pch.exchangeDeclare(exchange, "direct", { passive: true });
      const is406 = (e: ChannelError) => e.code === 406;
      await assert.rejects(pch.exchangeDeclare(exchange, "direct", { durable: false }), is406);
      for (const q of [vote, news]) {
        await assert.rejects((await broker.probe.ch()).queueDeclare(q, { durable: false }), is406);
        assert.equal(await broker.probe.depth(q), 0);
      }
      assert.ok(await routesTo(exchange, vote, vote), "bind_to_self");
      assert.ok(await routesTo(exchange, "vote_comment_q_test", vote));
      assert.ok(await routesTo(exchange, "new_link", news));
      assert.ok(await routesTo(exchange, "link_text_edited", news));
      assert.equal(await routesTo(exchange, "new_link", vote), false);
    }));

  it("declares once per connection: a binding removed behind its back stays removed until it reconnects", () =>
    withManager({}, async ({ m, exchange, news }) => {
      const first = await m.getChannel();
      await (await broker.probe.ch()).queueUnbind(news, exchange, "new_link");
      assert.equal(await routesTo(exchange, "new_link", news), false);
      assert.equal(await m.getChannel(), first);
      assert.equal(await routesTo(exchange, "new_link", news), false, "not declared again");
      const second = await m.getChannel(true);
      assert.notEqual(second.connection, first.connection, "getChannel(true) makes a new connection");
      assert.equal(first.connection.isOpen, false, "and closes the old one");
      assert.ok(await routesTo(exchange, "new_link", news), "declared again on the new connection");
    }));

  it("declares a queue or binding added after connecting on the next getChannel()", async () => {
    const late = unique("late_q");
    await withManager({}, async ({ m, queues, exchange, news }) => {
      const ch = await m.getChannel();
      queues.get(news).bind("comment_deleted");
      queues.declare({ [late]: new MessageQueue({ durable: false, bindToSelf: true }) });
      assert.equal(await m.getChannel(), ch);
      assert.ok(await routesTo(exchange, "comment_deleted", news));
      assert.ok(await routesTo(exchange, late, late));
    });
    await broker.probe.cleanup([late]);
  });

  it("retries every retryDelay seconds while nothing listens, logging each failure, and connects when the broker appears", async () => {
    const lines: string[] = [];
    await withManager(
      { proxy: "down", retryDelay: 0.05, log: (l) => lines.push(l) },
      async ({ m, proxy, exchange, news }) => {
        const pending = m.getChannel();
        const again = m.getChannel();
        while (lines.length < 3) await new Promise((r) => setTimeout(r, 10));
        await proxy!.listen();
        const ch = await pending;
        assert.equal(await again, ch, "concurrent callers share the attempt");
        assert.equal(proxy!.accepted, 1);
        assert.match(
          lines[0]!,
          new RegExp(`^error connecting to amqp guest @ 127\\.0\\.0\\.1:${proxy!.port} \\(.*ECONNREFUSED`),
        );
        assert.ok(await routesTo(exchange, "new_link", news));
      },
    );
  });

  it("gives up after maxRetries, and does not retry a refused login", async () => {
    const lines: string[] = [];
    await withManager(
      { proxy: "down", retryDelay: 0.01, maxRetries: 2, log: (l) => lines.push(l) },
      async ({ m }) => {
        await assert.rejects(m.getChannel(), (e: NodeJS.ErrnoException) => e.code === "ECONNREFUSED");
        assert.equal(lines.length, 2, "two retries, each logged");
      },
    );
    const bad = new URL(broker.target.url);
    bad.password = "wrong";
    await withManager({ url: bad.toString(), retryDelay: 0.01, log: (l) => lines.push(l) }, async ({ m }) => {
      await assert.rejects(m.getChannel(), (e: Error) => e instanceof ConnectionError && e.code === 403);
      assert.equal(lines.length, 2, "a refused login is not retried");
    });
  });

  it("replaces a lost connection on the next getChannel(), declaring everything again", () =>
    withManager({ proxy: "up" }, async ({ m, proxy, exchange, news }) => {
      const first = await m.getChannel();
      await (await broker.probe.ch()).queueUnbind(news, exchange, "new_link");
      proxy!.cut();
      await first.connection.closed;
      assert.equal(m.connection, undefined);
      const second = await m.getChannel();
      assert.notEqual(second, first);
      assert.equal(proxy!.accepted, 2);
      assert.ok(await routesTo(exchange, "new_link", news), "declared again");
    }));

  it("replaces a channel the broker closed, on the same connection", () =>
    withManager({}, async ({ m }) => {
      const first = await m.getChannel();
      await assert.rejects(
        first.queueDeclare(unique("missing"), { passive: true }),
        (e: ChannelError) => e.code === 404,
      );
      const second = await m.getChannel();
      assert.notEqual(second, first);
      assert.equal(second.connection, first.connection);
      assert.ok(second.isOpen);
    }));

  it("a declaration the broker refuses rejects getChannel(), and is tried again next time", () =>
    withManager({}, async ({ m, exchange, news }) => {
      // The queue exists non-durable; the DSL says durable: 406 PRECONDITION_FAILED.
      await (await broker.probe.ch()).queueDeclare(news, { durable: false });
      await assert.rejects(m.getChannel(), (e: ChannelError) => e.code === 406);
      await assert.rejects(m.getChannel(), (e: ChannelError) => e.code === 406);
      await (await broker.probe.ch()).queueDelete(news);
      assert.ok((await m.getChannel()).isOpen);
      assert.ok(await routesTo(exchange, "new_link", news));
    }));

  it("after close(), getChannel() rejects and nothing reconnects", () =>
    withManager({}, async ({ m }) => {
      const ch = await m.getChannel();
      await m.close();
      assert.equal(ch.connection.isOpen, false);
      await assert.rejects(m.getChannel(), /closed/);
      assert.throws(() => new ConnectionManager({ queues: new Queues({}), exchange: "" }), /needs a name/);
    }));
});
