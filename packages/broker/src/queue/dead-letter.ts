import {
  decodeRawProperties,
  encodeRawProperties,
  type FieldTable,
  type FieldValue,
  typed,
} from "@warren/protocol";
import { Message } from "../message.js";
import type { DeadLetterReason } from "./queue.js";

/**
 * Builds the message RabbitMQ would dead-letter: the same body, properties with the
 * per-message expiration removed, and the x-death history updated. x-death is an array,
 * most recent first, with one entry per (queue, reason):
 *
 *   { count: long, reason, queue, time: timestamp, exchange, routing-keys: [..],
 *     original-expiration? }
 *
 * plus x-first-death-{reason,queue,exchange} (set once) and x-last-death-* (always).
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
  const deaths = (Array.isArray(headers["x-death"]) ? headers["x-death"] : []) as FieldValue[];
  const i = deaths.findIndex((d) => isTable(d) && d.queue === queue && d.reason === reason);
  const now = Math.floor(Date.now() / 1000);
  let entry: FieldTable;
  if (i >= 0) {
    const old = deaths[i] as FieldTable;
    const count = Number((old.count as { value?: unknown })?.value ?? old.count ?? 0) + 1;
    entry = { ...old, count: typed.long(count), time: typed.timestamp(now) };
    deaths.splice(i, 1);
  } else {
    entry = {
      count: typed.long(1),
      reason,
      queue,
      time: typed.timestamp(now),
      exchange: msg.exchange,
      "routing-keys": [msg.routingKey],
    };
    if (props.expiration !== undefined) entry["original-expiration"] = props.expiration;
  }
  deaths.unshift(entry);
  headers["x-death"] = deaths;
  if (headers["x-first-death-reason"] === undefined) {
    headers["x-first-death-reason"] = reason;
    headers["x-first-death-queue"] = queue;
    headers["x-first-death-exchange"] = msg.exchange;
  }
  headers["x-last-death-reason"] = reason;
  headers["x-last-death-queue"] = queue;
  headers["x-last-death-exchange"] = msg.exchange;
  props.headers = headers;
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
    !("type" in v && "value" in v && Object.keys(v).length === 2)
  );
}

/**
 * True when dead-lettering msg into target would close a cycle with no rejection in it
 * (RabbitMQ drops such messages instead of looping them forever).
 */
export function isDeadLetterCycle(msg: Message, target: string): boolean {
  const props = decodeRawProperties(msg.rawProps);
  const deaths = props.headers?.["x-death"];
  if (!Array.isArray(deaths)) return false;
  let seen = false;
  for (const d of deaths) {
    if (!isTable(d)) continue;
    if (d.reason === "rejected") return false;
    if (d.queue === target) seen = true;
  }
  return seen;
}
