// DLV records and segment indexes together: a closed segment's .widx copies its DLV records,
// so a recovery that replays the index instead of the segment flags the same messages
// redelivered as a scan does, and only those still queued.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import type { Message } from "../message.js";
import { DiskStore, type DiskStoreOptions } from "./disk-store.js";
import { INDEX_SUFFIX, listSegments } from "./files.js";
import { crashCopy, flaggedBodies, msg, synced, tmpDir } from "./testkit.js";

const small: DiskStoreOptions = { onWarning: () => {}, segmentSize: 16 * 1024 };

const bodies = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `body-${from + i}`);

test("deliveries recorded in a segment that closed survive a crash through its index file", async () => {
  const dir = tmpDir("dlv-index");
  const s = await DiskStore.open(dir, small);
  const ms: Message[] = [];
  for (let i = 0; i < 1000; i++) {
    const m = msg(i);
    ms.push(m);
    s.enqueue("q", m);
    if (i % 200 === 0) await synced(s);
  }
  await synced(s);
  // The DLV records (and the DEL of some of them) go into the segment active now.
  const dlvSeg = listSegments(dir).at(-1)!;
  for (let i = 100; i < 200; i++) s.delivered("q", ms[i]!.id);
  for (let i = 500; i < 510; i++) s.delivered("q", ms[i]!.id);
  s.delivered("q", ms[700]!.id);
  await synced(s);
  for (let i = 100; i < 150; i++) s.remove("q", ms[i]!); // acked in the same segment
  await synced(s);
  assert.equal(listSegments(dir).at(-1), dlvSeg, "the deliveries and acks share one segment");
  // Roll past it: more traffic closes dlvSeg and writes its index; 700 is acked after that.
  for (let i = 0; i < 600; i++) {
    s.enqueue("other", msg(1000 + i));
    if (i % 200 === 0) await synced(s);
  }
  await synced(s);
  s.remove("q", ms[700]!);
  await synced(s);
  const segs = listSegments(dir);
  assert.ok(segs.at(-1)! > dlvSeg, `segment ${dlvSeg} closed (newest ${segs.at(-1)})`);
  assert.ok(listSegments(dir, INDEX_SUFFIX).includes(dlvSeg), `segment ${dlvSeg} has its index`);
  const crashed = crashCopy(dir, "dlv-index-crash");
  await s.close();

  const want = [...bodies(150, 200), ...bodies(500, 510)];
  try {
    // Crash copy, replayed from the indexes (all closed segments, dlvSeg among them).
    const a = await DiskStore.open(crashed, small);
    assert.equal(a.recovery.indexed, segs.length - 1, "closed segments replayed from their indexes");
    assert.equal(a.recoverIds().get("q")!.length, 1000 - 50 - 1);
    assert.deepEqual(flaggedBodies(a, "q", a.recoveredDeliveries()), want);
    await a.close();
    // The same store with every index removed: the scan finds the same flags.
    for (const seq of listSegments(crashed, INDEX_SUFFIX)) {
      fs.rmSync(path.join(crashed, `${String(seq).padStart(10, "0")}${INDEX_SUFFIX}`));
    }
    const b = await DiskStore.open(crashed, small);
    assert.equal(b.recovery.indexed, 0, "every segment scanned");
    assert.deepEqual(flaggedBodies(b, "q", b.recoveredDeliveries()), want);
    await b.close();
    // And again from the indexes that scan wrote.
    const c = await DiskStore.open(crashed, small);
    assert.ok(c.recovery.indexed > 0);
    assert.deepEqual(flaggedBodies(c, "q", c.recoveredDeliveries()), want);
    await c.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(crashed, { recursive: true, force: true });
  }
});
