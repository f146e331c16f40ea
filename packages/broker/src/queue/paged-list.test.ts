import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { TailFile } from "../store/tail-file.js";
import { tmpDir } from "../store/testkit.js";
import { PagedList } from "./paged-list.js";

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
