import {
  decodeRawProperties,
  encodeRawProperties,
  type FieldTable,
  type FieldValue,
  fieldInteger,
  TypedValue,
  typed,
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
 */
export function deadLetterMessage(
  msg: Message,
  queue: string,
  reason: DeadLetterReason,
  dlx: string,
  dlrk: string | undefined,
): Message {
  const props = decodeRawProperties(msg.rawProps);
  const headers: FieldTable = { ...(props.headers ?? {}) };
  const info: FieldTable = {
    count: typed.long(1),
    reason,
    queue,
    time: typed.timestamp(Math.floor(Date.now() / 1000)),
    exchange: msg.exchange,
    "routing-keys": [msg.routingKey],
  };
  if (props.expiration !== undefined) info["original-expiration"] = props.expiration;
  const old = headers["x-death"];
  if (old === undefined) {
    headers["x-first-death-reason"] = reason;
    headers["x-first-death-queue"] = queue;
    headers["x-first-death-exchange"] = msg.exchange;
    headers["x-death"] = [info];
  } else if (Array.isArray(old)) {
    const others: FieldValue[] = [];
    let entry: FieldTable | undefined;
    for (const d of old) {
      if (entry === undefined && isTable(d) && d.queue === queue && d.reason === reason) entry = d;
      else others.push(d);
    }
    const updated = entry ? { ...entry, count: typed.long((fieldInteger(entry.count) ?? 0) + 1) } : info;
    headers["x-death"] = [sortKeys(updated), ...others];
  } else {
    headers["x-death"] = [info]; // not an array: RabbitMQ resets it
  }
  // rabbit_misc:set_table_value keeps the whole headers table sorted by key.
  props.headers = sortKeys(headers);
  delete props.expiration;
  return new Message(dlx, dlrk ?? msg.routingKey, encodeRawProperties(props), msg.body);
}

function isTable(v: FieldValue): v is FieldTable {
  return (
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    !Buffer.isBuffer(v) &&
    !(v instanceof Date) &&
    !(v instanceof TypedValue)
  );
}

/** A table with its keys in byte order (rabbit_misc:sort_field_table). */
function sortKeys(t: FieldTable): FieldTable {
  return Object.fromEntries(Object.entries(t).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * True when dead-lettering msg (its x-death already updated) into target would close a cycle
 * with no rejection in it: every death from the most recent back to target's own entry was
 * for another reason. RabbitMQ drops such messages instead of looping them forever.
 */
export function isDeadLetterCycle(msg: Message, target: string): boolean {
  const props = decodeRawProperties(msg.rawProps);
  const deaths = props.headers?.["x-death"];
  if (!Array.isArray(deaths)) return false;
  for (const d of deaths) {
    if (!isTable(d) || d.reason === "rejected") return false;
    if (d.queue === target) return true;
  }
  return false;
}
