import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ChannelError, ReplyCode } from "@warren/protocol";
import { Amqp } from "./amqp.js";
import { MessageQueue } from "./message-queue.js";
import { DELIVERY_TRANSIENT } from "./publisher.js";
import { Queues } from "./queues.js";
import { openProxy, unique, useBroker, withAmqp } from "./testkit.js";

const broker = useBroker();

describe("reddit addItem (background publisher)", { timeout: 20000 }, () => {
  it("add_item(): routes through the exchange, returns at once; the unroutable one is reported", () =>
    withAmqp(broker, {}, async ({ amqp, vote, news, exchange, unroutable, errors }) => {
      amqp.addItem(vote, "a1");
      amqp.addItem("vote_comment_q_test", "a2");
      amqp.addItem("new_link", "a3", { messageId: "m-3", headers: { source: "test" } });
      amqp.addItem("link_text_edited", "a4", { deliveryMode: DELIVERY_TRANSIENT });
      amqp.addItem("no_such_routing_key", "a5");
      assert.equal(amqp.pendingItems, 5, "handed to the worker, none published yet");
      assert.equal(amqp.workerConnectionManager.connection, undefined, "not even connected");
      await amqp.join();
      assert.equal(amqp.pendingItems, 0);
      // join() waited for the confirms: the broker has routed everything by now.
      assert.equal(await broker.probe.depth(vote), 2);
      assert.equal(await broker.probe.depth(news), 2);
      assert.deepEqual(errors, []);
      assert.equal(unroutable.length, 1);
      const [u] = unroutable;
      assert.deepEqual(
        [u!.item.routingKey, u!.item.body, u!.item.exchange],
        ["no_such_routing_key", "a5", exchange],
      );
      assert.equal(u!.returned.fields.replyCode, ReplyCode.NO_ROUTE);
      assert.equal(u!.returned.fields.routingKey, "no_such_routing_key");
      assert.equal(u!.returned.body.toString(), "a5");

      const ch = await broker.probe.ch();
      const got = [];
      for (const q of [vote, vote, news, news]) got.push(await ch.basicGet(q, { noAck: true }));
      assert.deepEqual(
        got.map((m) => [m!.body.toString(), m!.fields.routingKey, m!.fields.exchange]),
        [
          ["a1", vote, exchange],
          ["a2", "vote_comment_q_test", exchange],
          ["a3", "new_link", exchange],
          ["a4", "link_text_edited", exchange],
        ],
      );
      assert.equal(got[0]!.properties.deliveryMode, 2, "DELIVERY_DURABLE by default");
      assert.equal(got[2]!.properties.messageId, "m-3");
      assert.deepEqual(got[2]!.properties.headers, { source: "test" });
      assert.equal(got[3]!.properties.deliveryMode, 1);
    }));

  it("keeps order over many items, on the worker's own connection", () =>
    withAmqp(broker, {}, async ({ amqp, news }) => {
      const fg = await amqp.getChannel();
      for (let i = 0; i < 300; i++) amqp.addItem("new_link", `n${i}`);
      await amqp.join();
      assert.notEqual(amqp.workerConnectionManager.connection, fg.connection);
      assert.deepEqual(
        (await broker.probe.drain(news)).map((m) => m.body),
        Array.from({ length: 300 }, (_, i) => `n${i}`),
      );
    }));

  it("says 'Message was returned' through log when nobody listens for 'unroutable'", () =>
    withAmqp(broker, {}, async ({ amqp, lines }) => {
      amqp.removeAllListeners("unroutable");
      amqp.addItem("nobody_binds_this", "x");
      await amqp.join();
      assert.deepEqual(lines, ["Message was returned"]);
    }));

  it("a publish the broker refuses is reported with its item; the next one goes through", () =>
    withAmqp(broker, {}, async ({ amqp, news, errors }) => {
      const missing = unique("no_such_exchange");
      amqp.addItem("new_link", "lost", { exchange: missing });
      amqp.addItem("new_link", "kept");
      await amqp.join();
      assert.equal(errors.length, 1);
      assert.equal((errors[0]!.err as ChannelError).code, ReplyCode.NOT_FOUND);
      assert.equal(errors[0]!.item?.exchange, missing);
      assert.deepEqual(await broker.probe.drain(news), [{ body: "kept", redelivered: false }]);
    }));

  it("waits for a broker that is not up yet, then publishes", async () => {
    const { proxy, url } = await openProxy(broker.target, false);
    try {
      await withAmqp(broker, { url, retryDelay: 0.05 }, async ({ amqp, news, lines }) => {
        amqp.addItem("new_link", "patient");
        while (lines.length < 2) await new Promise((r) => setTimeout(r, 10));
        assert.equal(amqp.pendingItems, 1);
        await proxy.listen();
        await amqp.join();
        assert.deepEqual(await broker.probe.drain(news), [{ body: "patient", redelivered: false }]);
        assert.match(lines[0]!, /^error connecting to amqp/);
      });
    } finally {
      await proxy.close();
    }
  });

  it("publishes again on a new connection when the connection is lost before the confirm (at least once)", async () => {
    const { proxy, url } = await openProxy(broker.target);
    try {
      await withAmqp(broker, { url }, async ({ amqp, news, errors }) => {
        amqp.addItem("new_link", "warm-up");
        await amqp.join();
        await broker.probe.drain(news);
        proxy.hold();
        amqp.addItem("new_link", "twice");
        // The broker has the message; its confirm is held back by the proxy.
        await broker.probe.waitDepth(news, 1);
        assert.equal(amqp.pendingItems, 1);
        proxy.cut();
        await amqp.join();
        assert.deepEqual(errors, []);
        assert.equal(proxy.accepted, 2, "a second connection");
        assert.deepEqual(
          (await broker.probe.drain(news)).map((m) => m.body),
          ["twice", "twice"],
        );
      });
    } finally {
      await proxy.close();
    }
  });

  it("an exclusive queue belongs to the first connection that declares it: the other one's declare fails (405)", async () => {
    const exchange = unique("reddit_exchange");
    const mine = unique("exclusive_q");
    const queues = new Queues({
      [mine]: new MessageQueue({ exclusive: true, durable: false, bindToSelf: true }),
    });
    const amqp = new Amqp({ url: broker.target.url, exchange, queues, log: () => {} });
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
      await broker.probe.cleanup([], [exchange]);
    }
  });

  it("close() waits for the worker before closing", () =>
    withAmqp(broker, {}, async ({ amqp, vote }) => {
      for (let i = 0; i < 20; i++) amqp.addItem(vote, `c${i}`);
      await amqp.close();
      assert.equal(await broker.probe.depth(vote), 20);
      assert.throws(() => amqp.addItem("k", 5 as unknown as string), TypeError);
    }));
});
