/**
 * oslo.messaging's message format on the wire (the rabbit driver's, from `_drivers/common.py`
 * and `_drivers/amqp.py`): the 2.0 envelope, the request context flattened into
 * `_context_<key>` entries, the `_unique_id` duplicate check, and serialized failures.
 */
import { randomUUID } from "node:crypto";
import type { BasicProperties } from "@warren/protocol";
import { RemoteError, UnsupportedRpcEnvelopeVersion } from "./errors.js";
import { versionIsCompatible } from "./target.js";

/** A request context: any JSON object; it travels as `_context_<key>` entries. */
export type Context = Record<string, unknown>;

/** A message body: a JSON object. */
export type RawMessage = Record<string, unknown>;

const ENVELOPE_VERSION = "2.0";
const VERSION_KEY = "oslo.version";
const MESSAGE_KEY = "oslo.message";
const UNIQUE_ID = "_unique_id";
const CONTEXT_PREFIX = "_context_";

/**
 * The properties kombu gives every message oslo.messaging publishes: JSON in UTF-8,
 * persistent, priority 0, an empty headers table. (kombu's default delivery mode is
 * persistent; the queues are not durable unless configured, so this only matters with
 * amqp_durable_queues.)
 */
export function messageProperties(expiration?: string): BasicProperties {
  const p: BasicProperties = {
    contentType: "application/json",
    contentEncoding: "utf-8",
    deliveryMode: 2,
    priority: 0,
    headers: {},
  };
  if (expiration !== undefined) p.expiration = expiration;
  return p;
}

/** A random 32-digit hex id, as Python's uuid.uuid4().hex (msg ids, unique ids, queue names). */
export function uuidHex(): string {
  return randomUUID().replace(/-/g, "");
}

/** Wraps a message in the 2.0 envelope and encodes it as the AMQP body. */
export function serializeMsg(msg: RawMessage): Buffer {
  return Buffer.from(JSON.stringify({ [VERSION_KEY]: ENVELOPE_VERSION, [MESSAGE_KEY]: JSON.stringify(msg) }));
}

/**
 * Decodes an AMQP body: a 2.0 envelope is opened; any other JSON object (a 1.0 message,
 * e.g. from the "messaging" notification driver) is returned as it is.
 *
 * @throws SyntaxError for a body that is not JSON, UnsupportedRpcEnvelopeVersion for an
 *   envelope of another major version
 */
export function deserializeMsg(body: Buffer): RawMessage {
  const outer: unknown = JSON.parse(body.toString("utf8"));
  if (!isObject(outer)) throw new SyntaxError("message body is not a JSON object");
  if (!(VERSION_KEY in outer && MESSAGE_KEY in outer)) return outer;
  const version = String(outer[VERSION_KEY]);
  let compatible: boolean;
  try {
    compatible = versionIsCompatible(ENVELOPE_VERSION, version);
  } catch {
    compatible = false;
  }
  if (!compatible) throw new UnsupportedRpcEnvelopeVersion(version);
  const inner: unknown = JSON.parse(String(outer[MESSAGE_KEY]));
  if (!isObject(inner)) throw new SyntaxError("enveloped message is not a JSON object");
  return inner;
}

/** Adds a fresh `_unique_id` (the receiver's duplicate check); returns it. */
export function addUniqueId(msg: RawMessage): string {
  const id = uuidHex();
  msg[UNIQUE_ID] = id;
  return id;
}

/** Flattens the context into the message as `_context_<key>` entries. */
export function packContext(msg: RawMessage, ctxt: Context): void {
  for (const [k, v] of Object.entries(ctxt)) msg[CONTEXT_PREFIX + k] = v;
}

/** What a received message carried besides its payload. */
export interface Unpacked {
  ctxt: Context;
  msgId: string | undefined;
  replyQ: string | undefined;
  /** `_timeout`: the caller's call-monitor timeout in seconds, if it asked for heartbeats. */
  clientTimeout: number | undefined;
  uniqueId: string | undefined;
}

/** Takes the context, reply address and unique id out of a received message (in place). */
export function unpackContext(msg: RawMessage): Unpacked {
  const ctxt: Context = {};
  for (const key of Object.keys(msg)) {
    if (key.startsWith(CONTEXT_PREFIX)) {
      ctxt[key.slice(CONTEXT_PREFIX.length)] = msg[key];
      delete msg[key];
    }
  }
  const take = (k: string): unknown => {
    const v = msg[k];
    delete msg[k];
    return v;
  };
  const msgId = take("_msg_id");
  const replyQ = take("_reply_q");
  const timeout = take("_timeout");
  const uniqueId = take(UNIQUE_ID);
  return {
    ctxt,
    msgId: typeof msgId === "string" && msgId !== "" ? msgId : undefined,
    replyQ: typeof replyQ === "string" && replyQ !== "" ? replyQ : undefined,
    clientTimeout: typeof timeout === "number" && timeout > 0 ? timeout : undefined,
    uniqueId: typeof uniqueId === "string" ? uniqueId : undefined,
  };
}

/**
 * The last 16 unique ids seen (oslo's _MsgIdCache): a redelivered message whose first
 * delivery was handled is dropped.
 */
export class MsgIdCache {
  private readonly ids: string[] = [];

  has(id: string | undefined): boolean {
    return id !== undefined && this.ids.includes(id);
  }

  add(id: string | undefined): void {
    if (id === undefined || this.ids.includes(id)) return;
    if (this.ids.push(id) > 16) this.ids.shift();
  }
}

/**
 * Serializes an exception thrown by an endpoint the way oslo's serialize_remote_exception
 * does: a JSON string of class, module, message, traceback lines, args and kwargs. The class
 * is the error's `name` (or its constructor's); the module is its `pythonModule` (oslo's own
 * errors), `module`, or "javascript": not "builtins", so that a Python caller does not
 * rebuild a Python exception of the same name but gets a RemoteError.
 */
export function serializeRemoteException(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const any = e as Error & { pythonModule?: unknown; module?: unknown; args?: unknown; kwargs?: unknown };
  const cls = e.name && e.name !== "Error" ? e.name : e.constructor?.name || "Error";
  const module =
    typeof any.pythonModule === "string"
      ? any.pythonModule
      : typeof any.module === "string"
        ? any.module
        : "javascript";
  const tb = (e.stack ?? `${cls}: ${e.message}`).split("\n").map((line) => `${line}\n`);
  return JSON.stringify({
    class: cls,
    module,
    message: e.message,
    tb,
    args: Array.isArray(any.args) ? any.args : [e.message],
    kwargs: isObject(any.kwargs) ? any.kwargs : {},
  });
}

/**
 * The RemoteError for a `failure` from a reply (a JSON string, or an object from a sender
 * that did not encode it). oslo rebuilds Python exceptions of allowed modules; a TypeScript
 * caller always gets a RemoteError naming the remote class in `excType`.
 */
export function deserializeRemoteException(data: unknown): RemoteError {
  let f: unknown = data;
  if (typeof data === "string") {
    try {
      f = JSON.parse(data);
    } catch {
      return new RemoteError("Unknown", data);
    }
  }
  if (!isObject(f)) return new RemoteError("Unknown", String(data));
  const str = (v: unknown): string => (typeof v === "string" ? v : v === undefined ? "" : String(v));
  const tb = Array.isArray(f.tb) ? f.tb.map(str) : [];
  return new RemoteError(
    str(f.class),
    str(f.message),
    tb,
    str(f.module),
    Array.isArray(f.args) ? f.args : [],
    isObject(f.kwargs) ? f.kwargs : {},
  );
}

/** A plain JSON object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
