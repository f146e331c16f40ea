import assert from "node:assert/strict";
import { test } from "node:test";
import { QueueIndex } from "./queue-index.js";

test("FIFO push/remove keeps order and gives back memory", () => {
  const q = new QueueIndex("q");
  for (let i = 1; i <= 100_000; i++) q.push(i * 8, i % 5);
  assert.equal(q.size, 100_000);
  assert.equal(q.remove(8), 1);
  assert.equal(q.remove(8), -1);
  assert.equal(q.remove(16 * 8), 16 % 5);
  const arr = Array.from(q.toIds());
  assert.equal(arr.length, 99_998);
  assert.deepEqual(arr.slice(0, 3), [16, 24, 32]);
  for (const id of arr) assert.ok(q.remove(id) >= 0);
  assert.equal(q.size, 0);
  assert.ok(q.bytes < 1024);
});

test("random removals, compaction, and out-of-order pushes", () => {
  const q = new QueueIndex("q");
  const live = new Set<number>();
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
  let next = 1;
  for (let round = 0; round < 20_000; round++) {
    if (rand(3) > 0 || live.size === 0) {
      // Mostly increasing ids; sometimes an old id comes back (re-enqueued message).
      const id = rand(50) === 0 && next > 10 ? 1 + rand(next - 1) : next++;
      if (live.has(id)) continue;
      q.push(id, id % 3);
      live.add(id);
    } else {
      const ids = [...live];
      const id = ids[rand(ids.length)]!;
      assert.equal(q.remove(id), id % 3);
      live.delete(id);
    }
    assert.equal(q.size, live.size);
  }
  assert.deepEqual(new Set(Array.from(q.toIds())), live);
  for (const id of live) assert.equal(q.has(id), true);
  assert.equal(q.has(next + 1), false);
});

test("entries enqueued in their body's segment cost 4 bytes; others add a column until drained", () => {
  const q = new QueueIndex("q");
  for (let i = 1; i <= 4096; i++) q.push(i * 8, 0);
  assert.equal(q.bytes, 4096 * 4);
  q.push(5000 * 8, 7);
  assert.equal(q.remove(5000 * 8), 7);
  assert.equal(q.remove(8), 0);
  assert.ok(q.bytes >= 8192 * 8, "the second column exists while the queue holds entries");
  for (let i = 2; i <= 4096; i++) assert.equal(q.remove(i * 8), 0);
  assert.ok(q.bytes <= 16 * 8, `drained: ${q.bytes} bytes`);
});

test("ids too far apart for 4 bytes widen their chunk to 8, and still read back right", () => {
  const q = new QueueIndex("q");
  const ids: number[] = [];
  // Segment slots are 2^27 apart: 20 slots in one chunk exceed 31 bits of offset.
  for (let i = 1; i <= 80_000; i++) ids.push(Math.floor(i / 2000) * 2 ** 27 + 16 + (i % 2000) * 56);
  for (const id of ids) q.push(id, 0);
  assert.equal(q.bytes, 65_536 * 8 + 65_536 * 4, "the first chunk widened, the second did not");
  assert.deepEqual(Array.from(q.toIds()), ids);
  const runs: number[] = [];
  q.forEachRun((r) => runs.push(...r));
  assert.deepEqual(runs, ids);
  for (const id of ids.slice(0, 50_000)) assert.equal(q.remove(id), 0);
  assert.equal(q.remove(ids[70_000]!), 0);
  assert.equal(q.has(ids[70_000]!), false);
  assert.equal(q.has(ids[70_001]!), true);
  assert.equal(q.size, 29_999);
});

test("a deep index spans chunks: FIFO acks drop passed chunks, random acks compact, order holds", () => {
  const q = new QueueIndex("q");
  const n = 300_000;
  for (let i = 1; i <= n; i++) q.push(i * 8, i % 1000 === 0 ? 9 : 0);
  const full = q.bytes;
  // FIFO acks across two chunks: their memory goes.
  for (let i = 1; i <= 140_000; i++) assert.equal(q.remove(i * 8), i % 1000 === 0 ? 9 : 0);
  assert.ok(q.bytes < full - 100_000 * 8, `passed chunks dropped (${q.bytes} of ${full})`);
  // Every third of the rest acked out of order: compaction runs, lookups stay right.
  const kept: number[] = [];
  for (let i = 140_001; i <= n; i++) {
    if (i % 3 === 0) assert.equal(q.remove(i * 8), i % 1000 === 0 ? 9 : 0);
    else kept.push(i * 8);
  }
  assert.equal(q.size, kept.length);
  assert.deepEqual(Array.from(q.toIds()), kept);
  assert.equal(q.has(kept[500]!), true);
  assert.equal(q.has(141_000 * 8 + 3 * 8), false);
  for (const id of kept) assert.ok(q.remove(id) >= 0);
  assert.equal(q.size, 0);
  assert.ok(q.bytes <= 4096 * 8);
});
