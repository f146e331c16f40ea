import { performance } from "node:perf_hooks";
import { collectGarbage, releaseHeap } from "./collect-garbage.js";
import { trimMalloc } from "./malloc-trim.js";

/** Dropped buffers, or growth of the resident set, worth a clean-up of their own. */
const THRESHOLD = 32 << 20;
/** The growth threshold doubles, up to this, while clean-ups give back little. */
const MAX_GROWTH = 1 << 30;
/** Quiet time after the last big release before cleaning up (a drain ends in one burst). */
const DELAY_MS = 1000;
/** The event loop counts as idle below this utilization; a busy one defers the clean-up. */
const IDLE_ELU = 0.5;
/**
 * Growth alone waits for a loop this idle: the burst is over, not only slowed down (a broker
 * publishing 50k msg/s to disk on a loaded machine spends half its time waiting for fsync), and
 * light steady traffic (1k msg/s is 2-5 %) does not meet a low-memory collection's pause.
 */
const QUIET_ELU = 0.02;
/** Deferrals before cleaning up anyway, for released memory (growth alone waits for idle). */
const MAX_DEFERRALS = 10;

let released = 0;
let deferrals = 0;
let timer: NodeJS.Timeout | undefined;
let elu = performance.eventLoopUtilization();
/**
 * The resident set after the last clean-up, lowered when it shrinks by itself; at first, the
 * one at start-up, so that what recovery leaves behind counts as growth (the memory monitor's
 * first sample comes after recovery).
 */
let settled = process.memoryUsage.rss();
/** How far the resident set may grow past `settled` before a clean-up is due. */
let growth = THRESHOLD;
/** The clean-up was asked for by growth alone: never forced on a busy loop. */
let growthOnly = false;
/** A low-memory collection is under way (its reply comes on a later turn). */
let running = false;

/** What the last clean-up did, for the store-stats log and tests. */
export const lastCleanUp = { count: 0, rssBefore: 0, rssAfter: 0, ms: 0, trimmed: false };

/**
 * A queue's ring or the store's index dropped `bytes` of columns (a deep queue drained or was
 * deleted). Typed arrays are freed only when V8 collects their wrappers, and an idle broker may
 * not run a major collection for minutes: a drained 3M-message queue kept ~150 MB of dead
 * columns resident. Once 32 MiB are dropped, a clean-up (below) runs a second after the last
 * drop, when the event loop is mostly idle (deferred while busy, at most ten times), never on
 * the delivery path itself.
 */
export function releasedMemory(bytes: number): void {
  released += bytes;
  if (released < THRESHOLD) return;
  growthOnly = false;
  schedule();
}

/**
 * One reading of the resident set (the memory monitor's, every 100 ms). A burst of traffic
 * grows it with buffers that are garbage once the burst ends: publishing 3M × 1 KiB messages
 * left 60 MB more resident than the queue needed, and draining them 50 MB more again. When it
 * has grown 32 MiB past what the last clean-up left, a clean-up runs once the loop is idle for a
 * second. A clean-up that gives back little doubles the growth needed for the next one, so a
 * broker whose working set is simply bigger is not collected over and over.
 */
export function residentSample(rss: number): void {
  if (rss < settled) settled = rss;
  if (rss - settled < growth || timer) return;
  growthOnly = true;
  schedule();
}

function schedule(): void {
  if (timer) timer.refresh();
  else {
    elu = performance.eventLoopUtilization();
    timer = setTimeout(cleanUp, DELAY_MS);
    timer.unref();
  }
}

/**
 * A full collection, so that dead buffers and columns are freed, then `malloc_trim`, so that
 * glibc gives their pages back to the kernel instead of keeping them for later. On a quiet loop
 * the collection is V8's low-memory one, which also returns the heap's empty pages (~100-200 ms
 * on a loaded 2-core machine); one forced while busy is a plain full GC, a few ms.
 */
function cleanUp(): void {
  const utilization = performance.eventLoopUtilization(elu).utilization;
  elu = performance.eventLoopUtilization();
  const quiet = utilization <= QUIET_ELU;
  if (running || (growthOnly ? !quiet : utilization > IDLE_ELU && ++deferrals <= MAX_DEFERRALS)) {
    timer!.refresh();
    return;
  }
  timer = undefined;
  released = 0;
  deferrals = 0;
  running = true;
  const t0 = performance.now();
  const before = process.memoryUsage.rss();
  const finish = () => {
    running = false;
    const trimmed = trimMalloc();
    const after = process.memoryUsage.rss();
    Object.assign(lastCleanUp, {
      count: lastCleanUp.count + 1,
      rssBefore: before,
      rssAfter: after,
      ms: performance.now() - t0,
      trimmed,
    });
    settled = after;
    growth = before - after < THRESHOLD / 2 ? Math.min(2 * growth, MAX_GROWTH) : THRESHOLD;
  };
  if (quiet) releaseHeap(finish);
  else {
    collectGarbage();
    finish();
  }
}
