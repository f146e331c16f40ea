import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Message } from "../message.js";
import { Amqp } from "./amqp.js";
import { Queues } from "./queues.js";
import { openProxy, useBroker, withAmqp } from "./testkit.js";

const broker = useBroker();

const bodiesOf = (items: Message[]) => items.map((m) => m.body.toString());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("reddit handleItems", { timeout: 20000 }, () => {
  it("the seed's usage: basic.get batches of `limit`, acked with basic.ack(0, multiple) after each callback", () =>
    withAmqp(broker, { declare: true }, async (s) => {
      const bodies = [1, 2, 3, 4, 5, 6].map((i) => `item${i}`);
      bodies.forEach((b, i) => s.amqp.addItem(i === 2 ? "link_text_edited" : "new_link", b));
      await s.amqp.join();
      const batches: string[][] = [];
      const counts: number[] = [];
      const fg = await s.amqp.getChannel();
      await s.amqp.handleItems(
        s.news,
        (items, channel) => {
          assert.equal(channel, fg, "the callback gets the channel the items came on");
          batches.push(bodiesOf(items));
          counts.push(...items.map((m) => m.fields.messageCount!));
        },
        { limit: 3, drain: true },
      );
      assert.deepEqual(batches, [bodies.slice(0, 3), bodies.slice(3)]);
      assert.deepEqual(counts, [5, 4, 3, 2, 1, 0], "basic.get-ok message_count");
      // Unacked messages would come back when the channel closes: none do.
      await s.amqp.connectionManager.close();
      assert.equal(await broker.probe.depth(s.news), 0);
    }));

  it("defaults: batches of one; a batch stops at `limit` even with more waiting", () =>
    withAmqp(broker, { declare: true }, async (s) => {
      await broker.probe.fill(s.news, ["a", "b", "c"]);
      const ones: string[][] = [];
      await s.amqp.handleItems(s.news, (items) => void ones.push(bodiesOf(items)), { drain: true });
      assert.deepEqual(ones, [["a"], ["b"], ["c"]]);
      await broker.probe.fill(s.news, ["1", "2", "3", "4", "5", "6", "7"]);
      const sizes: number[] = [];
      await s.amqp.handleItems(s.news, (items) => void sizes.push(items.length), { limit: 3, drain: true });
      assert.deepEqual(sizes, [3, 3, 1]);
    }));

  it("limit < minSize throws the seed's error before connecting; limit === minSize is allowed", async () => {
    const lines: string[] = [];
    const { proxy, url } = await openProxy(broker.target, false); // nothing listens there
    const amqp = new Amqp({
      url,
      queues: new Queues({}),
      maxRetries: 0,
      log: (l) => lines.push(l),
    });
    await assert.rejects(
      amqp.handleItems("q", () => {}, { limit: 2, minSize: 3 }),
      (e: Error) => e instanceof RangeError && e.message === "min_size must be less than limit",
    );
    // With limit === minSize it goes on to connect (and fails to: nothing listens there).
    await assert.rejects(
      amqp.handleItems("q", () => {}, { limit: 3, minSize: 3 }),
      (e: NodeJS.ErrnoException) => e.code === "ECONNREFUSED",
    );
    await amqp.close();
    await proxy.close();
  });

  it("drain on an empty queue returns at once, without calling back", () =>
    withAmqp(broker, { declare: true }, async (s) => {
      const t0 = Date.now();
      let calls = 0;
      await s.amqp.handleItems(s.news, () => void calls++, { drain: true, sleepTime: 5 });
      assert.equal(calls, 0);
      assert.ok(Date.now() - t0 < 2000, "no sleep before returning");
    }));

  it("without drain, sleeps sleepTime between polls of an empty queue and handles what arrives; a signal stops it", () =>
    withAmqp(broker, { declare: true }, async (s) => {
      const stop = new AbortController();
      const t0 = Date.now();
      const seen: { bodies: string[]; at: number }[] = [];
      const run = s.amqp.handleItems(
        s.news,
        (items) => {
          seen.push({ bodies: bodiesOf(items), at: Date.now() - t0 });
        },
        { limit: 10, sleepTime: 0.3, signal: stop.signal },
      );
      await sleep(50);
      await broker.probe.fill(s.news, ["late"]);
      while (seen.length === 0) await sleep(10);
      // The first poll found nothing; the next comes sleepTime later.
      assert.deepEqual(seen[0]!.bodies, ["late"]);
      assert.ok(seen[0]!.at >= 250, `handled after ${seen[0]!.at} ms, before the sleep was over`);
      const aborted = Date.now();
      stop.abort();
      await run;
      assert.ok(Date.now() - aborted < 250, "the signal cuts the sleep short");
    }));

  it("minSize: fewer waiting means polling on, even with drain, until there are enough", () =>
    withAmqp(broker, { declare: true }, async (s) => {
      await broker.probe.fill(s.news, ["m1", "m2"]);
      const batches: string[][] = [];
      let done = false;
      const run = s.amqp
        .handleItems(s.news, (items) => void batches.push(bodiesOf(items)), {
          limit: 5,
          minSize: 3,
          drain: true,
          sleepTime: 0.05,
        })
        .then(() => (done = true));
      await sleep(400);
      assert.deepEqual(batches, [], "two messages are not a batch of at least three");
      assert.equal(done, false, "drain does not end the wait for minSize");
      await broker.probe.fill(s.news, ["m3"]);
      await run;
      assert.deepEqual(batches, [["m1", "m2", "m3"]]);
    }));

  it("a signal during the minSize wait rejects the batch so far with requeue, without calling back", () =>
    withAmqp(broker, { declare: true }, async (s) => {
      await broker.probe.fill(s.news, ["w1", "w2"]);
      const stop = new AbortController();
      let calls = 0;
      const run = s.amqp.handleItems(s.news, () => void calls++, {
        limit: 5,
        minSize: 3,
        sleepTime: 0.05,
        signal: stop.signal,
      });
      await sleep(200);
      assert.equal(await broker.probe.depth(s.news), 0, "both are held by the waiting batch");
      stop.abort();
      await run;
      assert.equal(calls, 0);
      await broker.probe.waitDepth(s.news, 2); // basic.reject has no reply: wait for the broker
      const back = await broker.probe.drain(s.news);
      assert.deepEqual(back.map((m) => m.body).sort(), ["w1", "w2"]);
      assert.ok(back.every((m) => m.redelivered));
    }));

  it("a failing callback: its batch is rejected with requeue at once, earlier batches stay acked, the error comes out", () =>
    withAmqp(broker, { declare: true }, async (s) => {
      await broker.probe.fill(s.news, ["b1", "b2", "b3", "b4", "b5", "b6"]);
      let batch = 0;
      await assert.rejects(
        s.amqp.handleItems(
          s.news,
          async () => {
            await sleep(5);
            if (++batch === 2) throw new Error("boom");
          },
          { limit: 2, drain: true },
        ),
        /boom/,
      );
      // basic.reject, not a channel close: the channel is still open and the four are back.
      const fg = await s.amqp.getChannel();
      assert.ok(fg.isOpen);
      await broker.probe.waitDepth(s.news, 4);
      const back = await broker.probe.drain(s.news);
      assert.deepEqual(
        back.map((m) => m.body).sort(),
        ["b3", "b4", "b5", "b6"],
        "the first batch stays acked; the failed one and the untouched ones remain",
      );
      assert.deepEqual(
        back
          .filter((m) => m.redelivered)
          .map((m) => m.body)
          .sort(),
        ["b3", "b4"],
        "only the failed batch is marked redelivered",
      );
    }));

  it("the rejected batch goes back in its places, in order (RabbitMQ requeues each basic.reject at its position)", () =>
    withAmqp(broker, { declare: true }, async (s) => {
      await broker.probe.fill(s.news, ["r1", "r2", "r3", "r4"]);
      await assert.rejects(
        s.amqp.handleItems(
          s.news,
          () => {
            throw new Error("boom");
          },
          { limit: 3, drain: true },
        ),
        /boom/,
      );
      await broker.probe.waitDepth(s.news, 4);
      assert.deepEqual(
        (await broker.probe.drain(s.news)).map((m) => m.body),
        ["r1", "r2", "r3", "r4"],
      );
    }));

  it("ack: false leaves the batch to the callback; what it does not ack comes back when the channel closes", () =>
    withAmqp(broker, { declare: true }, async (s) => {
      await broker.probe.fill(s.news, ["k1", "k2", "k3"]);
      await s.amqp.handleItems(s.news, (items, channel) => channel.ack(items[0]!), {
        limit: 3,
        drain: true,
        ack: false,
      });
      assert.equal(await broker.probe.depth(s.news), 0, "still held, unacked");
      await s.amqp.connectionManager.close();
      await broker.probe.waitDepth(s.news, 2);
      assert.deepEqual(
        (await broker.probe.drain(s.news)).map((m) => m.body),
        ["k2", "k3"],
      );
    }));

  it("the ack after the callback is basic.ack(0, multiple): it also acks what the callback fetched on the channel", () =>
    withAmqp(broker, { declare: true }, async (s) => {
      await broker.probe.fill(s.news, ["n1"]);
      await broker.probe.fill(s.vote, ["o1"]);
      let fetched: Message | null = null;
      await s.amqp.handleItems(
        s.news,
        async (_items, channel) => {
          fetched = await channel.basicGet(s.vote);
        },
        { drain: true },
      );
      assert.equal(fetched!.body.toString(), "o1");
      await s.amqp.connectionManager.close();
      await sleep(100);
      assert.equal(await broker.probe.depth(s.vote), 0, "acked by the batch's ack, not requeued at close");
      assert.equal(await broker.probe.depth(s.news), 0);
    }));
});
