import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { TailFile } from "../store/tail-file.js";
import { tmpDir } from "../store/testkit.js";
import { PagedList } from "./paged-list.js";
import { levelWindow, PriorityList } from "./priority-list.js";

test("a deep paged list keeps its tail in a file and gives it back in order with its columns", () => {
  const dir = tmpDir("paged-list");
  let tail: TailFile | undefined;
  try {
    const list = new PagedList<string>(() => (tail = new TailFile(path.join(dir, "1"), assert.fail)));
    const n = 200_000;
    // The first 10 in memory, the rest known by id only (as a queue pages them out).
    for (let i = 1; i <= n; i++)
      list.push(i <= 10 ? `m${i}` : undefined, 0, i % 3, i, i % 7 === 0 ? i * 10 : 0, i * 8);
    assert.equal(list.length, n);
    assert.ok(list.tailLength > n - 20_000, `most entries are in the tail file (${list.tailLength})`);
    assert.ok(fs.readdirSync(dir).length > 0);
    // A delivered head entry goes back to the front.
    assert.equal(list.peek(), "m1");
    list.shift();
    list.restore("m1", 0, 1, 1, 0, 8);
    for (let i = 1; i <= n; i++) {
      assert.equal(list.headId, i * 8);
      assert.equal(list.headSeq, i);
      assert.equal(list.headCount, i === 1 ? 1 : i % 3);
      assert.equal(list.headExp, i % 7 === 0 ? i * 10 : 0);
      const item = list.shift();
      assert.equal(item, i <= 10 ? `m${i}` : undefined);
      if (i % 50_000 === 0) assert.equal(list.length, n - i);
    }
    assert.equal(list.length, 0);
    assert.equal(tail!.length, 0);
    assert.deepEqual(fs.readdirSync(dir), [], "the drained tail left no file");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("an in-memory entry pushed behind a tail file brings the tail back first", () => {
  const dir = tmpDir("paged-list-mixed");
  try {
    const list = new PagedList<string>(() => new TailFile(path.join(dir, "1"), assert.fail));
    const n = 50_000;
    for (let i = 1; i <= n; i++) list.push(undefined, 0, 0, i, 0, i);
    assert.ok(list.tailLength > 0);
    list.push("in memory", 0, 0, n + 1, 0, n + 1);
    assert.equal(list.tailLength, 0);
    for (let i = n + 2; i <= n + 100; i++) list.push(undefined, 0, 0, i, 0, i);
    for (let i = 1; i <= n + 100; i++) {
      assert.equal(list.headSeq, i);
      assert.equal(list.shift(), i === n + 1 ? "in memory" : undefined);
    }
    assert.equal(list.length, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("without a tail file the list stays in memory", () => {
  const list = new PagedList<string>(() => undefined);
  for (let i = 1; i <= 30_000; i++) list.push(undefined, 0, 0, i, 0, i);
  assert.equal(list.tailLength, 0);
  for (let i = 1; i <= 30_000; i++) {
    assert.equal(list.headId, i);
    list.shift();
  }
  assert.equal(list.length, 0);
});

test("a deep priority list spills each level to its own tail file and delivers in exact order", () => {
  const dir = tmpDir("priority-list");
  const tails: TailFile[] = [];
  try {
    const open = (block: number) => {
      const t = new TailFile(path.join(dir, String(tails.length + 1)), assert.fail, undefined, block);
      tails.push(t);
      return t;
    };
    const maxPriority = 10;
    const list = new PriorityList<string>(maxPriority, open);
    const window = levelWindow(maxPriority + 1);
    assert.equal(window, 2048);
    const n = 60_000;
    // Priorities cycle over 0, 3, 5, 10 and one above the maximum (counts as 10); the first
    // 10 entries are in memory, the rest known by id only.
    const prio = (i: number) => [0, 3, 5, 10, 42][i % 5]!;
    for (let i = 1; i <= n; i++) list.push(i <= 10 ? `m${i}` : undefined, prio(i), i % 3, i, 0, i);
    assert.equal(list.length, n);
    assert.equal(tails.length, 4, "one tail file per level in use");
    assert.ok(list.tailLength >= n - 4 * window, `most entries are in tail files (${list.tailLength})`);
    assert.ok(list.bytes <= 4 * window * 28, `memory is the levels' windows (${list.bytes} bytes)`);
    assert.ok(fs.readdirSync(dir).length >= 4);
    // The expected order: level 10 (priorities 10 and 42 interleaved by sequence), then 5, 3, 0.
    const order = [10, 5, 3, 0].flatMap((p) =>
      Array.from({ length: n }, (_, k) => k + 1).filter((i) => Math.min(prio(i), maxPriority) === p),
    );
    // Deliver the head and requeue it: it goes back to its place at the front of level 10.
    const first = list.headId;
    assert.equal(first, order[0]);
    list.restore(list.shift(), 10, 1, first, 0, first);
    let maxBytes = 0;
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      assert.equal(list.headId, i, `entry ${k}`);
      assert.equal(list.headSeq, i);
      assert.equal(list.headCount, k === 0 ? 1 : i % 3);
      assert.equal(list.shift(), i <= 10 ? `m${i}` : undefined);
      maxBytes = Math.max(maxBytes, list.bytes);
    }
    assert.equal(list.length, 0);
    assert.ok(maxBytes <= 4 * 2 * window * 28, `memory stayed within the windows (${maxBytes} bytes)`);
    assert.equal(list.bytes, 0, "the drained levels gave their windows back");
    for (const t of tails) assert.equal(t.length, 0);
    assert.deepEqual(fs.readdirSync(dir), [], "the drained levels left no file");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a priority list's tail-file parts are dropped once read", () => {
  const dir = tmpDir("priority-parts");
  try {
    // Small parts (4 blocks of 512 entries) so that a level's file has many of them.
    const open = (block: number) => new TailFile(path.join(dir, "p"), assert.fail, 4 * block * 24, block);
    const list = new PriorityList<string>(10, open);
    const n = 40_000;
    for (let i = 1; i <= n; i++) list.push(undefined, 7, 0, i, 0, i);
    const full = fs.readdirSync(dir).length;
    assert.ok(full > 10, `the level's tail is in ${full} parts`);
    for (let i = 1; i <= n / 2; i++) {
      assert.equal(list.headId, i);
      list.shift();
    }
    const half = fs.readdirSync(dir).length;
    assert.ok(half < full * 0.6, `read parts are gone (${half} of ${full} left)`);
    while (list.length > 0) list.shift();
    assert.deepEqual(fs.readdirSync(dir), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a drained deep list releases its window; one that was never deep keeps its small ring", () => {
  const list = new PagedList<string>(() => undefined);
  for (let i = 1; i <= 20_000; i++) list.push(undefined, 0, 0, i, 0, i);
  assert.ok(list.bytes >= 16_384 * 28, `deep: ${list.bytes} bytes`);
  for (let i = 1; i <= 19_999; i++) list.shift();
  assert.ok(list.bytes >= 16_384 * 28, "not drained yet: the window stays");
  list.shift();
  assert.equal(list.bytes, 0, "a drained deep ring holds nothing");
  list.push("again", 0, 0, 1, 0, 1);
  assert.equal(list.shift(), "again", "and works again from a small ring");
  const small = new PagedList<string>(() => undefined);
  for (let i = 1; i <= 5000; i++) small.push(`m${i}`, 0, 0, i, 0, i);
  const bytes = small.bytes;
  while (small.length > 0) small.shift();
  assert.equal(small.bytes, bytes, "a queue that never reached its window keeps its ring to refill it");
});
