import type { Logger } from "../logger.js";
import type { VHost } from "../vhost.js";
import type { DurableStore } from "./durable-store.js";

/**
 * Puts every durable queue's recovered messages back, in order, drops the records of queues
 * that are gone, and logs the start-up report ("recovered N messages in Q durable queues from S
 * segments in X ms"; interop/durability.test.mjs and bench/backlog.mjs read it).
 */
export function recoverMessages(
  vhosts: ReadonlyMap<string, VHost>,
  store: DurableStore,
  t0: number,
  log: Logger,
): void {
  let messages = 0;
  const delivered = store.recoveredDeliveries();
  const gone = new Set<string>();
  // Runs straight from the store's index: no copy of a deep queue's ids.
  store.forEachRecoveredRun((key, ids) => {
    const sep = key.indexOf("\u0000");
    const q = vhosts.get(key.slice(0, sep))?.queues.get(key.slice(sep + 1));
    if (!q?.durable) {
      gone.add(key);
      return;
    }
    q.restoreIds(ids, delivered.get(key));
    for (let i = 0; i < ids.length; i++) if (ids[i]! > 0) messages++;
  });
  for (const key of gone) store.dropQueue(key);
  let queues = 0;
  for (const vh of vhosts.values()) for (const q of vh.queues.values()) if (q.durable) queues++;
  const r = store.recovery;
  const ms = Date.now() - t0;
  const damaged =
    r.skippedBytes > 0
      ? `; skipped ${r.skippedBytes} bytes of damaged records (${r.truncatedBytes} torn at the tail)`
      : "";
  // Damaged records are worth an operator's look: a warning, not an info line.
  log[r.skippedBytes > 0 ? "warn" : "info"](
    `recovered ${messages} messages in ${queues} durable queues from ${r.segments} segments in ${ms} ms${damaged}`,
    {
      messages,
      queues,
      segments: r.segments,
      ms,
      ...(r.skippedBytes > 0 ? { skipped_bytes: r.skippedBytes, torn_bytes: r.truncatedBytes } : {}),
    },
  );
}
