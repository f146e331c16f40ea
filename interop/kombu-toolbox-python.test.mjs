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
  const ch = await conn.defaultChannel();
  await ch.queueDelete(name);
  await ch.exchangeDelete(name);
  await conn.close();
});
