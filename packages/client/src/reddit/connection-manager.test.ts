import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ChannelError, ConnectionError } from "@warren/protocol";
import { ConnectionManager } from "./connection-manager.js";
import { MessageQueue } from "./message-queue.js";
import { Queues } from "./queues.js";
import { freePort, Probe, startTarget, type Target, TcpProxy, unique, withPort } from "./testkit.js";

let target: Target;
let probe: Probe;

before(async () => {
  target = await startTarget();
  probe = await Probe.open(target.url);
});

after(async () => {
  await probe.close();
  await target.stop();
});

/** A fresh exchange and two queues, the seed's declare_queues() shape, with unique names. */
function fixture() {
  const exchange = unique("reddit_exchange");
  const vote = unique("vote_comment_q");
  const news = unique("newcomments_q");
  const queues = new Queues({
    [vote]: new MessageQueue({ bindToSelf: true }),
    [news]: new MessageQueue(),
  });
  queues.get(vote).bind("vote_comment_q_test");
  queues.get(news).bind("new_link", "link_text_edited");
  const cleanup = () => probe.cleanup([vote, news], [exchange]);
  return { exchange, vote, news, queues, cleanup };
}

/** Publishes with the probe to the exchange and says which queue got it (by depth change). */
async function routesTo(exchange: string, key: string, queue: string): Promise<boolean> {
  const ch = await probe.ch();
  const before = await probe.depth(queue);
  await ch.confirmSelect().catch(() => {});
  await ch.publishConfirm(exchange, key, "probe");
  const after = await probe.depth(queue);
  if (after > before) await ch.queuePurge(queue);
  return after > before;
}

describe("reddit ConnectionManager", { timeout: 20000 }, () => {
  it("connects lazily, then declares the durable direct exchange, the queues and the bindings (init_queue)", async () => {
    const f = fixture();
    const port = await freePort();
    const proxy = new TcpProxy(port, target);
    await proxy.listen();
    const m = new ConnectionManager({
      url: withPort(target.url, port),
      exchange: f.exchange,
      queues: f.queues,
    });
    try {
      assert.equal(proxy.accepted, 0, "constructing does not connect");
      assert.equal(m.connection, undefined);
      const ch = await m.getChannel();
      assert.equal(proxy.accepted, 1);
      assert.ok(ch.isOpen);
      assert.equal(await m.getChannel(), ch, "the same channel next time");
      assert.equal(await m.getConnection(), ch.connection);
      // Durable: declaring it non-durable now is refused (406).
      const pch = await probe.ch();
      await pch.exchangeDeclare(f.exchange, "direct", { passive: true });
      await assert.rejects(
        pch.exchangeDeclare(f.exchange, "direct", { durable: false }),
        (e: ChannelError) => e.code === 406,
      );
      for (const q of [f.vote, f.news]) {
        await assert.rejects(
          (await probe.ch()).queueDeclare(q, { durable: false }),
          (e: ChannelError) => e.code === 406,
        );
        assert.equal(await probe.depth(q), 0);
      }
      assert.ok(await routesTo(f.exchange, f.vote, f.vote), "bind_to_self");
      assert.ok(await routesTo(f.exchange, "vote_comment_q_test", f.vote));
      assert.ok(await routesTo(f.exchange, "new_link", f.news));
      assert.ok(await routesTo(f.exchange, "link_text_edited", f.news));
      assert.equal(await routesTo(f.exchange, "new_link", f.vote), false);
    } finally {
      await m.close();
      await proxy.close();
      await f.cleanup();
    }
  });

  it("declares once per connection: a binding removed behind its back stays removed until it reconnects", async () => {
    const f = fixture();
    const m = new ConnectionManager({ url: target.url, exchange: f.exchange, queues: f.queues });
    try {
      const first = await m.getChannel();
      await (await probe.ch()).queueUnbind(f.news, f.exchange, "new_link");
      assert.equal(await routesTo(f.exchange, "new_link", f.news), false);
      assert.equal(await m.getChannel(), first);
      assert.equal(await routesTo(f.exchange, "new_link", f.news), false, "not declared again");
      const second = await m.getChannel(true);
      assert.notEqual(second.connection, first.connection, "getChannel(true) makes a new connection");
      assert.equal(first.connection.isOpen, false, "and closes the old one");
      assert.ok(await routesTo(f.exchange, "new_link", f.news), "declared again on the new connection");
    } finally {
      await m.close();
      await f.cleanup();
    }
  });

  it("declares a queue or binding added after connecting on the next getChannel()", async () => {
    const f = fixture();
    const m = new ConnectionManager({ url: target.url, exchange: f.exchange, queues: f.queues });
    const late = unique("late_q");
    try {
      const ch = await m.getChannel();
      f.queues.get(f.news).bind("comment_deleted");
      f.queues.declare({ [late]: new MessageQueue({ durable: false, bindToSelf: true }) });
      assert.equal(await m.getChannel(), ch);
      assert.ok(await routesTo(f.exchange, "comment_deleted", f.news));
      assert.ok(await routesTo(f.exchange, late, late));
    } finally {
      await m.close();
      await probe.cleanup([late]);
      await f.cleanup();
    }
  });

  it("retries every retryDelay seconds while nothing listens, logging each failure, and connects when the broker appears", async () => {
    const f = fixture();
    const port = await freePort();
    const lines: string[] = [];
    const m = new ConnectionManager({
      url: withPort(target.url, port),
      exchange: f.exchange,
      queues: f.queues,
      retryDelay: 0.05,
      log: (l) => lines.push(l),
    });
    const proxy = new TcpProxy(port, target);
    try {
      const pending = m.getChannel();
      const again = m.getChannel();
      while (lines.length < 3) await new Promise((r) => setTimeout(r, 10));
      await proxy.listen();
      const ch = await pending;
      assert.equal(await again, ch, "concurrent callers share the attempt");
      assert.equal(proxy.accepted, 1);
      assert.match(
        lines[0]!,
        new RegExp(`^error connecting to amqp guest @ 127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED`),
      );
      assert.ok(await routesTo(f.exchange, "new_link", f.news));
    } finally {
      await m.close();
      await proxy.close();
      await f.cleanup();
    }
  });

  it("gives up after maxRetries, and does not retry a refused login", async () => {
    const queues = new Queues({});
    const port = await freePort();
    const lines: string[] = [];
    const m = new ConnectionManager({
      url: withPort(target.url, port),
      queues,
      retryDelay: 0.01,
      maxRetries: 2,
      log: (l) => lines.push(l),
    });
    await assert.rejects(m.getChannel(), (e: NodeJS.ErrnoException) => e.code === "ECONNREFUSED");
    assert.equal(lines.length, 2, "two retries, each logged");

    const bad = new URL(target.url);
    bad.password = "wrong";
    const refused = new ConnectionManager({
      url: bad.toString(),
      queues,
      retryDelay: 0.01,
      log: (l) => lines.push(l),
    });
    await assert.rejects(
      refused.getChannel(),
      (e: ConnectionError) => e instanceof ConnectionError && e.code === 403,
    );
    assert.equal(lines.length, 2, "a refused login is not retried");
  });

  it("replaces a lost connection on the next getChannel(), declaring everything again", async () => {
    const f = fixture();
    const port = await freePort();
    const proxy = new TcpProxy(port, target);
    await proxy.listen();
    const m = new ConnectionManager({
      url: withPort(target.url, port),
      exchange: f.exchange,
      queues: f.queues,
    });
    try {
      const first = await m.getChannel();
      await (await probe.ch()).queueUnbind(f.news, f.exchange, "new_link");
      proxy.cut();
      await first.connection.closed;
      assert.equal(m.connection, undefined);
      const second = await m.getChannel();
      assert.notEqual(second, first);
      assert.equal(proxy.accepted, 2);
      assert.ok(await routesTo(f.exchange, "new_link", f.news), "declared again");
    } finally {
      await m.close();
      await proxy.close();
      await f.cleanup();
    }
  });

  it("replaces a channel the broker closed, on the same connection", async () => {
    const f = fixture();
    const m = new ConnectionManager({ url: target.url, exchange: f.exchange, queues: f.queues });
    try {
      const first = await m.getChannel();
      await assert.rejects(
        first.queueDeclare(unique("missing"), { passive: true }),
        (e: ChannelError) => e.code === 404,
      );
      const second = await m.getChannel();
      assert.notEqual(second, first);
      assert.equal(second.connection, first.connection);
      assert.ok(second.isOpen);
    } finally {
      await m.close();
      await f.cleanup();
    }
  });

  it("a declaration the broker refuses rejects getChannel(), and is tried again next time", async () => {
    const f = fixture();
    // The queue exists non-durable; the DSL says durable: 406 PRECONDITION_FAILED.
    await (await probe.ch()).queueDeclare(f.news, { durable: false });
    const m = new ConnectionManager({ url: target.url, exchange: f.exchange, queues: f.queues });
    try {
      await assert.rejects(m.getChannel(), (e: ChannelError) => e.code === 406);
      await assert.rejects(m.getChannel(), (e: ChannelError) => e.code === 406);
      await (await probe.ch()).queueDelete(f.news);
      const ch = await m.getChannel();
      assert.ok(ch.isOpen);
      assert.ok(await routesTo(f.exchange, "new_link", f.news));
    } finally {
      await m.close();
      await f.cleanup();
    }
  });

  it("after close(), getChannel() rejects and nothing reconnects", async () => {
    const m = new ConnectionManager({ url: target.url, queues: new Queues({}), exchange: unique("x") });
    const ch = await m.getChannel();
    await m.close();
    assert.equal(ch.connection.isOpen, false);
    await assert.rejects(m.getChannel(), /closed/);
    await probe.cleanup([], [m.exchange]);
    assert.throws(() => new ConnectionManager({ queues: new Queues({}), exchange: "" }), /needs a name/);
  });
});
