import {
  arrayItems,
  decodeRawValue,
  encodeRawArrayValue,
  encodeRawTable,
  encodeRawValue,
  type FieldTable,
  fieldInteger,
  headersRange,
  PropertyFlag,
  peekExpiration,
  type RawEntry,
  rawString,
  rawTableEntries,
  tableEntries,
  typed,
  withRawProperty,
} from "@warren/protocol";
import { Message } from "../message.js";
import type { DeadLetterReason } from "./queue.js";

/**
 * Builds the message RabbitMQ (3.10, rabbit_dead_letter:make_msg) would dead-letter: the same
 * body, properties with the per-message expiration removed, and the x-death history updated.
 * x-death is an array, most recent first, with one entry per (queue, reason):
 *
 *   { count: long, reason, queue, time: timestamp, exchange, routing-keys: [..],
 *     original-expiration? }
 *
 * A repeat death for the same (queue, reason) moves that entry to the front with its count
 * incremented and its other fields as they were. Entries written while an x-death already
 * existed have their keys sorted, as RabbitMQ stores them. x-first-death-{reason,queue,exchange}
 * are set with the first x-death; 3.10 writes no x-last-death-* headers. The headers table
 * comes out sorted by key.
 *
 * It works on the raw header bytes (see raw-table.ts): only the top level and x-death's own
 * entries are read; every other header is copied as its bytes. It runs in timers and in other
 * clients' requests, so it must not fail on whatever a publisher put in its headers, and it
 * cannot: the properties were validated at publish.
 */
export function deadLetterMessage(
  msg: Message,
  queue: string,
  reason: DeadLetterReason,
  dlx: string,
  dlrk: string | undefined,
): Message {
  const raw = msg.rawProps;
  const headers = headerMap(raw);
  const expiration = peekExpiration(raw);
  const info: FieldTable = {
    count: typed.long(1),
    reason,
    queue,
    time: typed.timestamp(Math.floor(Date.now() / 1000)),
    exchange: msg.exchange,
    "routing-keys": [msg.routingKey],
  };
  if (expiration !== undefined) info["original-expiration"] = expiration;
  const old = headers.get("x-death");
  if (old === undefined) {
    headers.set("x-first-death-reason", encodeRawValue(reason));
    headers.set("x-first-death-queue", encodeRawValue(queue));
    headers.set("x-first-death-exchange", encodeRawValue(msg.exchange));
    headers.set("x-death", encodeRawValue([info]));
  } else {
    const items = arrayItems(old);
    if (items.length === 0 && old[0] !== 0x41) {
      headers.set("x-death", encodeRawValue([info])); // not an array: RabbitMQ resets it
    } else {
      const others: Buffer[] = [];
      let updated: Buffer | undefined;
      for (const item of items) {
        const d = updated === undefined ? rawTableEntries(item) : undefined;
        if (d && stringOf(d, "queue") === queue && stringOf(d, "reason") === reason) {
          const count = fieldInteger(decodeRawValue(valueOf(d, "count") ?? NO_VALUE) ?? null) ?? 0;
          const fields = new Map(d.map((e) => [e.key, e.value]));
          fields.set("count", encodeRawValue(typed.long(count + 1)));
          updated = Buffer.concat([TABLE_TYPE, encodeRawTable(sorted(fields))]);
        } else others.push(item);
      }
      updated ??= encodeRawValue(sortKeys(info));
      headers.set("x-death", encodeRawArrayValue([updated, ...others]));
    }
  }
  // rabbit_misc:set_table_value keeps the whole headers table sorted by key.
  let props = withRawProperty(raw, PropertyFlag.headers, encodeRawTable(sorted(headers)));
  if (expiration !== undefined) props = withRawProperty(props, PropertyFlag.expiration, undefined);
  return new Message(dlx, dlrk ?? msg.routingKey, props, msg.body);
}

const TABLE_TYPE = Buffer.from("F");
const NO_VALUE = Buffer.from("V");

/** The top-level headers, values raw; a later duplicate key wins, as when decoding. */
function headerMap(raw: Buffer): Map<string, Buffer> {
  const range = headersRange(raw);
  const m = new Map<string, Buffer>();
  if (range) for (const e of tableEntries(raw, range[0], range[1])) m.set(e.key, e.value);
  return m;
}

function valueOf(entries: readonly RawEntry[], key: string): Buffer | undefined {
  let v: Buffer | undefined;
  for (const e of entries) if (e.key === key) v = e.value;
  return v;
}

function stringOf(entries: readonly RawEntry[], key: string): string | undefined {
  const v = valueOf(entries, key);
  return v === undefined ? undefined : rawString(v);
}

const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Entries in key byte order (rabbit_misc:sort_field_table). */
function sorted(m: Map<string, Buffer>): RawEntry[] {
  return [...m.keys()].sort(byKey).map((key) => ({ key, value: m.get(key)! }));
}

function sortKeys(t: FieldTable): FieldTable {
  return Object.fromEntries(Object.entries(t).sort(([a], [b]) => byKey(a, b)));
}

/**
 * True when dead-lettering msg (its x-death already updated) into target would close a cycle
 * with no rejection in it: every death from the most recent back to target's own entry was
 * for another reason. RabbitMQ drops such messages instead of looping them forever.
 */
export function isDeadLetterCycle(msg: Message, target: string): boolean {
  const deaths = headerMap(msg.rawProps).get("x-death");
  if (deaths === undefined) return false;
  for (const item of arrayItems(deaths)) {
    const d = rawTableEntries(item);
    if (!d || stringOf(d, "reason") === "rejected") return false;
    if (stringOf(d, "queue") === target) return true;
  }
  return false;
}
