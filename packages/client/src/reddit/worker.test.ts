import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setImmediate as turn } from "node:timers/promises";
import { Worker } from "./worker.js";

describe("reddit Worker (the seed's background thread, as an async queue)", () => {
  it("do() returns before the task runs; tasks run one at a time, in order; join() waits for all", async () => {
    const errors: Error[] = [];
    const w = new Worker((e) => errors.push(e));
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const task = async (name: string, ms: number) => {
      running++;
      most = Math.max(most, running);
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      running--;
    };
    w.do(task, "a", 30);
    w.do(task, "b", 1);
    w.do(() => log.push("sync c"));
    assert.deepEqual(log, [], "nothing runs inside do()");
    assert.equal(w.pending, 3);
    await w.join();
    assert.deepEqual(log, ["start a", "end a", "start b", "end b", "sync c"]);
    assert.equal(most, 1);
    assert.equal(w.pending, 0);
    assert.deepEqual(errors, []);
  });

  it("join() also waits for tasks that tasks add (queue.join semantics)", async () => {
    const w = new Worker(() => {});
    const log: number[] = [];
    w.do(() => {
      log.push(1);
      w.do(async () => {
        await turn();
        log.push(2);
      });
    });
    await w.join();
    assert.deepEqual(log, [1, 2]);
  });

  it("a failing task is reported and the worker goes on (the seed's thread would die and join() hang)", async () => {
    const errors: string[] = [];
    const w = new Worker((e) => errors.push(e.message));
    const log: string[] = [];
    w.do(() => {
      throw new Error("sync boom");
    });
    w.do(() => Promise.reject(new Error("async boom")));
    w.do(() => {
      throw "a string";
    });
    w.do(() => log.push("still running"));
    await w.join();
    assert.deepEqual(errors, ["sync boom", "async boom", "a string"]);
    assert.deepEqual(log, ["still running"]);
  });

  it("join() on an idle worker resolves at once, and the worker restarts for later tasks", async () => {
    const w = new Worker(() => {});
    await w.join();
    let n = 0;
    w.do(() => n++);
    await w.join();
    w.do(() => n++);
    await w.join();
    assert.equal(n, 2);
  });
});
