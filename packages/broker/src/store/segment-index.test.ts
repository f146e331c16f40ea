import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { DiskStore, type DiskStoreOptions } from "./disk-store.js";
import { INDEX_SUFFIX, indexPath, listSegments, segmentPath } from "./files.js";
import { msg, synced, tmpDir } from "./testkit.js";

const small: DiskStoreOptions = { onWarning: () => {}, segmentSize: 16 * 1024 };

const indexes = (dir: string) => listSegments(dir, INDEX_SUFFIX);

/** Queue contents as bodies, every queue. */
function contents(s: DiskStore): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [q, list] of s.recover()) out[q] = list.map((m) => m.body.toString());
  return out;
}

/** A store of several segments with PUBs, fanout ENQs and DELs (acks) in many of them. */
async function workload(): Promise<{ dir: string; want: Record<string, string[]> }> {
  const dir = tmpDir("index");
  const s = await DiskStore.open(dir, small);
  const held: { q: string; m: ReturnType<typeof msg> }[] = [];
  for (let i = 0; i < 4000; i++) {
    const m = msg(i);
    s.enqueue(`q${i % 3}`, m);
    if (i % 5 === 0) s.enqueue("fan", m);
    held.push({ q: `q${i % 3}`, m });
    // Ack some older ones now and then, so DELs point back into older segments.
    if (i % 7 === 0 && held.length > 50) {
      const { q, m: old } = held.splice(i % 40, 1)[0]!;
      s.remove(q, old);
    }
    if (i % 500 === 0) await synced(s);
  }
  await synced(s);
  const want = contents(s);
  await s.close();
  return { dir, want };
}

test("a reopened store replays closed segments from their indexes and finds the same messages", async () => {
  const { dir, want } = await workload();
  try {
    const segs = listSegments(dir);
    assert.ok(segs.length > 5, `several segments (${segs.length})`);
    // All closed segments were indexed as they closed, except the last active one.
    assert.deepEqual(indexes(dir), segs.slice(0, -1));
    const a = await DiskStore.open(dir, small);
    assert.equal(a.recovery.indexed, segs.length - 1);
    assert.deepEqual(contents(a), want);
    await a.close();
    // That open scanned the newest segment and indexed it: now every old segment has one.
    const b = await DiskStore.open(dir, small);
    assert.equal(b.recovery.indexed, segs.length);
    assert.deepEqual(contents(b), want);
    // The store keeps working on top: acks and new messages survive the next open.
    const first = b.recover().get("q0")![0]!;
    b.remove("q0", first);
    b.enqueue("q0", msg(99_999));
    await synced(b);
    await b.close();
    const c = await DiskStore.open(dir, small);
    const got = contents(c);
    assert.deepEqual(got.q0, [...want.q0!.slice(1), "body-99999"]);
    assert.deepEqual(got.fan, want.fan);
    await c.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a damaged, stale or orphaned index is not used: the segment is scanned instead", async () => {
  const { dir, want } = await workload();
  try {
    const segs = listSegments(dir);
    // A flipped bit in one index, another index cut short, a third made for a different size.
    const flip = indexPath(dir, segs[1]!);
    const bytes = fs.readFileSync(flip);
    bytes[bytes.length - 5]! ^= 0x10;
    fs.writeFileSync(flip, bytes);
    const cut = indexPath(dir, segs[2]!);
    fs.truncateSync(cut, fs.statSync(cut).size - 4);
    fs.copyFileSync(indexPath(dir, segs[4]!), indexPath(dir, segs[3]!));
    // An index whose segment is gone.
    fs.copyFileSync(indexPath(dir, segs[0]!), indexPath(dir, 999_999));
    const s = await DiskStore.open(dir, small);
    assert.equal(s.recovery.indexed, segs.length - 1 - 3);
    assert.deepEqual(contents(s), want);
    assert.equal(s.recovery.skippedBytes, 0);
    assert.equal(fs.existsSync(indexPath(dir, 999_999)), false, "the orphaned index was removed");
    await s.close();
    // The scans rewrote the bad indexes: the next open uses them all.
    const t = await DiskStore.open(dir, small);
    assert.equal(t.recovery.indexed, segs.length);
    assert.deepEqual(contents(t), want);
    await t.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the newest segment is always scanned: a torn tail is still cut off", async () => {
  const { dir, want } = await workload();
  try {
    const segs = listSegments(dir);
    const last = segmentPath(dir, segs.at(-1)!);
    // Garbage after the last record, as a write torn by a crash leaves; give it an index that
    // claims the torn size, which must not be trusted for the newest segment.
    fs.appendFileSync(last, Buffer.alloc(100, 0xab));
    fs.copyFileSync(indexPath(dir, segs[0]!), indexPath(dir, segs.at(-1)!));
    const s = await DiskStore.open(dir, small);
    assert.equal(s.recovery.truncatedBytes, 100);
    assert.deepEqual(contents(s), want);
    await s.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("segments deleted by cleanup take their index with them", async () => {
  const dir = tmpDir("index-cleanup");
  try {
    const s = await DiskStore.open(dir, small);
    const ms = [];
    for (let i = 0; i < 2000; i++) {
      const m = msg(i);
      s.enqueue("q", m);
      ms.push(m);
    }
    await synced(s);
    assert.ok(indexes(dir).length > 3);
    for (const m of ms) s.remove("q", m);
    await synced(s);
    await s.close();
    const left = listSegments(dir);
    assert.ok(left.length <= 3, `segments left: ${left.length}`);
    for (const seq of indexes(dir)) assert.ok(left.includes(seq), `index ${seq} has its segment`);
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")),
      [],
    );
  } finally {
    fs.rmSync(path.join(dir), { recursive: true, force: true });
  }
});

test("an old message enqueued into another queue later (ENQ outside its body's segment) is counted right", async () => {
  const dir = tmpDir("index-enq");
  try {
    const s = await DiskStore.open(dir, small);
    const first = msg(0);
    s.enqueue("a", first);
    for (let i = 1; i < 1500; i++) s.enqueue("filler", msg(i));
    await synced(s);
    assert.ok(listSegments(dir).length > 3);
    // The ENQ lands segments after the body: "b" needs the second column for it.
    s.enqueue("b", first);
    await synced(s);
    await s.close();
    const r = await DiskStore.open(dir, small);
    assert.deepEqual(contents(r).b, ["body-0"]);
    // Removing it from "a" must not free the body's segment: "b" still holds it.
    const m = r.recover().get("a")![0]!;
    r.remove("a", m);
    for (const f of r.recover().get("filler")!) r.remove("filler", f);
    await synced(r);
    await r.close();
    const t = await DiskStore.open(dir, small);
    assert.deepEqual(contents(t), { b: ["body-0"] });
    const n = t.recover().get("b")![0]!;
    t.remove("b", n);
    await synced(t);
    await t.close();
    assert.ok(listSegments(dir).length <= 3, "everything gone, the segments too");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
