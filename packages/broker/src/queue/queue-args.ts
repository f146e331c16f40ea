import {
  ChannelError,
  type FieldTable,
  type FieldValue,
  fieldInteger,
  ReplyCode,
  TypedValue,
} from "@warren/protocol";

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

/** The arguments that take part in the redeclare equivalence check. */
export const KNOWN_ARGS = [
  "x-message-ttl",
  "x-expires",
  "x-max-length",
  "x-max-length-bytes",
  "x-overflow",
  "x-dead-letter-exchange",
  "x-dead-letter-routing-key",
  "x-max-priority",
  "x-single-active-consumer",
  "x-queue-type",
  "x-delivery-limit",
  "x-consumer-timeout",
] as const;

/** RabbitMQ's name for a field value's wire type, as its error texts show it. */
export function amqpTypeName(v: FieldValue): string {
  if (typeof v === "string") return "longstr";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "signedint" : "double";
  if (typeof v === "bigint") return "long";
  if (v === null || v === undefined) return "void";
  if (Array.isArray(v)) return "array";
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

/** A printable form of a value for error texts. */
export function showValue(v: FieldValue | undefined): string {
  if (v === undefined) return "none";
  if (v instanceof TypedValue) return typeof v.value === "object" ? JSON.stringify(v.value) : String(v.value);
  if (typeof v === "string") return v;
  return typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
}

export function parseQueueArgs(
  queue: string,
  vhost: string,
  args: FieldTable,
  durable: boolean,
  exclusive: boolean,
  autoDelete: boolean,
): QueueArgs {
  const bad = (arg: string, why: string): never => {
    throw new ChannelError(
      ReplyCode.PRECONDITION_FAILED,
      `invalid arg '${arg}' for queue '${queue}' in vhost '${vhost}': ${why}`,
    );
  };
  const int = (arg: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    const v = args[arg];
    if (v === undefined) return undefined;
    const n = fieldInteger(v);
    if (n === undefined || typeof v === "boolean") return bad(arg, `{unacceptable_type,${amqpTypeName(v)}}`);
    if (n < 0 && min >= 0) return bad(arg, `{value_negative,${n}}`);
    if (n < min) return bad(arg, `{value_zero,${n}}`);
    if (n > max) return bad(arg, `{value_out_of_range,${n}}`);
    return n;
  };
  const str = (arg: string): string | undefined => {
    const v = args[arg];
    if (v === undefined) return undefined;
    if (typeof v === "string") return v;
    if (v instanceof TypedValue && Buffer.isBuffer(v.value)) return v.value.toString("utf8");
    return bad(arg, `{unacceptable_type,${amqpTypeName(v)}}`);
  };
  const overflow = str("x-overflow") ?? "drop-head";
  if (overflow !== "drop-head" && overflow !== "reject-publish" && overflow !== "reject-publish-dlx") {
    bad("x-overflow", `{invalid_value,<<"${overflow}">>}`);
  }
  const type = str("x-queue-type") ?? "classic";
  if (type === "stream") {
    throw new ChannelError(
      ReplyCode.PRECONDITION_FAILED,
      `invalid arg 'x-queue-type' for queue '${queue}' in vhost '${vhost}': stream queues are not supported by Warren yet`,
    );
  }
  if (type !== "classic" && type !== "quorum") bad("x-queue-type", `{unsupported_type,<<"${type}">>}`);
  if (type === "quorum") {
    const prop = (p: string) =>
      new ChannelError(
        ReplyCode.PRECONDITION_FAILED,
        `invalid property '${p}' for queue '${queue}' in vhost '${vhost}'`,
      );
    if (!durable) throw prop("non-durable");
    if (exclusive) throw prop("exclusive-owner");
    if (autoDelete) throw prop("auto-delete");
  }
  const sac = args["x-single-active-consumer"];
  if (sac !== undefined && typeof sac !== "boolean")
    bad("x-single-active-consumer", `{unacceptable_type,${amqpTypeName(sac)}}`);
  const dlx = str("x-dead-letter-exchange");
  const dlrk = str("x-dead-letter-routing-key");
  if (dlrk !== undefined && dlx === undefined) {
    throw new ChannelError(
      ReplyCode.PRECONDITION_FAILED,
      `invalid arg 'x-dead-letter-routing-key' for queue '${queue}' in vhost '${vhost}': Key x-dead-letter-routing-key should be specified together with x-dead-letter-exchange`,
    );
  }
  return {
    messageTtl: int("x-message-ttl", 0, 0xffffffff),
    expires: int("x-expires", 1, 0xffffffff),
    maxLength: int("x-max-length", 0),
    maxLengthBytes: int("x-max-length-bytes", 0),
    overflow: overflow as Overflow,
    deadLetterExchange: dlx,
    deadLetterRoutingKey: dlrk,
    maxPriority: args["x-max-priority"] === undefined ? undefined : int("x-max-priority", 0, 255),
    singleActiveConsumer: sac === true,
    consumerTimeout: int("x-consumer-timeout", 1),
    queueType: type as "classic" | "quorum",
    deliveryLimit: int("x-delivery-limit", 0),
  };
}

/** Throws 406 when a redeclare's known arguments differ from the queue's. */
export function checkEquivalentArgs(
  queue: string,
  vhost: string,
  current: FieldTable,
  received: FieldTable,
): void {
  for (const k of KNOWN_ARGS) {
    const a = current[k];
    const b = received[k];
    if (a === undefined && b === undefined) continue;
    // x-queue-type classic is the default; declaring it explicitly is equivalent.
    if (k === "x-queue-type" && (a ?? "classic") === (b ?? "classic")) continue;
    if (a !== undefined && b !== undefined && showValue(a) === showValue(b) && numericOrSame(a, b)) continue;
    throw new ChannelError(
      ReplyCode.PRECONDITION_FAILED,
      `inequivalent arg '${k}' for queue '${queue}' in vhost '${vhost}': received ${describe(b)} but current is ${describe(a)}`,
    );
  }
}

function numericOrSame(a: FieldValue, b: FieldValue): boolean {
  const x = fieldInteger(a);
  const y = fieldInteger(b);
  if (x !== undefined || y !== undefined) return x === y;
  return true;
}

function describe(v: FieldValue | undefined): string {
  return v === undefined ? "none" : `the value '${showValue(v)}' of type '${amqpTypeName(v)}'`;
}
