import { EventEmitter } from "node:events";
import { ConnectionError } from "@warren/protocol";
import type { Channel } from "../channel.js";
import { ClosedError, TimeoutError } from "../errors.js";
import { type Connection, connect } from "../connection.js";
import type { ConnectOptions } from "../connection-types.js";
import { parseUrl } from "../url.js";

/**
 * How ensure() and ensureConnection() retry, as in kombu. Intervals are in seconds, as in
 * kombu: the n-th retry waits min(intervalStart + n * intervalStep, intervalMax).
 */
export interface RetryPolicy {
  /** Retries before giving up; undefined retries forever. Default undefined. */
  maxRetries?: number;
  /** Seconds before the first retry. Default 2. */
  intervalStart?: number;
  /** Seconds added for each further retry. Default 2. */
  intervalStep?: number;
  /** Longest wait in seconds. Default 30. */
  intervalMax?: number;
  /** Called before each wait, with the error and the seconds about to be slept. */
  errback?: (err: Error, interval: number) => void;
}

/** Options of a BrokerConnection: connect options applied over every URL's, and retry defaults. */
export interface BrokerConnectionOptions extends ConnectOptions {
  /** Defaults for ensure(), ensureConnection() and reconnecting consumers. */
  retryPolicy?: RetryPolicy;
}

/** Events of a BrokerConnection. */
export type BrokerConnectionEvents = {
  /**
   * A new connection replaced a lost one: consumers re-declare and re-consume on it. Purely a
   * notification: listening for it changes nothing.
   */
  revive: [connection: Connection];
  /**
   * A connection failed, or a consumer's channel, subscription or callback did (see Consumer).
   * With no listener these become process warnings, never uncaught exceptions.
   */
  error: [err: Error];
};

const NETWORK_ERRORS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * True for errors that reconnecting may cure: a connection-level AMQP error (e.g. 320
 * CONNECTION_FORCED when the broker shuts down), a lost or closed connection, a network
 * error. Channel errors (404, 406, 403…) are the application's and are not retried.
 */
export function isRecoverable(err: unknown): boolean {
  if (err instanceof ConnectionError || err instanceof ClosedError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && NETWORK_ERRORS.has(code);
}

/**
 * A kombu-style connection: lazy, reconnecting, with failover across several broker URLs
 * (round-robin, moving on at each failed attempt).
 *
 * It holds at most one live Connection at a time. ensure() runs an operation and, when it
 * fails with a recoverable error, reconnects and runs it again; Consumers listen for
 * 'revive' and resume on the new connection by themselves.
 *
 * @example
 *   const conn = new BrokerConnection(["amqp://a:5672", "amqp://b:5672"]);
 *   await conn.ensure((ch) => ch.queueDeclare("jobs", { durable: true }), { maxRetries: 5 });
 */
export class BrokerConnection extends EventEmitter<BrokerConnectionEvents> {
  readonly urls: readonly (string | ConnectOptions)[];
  private current: Connection | undefined;
  private connecting: Promise<Connection> | undefined;
  private index = 0;
  private generation = 0;
  private userClosed = false;
  private defaultCh: Channel | undefined;
  private defaultChOpening: Promise<Channel> | undefined;
  private readonly declared = new WeakMap<Connection, Set<object>>();
  /** Consumers that want the connection back whenever it is lost. */
  private readonly keepers = new Set<object>();
  /** Deliveries handled that no drainEvents() call has accounted for yet. */
  private undrained = 0;
  /** Pending drainEvents() calls, oldest first. */
  private readonly drainers = new Set<{ resolve: () => void; reject: (e: Error) => void }>();

  constructor(
    urls: string | ConnectOptions | readonly (string | ConnectOptions)[],
    private readonly options: BrokerConnectionOptions = {},
  ) {
    super();
    const list = Array.isArray(urls) ? urls : [urls as string | ConnectOptions];
    if (list.length === 0) throw new TypeError("BrokerConnection needs at least one URL");
    // Parse now so that a malformed URL fails here rather than on first use.
    this.urls = list.map((u) => (typeof u === "string" ? parseUrl(u) : u));
  }

  /** A new, unconnected BrokerConnection to the same URLs with the same options (kombu's clone()). */
  clone(): BrokerConnection {
    return new BrokerConnection(this.urls, this.options);
  }

  /** The live connection, if any. */
  get connection(): Connection | undefined {
    return this.current?.isOpen ? this.current : undefined;
  }

  /** The default retry policy (the `retryPolicy` option). */
  get retryPolicy(): RetryPolicy {
    return this.options.retryPolicy ?? {};
  }

  get connected(): boolean {
    return this.connection !== undefined;
  }

  /** Connects if needed, trying each URL once. */
  connect(): Promise<Connection> {
    return this.ensureConnection({ maxRetries: this.urls.length - 1, intervalStart: 0, intervalStep: 0 });
  }

  /** Connects if needed, retrying (with failover) according to the policy. */
  async ensureConnection(policy: RetryPolicy = this.options.retryPolicy ?? {}): Promise<Connection> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.establish();
      } catch (e) {
        await this.backoff(e, attempt, policy);
      }
    }
  }

  /** Opens a new channel on the (re)connected connection; the caller owns it. */
  async channel(): Promise<Channel> {
    return (await this.connect()).createChannel();
  }

  /** A channel shared by ensure() callers, reopened when closed. */
  async defaultChannel(): Promise<Channel> {
    const conn = await this.establish();
    const ch = this.defaultCh;
    if (ch?.isOpen && ch.connection === conn) return ch;
    this.defaultChOpening ??= conn.createChannel().finally(() => (this.defaultChOpening = undefined));
    this.defaultCh = await this.defaultChOpening;
    return this.defaultCh;
  }

  /**
   * Runs fn with the default channel and its connection. When it fails with a recoverable
   * error (see isRecoverable), drops the connection, waits per the policy, reconnects (to the
   * next URL) and runs fn again. Not-recoverable errors, and the last one after maxRetries,
   * are thrown. fn may therefore run more than once: make it idempotent.
   */
  async ensure<T>(
    fn: (channel: Channel, connection: Connection) => T | Promise<T>,
    policy: RetryPolicy = this.options.retryPolicy ?? {},
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const ch = await this.defaultChannel();
        return await fn(ch, ch.connection);
      } catch (e) {
        await this.backoff(e, attempt, policy);
      }
    }
  }

  /**
   * kombu's autoretry(): wraps fn, which takes a channel, so that calling the wrapper runs fn
   * and, when it fails with a recoverable error, reconnects per the policy (errback before each
   * wait) and runs it again on a revived channel (the default channel of the new connection).
   * The wrapper resolves to `[result, channel]`, the channel fn last ran on, as kombu returns
   * `(retval, channel)`. Without `channel`, fn starts on the default channel. Policy options
   * given here override the connection's `retryPolicy`.
   *
   * @example
   *   const publish = conn.autoretry((ch, body: string) => ch.publish("", "q", Buffer.from(body)), {
   *     maxRetries: 3,
   *   });
   *   const [, channel] = await publish("hello");
   */
  autoretry<A extends unknown[], T>(
    fn: (channel: Channel, ...args: A) => T | Promise<T>,
    options: RetryPolicy & { channel?: Channel } = {},
  ): (...args: A) => Promise<[T, Channel]> {
    const { channel, ...own } = options;
    const policy = { ...this.retryPolicy, ...own };
    let ch = channel;
    return async (...args: A) => {
      for (let attempt = 0; ; attempt++) {
        try {
          // Revive: a channel lost with its connection (or closed) is replaced by the default one.
          if (!ch?.isOpen) ch = await this.defaultChannel();
          return [await fn(ch, ...args), ch];
        } catch (e) {
          await this.backoff(e, attempt, policy);
        }
      }
    };
  }

  /**
   * kombu's drain_events(): waits for one event, a delivery handled by a Consumer on this
   * connection (its callbacks have run; an async callback has settled). Consumers here run
   * their callbacks as messages arrive, drained or not; drainEvents() counts them: it resolves
   * at once if a delivery was handled since the last drainEvents() returned, else when the next
   * one is. Rejects with TimeoutError after `timeout` seconds without one (Python's
   * socket.timeout), and with the error when the connection is lost or closed meanwhile.
   */
  drainEvents(opts: { timeout?: number } = {}): Promise<void> {
    if (this.undrained > 0) {
      this.undrained--;
      return Promise.resolve();
    }
    if (this.userClosed) return Promise.reject(new ClosedError("BrokerConnection is closed"));
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      if (opts.timeout !== undefined) {
        const ms = opts.timeout * 1000;
        timer = setTimeout(() => {
          this.drainers.delete(waiter);
          reject(new TimeoutError(`no event within ${opts.timeout} s`, ms));
        }, ms);
      }
      this.drainers.add(waiter);
    });
  }

  /** @internal A Consumer finished handling a delivery: wakes the oldest drainEvents(). */
  eventHandled(): void {
    // Per delivery: no allocation unless someone is waiting.
    if (this.drainers.size === 0) {
      this.undrained++;
      return;
    }
    const first = this.drainers.values().next().value!;
    this.drainers.delete(first);
    first.resolve();
  }

  /** Closes the connection for good; consumers stop reconnecting. */
  async close(): Promise<void> {
    this.userClosed = true;
    this.failDrainers(new ClosedError("BrokerConnection is closed"));
    const c = this.current;
    this.current = undefined;
    await c?.close();
  }

  /** @internal A consumer that needs the connection re-established whenever it is lost. */
  retain(keeper: object): void {
    this.keepers.add(keeper);
  }

  /** @internal The consumer stopped. */
  release(keeper: object): void {
    this.keepers.delete(keeper);
  }

  /** @internal Reports an error: to 'error' listeners, else as a process warning. */
  report(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    if (this.listenerCount("error") > 0) this.emit("error", err);
    else process.emitWarning(err);
  }

  /** @internal Runs declare once per connection for the given entity (kombu's maybe_declare). */
  async maybeDeclare(entity: object, channel: Channel, declare: () => Promise<unknown>): Promise<void> {
    let set = this.declared.get(channel.connection);
    if (!set) this.declared.set(channel.connection, (set = new Set()));
    if (set.has(entity)) return;
    await declare();
    set.add(entity);
  }

  /** The live connection, or one new connection attempt to the current URL. */
  private establish(): Promise<Connection> {
    if (this.userClosed) return Promise.reject(new ClosedError("BrokerConnection is closed"));
    const c = this.current;
    if (c?.isOpen) return Promise.resolve(c);
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(): Promise<Connection> {
    const target = this.urls[this.index % this.urls.length]!;
    const { retryPolicy: _, ...defaults } = this.options;
    // As with connect(url, overrides): the options apply over what each URL says.
    const conn = await connect({ ...(target as ConnectOptions), ...defaults });
    if (this.userClosed) {
      await conn.close();
      throw new ClosedError("BrokerConnection is closed");
    }
    this.current = conn;
    const revived = this.generation++ > 0;
    // Losses are reported below, through this connection's 'error' event.
    conn.on("error", () => {});
    conn.on("close", (err) => {
      if (this.current === conn) this.current = undefined;
      if (err && !this.userClosed) this.onLost(err);
    });
    if (revived) this.emit("revive", conn);
    return conn;
  }

  /** The connection died under us: if consumers want it back, reconnect in the background. */
  private onLost(err: Error): void {
    this.failDrainers(err);
    if (this.listenerCount("error") > 0) this.emit("error", err);
    if (this.keepers.size === 0) return;
    // Failing because close() was called meanwhile is no error.
    this.ensureConnection().catch((e: unknown) => {
      if (!this.userClosed) this.report(e);
    });
  }

  private failDrainers(err: Error): void {
    for (const d of this.drainers) d.reject(err);
    this.drainers.clear();
  }

  /** Throws err unless another attempt is due; otherwise fails over and sleeps. */
  private async backoff(e: unknown, attempt: number, policy: RetryPolicy): Promise<void> {
    const err = e instanceof Error ? e : new Error(String(e));
    if (this.userClosed || !isRecoverable(err)) throw err;
    if (policy.maxRetries !== undefined && attempt >= policy.maxRetries) throw err;
    // A lost connection is replaced on the next attempt, with the next URL; an open one
    // (the error was a closed channel) is kept and only the channel is reopened.
    if (!this.current?.isOpen) this.index++;
    const start = policy.intervalStart ?? 2;
    const interval = Math.min(start + attempt * (policy.intervalStep ?? 2), policy.intervalMax ?? 30);
    policy.errback?.(err, interval);
    await new Promise((r) => setTimeout(r, interval * 1000));
  }
}
