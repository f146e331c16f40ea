import assert from "node:assert/strict";
import { test } from "node:test";
import { releasedMemory } from "./released-memory.js";

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
