#!/usr/bin/env node
// Queue data-structure benchmark: enqueue and drain rates of a Queue at different depths,
// plain, with TTLs, and with 10 priority levels, so that "TTL and limits cost nothing to
// queues that do not use them" and "a 1M-message priority queue still delivers in O(1)"
// are measured rather than claimed. Runs the broker's Queue class in-process with a
// consumer that takes every message (no network), so the figures are queue costs only.
//
//   npx tsc -b packages/broker && node bench/queue-bench.mjs [--depth 1000000]
import { parseArgs } from "node:util";
// Queue and Consumer are internals, not part of the package's public API: import them by path.
import { MemoryStore, Message } from "../packages/broker/dist/index.js";
import { Consumer } from "../packages/broker/dist/queue/consumer.js";
import { Queue } from "../packages/broker/dist/queue/queue.js";
import { parseQueueArgs } from "../packages/broker/dist/queue/queue-args.js";
import { encodeRawProperties } from "../packages/protocol/dist/index.js";

const { values } = parseArgs({ options: { depth: { type: "string", default: "1000000" } } });
const DEPTH = Number(values.depth);
const store = new MemoryStore();
const hooks = { remove() {}, deadLetter() {} };
const body = Buffer.alloc(16);

function makeQueue(args) {
  return new Queue(
    "bench",
    "/",
    false,
    undefined,
    false,
    args,
    parseQueueArgs("bench", "/", args, false, false, false),
    store,
    hooks,
  );
}

/** A consumer owner that accepts everything and settles at once (no-ack). */
function drainer() {
  let delivered = 0;
  let lastPriority = 255;
  let ordered = true;
  const owner = {
    canDeliver: () => true,
    deliver(_c, q, msg) {
      delivered++;
      if (msg.priority > lastPriority) ordered = false;
      lastPriority = msg.priority;
      q.settle(msg);
    },
    cancelledByServer() {},
  };
  return { owner, stats: () => ({ delivered, ordered }) };
}

let quiet = false;

function run(name, args, propsFor) {
  const q = makeQueue(args);
  const msgs = new Array(DEPTH);
  for (let i = 0; i < DEPTH; i++) msgs[i] = new Message("", "bench", propsFor(i), body);
  const t0 = performance.now();
  for (let i = 0; i < DEPTH; i++) q.enqueue(msgs[i]);
  const t1 = performance.now();
  const d = drainer();
  q.addConsumer(new Consumer("c", d.owner, q, true, false, 0, {}, 0));
  const t2 = performance.now();
  const { delivered, ordered } = d.stats();
  const enq = DEPTH / ((t1 - t0) / 1000);
  const drain = delivered / ((t2 - t1) / 1000);
  if (quiet) return;
  console.log(
    `${name.padEnd(31)} depth ${DEPTH.toLocaleString()}: enqueue ${Math.round(enq).toLocaleString()}/s, drain ${Math.round(drain).toLocaleString()}/s${propsFor === prio ? `, priority order ${ordered ? "ok" : "BROKEN"}` : ""}`,
  );
}

const plainProps = encodeRawProperties({});
const plain = () => plainProps;
const prioProps = Array.from({ length: 10 }, (_, p) => encodeRawProperties({ priority: p }));
const prio = (i) => prioProps[(i * 7919) % 10];
const expProps = encodeRawProperties({ expiration: "600000" });
const exp = () => expProps;

console.log(`node ${process.version}, ${DEPTH.toLocaleString()} messages of 16 B per run`);
quiet = true;
for (const [a, p] of [
  [{}, plain],
  [{ "x-message-ttl": 600000 }, plain],
  [{}, exp],
  [{ "x-max-priority": 10 }, prio],
])
  run("", a, p);
quiet = false;
run("plain FIFO", {}, plain);
run("queue TTL (x-message-ttl)", { "x-message-ttl": 600000 }, plain);
run("per-message expiration", {}, exp);
run("max-length (not reached)", { "x-max-length": DEPTH * 2 }, plain);
run("10 priorities (x-max-priority)", { "x-max-priority": 10 }, prio);
run("255 priorities", { "x-max-priority": 255 }, prio);
