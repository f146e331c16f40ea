import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Message } from "../message.js";
import { openProxy, unique, useBroker, withAmqp } from "./testkit.js";

const broker = useBroker();

const until = async (cond: () => boolean, what: string, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe("reddit consumeItems", { timeout: 20000 }, () => {
  it("the seed's sample: every message acked once, message_0005 rejected with requeue and redelivered over and over", () =>
    withAmqp(broker, {}, async (s) => {
      const bodies = [1, 2, 3, 4, 5, 6].map((i) => `message_000${i}`);
      for (const b of bodies) s.amqp.addItem(s.vote, b);
      await s.amqp.join();
      const seen: { body: string; redelivered: boolean }[] = [];
      const stop = new AbortController();
      const run = s.amqp.consumeItems(
        s.vote,
        (body, message) => {
          // The seed's _run_changed: look at the message, return nothing.
          seen.push({ body: body.toString(), redelivered: message.fields.redelivered });
        },
        { requeueIf: (m) => m.body.toString() === "message_0005", signal: stop.signal, verbose: true },
      );
      await until(
        () => seen.filter((d) => d.body === "message_0005" && d.redelivered).length >= 3,
        "redeliveries",
      );
      stop.abort();
      await run;
      for (const b of bodies.filter((x) => x !== "message_0005")) {
        assert.deepEqual(
          seen.filter((d) => d.body === b),
          [{ body: b, redelivered: false }],
          `${b} is delivered once and acked`,
        );
      }
      const five = seen.filter((d) => d.body === "message_0005");
      assert.equal(five[0]!.redelivered, false);
      assert.ok(
        five.slice(1).every((d) => d.redelivered),
        "requeued deliveries are marked redelivered",
      );
      assert.deepEqual(
        seen.slice(0, 6).map((d) => d.body),
        bodies,
        "delivered in queue order",
      );
      assert.equal(
        s.lines.filter((l) => l === `${s.vote}: 1 item`).length,
        seen.length,
        "verbose: a line per item",
      );
      assert.deepEqual(
        await broker.probe.drain(s.vote),
        [{ body: "message_0005", redelivered: true }],
        "only message_0005 is left",
      );
    }));

  it("hands over one message at a time, awaiting an async callback, in order", () =>
    withAmqp(broker, {}, async (s) => {
      await s.amqp.getChannel(); // declares the queue
      await broker.probe.fill(s.vote, ["a", "b", "c", "d"]);
      const stop = new AbortController();
      const log: string[] = [];
      let inside = 0;
      const run = s.amqp.consumeItems(
        s.vote,
        async (body) => {
          assert.equal(inside++, 0, "one callback at a time");
          log.push(`start ${body.toString()}`);
          await new Promise((r) => setTimeout(r, 10));
          log.push(`end ${body.toString()}`);
          inside--;
          if (log.length === 8) stop.abort();
        },
        { signal: stop.signal },
      );
      await run;
      assert.deepEqual(log, ["start a", "end a", "start b", "end b", "start c", "end c", "start d", "end d"]);
      assert.equal(await broker.probe.depth(s.vote), 0);
      await s.amqp.connectionManager.close();
      assert.equal(
        await broker.probe.depth(s.vote),
        0,
        "all acked, nothing comes back when the channel closes",
      );
    }));

  it("a failing callback ends it with the callback's error; its channel closes, requeueing that message and the rest in order", () =>
    withAmqp(broker, {}, async (s) => {
      await s.amqp.getChannel(); // declares the queue
      await broker.probe.fill(s.vote, ["m1", "m2", "m3", "m4"]);
      const seen: string[] = [];
      await assert.rejects(
        s.amqp.consumeItems(s.vote, (body) => {
          seen.push(body.toString());
          if (body.toString() === "m2") throw new Error("boom");
        }),
        /boom/,
      );
      assert.deepEqual(seen, ["m1", "m2"], "nothing is handed over after the failure");
      assert.ok((await s.amqp.getChannel()).isOpen, "the manager has a new channel");
      assert.deepEqual(await broker.probe.drain(s.vote), [
        { body: "m2", redelivered: true },
        { body: "m3", redelivered: true },
        { body: "m4", redelivered: true },
      ]);
    }));

  it("resolves when the broker cancels the consumer (queue deleted), and waits for the worker like reddit's", () =>
    withAmqp(broker, {}, async (s) => {
      await s.amqp.getChannel(); // declares the queue
      await broker.probe.fill(s.vote, ["x"]);
      // The worker connects and declares now, so that its declarations cannot race with the
      // queue's deletion below.
      s.amqp.addItem("nobody", "warm-up");
      await s.amqp.join();
      let got: Message | undefined;
      const run = s.amqp.consumeItems(s.vote, (_body, m) => {
        got = m;
        // An item added by the callback is published before consumeItems returns.
        s.amqp.addItem("nobody", "from the callback");
      });
      const returned: string[] = [];
      s.amqp.on("unroutable", (u) => returned.push(u.item.body.toString()));
      await until(() => got !== undefined, "the delivery");
      await (await broker.probe.ch()).queueDelete(s.vote);
      await run;
      assert.deepEqual(returned, ["from the callback"], s.lines.join("\n"));
      assert.equal(s.amqp.pendingItems, 0);
    }));

  it("a throwing requeueIf ends it like a failing callback", () =>
    withAmqp(broker, { declare: true }, async (s) => {
      await broker.probe.fill(s.vote, ["q1", "q2"]);
      await assert.rejects(
        s.amqp.consumeItems(s.vote, () => {}, {
          requeueIf: () => {
            throw new Error("bad predicate");
          },
        }),
        /bad predicate/,
      );
      await broker.probe.waitDepth(s.vote, 2);
    }));

  it("rejects when the connection goes, resolves when its channel is closed cleanly", async () => {
    const { proxy, url } = await openProxy(broker.target);
    try {
      await withAmqp(broker, { url, declare: true }, async (s) => {
        const consuming = () => broker.probe.waitConsumers(s.vote, 1);
        const lost = s.amqp.consumeItems(s.vote, () => {});
        await consuming();
        proxy.cut();
        await assert.rejects(lost, (e: Error) => e.name === "ClosedError");

        await broker.probe.waitConsumers(s.vote, 0);
        const closed = s.amqp.consumeItems(s.vote, () => {});
        await consuming();
        await (await s.amqp.getChannel()).close();
        await closed;

        const shutDown = s.amqp.consumeItems(s.vote, () => {});
        await consuming();
        await s.amqp.connectionManager.close();
        await assert.rejects(
          shutDown,
          (e: Error) => e.name === "ClosedError",
          "the connection closed under it",
        );
      });
    } finally {
      await proxy.close();
    }
  });

  it("rejects when the queue does not exist (404)", () =>
    withAmqp(broker, {}, async (s) => {
      await assert.rejects(
        s.amqp.consumeItems(unique("missing"), () => {}),
        (e: { code?: number }) => e.code === 404,
      );
    }));
});
