import type { BasicProperties, FieldTable } from "@warren/protocol";
import { HttpError } from "./http-error.js";
import { jsonValue } from "./json-value.js";

/** JSON (snake_case, as RabbitMQ's API names them) ↔ AMQP basic properties. */
const NAMES: [keyof BasicProperties, string][] = [
  ["contentType", "content_type"],
  ["contentEncoding", "content_encoding"],
  ["headers", "headers"],
  ["deliveryMode", "delivery_mode"],
  ["priority", "priority"],
  ["correlationId", "correlation_id"],
  ["replyTo", "reply_to"],
  ["expiration", "expiration"],
  ["messageId", "message_id"],
  ["timestamp", "timestamp"],
  ["type", "type"],
  ["userId", "user_id"],
  ["appId", "app_id"],
  ["clusterId", "cluster_id"],
];

const NUMERIC = new Set<keyof BasicProperties>(["deliveryMode", "priority", "timestamp"]);

/** Properties from a publish request; 400 for an unknown property or a wrong type. */
export function propertiesFromJson(json: unknown): BasicProperties {
  if (json === undefined || json === null) return {};
  if (typeof json !== "object" || Array.isArray(json))
    throw HttpError.badRequest("properties must be an object");
  const byJson = new Map(NAMES.map(([k, j]) => [j, k]));
  const out: Record<string, unknown> = {};
  for (const [j, v] of Object.entries(json)) {
    const k = byJson.get(j);
    if (!k) throw HttpError.badRequest(`invalid property: ${j}`);
    if (k === "headers") {
      if (v === null || typeof v !== "object" || Array.isArray(v))
        throw HttpError.badRequest("headers must be an object");
      out[k] = v as FieldTable;
    } else if (NUMERIC.has(k)) {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw HttpError.badRequest(`invalid ${j}: ${String(v)}`);
      out[k] = n;
    } else out[k] = String(v);
  }
  return out as BasicProperties;
}

/** Properties of a message for /get, with only the properties it has. */
export function propertiesToJson(p: BasicProperties): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // Sorted by name, as RabbitMQ's (Erlang map) output is.
  for (const [k, j] of [...NAMES].sort((a, b) => (a[1] < b[1] ? -1 : 1))) {
    const v = p[k];
    if (v !== undefined) out[j] = k === "headers" ? jsonValue(v) : typeof v === "bigint" ? Number(v) : v;
  }
  return out;
}
