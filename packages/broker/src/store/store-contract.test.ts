import assert from "node:assert/strict";
import fs from "node:fs";
import { describe, test } from "node:test";
import type { Message } from "../message.js";
import { DiskStore } from "./disk-store.js";
import type { DurableStore } from "./durable-store.js";
import { MemoryStore } from "./memory-store.js";
import type { MessageStore } from "./message-store.js";
import { msg, PERSISTENT, synced, tmpDir } from "./testkit.js";

interface Harness {
  open(): Promise<MessageStore>;
  /** Closes and reopens the same store; undefined for stores that keep nothing. */
  reopen: ((s: MessageStore) => Promise<DurableStore>) | undefined;
  cleanup(): void;
}

const stores: Record<string, () => Harness> = {
  MemoryStore: () => ({
    open: async () => new MemoryStore(),
    reopen: undefined,
    cleanup: () => {},
  }),
  DiskStore: () => {
    const dir = tmpDir("contract");
    return {
      open: () => DiskStore.open(dir, { segmentSize: 8192 }),
      reopen: async (s) => {
        await s.close();
        return DiskStore.open(dir, { segmentSize: 8192 });
      },
      cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  },
};

function bodies(m: Map<string, Message[]>, q: string): string[] {
  return (m.get(q) ?? []).map((x) => x.body.toString());
}

for (const [name, make] of Object.entries(stores)) {
  describe(`MessageStore contract: ${name}`, () => {
    test("sync callbacks run once each, in call order, after the writes before them", async () => {
      const h = make();
      const s = await h.open();
      const order: number[] = [];
      const all: Promise<void>[] = [];
      for (let i = 0; i < 50; i++) {
        s.enqueue("q", msg(i));
        all.push(new Promise((resolve) => s.sync(() => (order.push(i), resolve()))));
      }
      await Promise.all(all);
      assert.deepEqual(
        order,
        Array.from({ length: 50 }, (_, i) => i),
      );
      await s.close();
      h.cleanup();
    });

    test("unknown queues and messages are ignored", async () => {
      const h = make();
      const s = await h.open();
      s.remove("nope", msg(1));
      s.dropQueue("nope");
      const m = msg(2);
      s.enqueue("q", m);
      s.remove("other", m);
      await synced(s);
      await s.close();
      h.cleanup();
    });

    test("persists ready messages in enqueue order", async (t) => {
      const h = make();
      if (!h.reopen) return t.skip("keeps nothing");
      const s = await h.open();
      const ms = Array.from({ length: 300 }, (_, i) => msg(i));
      for (const m of ms) s.enqueue("a", m);
      await synced(s);
      const r = await h.reopen(s);
      const got = r.recover();
      assert.deepEqual(
        bodies(got, "a"),
        ms.map((m) => m.body.toString()),
      );
      const first = got.get("a")![0]!;
      assert.equal(first.exchange, "ex");
      assert.equal(first.routingKey, "rk-0");
      assert.deepEqual(first.rawProps, PERSISTENT);
      assert.equal(first.persistent, true);
      await r.close();
      h.cleanup();
    });

    test("removed and dropped messages stay gone after a restart", async (t) => {
      const h = make();
      if (!h.reopen) return t.skip("keeps nothing");
      const s = await h.open();
      const ms = Array.from({ length: 100 }, (_, i) => msg(i));
      for (const m of ms) {
        s.enqueue("a", m);
        s.enqueue("gone", m);
      }
      for (let i = 0; i < 100; i += 2) s.remove("a", ms[i]!);
      s.dropQueue("gone");
      await synced(s);
      const r = await h.reopen(s);
      const got = r.recover();
      assert.deepEqual([...got.keys()], ["a"]);
      assert.deepEqual(
        bodies(got, "a"),
        ms.filter((_, i) => i % 2 === 1).map((m) => m.body.toString()),
      );
      await r.close();
      h.cleanup();
    });

    test("a fanout message is stored once and recovered as one object", async (t) => {
      const h = make();
      if (!h.reopen) return t.skip("keeps nothing");
      const s = await h.open();
      const m = msg(7);
      for (const q of ["x", "y", "z"]) s.enqueue(q, m);
      s.remove("y", m);
      await synced(s);
      const r = await h.reopen(s);
      const got = r.recover();
      assert.deepEqual([...got.keys()].sort(), ["x", "z"]);
      assert.equal(got.get("x")![0], got.get("z")![0]);
      assert.equal(got.get("x")![0]!.body.toString(), "body-7");
      await r.close();
      h.cleanup();
    });

    test("definitions survive a restart", async (t) => {
      const h = make();
      if (!h.reopen) return t.skip("keeps nothing");
      const s = (await h.open()) as DurableStore;
      assert.equal(s.loadDefinitions(), undefined);
      s.saveDefinitions('{"queues":[1]}');
      assert.equal(s.loadDefinitions(), '{"queues":[1]}');
      s.saveDefinitions('{"queues":[2]}');
      await synced(s);
      const r = await h.reopen(s);
      assert.equal(r.loadDefinitions(), '{"queues":[2]}');
      await r.close();
      h.cleanup();
    });
  });
}
