// A deep durable queue gives its memory back once drained: the store's index, the queue's
// ready list and its byte and unacked counters all return to what an empty queue holds.
// (RSS after a drain is measured by bench/backlog.mjs; see docs/storage.md.)
import assert from "node:assert/strict";
import fs from "node:fs";
import type { FieldTable } from "@warren/protocol";
import { test } from "node:test";
import { DiskStore } from "../store/disk-store.js";
import { tmpDir } from "../store/testkit.js";
import { OWNER, publish, Recorder } from "../vhost-testkit.js";
import { VHost } from "../vhost.js";

const N = 150_000; // past the queue's paging threshold and its window (into the tail files)
const BODY = "x".repeat(64);

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

for (const kind of ["plain", "priority"] as const) {
  test(`a deep durable ${kind} queue filled and drained returns its accounting to empty`, async () => {
    await fillAndDrain(kind === "priority" ? { "x-max-priority": 5 } : {});
  });
}

async function fillAndDrain(args: FieldTable): Promise<void> {
  const dir = tmpDir("drain-memory");
  const store = await DiskStore.open(dir, { onWarning: () => {} });
  // A priority queue's messages cycle over its levels (and one above its maximum).
  const priority = args["x-max-priority"] === undefined ? () => undefined : (i: number) => i % 7;
  try {
    const v = new VHost("/", store);
    const q = v.declareQueue("deep", { durable: true, args }, OWNER);
    // One message in and out, so the store knows the queue: an empty queue's index is the baseline.
    publish(v, "", "deep", BODY, { deliveryMode: 2 });
    q.ack(q.get(false)!);
    await new Promise<void>((r, j) => store.sync((e) => (e ? j(e) : r())));
    const empty = store.stats();
    assert.equal(empty.liveMessages, 0);

    for (let round = 1; round <= 2; round++) {
      for (let i = 0; i < N; i++) publish(v, "", "deep", BODY, { deliveryMode: 2, priority: priority(i) });
      await new Promise<void>((r, j) => store.sync((e) => (e ? j(e) : r())));
      const full = store.stats();
      assert.equal(full.liveMessages, N);
      assert.equal(q.messageCount, N);
      assert.equal(q.readyBytes, N * BODY.length);
      // The ready list's memory is its window; the rest of the N entries wait in tail files.
      assert.equal(q.ready.length, N);
      assert.ok(
        q.ready.bytes > 0 && q.ready.bytes < N * 8,
        `ring holds ${q.ready.bytes} bytes for ${N} entries`,
      );
      assert.ok(q.ready.tailLength > N - 40_000, `${q.ready.tailLength} entries in tail files`);
      assert.ok(full.indexBytes - empty.indexBytes >= N * 4, `store index ${full.indexBytes} bytes`);

      // A consumer with a prefetch window that acks everything it gets, as a client would.
      const r = new Recorder();
      r.consume(q, { prefetch: 1000 });
      let taken = 0;
      while (r.got.length > 0) {
        const batch = r.got.splice(0);
        taken += batch.length;
        for (const d of batch) q.ack(d);
        q.drain();
        if (taken % 10_000 < 1000) await turn(); // let commits run, as the event loop would
      }
      assert.equal(taken, N);
      await new Promise<void>((res, j) => store.sync((e) => (e ? j(e) : res())));
      await new Promise<void>((res, j) => store.sync((e) => (e ? j(e) : res())));

      const drained = store.stats();
      assert.equal(drained.liveMessages, 0, `round ${round}: store holds nothing`);
      // Per segment the index counts a fixed 200 bytes; everything else is back to (at most)
      // an empty queue's: the first chunk, reset, may be narrower than it was.
      const left = drained.indexBytes - drained.segments * 200;
      assert.ok(
        left <= empty.indexBytes - empty.segments * 200 && left <= 256,
        `round ${round}: store index back to an empty queue's (${left} bytes)`,
      );
      assert.equal(drained.removed, 1 + N * round);
      assert.equal(q.messageCount, 0);
      assert.equal(q.readyBytes, 0, `round ${round}: readyBytes`);
      assert.equal(q.unacked, 0, `round ${round}: unacked`);
      // The drained queue gave its window back (queue/paged-list.ts: 16Ki entries, ~0.45 MB).
      assert.equal(q.ready.bytes, 0, `round ${round}: the ready list holds no columns`);
      assert.equal(q.ready.tailLength, 0);
      for (const c of q.consumers) q.removeConsumer(c);
    }
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
