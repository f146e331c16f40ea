import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageDecoder } from "./message-decoder.js";
import { RecordWriter } from "./record.js";

test("decoded messages keep their own fields when shared ones repeat, change and come back, and when their buffer is reused", () => {
  const props = [
    Buffer.from([0x10, 0, 2]),
    Buffer.from([0x90, 0, 2]),
    Buffer.alloc(600, 1),
    Buffer.alloc(40, 3),
  ];
  const cases = [
    { ex: "amq.direct", rk: "q", p: 0, body: "a" },
    { ex: "amq.direct", rk: "q", p: 0, body: "b" },
    { ex: "amq.topic", rk: "q", p: 1, body: "c" },
    { ex: "amq.direct", rk: "r", p: 0, body: "" },
    { ex: "amq.direct", rk: "r", p: 2, body: "big props" },
    { ex: "", rk: "é", p: 3, body: "x".repeat(5000) },
    { ex: "", rk: "é", p: 3, body: "y".repeat(5000) },
    { ex: "", rk: "é", p: 1, body: "d" },
  ];
  const w = new RecordWriter(64);
  const decoder = new MessageDecoder();
  const got = cases.map((c, i) => {
    // One buffer for every record, overwritten each time, as the store's read-ahead window is.
    w.len = 0;
    const pos = w.writePub(7, c.ex, c.rk, props[c.p]!, Buffer.from(c.body));
    const m = decoder.decode(w.buf, pos, 1000 + i);
    w.buf.fill(0xee, 0, w.len);
    return m;
  });
  got.forEach((m, i) => {
    const c = cases[i]!;
    assert.equal(m.id, 1000 + i);
    assert.equal(m.exchange, c.ex);
    assert.equal(m.routingKey, c.rk);
    assert.ok(m.rawProps.equals(props[c.p]!), `props of message ${i}`);
    assert.equal(m.body.toString(), c.body);
  });
  // Repeated property bytes are one buffer, not a copy per message.
  assert.equal(got[0]!.rawProps, got[1]!.rawProps);
  assert.equal(got[5]!.rawProps, got[6]!.rawProps);
  assert.notEqual(got[2]!.rawProps, got[7]!.rawProps);
});
