// DLV records: the store notes first deliveries so that recovery flags exactly the messages
// that were delivered (and not acked) before a restart. The broker-level kill -9 test is in
// interop/durability.test.mjs.
import assert from "node:assert/strict";
import fs from "node:fs";
import { test } from "node:test";
import type { Message } from "../message.js";
import { DiskStore, type DiskStoreOptions } from "./disk-store.js";
import { listSegments } from "./files.js";
import { crashCopy, flaggedBodies, msg, synced, tmpDir } from "./testkit.js";

const quiet: DiskStoreOptions = { onWarning: () => {} };
const small: DiskStoreOptions = { ...quiet, segmentSize: 16 * 1024 };

/** Waits until a commit has written more than `before` bytes (the write is asynchronous). */
async function writtenPast(s: DiskStore, before: number): Promise<void> {
  for (let i = 0; i < 1000 && s.stats().bytesWritten <= before; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(s.stats().bytesWritten > before, "the deliveries were written");
}

test("recovery flags exactly the delivered and unacked messages, per queue, fanout included", async () => {
  const dir = tmpDir("dlv");
  const s = await DiskStore.open(dir, quiet);
  const ms: Message[] = [];
  for (let i = 0; i < 100; i++) {
    const m = msg(i);
    ms.push(m);
    s.enqueue("q", m);
    if (i < 50) s.enqueue("fan", m); // the same body in a second queue
  }
  await synced(s);
  for (let i = 0; i < 30; i++) s.delivered("q", ms[i]!.id);
  for (let i = 10; i < 20; i++) s.delivered("fan", ms[i]!.id);
  for (let i = 0; i < 10; i++) s.remove("q", ms[i]!); // acked
  await synced(s);
  // Delivered and acked within one commit: neither back nor flagged.
  s.delivered("q", ms[40]!.id);
  s.remove("q", ms[40]!);
  // Delivered, not acked, written by a commit without a sync callback of its own.
  const before = s.stats().bytesWritten;
  s.delivered("q", ms[60]!.id);
  await writtenPast(s, before);
  const crashed = crashCopy(dir, "dlv-crash");
  await s.close();

  for (const d of [dir, crashed]) {
    const r = await DiskStore.open(d, quiet);
    const delivered = r.recoveredDeliveries();
    const want = [...Array.from({ length: 20 }, (_, i) => `body-${i + 10}`), "body-60"];
    assert.deepEqual(flaggedBodies(r, "q", delivered), want, `queue q (${d === dir ? "closed" : "crashed"})`);
    assert.deepEqual(
      flaggedBodies(r, "fan", delivered),
      Array.from({ length: 10 }, (_, i) => `body-${i + 10}`),
    );
    assert.equal(r.recoverIds().get("q")!.length, 89);
    assert.equal(r.recoverIds().get("fan")!.length, 50);
    assert.equal(r.recoveredDeliveries().size, 0, "handed over once");
    await r.close();
    fs.rmSync(d, { recursive: true });
  }
});

test("deliveries alone cost no fdatasync; the next commit syncs them", async () => {
  const dir = tmpDir("dlv-lazy");
  const s = await DiskStore.open(dir, quiet);
  const ms = Array.from({ length: 1000 }, (_, i) => msg(i));
  for (const m of ms) s.enqueue("q", m);
  await synced(s);
  const before = s.stats();
  for (let round = 0; round < 10; round++) {
    const b = s.stats().bytesWritten;
    for (let i = 0; i < 100; i++) s.delivered("q", ms[round * 100 + i]!.id);
    await writtenPast(s, b);
  }
  const after = s.stats();
  assert.equal(after.fsyncs, before.fsyncs, "no fdatasync for deliveries");
  // 1000 deliveries in ten DLV records: a few bytes each.
  const perDelivery = (after.bytesWritten - before.bytesWritten) / 1000;
  assert.ok(perDelivery < 6, `${perDelivery} bytes per delivery`);
  s.remove("q", ms[0]!);
  await synced(s);
  assert.ok(s.stats().fsyncs > after.fsyncs);
  await s.close();
  const r = await DiskStore.open(dir, quiet);
  assert.equal(r.recoveredDeliveries().get("q")?.size, 999);
  await r.close();
  fs.rmSync(dir, { recursive: true });
});

test("a delivered message stuck while traffic flows stays flagged, without pinning segments", async () => {
  const dir = tmpDir("dlv-steady");
  const s = await DiskStore.open(dir, small);
  const stuck = msg(-1, "stuck");
  const acked = msg(-2, "acked-later");
  s.enqueue("q", stuck);
  s.enqueue("q", acked);
  let maxFiles = 0;
  for (let round = 0; round < 60; round++) {
    // Delivered later, so the DLV records sit in a segment that dies long before the bodies'.
    if (round === 5) {
      s.delivered("q", stuck.id);
      s.delivered("q", acked.id);
    }
    const ms = Array.from({ length: 200 }, (_, i) => msg(round * 200 + i));
    for (const m of ms) s.enqueue("q", m);
    await synced(s);
    // Every message is delivered before its ack, as with a consumer.
    for (const m of ms) s.delivered("q", m.id);
    for (const m of ms) s.remove("q", m);
    if (round === 30) s.remove("q", acked);
    for (let i = 0; i < 5; i++) {
      await synced(s);
      await new Promise((r) => setTimeout(r, 10));
    }
    maxFiles = Math.max(maxFiles, listSegments(dir).length);
  }
  assert.ok(maxFiles <= 6, `${maxFiles} segment files at most`);
  assert.ok(s.stats().carried > 0, "DEL/DLV records were carried past the stuck segment");
  const crashed = crashCopy(dir, "dlv-steady-crash");
  await s.close();
  for (const d of [dir, crashed]) {
    const r = await DiskStore.open(d, small);
    assert.deepEqual(
      [...(r.recoverIds().get("q") ?? [])].map((id) => r.load(id).body.toString()),
      ["stuck"],
      "acked messages stay gone: a carried DLV resurrects nothing",
    );
    assert.deepEqual(
      flaggedBodies(r, "q", r.recoveredDeliveries()),
      ["stuck"],
      "the stuck message is still flagged",
    );
    await r.close();
    fs.rmSync(d, { recursive: true });
  }
});

test("a message enqueued again after its delivery and ack comes back unflagged", async () => {
  // A dead-letter cycle back into the same queue: same id, a new membership, not delivered.
  // (Within one commit the ENQ is written before the DLV and DEL of the old membership, so
  // there the new one comes back flagged: the message was delivered, only not this copy.)
  const dir = tmpDir("dlv-cycle");
  const s = await DiskStore.open(dir, quiet);
  const m = msg(1);
  s.enqueue("q", m);
  await synced(s);
  s.delivered("q", m.id);
  s.remove("q", m);
  await synced(s);
  s.enqueue("q", m);
  await synced(s);
  await s.close();
  const r = await DiskStore.open(dir, quiet);
  assert.equal(r.recoverIds().get("q")?.length, 1);
  assert.deepEqual(flaggedBodies(r, "q", r.recoveredDeliveries()), []);
  await r.close();
  fs.rmSync(dir, { recursive: true });
});
