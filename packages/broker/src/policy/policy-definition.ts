import type { Overflow } from "../queue/queue-args.js";
import { erlangPairs, erlangTerm } from "./erlang-term.js";

/*
 * What a policy may say, as RabbitMQ 3.10.8 validates it: the keys its validators recognise,
 * their refusals (texts as RabbitMQ's), and which keys make a policy inapplicable to a queue
 * type. Warren acts on the keys in PolicySettings and accepts the others (queue-mode, ha-*,
 * stream and locator keys) without effect, as a single RabbitMQ node mostly does, so that
 * definitions exported from RabbitMQ load.
 */

/** What a policy applies to. 3.10 has no classic_queues / quorum_queues (3.12 does). */
export type ApplyTo = "queues" | "exchanges" | "all";

/** The keys Warren acts on, parsed. */
export interface PolicySettings {
  messageTtl: number | undefined;
  expires: number | undefined;
  maxLength: number | undefined;
  maxLengthBytes: number | undefined;
  overflow: Overflow | undefined;
  deadLetterExchange: string | undefined;
  deadLetterRoutingKey: string | undefined;
  alternateExchange: string | undefined;
  deliveryLimit: number | undefined;
}

/** A refused policy: reason is RabbitMQ's text ("Validation failed\n\n... \n"). */
export class PolicyError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "PolicyError";
  }
}

type Check = (v: unknown) => boolean;
const integer =
  (min: number): Check =>
  (v) =>
    typeof v === "number" && Number.isInteger(v) && v >= min;
const oneOf =
  (...allowed: string[]): Check =>
  (v) =>
    typeof v === "string" && allowed.includes(v);
const binary: Check = (v) => typeof v === "string";

/** rabbit_policies' keys: the check and what follows the value in the refusal. */
const CORE: Record<string, [Check, string]> = {
  "alternate-exchange": [binary, "is not a valid alternate exchange name"],
  "dead-letter-exchange": [binary, "is not a valid dead letter exchange name"],
  "dead-letter-routing-key": [binary, "is not a valid dead letter routing key"],
  "dead-letter-strategy": [oneOf("at-most-once", "at-least-once"), "is not a valid dead letter strategy"],
  "message-ttl": [integer(0), "is not a valid message TTL"],
  expires: [integer(1), "is not a valid queue expiry"],
  "max-length": [integer(0), "is not a valid maximum length"],
  "max-length-bytes": [integer(0), "is not a valid maximum length in bytes"],
  // Both "memory in bytes", as RabbitMQ words them.
  "max-in-memory-length": [integer(0), "is not a valid maximum memory in bytes"],
  "max-in-memory-bytes": [integer(0), "is not a valid maximum memory in bytes"],
  "queue-mode": [oneOf("default", "lazy"), "is not a valid queue-mode value"],
  "queue-version": [(v) => v === 1 || v === 2, "is not a valid queue-version value"],
  overflow: [oneOf("drop-head", "reject-publish", "reject-publish-dlx"), "is not a valid overflow value"],
  "delivery-limit": [integer(0), "is not a valid delivery limit"],
  "max-age": [(v) => typeof v === "string" && /^\d+[YMDhms]$/.test(v), "is not a valid max age"],
  "stream-max-segment-size-bytes": [integer(0), "is not a valid segment size"],
  "queue-leader-locator": [
    oneOf("client-local", "random", "least-leaders", "balanced"),
    "is not a valid queue leader locator value",
  ],
  "initial-cluster-size": [integer(0), "is not a valid cluster size"],
};

const HA_KEYS = [
  "ha-mode",
  "ha-params",
  "ha-sync-mode",
  "ha-sync-batch-size",
  "ha-promote-on-shutdown",
  "ha-promote-on-failure",
];

/** Operator policies take only these (the lower of policy and operator policy wins). */
const OPERATOR_KEYS = new Set([
  "expires",
  "message-ttl",
  "max-length",
  "max-length-bytes",
  "max-in-memory-length",
  "max-in-memory-bytes",
  "delivery-limit",
]);

/** Keys that keep a policy off classic queues, and off quorum queues (RabbitMQ 3.10.8). */
const NOT_CLASSIC = new Set([
  "max-age",
  "stream-max-segment-size-bytes",
  "initial-cluster-size",
  "delivery-limit",
  "queue-leader-locator",
  "dead-letter-strategy",
]);
const NOT_QUORUM = new Set([
  "queue-mode",
  "queue-master-locator",
  "max-age",
  "stream-max-segment-size-bytes",
  "initial-cluster-size",
  ...HA_KEYS,
]);

/** Whether a policy with this definition applies to queues of this type. */
export function appliesToQueueType(definition: Record<string, unknown>, type: "classic" | "quorum"): boolean {
  const refused = type === "classic" ? NOT_CLASSIC : NOT_QUORUM;
  for (const k in definition) if (refused.has(k)) return false;
  return true;
}

/** rabbit_mirror_queue_misc's checks of the ha-* keys; a refusal text or undefined. */
function haRefusal(d: Record<string, unknown>): string | undefined {
  const [mode, params, sync, batch, onShutdown, onFailure] = HA_KEYS.map((k) => d[k]);
  if (mode === undefined) {
    return HA_KEYS.some((k) => d[k] !== undefined)
      ? "ha-mode must be specified to specify ha-params, ha-sync-mode or ha-promote-on-shutdown"
      : undefined;
  }
  const given = params === undefined ? "none" : erlangTerm(params);
  if (mode === "all") {
    if (params !== undefined) return `ha-mode="all" does not take parameters`;
  } else if (mode === "exactly") {
    if (!integer(1)(params)) return `ha-mode="exactly" takes an integer, ${given} given`;
  } else if (mode === "nodes") {
    if (!Array.isArray(params)) return `ha-mode="nodes" takes a list, ${given} given`;
  } else return `${erlangTerm(mode)} is not a valid ha-mode value`;
  if (sync !== undefined && !oneOf("manual", "automatic")(sync))
    return `ha-sync-mode must be "manual" or "automatic", got ${erlangTerm(sync)}`;
  if (batch !== undefined && !integer(1)(batch))
    return `ha-sync-batch-size takes an integer greater than 0, ${erlangTerm(batch)} given`;
  for (const [k, v] of [
    ["ha-promote-on-shutdown", onShutdown],
    ["ha-promote-on-failure", onFailure],
  ] as const) {
    if (v !== undefined && !oneOf("always", "when-synced")(v))
      return `${k} must be "always" or "when-synced", got ${erlangTerm(v)}`;
  }
  return undefined;
}

const failed = (text: string): PolicyError => new PolicyError(`Validation failed\n\n${text}\n`);

/**
 * Checks a definition as RabbitMQ does: rabbit_policies' keys first (in key order), then the
 * other validators' (queue-master-locator, ha-*), then anything left is "not recognised".
 * Returns the definition with its keys sorted, as RabbitMQ stores it.
 */
export function checkDefinition(definition: unknown, operator: boolean): Record<string, unknown> {
  if (typeof definition !== "object" || definition === null || Array.isArray(definition))
    throw failed(`definition must be a dictionary: ${erlangTerm(definition)}`);
  const entries = Object.entries(definition as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  if (entries.length === 0) throw failed("no policy provided");
  const d = Object.fromEntries(entries);
  const recognised = (k: string) =>
    operator ? OPERATOR_KEYS.has(k) : k in CORE || k === "queue-master-locator" || HA_KEYS.includes(k);
  for (const [k, v] of entries) {
    if (!recognised(k) || !(k in CORE)) continue;
    const [ok, text] = CORE[k]!;
    if (!ok(v)) throw failed(`${erlangTerm(v)} ${text}`);
  }
  if (!operator) {
    const qml = d["queue-master-locator"];
    if (qml !== undefined && !oneOf("min-masters", "client-local", "random")(qml))
      throw failed(`${erlangTerm(qml)} invalid queue-master-locator value`);
    const ha = haRefusal(d);
    if (ha !== undefined) throw failed(ha);
  }
  const unknown = entries.filter(([k]) => !recognised(k));
  if (unknown.length > 0) throw failed(`${erlangPairs(unknown)} are not recognised policy settings`);
  return d;
}

/** The keys Warren acts on, from a checked definition. */
export function policySettings(d: Record<string, unknown>): PolicySettings {
  const n = (k: string) => d[k] as number | undefined;
  const s = (k: string) => d[k] as string | undefined;
  return {
    messageTtl: n("message-ttl"),
    expires: n("expires"),
    maxLength: n("max-length"),
    maxLengthBytes: n("max-length-bytes"),
    overflow: s("overflow") as Overflow | undefined,
    deadLetterExchange: s("dead-letter-exchange"),
    deadLetterRoutingKey: s("dead-letter-routing-key"),
    alternateExchange: s("alternate-exchange"),
    deliveryLimit: n("delivery-limit"),
  };
}

/** PCRE's texts for the errors JavaScript reports in other words; offset where it is known. */
const REGEX_ERRORS: Record<string, [string, "end" | undefined]> = {
  "Unterminated group": ["missing )", "end"],
  "Unterminated character class": ["missing terminating ] for character class", "end"],
  "Nothing to repeat": ["nothing to repeat", undefined],
  "Unmatched ')'": ["unmatched parentheses", undefined],
  "Range out of order in character class": ["range out of order in character class", undefined],
  "\\ at end of pattern": ["\\ at end of pattern", "end"],
};

/**
 * Compiles a policy pattern (RabbitMQ uses PCRE, an unanchored search). A leading PCRE option
 * setting such as (?i) becomes a JavaScript flag; other PCRE-only syntax is refused.
 */
export function compilePattern(pattern: unknown): RegExp {
  if (typeof pattern !== "string") throw failed(`pattern should be a binary but was ${erlangTerm(pattern)}`);
  const opts = /^\(\?([ims]+)\)/.exec(pattern);
  try {
    return opts ? new RegExp(pattern.slice(opts[0].length), opts[1]) : new RegExp(pattern);
  } catch (e) {
    const js = String((e as Error).message).replace(/^.*: /s, "");
    const [text, at] = REGEX_ERRORS[js] ?? [js, undefined];
    const detail = at === "end" ? `{${JSON.stringify(text)},${pattern.length}}` : JSON.stringify(text);
    throw failed(`pattern should be regular expression but is invalid: ${detail}`);
  }
}

/** The apply-to value, RabbitMQ's refusal otherwise. */
export function checkApplyTo(v: unknown): ApplyTo {
  if (v === undefined) return "all";
  if (v === "queues" || v === "exchanges" || v === "all") return v;
  const shown = typeof v === "string" ? v : erlangTerm(v);
  throw failed(`apply-to '${shown}' unrecognised; should be 'queues', 'exchanges' or 'all'`);
}

/** The priority (any number, as RabbitMQ), RabbitMQ's refusal otherwise. */
export function checkPriority(v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v === "number" && Number.isFinite(v)) return v;
  throw failed(`priority should be a number, actually was ${erlangTerm(v)}`);
}
