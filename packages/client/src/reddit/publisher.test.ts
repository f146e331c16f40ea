import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type ChannelError, ReplyCode } from "@warren/protocol";
import { Amqp, type UnroutableItem } from "./amqp.js";
import { MessageQueue } from "./message-queue.js";
import type { Item } from "./publisher.js";
import { DELIVERY_TRANSIENT } from "./publisher.js";
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

/** The seed's declare_queues() with unique names, and an Amqp on it. */
function setup(url = target.url, extra: { retryDelay?: number; log?: (l: string) => void } = {}) {
  const exchange = unique("reddit_exchange");
  const vote = unique("vote_comment_q");
  const news = unique("newcomments_q");
  const queues = new Queues({
    [vote]: new MessageQueue({ bindToSelf: true }),
    [news]: new MessageQueue(),
  });
  queues.get(vote).bind("vote_comment_q_test");
  queues.get(news).bind("new_link", "link_text_edited");
  const amqp = new Amqp({ url, exchange, queues, log: () => {}, ...extra });
  const unroutable: UnroutableItem[] = [];
  const errors: { err: Error; item: Item | undefined }[] = [];
  amqp.on("unroutable", (u) => unroutable.push(u));
  amqp.on("error", (err, item) => errors.push({ err, item }));
  const done = async () => {
    await amqp.close();
    await probe.cleanup([vote, news], [exchange]);
  };
  return { exchange, vote, news, queues, amqp, unroutable, errors, done };
}

describe("reddit addItem (background publisher)", { timeout: 20000 }, () => {
  it("add_item(): routes through the exchange, returns at once; the unroutable one is reported", async () => {
    const s = setup();
    try {
      s.amqp.addItem(s.vote, "a1");
      s.amqp.addItem("vote_comment_q_test", "a2");
      s.amqp.addItem("new_link", "a3", { messageId: "m-3", headers: { source: "test" } });
      s.amqp.addItem("link_text_edited", "a4", { deliveryMode: DELIVERY_TRANSIENT });
      s.amqp.addItem("no_such_routing_key", "a5");
      assert.equal(s.amqp.pendingItems, 5, "handed to the worker, none published yet");
      assert.equal(s.amqp.workerConnectionManager.connection, undefined, "not even connected");
      await s.amqp.join();
      assert.equal(s.amqp.pendingItems, 0);
      // join() waited for the confirms: the broker has routed everything by now.
      assert.equal(await probe.depth(s.vote), 2);
      assert.equal(await probe.depth(s.news), 2);
      assert.deepEqual(s.errors, []);
      assert.equal(s.unroutable.length, 1);
      const [u] = s.unroutable;
      assert.deepEqual(
        [u!.item.routingKey, u!.item.body, u!.item.exchange],
        ["no_such_routing_key", "a5", s.exchange],
      );
      assert.equal(u!.returned.fields.replyCode, ReplyCode.NO_ROUTE);
      assert.equal(u!.returned.fields.routingKey, "no_such_routing_key");
      assert.equal(u!.returned.body.toString(), "a5");

      const ch = await probe.ch();
      const got = [];
      for (const q of [s.vote, s.vote, s.news, s.news]) got.push(await ch.basicGet(q, { noAck: true }));
      assert.deepEqual(
        got.map((m) => [m!.body.toString(), m!.fields.routingKey, m!.fields.exchange]),
        [
          ["a1", s.vote, s.exchange],
          ["a2", "vote_comment_q_test", s.exchange],
          ["a3", "new_link", s.exchange],
          ["a4", "link_text_edited", s.exchange],
        ],
      );
      assert.equal(got[0]!.properties.deliveryMode, 2, "DELIVERY_DURABLE by default");
      assert.equal(got[2]!.properties.messageId, "m-3");
      assert.deepEqual(got[2]!.properties.headers, { source: "test" });
      assert.equal(got[3]!.properties.deliveryMode, 1);
    } finally {
      await s.done();
    }
  });

  it("keeps order over many items, on the worker's own connection", async () => {
    const s = setup();
    try {
      const fg = await s.amqp.getChannel();
      for (let i = 0; i < 300; i++) s.amqp.addItem("new_link", `n${i}`);
      await s.amqp.join();
      assert.notEqual(s.amqp.workerConnectionManager.connection, fg.connection);
      const bodies = (await probe.drain(s.news)).map((m) => m.body);
      assert.deepEqual(
        bodies,
        Array.from({ length: 300 }, (_, i) => `n${i}`),
      );
    } finally {
      await s.done();
    }
  });

  it("says 'Message was returned' through log when nobody listens for 'unroutable'", async () => {
    const lines: string[] = [];
    const s = setup(target.url, { log: (l) => lines.push(l) });
    s.amqp.removeAllListeners("unroutable");
    try {
      s.amqp.addItem("nobody_binds_this", "x");
      await s.amqp.join();
      assert.deepEqual(lines, ["Message was returned"]);
    } finally {
      await s.done();
    }
  });

  it("a publish the broker refuses is reported with its item; the next one goes through", async () => {
    const s = setup();
    try {
      const missing = unique("no_such_exchange");
      s.amqp.addItem("new_link", "lost", { exchange: missing });
      s.amqp.addItem("new_link", "kept");
      await s.amqp.join();
      assert.equal(s.errors.length, 1);
      assert.equal((s.errors[0]!.err as ChannelError).code, ReplyCode.NOT_FOUND);
      assert.equal(s.errors[0]!.item?.exchange, missing);
      assert.deepEqual(await probe.drain(s.news), [{ body: "kept", redelivered: false }]);
    } finally {
      await s.done();
    }
  });

  it("waits for a broker that is not up yet, then publishes", async () => {
    const port = await freePort();
    const lines: string[] = [];
    const s = setup(withPort(target.url, port), { retryDelay: 0.05, log: (l) => lines.push(l) });
    const proxy = new TcpProxy(port, target);
    try {
      s.amqp.addItem("new_link", "patient");
      while (lines.length < 2) await new Promise((r) => setTimeout(r, 10));
      assert.equal(s.amqp.pendingItems, 1);
      await proxy.listen();
      await s.amqp.join();
      assert.deepEqual(await probe.drain(s.news), [{ body: "patient", redelivered: false }]);
      assert.match(lines[0]!, /^error connecting to amqp/);
    } finally {
      await s.done();
      await proxy.close();
    }
  });

  it("publishes again on a new connection when the connection is lost before the confirm (at least once)", async () => {
    const port = await freePort();
    const proxy = new TcpProxy(port, target);
    await proxy.listen();
    const s = setup(withPort(target.url, port));
    try {
      s.amqp.addItem("new_link", "warm-up");
      await s.amqp.join();
      await probe.drain(s.news);
      proxy.hold();
      s.amqp.addItem("new_link", "twice");
      // The broker has the message; its confirm is held back by the proxy.
      await probe.waitDepth(s.news, 1);
      assert.equal(s.amqp.pendingItems, 1);
      proxy.cut();
      await s.amqp.join();
      assert.deepEqual(s.errors, []);
      assert.equal(proxy.accepted, 2, "a second connection");
      assert.deepEqual(
        (await probe.drain(s.news)).map((m) => m.body),
        ["twice", "twice"],
      );
    } finally {
      await s.done();
      await proxy.close();
    }
  });

  it("an exclusive queue belongs to the first connection that declares it: the other one's declare fails (405)", async () => {
    const exchange = unique("reddit_exchange");
    const mine = unique("exclusive_q");
    const queues = new Queues({
      [mine]: new MessageQueue({ exclusive: true, durable: false, bindToSelf: true }),
    });
    const amqp = new Amqp({ url: target.url, exchange, queues, log: () => {} });
    const errors: Error[] = [];
    amqp.on("error", (e) => errors.push(e));
    try {
      await amqp.getChannel(); // the foreground connection declares it first
      amqp.addItem(mine, "x");
      await amqp.join();
      assert.equal(errors.length, 1);
      assert.equal((errors[0] as ChannelError).code, ReplyCode.RESOURCE_LOCKED);
    } finally {
      await amqp.close();
      await probe.cleanup([], [exchange]);
    }
  });

  it("close() waits for the worker before closing", async () => {
    const s = setup();
    for (let i = 0; i < 20; i++) s.amqp.addItem(s.vote, `c${i}`);
    await s.amqp.close();
    assert.equal(await probe.depth(s.vote), 20);
    await probe.cleanup([s.vote, s.news], [s.exchange]);
    assert.throws(() => s.amqp.addItem("k", 5 as unknown as string), TypeError);
  });
});
