import { InvalidTarget, MessagingTimeout, RPCVersionCapError } from "./errors.js";
import { parseVersion, Target, type TargetFields, versionIsCompatible } from "./target.js";
import type { Transport } from "./transport.js";
import {
  addUniqueId,
  type Context,
  deserializeRemoteException,
  packContext,
  type RawMessage,
  uuidHex,
} from "./wire.js";

/** Options of an RPC client; prepare() can change each of them per invocation. */
export interface RPCClientOptions {
  /** Seconds a call waits for its reply (also the request's TTL). Default: the transport's rpcResponseTimeout (60). */
  timeout?: number | undefined;
  /** Highest version the client may send ("major.minor"); a call above it throws RPCVersionCapError. */
  versionCap?: string | undefined;
  /** Connection retries when sending: undefined (or -1) forever, as oslo; 0 none; N at most N. */
  retry?: number | undefined;
  /**
   * Seconds without a sign of life from the server after which a call gives up. The server
   * then sends a heartbeat every half of it while the method runs, so a long call need not
   * have a long timeout. Default: none.
   */
  callMonitorTimeout?: number | undefined;
}

/** What prepare() may override: target fields and client options. */
export interface PrepareOptions extends Omit<TargetFields, "legacyNamespaces">, RPCClientOptions {}

/** Method arguments: a JSON object, passed to the endpoint method as its keyword arguments. */
export type Kwargs = Record<string, unknown>;

const TARGET_KEYS = ["exchange", "topic", "namespace", "version", "server", "fanout"] as const;
const OPTION_KEYS = ["timeout", "versionCap", "retry", "callMonitorTimeout"] as const;

/**
 * Invokes methods on RPC servers (oslo's RPCClient). `call()` waits for the result,
 * `cast()` does not; the target decides who gets the request: any one server of the topic,
 * the one named `server`, or, for a cast with `fanout`, all of them.
 *
 * @example
 *   const client = getRpcClient(transport, new Target({ topic: "compute" }), { timeout: 10 });
 *   const sum = await client.call({ user: "alice" }, "add", { a: 1, b: 2 });
 *   await client.prepare({ fanout: true }).cast({}, "refresh", {});
 */
export class RPCClient {
  readonly target: Target;
  readonly options: Readonly<RPCClientOptions>;

  constructor(
    readonly transport: Transport,
    target: Target | TargetFields,
    options: RPCClientOptions = {},
  ) {
    this.target = target instanceof Target ? target : new Target(target);
    this.options = { ...options };
  }

  /**
   * A client for some invocations with target fields or options changed; a key given as
   * undefined clears the field (e.g. `{ server: undefined }`).
   */
  prepare(overrides: PrepareOptions): RPCClient {
    if (overrides.version !== undefined) parseVersion(overrides.version);
    const t: TargetFields = {};
    const o: RPCClientOptions = { ...this.options };
    for (const k of TARGET_KEYS) if (k in overrides) (t as Record<string, unknown>)[k] = overrides[k];
    for (const k of OPTION_KEYS) if (k in overrides) (o as Record<string, unknown>)[k] = overrides[k];
    return new RPCClient(this.transport, this.target.with(t), o);
  }

  /** Whether `version` (default: the target's) is within the version cap. */
  canSendVersion(version: string | undefined = this.target.version): boolean {
    return versionIsCompatible(this.options.versionCap, version);
  }

  /**
   * Invokes a method and returns once the broker has the request (publisher confirm),
   * without waiting for any server. With `fanout` every server of the topic gets it.
   */
  async cast(ctxt: Context, method: string, kwargs: Kwargs = {}): Promise<void> {
    const msg = this.makeMessage(ctxt, method, kwargs);
    const t = this.target;
    const topic = requireTopic(t);
    const { publisher } = this.transport;
    if (t.fanout) await publisher.fanoutSend(topic, msg, this.options.retry);
    else await publisher.topicSend(this.exchange(), routingKey(t, topic), msg, { retry: this.options.retry });
  }

  /**
   * Invokes a method on one server and resolves with its return value.
   *
   * @throws RemoteError when the method raised (its class name in `excType`);
   *   MessagingTimeout when no reply came within `timeout` seconds (or no heartbeat within
   *   `callMonitorTimeout`); InvalidTarget for a fanout target
   */
  call<T = unknown>(ctxt: Context, method: string, kwargs: Kwargs = {}): Promise<T> {
    const t = this.target;
    if (t.fanout) return Promise.reject(new InvalidTarget("A call cannot be used with fanout", t));
    let msg: RawMessage;
    let topic: string;
    try {
      topic = requireTopic(t);
      msg = this.makeMessage(ctxt, method, kwargs);
    } catch (e) {
      return Promise.reject(e);
    }
    const timeout = this.options.timeout ?? this.transport.conf.rpcResponseTimeout;
    const cmTimeout = this.options.callMonitorTimeout;
    const waiter = this.transport.replyWaiter();
    const msgId = uuidHex();
    msg._msg_id = msgId;
    msg._reply_q = waiter.replyQ;
    msg._timeout = cmTimeout ?? null;
    return new Promise<T>((resolve, reject) => {
      let done = false;
      let finalReply: unknown = null;
      const timedOut = () =>
        finish(new MessagingTimeout(`Timed out waiting for a reply to message ID ${msgId}.`));
      const finish = (err: Error | undefined, value?: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearTimeout(monitor);
        waiter.unlisten(msgId);
        if (err) reject(err);
        else resolve(value as T);
      };
      // The timer runs from the start: connecting and sending count against the timeout.
      const timer = setTimeout(timedOut, timeout * 1000);
      let monitor = cmTimeout ? setTimeout(timedOut, cmTimeout * 1000) : undefined;
      waiter.listen(msgId, {
        onAbort: (err) => finish(err),
        onReply: (data) => {
          const reply = data.failure ? deserializeRemoteException(data.failure) : (data.result ?? null);
          const ending = data.ending === true;
          if (reply !== null) finalReply = reply;
          else if (!ending && cmTimeout) {
            // A call-monitor heartbeat: the server is still working on it.
            clearTimeout(monitor);
            monitor = setTimeout(timedOut, cmTimeout * 1000);
          }
          if (!ending) return;
          if (finalReply instanceof Error) finish(finalReply);
          else finish(undefined, finalReply);
        },
      });
      const retry = this.options.retry;
      waiter
        .start(retry)
        .then(() =>
          this.transport.publisher.topicSend(this.exchange(), routingKey(t, topic), msg, {
            expiration: timeout,
            retry,
            abandoned: () => done,
          }),
        )
        .catch((e: unknown) => finish(e instanceof Error ? e : new Error(String(e))));
    });
  }

  private exchange(): string {
    return this.transport.exchangeFor(this.target.exchange);
  }

  /** oslo's _make_message, plus the unique id and the packed context. */
  private makeMessage(ctxt: Context, method: string, kwargs: Kwargs): RawMessage {
    const t = this.target;
    const msg: RawMessage = { method, args: { ...kwargs } };
    if (t.namespace !== undefined) msg.namespace = t.namespace;
    if (t.version !== undefined) msg.version = t.version;
    const cap = this.options.versionCap;
    if (!versionIsCompatible(cap, t.version)) throw new RPCVersionCapError(String(t.version), String(cap));
    addUniqueId(msg);
    packContext(msg, ctxt);
    return msg;
  }
}

/**
 * An RPC client for a target (oslo's get_rpc_client).
 *
 * @param target where requests go: at least a topic
 */
export function getRpcClient(
  transport: Transport,
  target: Target | TargetFields,
  options: RPCClientOptions = {},
): RPCClient {
  return new RPCClient(transport, target, options);
}

function requireTopic(t: Target): string {
  if (!t.topic) throw new InvalidTarget("A topic is required to send", t);
  return t.topic;
}

/** `topic`, or `topic.server` for a directed request. */
function routingKey(t: Target, topic: string): string {
  return t.server ? `${topic}.${t.server}` : topic;
}
