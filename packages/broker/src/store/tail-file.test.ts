import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { TAIL_BLOCK, TailFile } from "./tail-file.js";
import { tmpDir } from "./testkit.js";

const parts = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

test("a tail file is a FIFO across blocks and part files, and removes its files when empty", () => {
  const dir = tmpDir("tail");
  try {
    const warnings: string[] = [];
    // Parts of 4 blocks, so 100k entries span several; reads interleave with writes.
    const t = new TailFile(path.join(dir, "t", "1"), (m) => warnings.push(m), 4 * TAIL_BLOCK * 24);
    let next = 0;
    let expect = 0;
    const check = (a: number, b: number, c: number) => {
      assert.equal(a, expect);
      assert.equal(b, expect * 2);
      assert.equal(c, -expect);
      expect++;
    };
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 5000; i++, next++) t.push(next, next * 2, -next);
      t.shift(round % 3 === 0 ? 1000 : 2500, check);
      assert.equal(t.length, next - expect);
      // Parts read to the end are removed as reading goes on: disk follows the backlog.
      assert.ok(parts(path.join(dir, "t")).length <= Math.ceil(t.length / (4 * TAIL_BLOCK)) + 1);
    }
    assert.ok(parts(path.join(dir, "t")).length > 1, "the backlog spans part files");
    t.shift(Infinity, check);
    assert.equal(expect, next);
    assert.equal(t.length, 0);
    assert.deepEqual(parts(path.join(dir, "t")), [], "an empty tail has no files");
    // Usable again after emptying.
    for (let i = 0; i < 3 * TAIL_BLOCK; i++, next++) t.push(next, next * 2, -next);
    t.shift(Infinity, check);
    assert.equal(expect, next);
    assert.deepEqual(warnings, []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a tail file that cannot write keeps its entries in memory, in order", () => {
  const dir = tmpDir("tail-fail");
  try {
    // Its directory would have to be inside a regular file: every write fails.
    fs.writeFileSync(path.join(dir, "file"), "");
    const warnings: string[] = [];
    const t = new TailFile(path.join(dir, "file", "sub", "1"), (m) => warnings.push(m));
    for (let i = 0; i < 3 * TAIL_BLOCK + 5; i++) t.push(i, 0, 0);
    assert.equal(warnings.length, 1);
    let expect = 0;
    t.shift(Infinity, (a) => assert.equal(a, expect++));
    assert.equal(expect, 3 * TAIL_BLOCK + 5);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
