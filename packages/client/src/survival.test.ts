import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Broker } from "@warren/broker";
import { ChannelError, ReplyCode, typed } from "@warren/protocol";
import { ClosedError } from "./errors.js";
import { connect } from "./connection.js";
import type { Message } from "./message.js";

/*
 * The bugs of issue 13 ("a client that survives"), each reproduced against a real broker.
 */

let broker: Broker;
let url: string;

before(async () => {
  broker = new Broker({ port: 0, log: () => {} });
  url = `amqp://guest:guest@127.0.0.1:${await broker.start()}`;
});

after(async () => {
  await broker.stop();
});

describe("closing a channel from inside its consumer", () => {
  it("stops deliveries at close(); acks after it are no-ops; the error says who closed it", async () => {
    const conn = await connect(url);
    const ch = await conn.createChannel();
    const { queue } = await ch.queueDeclare("", { exclusive: true });
    const feeder = await conn.createChannel();
    for (let i = 0; i < 3000; i++) feeder.publish("", queue, `m${i}`);
    await feeder.queueDeclare(queue, { passive: true });
    await ch.basicQos(500);
    let seen = 0;
    let afterClose = 0;
    let closing: Promise<void> | undefined;
    let done!: () => void;
    const closed = new Promise<void>((r) => (done = r));
    await ch.basicConsume(queue, (m) => {
      if (closing) afterClose++;
      seen++;
      m.ack();
      if (seen === 1000) closing = ch.close().then(done);
    });
    await closed;
    assert.equal(seen, 1000);
    assert.equal(afterClose, 0, "deliveries reached the handler after close()");
    // Publishing on the closed channel is refused, and the reason is ours, not the connection's.
    assert.throws(
      () => ch.publish("", queue, "late"),
      (e: Error) =>
        e instanceof ClosedError && e.cause === undefined && /closed by the application/.test(e.message),
    );
    // The 2000 others are back in the queue (1000 acked, the in-flight ones requeued).
    assert.equal((await feeder.queueDeclare(queue, { passive: true })).messageCount, 2000);
    await conn.close();
  });
});

describe("errors are observable", () => {
  it("a publish to a missing exchange with no listener becomes a process warning", async () => {
    const conn = await connect(url);
    const ch = await conn.createChannel();
    const warned = nextWarning();
    ch.publish("no-such-exchange-here", "k", "lost");
    const w = await warned;
    assert.ok(w instanceof ChannelError, `warning: ${String(w)}`);
    assert.equal(w.code, ReplyCode.NOT_FOUND);
    assert.equal(ch.isOpen, false);
    await conn.close();
  });

  it("a nacked publish rejects with the delivery tag of that publish", async () => {
    const conn = await connect(url);
    const ch = await conn.createChannel();
    const { queue } = await ch.queueDeclare("", {
      exclusive: true,
      arguments: { "x-max-length": 1, "x-overflow": "reject-publish" },
    });
    await ch.confirmSelect();
    const results = await Promise.allSettled([1, 2, 3].map((n) => ch.publishConfirm("", queue, `m${n}`)));
    assert.equal(results[0]!.status, "fulfilled");
    for (const [i, r] of results.entries()) {
      if (i === 0) continue;
      assert.equal(r.status, "rejected");
      const err = (r as PromiseRejectedResult).reason as Error & { deliveryTag?: number };
      assert.equal(err.name, "NackError");
      assert.equal(err.deliveryTag, i + 1);
      assert.match(err.message, new RegExp(`delivery tag ${i + 1}\\b`));
    }
    await conn.close();
  });

  it("refuses a body that is not a Buffer, Uint8Array or string", async () => {
    const conn = await connect(url);
    const ch = await conn.createChannel();
    assert.throws(() => ch.publish("", "q", { a: 1 } as unknown as Buffer), TypeError);
    assert.throws(() => ch.publish("", "q", 42 as unknown as Buffer), TypeError);
    assert.equal(ch.isOpen, true);
    await conn.close();
  });
});

describe("header values", () => {
  it("decode int64, timestamps and byte arrays to bigint or number, Date and Buffer", async () => {
    const conn = await connect(url);
    const ch = await conn.createChannel();
    const { queue } = await ch.queueDeclare("", { exclusive: true });
    const big = 2n ** 60n + 1n;
    ch.publish("", queue, "h", {
      headers: {
        big: typed.long(big),
        small: typed.long(5),
        ts: typed.timestamp(1_700_000_000),
        bin: typed.bytes(Buffer.from([1, 2, 3])),
        byte: typed.byte(-3),
        float: typed.float(1.5),
        nested: { list: [typed.long(7), typed.timestamp(0)] },
      },
    });
    const m = await getOne(ch, queue);
    assert.deepEqual(m.properties.headers, {
      big,
      small: 5,
      ts: new Date(1_700_000_000_000),
      bin: Buffer.from([1, 2, 3]),
      byte: -3,
      float: 1.5,
      nested: { list: [7, new Date(0)] },
    });
    await conn.close();
  });
});

/** The next process warning (rejects after 2 s). */
function nextWarning(): Promise<Error> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      process.off("warning", on);
      reject(new Error("no process warning within 2 s"));
    }, 2000);
    const on = (w: Error) => {
      clearTimeout(t);
      process.off("warning", on);
      resolve(w);
    };
    process.on("warning", on);
  });
}

async function getOne(ch: import("./channel.js").Channel, queue: string): Promise<Message> {
  for (let i = 0; i < 200; i++) {
    const m = await ch.basicGet(queue, { noAck: true });
    if (m) return m;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`no message in ${queue}`);
}
