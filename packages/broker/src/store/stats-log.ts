import type { Logger } from "../logger.js";
import { lastCleanUp } from "../resources/released-memory.js";
import type { DurableStore } from "./durable-store.js";

/**
 * Opt-in (env WARREN_STORE_STATS=1) for measurements: every 5 s, one line ("store stats {...}")
 * with the store's counters over the interval (fsyncs/s, messages per group commit) and process
 * memory.
 * Returns the (unref'd) timer, for the broker to clear on stop.
 */
export function logStoreStats(store: DurableStore, log: Logger): NodeJS.Timeout {
  let prev = store.stats();
  let at = Date.now();
  const timer = setInterval(() => {
    const s = store.stats();
    const now = Date.now();
    const secs = (now - at) / 1000;
    const batches = s.batches - prev.batches;
    const mem = process.memoryUsage();
    const mb = (n: number) => Math.round(n / 1048576);
    const stats = {
      fsyncsPerSec: Math.round((s.fsyncs - prev.fsyncs) / secs),
      batchesPerSec: Math.round(batches / secs),
      publishedPerSec: Math.round((s.published - prev.published) / secs),
      removedPerSec: Math.round((s.removed - prev.removed) / secs),
      pubPerBatch: batches ? +((s.published - prev.published) / batches).toFixed(1) : 0,
      kbPerBatch: batches ? +((s.bytesWritten - prev.bytesWritten) / batches / 1024).toFixed(1) : 0,
      liveMessages: s.liveMessages,
      segments: s.segments,
      indexMB: mb(s.indexBytes),
      rssMB: mb(mem.rss),
      heapUsedMB: mb(mem.heapUsed),
      heapTotalMB: mb(mem.heapTotal),
      externalMB: mb(mem.external),
      arrayBuffersMB: mb(mem.arrayBuffers),
      cleanUps: lastCleanUp.count,
      lastCleanUpFreedMB: mb(lastCleanUp.rssBefore - lastCleanUp.rssAfter),
      lastCleanUpMs: Math.round(lastCleanUp.ms),
    };
    // The fields for JSON logs; the message keeps the JSON too, for plain-line logs.
    log.info(`store stats ${JSON.stringify(stats)}`, stats);
    prev = s;
    at = now;
  }, 5000);
  timer.unref();
  return timer;
}
