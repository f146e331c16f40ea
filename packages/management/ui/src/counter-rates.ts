/**
 * Rates of counters that the API reports without one (a connection's bytes, a channel's
 * messages): the difference between two polls over the time between them. Kept per object
 * name and counter across polls, and computed once per answer (answers are new objects, so a
 * WeakMap on the item remembers what was computed for it).
 */

interface Last {
  value: number;
  at: number;
}

const last = new Map<string, Last>();
const computed = new WeakMap<object, Map<string, number>>();

/** Forgets counters not seen for a while (closed connections), so the map stays small. */
function prune(now: number): void {
  if (last.size < 5000) return;
  for (const [k, v] of last) if (now - v.at > 60_000) last.delete(k);
}

/**
 * Per-second rate of item[field] since the previous answer that had the same object (by
 * `id`), or undefined on the first sighting. `at` is when the answer arrived.
 */
export function counterRate(
  item: object,
  id: string,
  field: string,
  value: number,
  at: number,
): number | undefined {
  let mine = computed.get(item);
  if (mine?.has(field)) return mine.get(field);
  if (!mine) computed.set(item, (mine = new Map()));
  const key = `${id}\u0000${field}`;
  const prev = last.get(key);
  last.set(key, { value, at });
  prune(at);
  const r = prev && at > prev.at ? Math.max(0, (value - prev.value) / ((at - prev.at) / 1000)) : undefined;
  if (r !== undefined) mine.set(field, r);
  return r;
}
