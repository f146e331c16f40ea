// @warren/client with Python's AMQP clients (Debian's python3-kombu and python3-pika) on the
// same broker: messages kombu compresses (its `compression` header) decode in our kombu-style
// Consumer and the other way round, and header values pika writes (64-bit integers,
// datetimes, bytes) arrive as bigint or number, Date and Buffer.
//
//   node --test interop/client-python.test.mjs
//   INTEROP_TARGET_URL=amqp://guest:guest@localhost:5682 node --test interop/client-python.test.mjs
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BrokerConnection, Consumer, connect, Producer, Queue } from "@warren/client";
import { startBroker } from "./lib/broker.mjs";
import { runPython } from "./lib/python.mjs";
import { uid, waitFor } from "./node/helpers.mjs";

/** @type {Awaited<ReturnType<typeof startBroker>>} */
let broker;
before(async () => {
  broker = await startBroker();
});
after(async () => {
  await broker?.stop();
});

/** Runs a Python snippet with the broker's URL in URL; resolves with its stdout. */
async function python(code) {
  const r = await runPython(["-c", code], { env: { URL: broker.url } });
  if (r.code !== 0) throw new Error(`python exited with ${r.code ?? r.signal}:\n${r.out}`);
  return r.stdout;
}

test("kombu's zlib-compressed messages decode in @warren/client's Consumer, and ours in kombu", async () => {
  const name = uid("kombu-zlib");
  const conn = new BrokerConnection(broker.url);
  const got = [];
  const consumer = new Consumer(conn, {
    queues: new Queue(name, { durable: false }),
    callbacks: [
      (body, m) => {
        got.push({ body, compression: m.properties.headers?.compression });
        m.ack();
      },
    ],
  });
  await consumer.consume();
  await python(`
import os, kombu
with kombu.Connection(os.environ["URL"]) as c:
    c.Producer(serializer="json").publish({"from": "kombu", "n": [1, 2]}, routing_key=${JSON.stringify(name)}, compression="zlib")
    c.Producer(serializer="json").publish("plain", routing_key=${JSON.stringify(name)})
`);
  await waitFor(() => got.length === 2, 5000, "the kombu messages");
  assert.deepEqual(got, [
    { body: { from: "kombu", n: [1, 2] }, compression: "application/x-gzip" },
    { body: "plain", compression: undefined },
  ]);
  await consumer.cancel();

  const back = uid("warren-zlib");
  const producer = new Producer(conn, { serializer: "json", compression: "zlib" });
  await producer.publish(
    { from: "warren", ok: true },
    { routingKey: back, declare: [new Queue(back, { durable: false })] },
  );
  const out = await python(`
import os, kombu
with kombu.Connection(os.environ["URL"]) as c:
    with c.SimpleQueue(kombu.Queue(${JSON.stringify(back)}, durable=False)) as q:
        m = q.get(timeout=5)
        print(m.headers.get("compression"), m.payload)
        m.ack()
`);
  assert.equal(out.trim(), "application/x-gzip {'from': 'warren', 'ok': True}");
  const ch = await conn.channel();
  await ch.queueDelete(name);
  await ch.queueDelete(back);
  await producer.close();
  await conn.close();
});

test("header values pika writes decode to plain values", async () => {
  const name = uid("pika-headers");
  const conn = await connect(broker.url);
  const ch = await conn.createChannel();
  await ch.queueDeclare(name, { durable: false });
  await python(`
import os, datetime, pika
c = pika.BlockingConnection(pika.URLParameters(os.environ["URL"]))
ch = c.channel()
headers = {"big": 2**60 + 1, "long": 2**40, "small": 5, "when": datetime.datetime(2023, 11, 14, 22, 13, 20), "raw": b"\\x01\\x02", "list": [2**33, "x"]}
ch.basic_publish("", ${JSON.stringify(name)}, b"h", pika.BasicProperties(headers=headers, timestamp=1700000000))
c.close()
`);
  let m = null;
  await waitFor(async () => (m = await ch.basicGet(name, { noAck: true })), 5000, "the pika message");
  assert.deepEqual(m.properties.headers, {
    big: 2n ** 60n + 1n,
    long: 2 ** 40,
    small: 5,
    when: new Date(Date.UTC(2023, 10, 14, 22, 13, 20)),
    raw: Buffer.from([1, 2]),
    list: [2 ** 33, "x"],
  });
  assert.equal(m.properties.timestamp, 1_700_000_000);
  await ch.queueDelete(name);
  await conn.close();
});
