/**
 * A JSON value as Erlang's `~p` prints the term RabbitMQ decoded it to, for error texts that
 * quote what a client sent ("<<\"x\">> is not a valid overflow value"): strings are binaries,
 * objects are maps with their keys sorted, null is the atom null. Long terms are not wrapped
 * over lines as `~p` would.
 */
export function erlangTerm(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return `<<"${v.replace(/["\\]/g, "\\$&")}">>`;
  if (typeof v === "number") return erlangNumber(v);
  if (typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(erlangTerm).join(",")}]`;
  const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return `#{${entries.map(([k, x]) => `${erlangTerm(k)} => ${erlangTerm(x)}`).join(",")}}`;
}

/** A proplist of key/value pairs: [{<<"a">>,1},{<<"b">>,2}]. */
export function erlangPairs(pairs: readonly (readonly [string, unknown])[]): string {
  return `[${pairs.map(([k, x]) => `{${erlangTerm(k)},${erlangTerm(x)}}`).join(",")}]`;
}

/**
 * Integers as they are; other numbers as Erlang floats (1.5, 1.0e-7). JSON's 1000.0 reaches
 * us as the integer 1000: JavaScript cannot tell them apart.
 */
function erlangNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  const s = String(n);
  const e = s.indexOf("e");
  if (e < 0) return s;
  const mantissa = s.slice(0, e);
  return `${mantissa.includes(".") ? mantissa : `${mantissa}.0`}e${s.slice(e + 1).replace("+", "")}`;
}
