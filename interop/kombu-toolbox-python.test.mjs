// kombu's toolbox against Python kombu (Debian's python3-kombu and python3-msgpack): msgpack,
// JSON and zlib-compressed bodies cross in both directions, and accept lists agree.
//
//   node --test interop/kombu-toolbox-python.test.mjs
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BrokerConnection, kombu } from "@warren/client";
import { startBroker } from "./lib/broker.mjs";
import { runPython } from "./lib/python.mjs";
import { uid } from "./node/helpers.mjs";

/** @type {Awaited<ReturnType<typeof startBroker>>} */
let broker;
before(async () => {
  broker = await startBroker();
});
after(async () => {
  await broker?.stop();
});

async function python(code, env = {}) {
  const r = await runPython(["-c", code], { env: { URL: broker.url, ...env } });
  if (r.code !== 0) throw new Error(`python exited with ${r.code ?? r.signal}:\n${r.out}`);
  return r.stdout;
}

/** Deletes the queues and the exchanges of these names (SimpleQueue's pairs), then closes conn. */
async function tidy(conn, ...names) {
  const ch = await conn.defaultChannel();
  for (const n of names) {
    await ch.queueDelete(n);
    await ch.exchangeDelete(n);
  }
  await conn.close();
}

test("kombu's SimpleQueue puts msgpack, json and zlib bodies that ours gets, and gets ours", async () => {
  const name = uid("kombu-toolbox");
  const conn = new BrokerConnection(broker.url);
  const q = new kombu.SimpleQueue(conn, name, { accept: ["json", "msgpack"] });
  await q.clear();
  await python(
    `
import os, kombu
with kombu.Connection(os.environ["URL"]) as c:
    q = c.SimpleQueue(os.environ["Q"])
    q.put({"s": "h\\u00e9", "b": b"\\x00\\xff", "n": [1, 2.5]}, serializer="msgpack")
    q.put({"j": 1}, serializer="json", compression="zlib")
    q.put({"m": 2}, serializer="msgpack", compression="zlib")
    q.put("not accepted", serializer="pickle")
    q.close()
`,
    { Q: name },
  );
  const a = await q.get({ timeout: 5 });
  assert.equal(a.properties.contentType, "application/x-msgpack");
  assert.equal(a.payload.s, "hé");
  assert.deepEqual([...a.payload.b], [0, 255]);
  assert.deepEqual(a.payload.n, [1, 2.5]);
  a.ack();
  const b = await q.get({ timeout: 5 });
  assert.deepEqual(b.payload, { j: 1 });
  b.ack();
  const c = await q.get({ timeout: 5 });
  assert.deepEqual(c.payload, { m: 2 });
  c.ack();
  // pickle is not accepted: rejected, never handed out.
  await assert.rejects(q.get({ timeout: 0.3 }), kombu.Empty);

  await q.put({ s: "ü", b: Buffer.from([1, 2]) }, { serializer: "msgpack" });
  await q.put({ j: [true, null] }, { serializer: "json", compression: "zlib" });
  await q.put({ m: 3 }, { serializer: "msgpack", compression: "zlib" });
  await q.close();
  const out = await python(
    `
import os, kombu
with kombu.Connection(os.environ["URL"]) as c:
    q = c.SimpleQueue(os.environ["Q"], accept=["json", "msgpack"])
    for _ in range(3):
        m = q.get(timeout=5)
        print(m.content_type, repr(m.decode()))
        m.ack()
    q.close()
`,
    { Q: name },
  );
  assert.deepEqual(out.trim().split("\n"), [
    "application/x-msgpack {'s': 'ü', 'b': b'\\x01\\x02'}",
    "application/json {'j': [True, None]}",
    "application/x-msgpack {'m': 3}",
  ]);
  await tidy(conn, name);
});

test("kombu's gzip compression name crosses both ways (zlib data under application/x-gzip)", async () => {
  const name = uid("kombu-gzip");
  const conn = new BrokerConnection(broker.url);
  const q = new kombu.SimpleQueue(conn, name);
  await q.clear();
  await python(
    `
import os, kombu
with kombu.Connection(os.environ["URL"]) as c:
    q = c.SimpleQueue(os.environ["Q"])
    q.put({"g": "x" * 100}, serializer="json", compression="gzip")
    q.close()
`,
    { Q: name },
  );
  const m = await q.get({ timeout: 5 });
  assert.equal(m.properties.headers?.compression, "application/x-gzip");
  assert.ok(m.body.length < 100, "the body on the wire is compressed");
  assert.deepEqual(m.payload, { g: "x".repeat(100) });
  m.ack();
  await q.put({ back: "y".repeat(100) }, { compression: "gzip" });
  await q.close();
  const out = await python(
    `
import os, kombu
with kombu.Connection(os.environ["URL"]) as c:
    q = c.SimpleQueue(os.environ["Q"])
    m = q.get(timeout=5)
    # kombu's Message decompresses the body when it is built, by the compression header.
    print(m.headers["compression"], m.decode() == {"back": "y" * 100})
    m.ack()
    q.close()
`,
    { Q: name },
  );
  assert.equal(out.trim(), "application/x-gzip True");
  await tidy(conn, name);
});

test("ConsumerMixin workers: ours serves Python kombu's producer, Python's serves ours", async () => {
  const toTs = uid("mixin-to-ts");
  const toPy = uid("mixin-to-py");
  const conn = new BrokerConnection(broker.url);
  const got = [];
  class Worker extends kombu.ConsumerMixin {
    ready = false;
    getConsumers(Consumer) {
      const onTask = (body, message) => {
        got.push(body);
        message.ack();
        if (got.length === 3) this.stop();
      };
      return [
        Consumer({
          queues: [new kombu.Queue(toTs, { exchange: new kombu.Exchange(toTs), routingKey: toTs })],
          accept: ["json", "msgpack"],
          callbacks: [onTask],
        }),
      ];
    }
    onConsumeReady() {
      this.ready = true;
    }
  }
  const worker = new Worker(conn);
  const running = worker.run();
  while (!worker.ready) await new Promise((r) => setTimeout(r, 10));
  await python(
    `
import os, kombu
x = kombu.Exchange(os.environ["Q"], type="direct")
with kombu.Connection(os.environ["URL"]) as c:
    p = c.Producer()
    p.publish({"n": 1}, exchange=x, routing_key=os.environ["Q"], serializer="json", retry=True)
    p.publish({"n": 2}, exchange=x, routing_key=os.environ["Q"], serializer="msgpack", compression="zlib")
    p.publish({"n": 3}, exchange=x, routing_key=os.environ["Q"], serializer="json", compression="gzip")
`,
    { Q: toTs },
  );
  await running;
  assert.deepEqual(got, [{ n: 1 }, { n: 2 }, { n: 3 }]);

  // The Python worker declares its queue, then reads three messages from ours and stops.
  const py = python(
    `
import os, sys, kombu
from kombu.mixins import ConsumerMixin
name = os.environ["Q"]
q = kombu.Queue(name, kombu.Exchange(name, type="direct"), routing_key=name)
class Worker(ConsumerMixin):
    def __init__(self, connection):
        self.connection = connection
        self.got = []
    def get_consumers(self, Consumer, channel):
        return [Consumer(queues=[q], callbacks=[self.on_task], accept=["json", "msgpack"])]
    def on_consume_ready(self, connection, channel, consumers, **kwargs):
        print("ready", flush=True)
    def on_task(self, body, message):
        self.got.append(body)
        message.ack()
        if len(self.got) == 3:
            self.should_stop = True
with kombu.Connection(os.environ["URL"]) as c:
    w = Worker(c)
    w.run()
    for b in w.got:
        print(repr(b))
`,
    { Q: toPy },
  );
  // Publish once the Python worker's queue exists (passive declare until it does), through the
  // default exchange: its binding to the exchange may not be there yet.
  const producer = new kombu.Producer(conn, { routingKey: toPy });
  for (;;) {
    const ok = await conn
      .channel()
      .then(async (ch) => {
        await ch.queueDeclare(toPy, { passive: true });
        await ch.close();
        return true;
      })
      .catch(() => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await producer.publish({ n: "a" }, { serializer: "json" });
  await producer.publish({ n: "b" }, { serializer: "msgpack", compression: "zlib" });
  await producer.publish({ n: "c" }, { serializer: "json", compression: "gzip" });
  const out = await py;
  assert.deepEqual(out.trim().split("\n"), ["ready", "{'n': 'a'}", "{'n': 'b'}", "{'n': 'c'}"]);
  await tidy(conn, toTs, toPy);
});
