import { TypedValue } from "@warren/protocol";

const EMPTY = Object.freeze({});

/**
 * A field-table value (arguments, headers, client properties) as plain JSON, the way
 * RabbitMQ's API shows it: typed values unwrapped, 64-bit integers as numbers, byte strings
 * as text, nested tables and arrays converted recursively.
 */
export function jsonValue(v: unknown): unknown {
  if (v instanceof TypedValue) return jsonValue(v.value);
  if (typeof v === "bigint") return Number(v);
  if (Buffer.isBuffer(v)) return v.toString("utf8");
  if (v instanceof Date) return Math.floor(v.getTime() / 1000);
  if (Array.isArray(v)) return v.map(jsonValue);
  if (v !== null && typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length === 0) return EMPTY; // the common case: no arguments (shared, read-only)
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = jsonValue(x);
    return out;
  }
  return v;
}
