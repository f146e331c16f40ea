import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { PriorityList } from "./queue/priority-list.js";
import { Ring } from "./ring.js";

// A model-based check: any sequence of push/restore/shift agrees with a plain array, across
// growth (doubling and quarter steps), wrap-around and the shrink after draining. restore puts
// an entry before the first one (from the head) whose sequence is not below its own.
test("Ring behaves like an array deque under any operation sequence", () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constant(-1), fc.constant(-2), fc.integer({ min: 0, max: 3000 })), {
        maxLength: 400,
      }),
      (ops) => {
        const ring = new Ring<number>(4);
        const model: { v: number; exp: number; seq: number }[] = [];
        let n = 0;
        for (const op of ops) {
          if (op === -1) {
            const want = model.shift();
            const exp = ring.length > 0 ? ring.headExp : 0;
            const id = ring.length > 0 ? ring.headId : 0;
            const got = ring.shift();
            assert.equal(got, want?.v);
            if (want) {
              assert.equal(exp, want.exp);
              assert.equal(id, want.v * 2);
            }
          } else {
            // op >= 0 pushes op+1 entries (deep growth); -2 restores one, with a sequence
            // below the newest entries' (as a requeued message's is).
            const count = op === -2 ? 1 : (op % 97) + 1;
            for (let k = 0; k < count; k++) {
              const v = n++;
              const exp = v % 3 === 0 ? v + 0.5 : 0;
              if (op === -2) {
                const seq = v / 2;
                ring.restore(v, 1, seq, exp, v * 2);
                const at = model.findIndex((e) => e.seq >= seq);
                model.splice(at === -1 ? model.length : at, 0, { v, exp, seq });
              } else {
                ring.push(v, 0, v, exp, v * 2);
                model.push({ v, exp, seq: v });
              }
            }
          }
          assert.equal(ring.length, model.length);
        }
        while (model.length > 0) assert.equal(ring.shift(), model.shift()!.v);
        assert.equal(ring.shift(), undefined);
      },
    ),
    { numRuns: 200 },
  );
});

test("a deep ring survives quarter-step growth past a million entries in order", () => {
  const ring = new Ring<undefined>();
  const N = 1_500_000;
  for (let i = 0; i < N; i++) ring.push(undefined, 0, i, 0, i + 1);
  for (let i = 0; i < N; i++) {
    assert.equal(ring.headId, i + 1);
    ring.shift();
  }
  assert.equal(ring.length, 0);
});

test("PriorityList: highest priority first, FIFO within a priority, above max = max", () => {
  const l = new PriorityList<string>(3);
  l.push("a0", 0, 0, 1, 0, 1);
  l.push("b2", 2, 0, 2, 0, 2);
  l.push("c9", 9, 0, 3, 0, 3);
  l.push("d2", 2, 0, 4, 0, 4);
  l.restore("e0", 0, 0, 0, 0, 5);
  const out: string[] = [];
  while (l.length > 0) out.push(l.shift()!);
  assert.deepEqual(out, ["c9", "b2", "d2", "e0", "a0"]);
});

test("forEachTail visits the last n entries in push order, across wrap-around, and skips paged-out ones", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 200 }),
      fc.integer({ min: 0, max: 200 }),
      fc.nat(250),
      (pushes, shifts, n) => {
        const ring = new Ring<number>(4);
        const model: number[] = [];
        for (let i = 0; i < pushes; i++) {
          ring.push(i % 7 === 0 ? undefined : i, 0, i, 0, i);
          model.push(i);
          if (i % 3 === 0 && shifts-- > 0) {
            ring.shift();
            model.shift();
          }
        }
        const seen: number[] = [];
        ring.forEachTail(n, (x) => seen.push(x));
        const want = model.slice(Math.max(0, model.length - n)).filter((i) => i % 7 !== 0);
        assert.deepEqual(seen, want);
      },
    ),
  );
  const levels = new PriorityList<number>(3);
  for (let i = 0; i < 10; i++) levels.push(i, i % 4, 0, i, 0, i);
  const seen: number[] = [];
  levels.forEachTail(2, (x) => seen.push(x));
  assert.deepEqual(
    seen.sort((a, b) => a - b),
    [4, 5, 6, 7, 8, 9, 2, 3].sort((a, b) => a - b),
  );
});
