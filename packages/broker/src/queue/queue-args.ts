import { ChannelError, type FieldTable, type FieldValue, ReplyCode, TypedValue } from "@warren/protocol";

export type Overflow = "drop-head" | "reject-publish" | "reject-publish-dlx";

/** Queue arguments RabbitMQ understands, validated and parsed once at declare time. */
export interface QueueArgs {
  messageTtl: number | undefined;
  expires: number | undefined;
  maxLength: number | undefined;
  maxLengthBytes: number | undefined;
  overflow: Overflow;
  deadLetterExchange: string | undefined;
  deadLetterRoutingKey: string | undefined;
  maxPriority: number | undefined;
  singleActiveConsumer: boolean;
  consumerTimeout: number | undefined;
  queueType: "classic" | "quorum";
  deliveryLimit: number | undefined;
}

/**
 * The arguments each queue type knows (RabbitMQ 3.10's queue_arguments capability, plus
 * Warren's x-consumer-timeout): validated at declare, compared on redeclare. Arguments another
 * type knows are refused; anything else is ignored.
 */
const TYPE_ARGS = {
  classic: [
    "x-expires",
    "x-message-ttl",
    "x-dead-letter-exchange",
    "x-dead-letter-routing-key",
    "x-max-length",
    "x-max-length-bytes",
    "x-max-priority",
    "x-overflow",
    "x-queue-mode",
    "x-queue-version",
    "x-single-active-consumer",
    "x-queue-type",
    "x-queue-master-locator",
    "x-consumer-timeout",
  ],
  quorum: [
    "x-dead-letter-exchange",
    "x-dead-letter-routing-key",
    "x-dead-letter-strategy",
    "x-expires",
    "x-max-length",
    "x-max-length-bytes",
    "x-max-in-memory-length",
    "x-max-in-memory-bytes",
    "x-overflow",
    "x-single-active-consumer",
    "x-queue-type",
    "x-quorum-initial-group-size",
    "x-delivery-limit",
    "x-message-ttl",
    "x-queue-leader-locator",
    "x-consumer-timeout",
  ],
  stream: [
    "x-max-length-bytes",
    "x-queue-type",
    "x-max-age",
    "x-stream-max-segment-size-bytes",
    "x-initial-cluster-size",
    "x-queue-leader-locator",
  ],
} as const;

type QueueType = keyof typeof TYPE_ARGS;

const ALL_TYPE_ARGS = new Set<string>(Object.values(TYPE_ARGS).flat());

/** The arguments that take part in the redeclare equivalence check of a queue of this type. */
export function knownArgs(type: string): readonly string[] {
  return TYPE_ARGS[type as QueueType] ?? TYPE_ARGS.classic;
}

/** RabbitMQ's name for a field value's wire type, as its error texts show it. */
export function amqpTypeName(v: FieldValue): string {
  if (typeof v === "string") return "longstr";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "signedint" : "double";
  if (typeof v === "bigint") return "long";
  if (v === null || v === undefined) return "void";
  if (Array.isArray(v)) return "array";
  if (v instanceof Date) return "timestamp";
  if (v instanceof TypedValue) {
    const names: Record<string, string> = {
      b: "byte",
      B: "unsignedbyte",
      s: "short",
      u: "unsignedshort",
      I: "signedint",
      i: "unsignedint",
      l: "long",
      L: "long",
      f: "float",
      d: "double",
      D: "decimal",
      T: "timestamp",
      x: "binary",
    };
    return names[v.type] ?? v.type;
  }
  if (Buffer.isBuffer(v)) return "binary";
  return "table";
}

/** Wire types RabbitMQ accepts where it wants an integer. */
const INTEGER_TYPES = new Set([
  "byte",
  "short",
  "signedint",
  "long",
  "unsignedbyte",
  "unsignedshort",
  "unsignedint",
]);

/** The integer of an integer-typed value (RabbitMQ's check_int_arg), else undefined. */
export function integerOf(v: FieldValue): number | undefined {
  if (!INTEGER_TYPES.has(amqpTypeName(v))) return undefined;
  if (typeof v === "number" || typeof v === "bigint") return Number(v);
  const x = (v as TypedValue).value;
  return typeof x === "number" || typeof x === "bigint" ? Number(x) : undefined;
}

/** The string of a longstr value, else undefined. */
function stringOf(v: FieldValue): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** A printable form of a value for error texts (RabbitMQ prints binaries bare, others with ~p). */
export function showValue(v: FieldValue | undefined): string {
  if (v === undefined) return "none";
  if (v instanceof TypedValue) {
    if (Buffer.isBuffer(v.value)) return v.value.toString("utf8");
    return typeof v.value === "object" ? JSON.stringify(v.value) : String(v.value);
  }
  if (typeof v === "string") return v;
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Date) return String(Math.floor(v.getTime() / 1000));
  return typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
}

/** Largest TTL / expiry RabbitMQ accepts (rabbit_misc:check_expiry): ten years in ms. */
export const MAX_EXPIRY_MS = 315360000000;

/**
 * Validates a queue declaration's arguments in RabbitMQ 3.10's order and with its error texts
 * (rabbit_channel's dead-letter exchange type check, rabbit_amqqueue:check_declare_arguments,
 * then the queue type's property checks), and parses them.
 */
export function parseQueueArgs(
  queue: string,
  vhost: string,
  args: FieldTable,
  durable: boolean,
  exclusive: boolean,
  autoDelete: boolean,
): QueueArgs {
  const where = `queue '${queue}' in vhost '${vhost}'`;
  const fail = (text: string): never => {
    throw new ChannelError(ReplyCode.PRECONDITION_FAILED, text);
  };
  const bad = (arg: string, why: string): never => fail(`invalid arg '${arg}' for ${where}: ${why}`);
  const has = (arg: string) => args[arg] !== undefined;

  // rabbit_channel checks the dead-letter exchange name's type before anything else.
  const dlxValue = args["x-dead-letter-exchange"];
  if (dlxValue !== undefined && stringOf(dlxValue) === undefined)
    fail(`invalid type '${amqpTypeName(dlxValue)}' for arg 'x-dead-letter-exchange' in ${where}`);

  const typeValue = args["x-queue-type"];
  let type: QueueType = "classic";
  if (typeValue !== undefined) {
    const t = stringOf(typeValue);
    if (t === undefined) bad("x-queue-type", `{unacceptable_type,${amqpTypeName(typeValue)}}`);
    if (t !== "classic" && t !== "quorum" && t !== "stream")
      bad("x-queue-type", `"unsupported queue type '${t}'"`);
    type = t as QueueType;
  }
  const known = new Set<string>(TYPE_ARGS[type]);

  const integer = (arg: string): number | undefined => {
    const v = args[arg];
    if (v === undefined || !known.has(arg)) return undefined;
    const n = integerOf(v);
    if (n === undefined) bad(arg, `"expected integer, got ${amqpTypeName(v)}"`);
    return n;
  };
  const nonNegative = (arg: string): number | undefined => {
    const n = integer(arg);
    if (n !== undefined && n < 0) bad(arg, `{value_negative,${n}}`);
    return n;
  };
  const expiry = (n: number | undefined, arg: string): number | undefined => {
    if (n === undefined) return undefined;
    if (n < 0) bad(arg, `{value_negative,${n}}`);
    if (n > MAX_EXPIRY_MS) bad(arg, `{value_too_large,${n}}`);
    return n;
  };
  const oneOf = (arg: string, allowed: readonly string[], invalid: string): string | undefined => {
    const v = args[arg];
    if (v === undefined || !known.has(arg)) return undefined;
    const s = stringOf(v);
    if (s === undefined) bad(arg, `{unacceptable_type,${amqpTypeName(v)}}`);
    if (!allowed.includes(s!)) bad(arg, invalid.replace("%s", s!));
    return s;
  };

  // check_declare_arguments: the validators of the type's arguments, in RabbitMQ's order.
  const expiresRaw = integer("x-expires");
  if (expiresRaw === 0) bad("x-expires", "{value_zero,0}");
  const expires = expiry(expiresRaw, "x-expires");
  const messageTtl = expiry(integer("x-message-ttl"), "x-message-ttl");
  const dlx = known.has("x-dead-letter-exchange") ? stringOf(dlxValue as FieldValue) : undefined;
  let dlrk: string | undefined;
  const dlrkValue = args["x-dead-letter-routing-key"];
  if (dlrkValue !== undefined && known.has("x-dead-letter-routing-key")) {
    dlrk = stringOf(dlrkValue);
    if (dlrk === undefined)
      bad("x-dead-letter-routing-key", `{unacceptable_type,${amqpTypeName(dlrkValue)}}`);
    if (!has("x-dead-letter-exchange")) bad("x-dead-letter-routing-key", "routing_key_but_no_dlx_defined");
  }
  oneOf("x-dead-letter-strategy", ["at-most-once", "at-least-once"], "invalid_dlx_strategy");
  const maxLength = nonNegative("x-max-length");
  const maxLengthBytes = nonNegative("x-max-length-bytes");
  nonNegative("x-max-in-memory-length");
  nonNegative("x-max-in-memory-bytes");
  const maxPriority = nonNegative("x-max-priority");
  if (maxPriority !== undefined && maxPriority > 255)
    bad("x-max-priority", `{max_value_exceeded,${maxPriority}}`);
  let overflow = (oneOf(
    "x-overflow",
    ["drop-head", "reject-publish", "reject-publish-dlx"],
    "invalid_overflow",
  ) ?? "drop-head") as Overflow;
  // RabbitMQ 3.10's quorum queues have no reject-publish-dlx: they fall back to drop-head.
  if (type === "quorum" && overflow === "reject-publish-dlx") overflow = "drop-head";
  oneOf("x-queue-mode", ["default", "lazy"], `"unsupported queue mode '%s'"`);
  const sac = args["x-single-active-consumer"];
  if (sac !== undefined && typeof sac !== "boolean")
    bad("x-single-active-consumer", `{unacceptable_type,${amqpTypeName(sac)}}`);
  const quorumSize = nonNegative("x-quorum-initial-group-size");
  if (quorumSize === 0) bad("x-quorum-initial-group-size", "{value_zero,0}");
  // Warren's own: a per-queue consumer timeout in ms (RabbitMQ 3.12+ has the same argument).
  const consumerTimeout = nonNegative("x-consumer-timeout");
  if (consumerTimeout === 0) bad("x-consumer-timeout", "{value_zero,0}");
  const deliveryLimit = type === "quorum" ? nonNegative("x-delivery-limit") : undefined;

  // Arguments that belong to another queue type.
  for (const k of Object.keys(args)) {
    if (ALL_TYPE_ARGS.has(k) && !known.has(k))
      fail(`invalid arg '${k}' for ${where} of queue type rabbit_${type}_queue`);
  }

  if (type === "stream") {
    fail(`invalid arg 'x-queue-type' for ${where}: stream queues are not supported by Warren yet`);
  }
  if (type === "quorum") {
    // rabbit_quorum_queue:declare checks auto-delete, exclusive, then durable.
    if (autoDelete) fail(`invalid property 'auto-delete' for ${where}`);
    if (exclusive) fail(`invalid property 'exclusive-owner' for ${where}`);
    if (!durable) fail(`invalid property 'non-durable' for ${where}`);
  }
  return {
    messageTtl,
    expires,
    maxLength,
    maxLengthBytes,
    overflow,
    deadLetterExchange: dlx,
    deadLetterRoutingKey: dlrk,
    maxPriority,
    singleActiveConsumer: sac === true,
    consumerTimeout,
    queueType: type === "quorum" ? "quorum" : "classic",
    deliveryLimit,
  };
}

/** RabbitMQ's type classes for the equivalence check: integers compare across int types. */
function typeClass(v: FieldValue): string {
  const t = amqpTypeName(v);
  if (INTEGER_TYPES.has(t) || t === "decimal") return "int";
  if (t === "float" || t === "double") return "float";
  return t;
}

function sameValue(a: FieldValue, b: FieldValue): boolean {
  if (typeClass(a) !== typeClass(b)) return false;
  const x = integerOf(a);
  if (x !== undefined) return x === integerOf(b);
  const json = (v: FieldValue) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}n` : x));
  return showValue(a) === showValue(b) && json(a) === json(b);
}

/**
 * Throws 406 when a redeclare's known arguments differ from the queue's, as
 * rabbit_misc:assert_args_equivalence words it.
 */
export function checkEquivalentArgs(
  queue: string,
  vhost: string,
  queueType: string,
  current: FieldTable,
  received: FieldTable,
): void {
  checkArgsEquivalence(`queue '${queue}' in vhost '${vhost}'`, knownArgs(queueType), current, received);
}

/**
 * rabbit_misc:assert_args_equivalence for the given keys; `what` names the resource
 * ("queue 'q' in vhost '/'", "exchange 'x' in vhost '/'").
 */
export function checkArgsEquivalence(
  what: string,
  keys: readonly string[],
  current: FieldTable,
  received: FieldTable,
): void {
  for (const k of keys) {
    const a = current[k];
    const b = received[k];
    if (a === undefined && b === undefined) continue;
    if (a !== undefined && b !== undefined && sameValue(a, b)) continue;
    // x-queue-type classic is the default; declaring it explicitly is equivalent.
    if (k === "x-queue-type" && (a ?? "classic") === "classic" && (b ?? "classic") === "classic") continue;
    // Both present: values only; one missing: "none" against the typed value.
    const both = a !== undefined && b !== undefined;
    const show = (v: FieldValue | undefined) =>
      v === undefined
        ? "none"
        : both
          ? `'${showValue(v)}'`
          : `the value '${showValue(v)}' of type '${amqpTypeName(v)}'`;
    throw new ChannelError(
      ReplyCode.PRECONDITION_FAILED,
      `inequivalent arg '${k}' for ${what}: received ${show(b)} but current is ${show(a)}`,
    );
  }
}
