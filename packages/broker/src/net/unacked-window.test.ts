import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { UnackedWindow } from "./unacked-window.js";

// Model-based: any sequence of adds (rising tags with gaps), single acks, multiple acks and
// scans agrees with a Map in insertion order, across growth, wrap-around, stragglers moved out
// of the ring and the window emptying and starting again further on.
test("UnackedWindow behaves like a tag-ordered Map under any operation sequence", () => {
  const op = fc.oneof(
    fc.record({ k: fc.constant("add"), gap: fc.nat({ max: 700 }) }),
    fc.record({ k: fc.constant("del"), pick: fc.nat() }),
    fc.record({ k: fc.constant("upTo"), pick: fc.nat(), all: fc.boolean() }),
    fc.record({ k: fc.constant("miss"), pick: fc.nat() }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 600 }), (ops) => {
      const w = new UnackedWindow<string>();
      const model = new Map<number, string>();
      let tag = 0;
      for (const o of ops) {
        const keys = [...model.keys()];
        if (o.k === "add") {
          tag += 1 + o.gap;
          w.set(tag, `d${tag}`);
          model.set(tag, `d${tag}`);
        } else if (o.k === "del" && keys.length > 0) {
          const t = keys[o.pick % keys.length]!;
          assert.equal(w.delete(t), true);
          model.delete(t);
        } else if (o.k === "upTo") {
          const t = o.all || keys.length === 0 ? 0 : keys[o.pick % keys.length]!;
          const want = keys.filter((k) => t === 0 || k <= t);
          assert.deepEqual(
            w.takeUpTo(t),
            want.map((k) => model.get(k)),
          );
          for (const k of want) model.delete(k);
        } else if (o.k === "miss") {
          const t = (o.pick % (tag + 2)) + 0;
          assert.equal(w.has(t), model.has(t));
          assert.equal(w.get(t), model.get(t));
          if (!model.has(t)) assert.equal(w.delete(t), false);
        }
        assert.equal(w.size, model.size);
        const seen: string[] = [];
        w.some((v) => (seen.push(v), false));
        assert.deepEqual(seen, [...model.values()]);
      }
    }),
    { numRuns: 300 },
  );
});

test("UnackedWindow memory follows the unacked count, not the tag span", () => {
  const w = new UnackedWindow<number>();
  w.set(1, 1); // held unacked while 200,000 later deliveries come and go
  for (let t = 2; t < 200_002; t++) {
    w.set(t, t);
    if (t > 41) assert.equal(w.delete(t - 40), true);
  }
  assert.equal(w.size, 41);
  assert.ok(w.capacity <= 256, `ring grew to ${w.capacity} slots for 41 entries`);
  assert.equal(w.get(1), 1, "the straggler is still found");
  assert.deepEqual(w.takeUpTo(3), [1]);
  assert.equal(w.size, 40);
});

test("UnackedWindow gives a burst's memory back once it empties", () => {
  const w = new UnackedWindow<number>();
  for (let t = 1; t <= 100_000; t++) w.set(t, t);
  assert.ok(w.capacity >= 100_000);
  assert.equal(w.takeUpTo(50_000).length, 50_000);
  assert.ok(w.capacity >= 100_000, "still half full: keeps its ring");
  for (let t = 50_001; t <= 100_000; t++) w.delete(t);
  assert.equal(w.size, 0);
  assert.equal(w.capacity, 256);
  w.set(100_001, 1);
  assert.equal(w.get(100_001), 1);
});

test("UnackedWindow refuses a tag that is not above the last one", () => {
  const w = new UnackedWindow<number>();
  w.set(5, 5);
  w.set(6, 6);
  assert.throws(() => w.set(6, 6), RangeError);
  assert.throws(() => w.set(4, 4), RangeError);
});
