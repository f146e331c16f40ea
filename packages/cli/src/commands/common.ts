import type { FieldTable } from "@warren/client";
import { UsageError } from "./usage-error.js";

/** The broker URL when neither --url nor WARREN_URL / AMQP_URL is given. */
export const DEFAULT_URL = "amqp://guest:guest@localhost:5672";

/** --url, else $WARREN_URL, else $AMQP_URL, else the local default. */
export function resolveUrl(flag: string | undefined): string {
  return flag ?? process.env.WARREN_URL ?? process.env.AMQP_URL ?? DEFAULT_URL;
}

/** Parses repeated `--header key=value` flags into a headers table (values stay strings). */
export function parseHeaders(list: readonly string[] | undefined, usage: string): FieldTable {
  const headers: FieldTable = {};
  for (const kv of list ?? []) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new UsageError(`--header wants key=value, got ${JSON.stringify(kv)}`, usage);
    headers[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return headers;
}

/** Parses a positive integer flag. */
export function positiveInt(name: string, v: string | undefined, usage: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`--${name} wants a positive integer, got ${v}`, usage);
  return n;
}

/** Writes one message body as a line of output. */
export function printBody(body: Buffer): void {
  process.stdout.write(body);
  process.stdout.write("\n");
}
