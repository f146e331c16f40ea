import assert from "node:assert/strict";
import { test } from "node:test";
import { performance } from "node:perf_hooks";
import { trimMalloc } from "./malloc-trim.js";
import { lastCleanUp, releasedMemory, residentSample } from "./released-memory.js";

/** Waits until `lastCleanUp.count` passes `count`, at most `ms`. */
async function cleanUpAfter(count: number, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms && lastCleanUp.count <= count; waited += 50)
    await new Promise((r) => setTimeout(r, 50));
  return lastCleanUp.count > count;
}

// The growth tests come first: a clean-up that gives back little doubles the growth the next
// one needs, and every test in this file shares the module's state.
test("a resident set grown 32 MiB is cleaned up once the loop is quiet, and trimmed", async () => {
  const count = lastCleanUp.count;
  const rss = process.memoryUsage.rss();
  residentSample(rss);
  residentSample(rss + (16 << 20));
  assert.equal(await cleanUpAfter(count, 1500), false, "16 MiB of growth is not enough");
  residentSample(rss + (48 << 20));
  assert.equal(await cleanUpAfter(count, 3000), true, "cleaned up within 3 s");
  // Debian's Node runs on glibc and koffi ships a prebuilt binary for linux-x64: the trim must
  // really have run here, or RSS after a drain stays 80-160 MB high.
  assert.equal(lastCleanUp.trimmed, process.platform === "linux");
  assert.ok(lastCleanUp.rssAfter > 0 && lastCleanUp.ms > 0);
});

test("growth alone waits while the loop is busy", async () => {
  await cleanUpAfter(lastCleanUp.count, 2500);
  const count = lastCleanUp.count;
  residentSample(process.memoryUsage.rss() + (1 << 30) + (64 << 20)); // past any doubled growth
  // Keep the loop ~90 % busy for 2.5 s: 9 ms of work in every 10.
  const until = performance.now() + 2500;
  while (performance.now() < until) {
    const slice = performance.now() + 9;
    while (performance.now() < slice);
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.equal(lastCleanUp.count, count, "no clean-up while busy");
  assert.equal(await cleanUpAfter(count, 3000), true, "cleaned up once quiet");
});

test("trimMalloc calls glibc's malloc_trim through koffi on Linux", () => {
  assert.equal(trimMalloc(), process.platform === "linux");
});

test("dropping 32 MiB of columns brings a full collection a second later", async () => {
  let collected = false;
  const registry = new FinalizationRegistry(() => {
    collected = true;
  });
  // An object nobody references; an idle process runs no collection by itself (checked: it is
  // still uncollected 3 s later without the releasedMemory calls).
  (() => {
    const garbage = { payload: new Array(1000).fill(1) };
    registry.register(garbage, "garbage");
  })();
  releasedMemory(16 << 20);
  releasedMemory(16 << 20);
  for (let i = 0; i < 60 && !collected; i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(collected, "the dropped object was collected within 3 s");
});

test("small drops schedule nothing", async () => {
  let collected = false;
  const registry = new FinalizationRegistry(() => {
    collected = true;
  });
  (() => {
    registry.register({ payload: new Array(1000).fill(1) }, "garbage");
  })();
  releasedMemory(1 << 20);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(collected, false);
});
