import { performance } from "node:perf_hooks";
import { collectGarbage } from "./collect-garbage.js";

/** Dropped buffers worth a collection of their own. */
const THRESHOLD = 32 << 20;
/** Quiet time after the last big release before collecting (a drain ends in one burst). */
const DELAY_MS = 1000;
/** The event loop counts as idle below this utilization; a busy one defers the collection. */
const IDLE_ELU = 0.5;
/** Deferrals before collecting anyway. */
const MAX_DEFERRALS = 10;

let released = 0;
let deferrals = 0;
let timer: NodeJS.Timeout | undefined;
let elu = performance.eventLoopUtilization();

/**
 * A queue's ring or the store's index dropped `bytes` of columns (a deep queue drained or was
 * deleted). Typed arrays are freed only when V8 collects their wrappers, and an idle broker may
 * not run a major collection for minutes: a drained 3M-message queue kept ~150 MB of dead
 * columns resident. Once 32 MiB are dropped, one full collection runs a second after the last
 * drop, when the event loop is mostly idle (deferred while busy, at most ten times), never on
 * the delivery path itself.
 */
export function releasedMemory(bytes: number): void {
  released += bytes;
  if (released < THRESHOLD) return;
  if (timer) timer.refresh();
  else {
    elu = performance.eventLoopUtilization();
    timer = setTimeout(collect, DELAY_MS);
    timer.unref();
  }
}

function collect(): void {
  const busy = performance.eventLoopUtilization(elu).utilization > IDLE_ELU;
  elu = performance.eventLoopUtilization();
  if (busy && ++deferrals <= MAX_DEFERRALS) {
    timer!.refresh();
    return;
  }
  timer = undefined;
  released = 0;
  deferrals = 0;
  collectGarbage();
}
