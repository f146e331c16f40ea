import { EventEmitter } from "node:events";
import { ChannelError, ReplyCode } from "@warren/protocol";
import { type BackoffOptions, backoffDelay } from "./backoff.js";
import type { Channel } from "./channel.js";
import type { ChannelOptions } from "./channel-types.js";
import { type Connection, connect } from "./connection.js";
import type { ConnectOptions } from "./connection-types.js";
import { ClosedError } from "./errors.js";
import { RecoveringChannel } from "./recovering-channel.js";
import { TopologyRecorder } from "./topology.js";
import { parseUrl } from "./url.js";

/** How a RecoveringConnection recovers. */
export interface RecoveryOptions extends BackoffOptions {
  /**
   * Connection attempts per outage before giving up ('recovery-failed', then 'close').
   * Default: no limit. Each attempt goes to the next URL of the list.
   */
  maxAttempts?: number;
  /**
   * After a server basic.cancel (the queue was deleted, …), subscribe the consumer again:
   * at once if its queue was declared through this connection (it is declared again with its
   * bindings), else once the queue exists again. Default true.
   */
  resubscribeOnCancel?: boolean;
}

/** Options of a RecoveringConnection: connect options for every URL, and recovery. */
export interface RecoveringConnectOptions extends ConnectOptions {
  recovery?: RecoveryOptions;
}

/** A reconnection attempt about to be made. */
export interface ReconnectInfo {
  /** 1 for the first retry of this outage. */
  attempt: number;
  /** Milliseconds until it is made. */
  delay: number;
  /** Why the previous attempt failed. */
  error: Error;
  /** host:port it will go to. */
  target: string;
}

/** Events of a RecoveringConnection; every state change is one. */
export type RecoveringConnectionEvents = {
  /** The first connection is open. */
  connect: [connection: Connection];
  /** The connection was lost (socket error, missed heartbeats, a server connection.close). */
  disconnected: [err: Error];
  /** A connection attempt failed; the next comes after `delay`. */
  reconnecting: [info: ReconnectInfo];
  /** Connected again, topology declared again, every channel restored. */
  recovered: [connection: Connection];
  /** maxAttempts ran out: the connection is closed for good ('close' follows). */
  "recovery-failed": [err: Error];
  /** Recovery gave a server-named queue a new name; the old one keeps working in this client. */
  "queue-renamed": [oldName: string, newName: string];
  /**
   * Something recovery could not restore (a declaration refused, a consumer that cannot
   * subscribe); recovery carries on. With no listener: a process warning.
   */
  error: [err: Error];
  /** The broker blocked the connection (resource alarm); publish() waits meanwhile. */
  blocked: [reason: string];
  unblocked: [];
  /** Closed for good: by close() (`err` undefined) or after recovery-failed. */
  close: [err: Error | undefined];
};

/** A broker to connect to: an amqp:// URL or connect options. */
export type RecoveryTarget = string | ConnectOptions;

/**
 * A connection that comes back. When the connection is lost it reconnects (exponential
 * backoff with jitter, round-robin over its URLs), declares again the exchanges, queues
 * (server-named and exclusive ones included) and bindings declared through it, reopens its
 * channels with their QoS, confirm mode and consumers, and sends again the publishes of
 * confirm-mode channels that were not confirmed (at-least-once). Operations issued meanwhile
 * wait, up to their timeout (`operationTimeout`, `publishTimeout`), also while the broker
 * blocks the connection. Nothing it does in the background becomes an unhandled rejection:
 * problems are events.
 *
 * @example
 *   const conn = await RecoveringConnection.connect(["amqp://a:5672", "amqp://b:5672"]);
 *   conn.on("recovered", () => console.log("back"));
 *   const ch = await conn.createChannel();
 *   await ch.confirmSelect();
 *   await ch.publish("", "jobs", "work");
 */
export class RecoveringConnection extends EventEmitter<RecoveringConnectionEvents> {
  /** @internal What to declare again. */
  readonly topology = new TopologyRecorder();
  /** @internal Queues being deleted through this connection: their consumers stay cancelled. */
  readonly deleting = new Set<string>();
  /** @internal */
  readonly recoveryOptions: RecoveryOptions & { resubscribeOnCancel: boolean };
  private readonly targets: ConnectOptions[];
  private readonly connectOptions: ConnectOptions;
  private readonly channels = new Set<RecoveringChannel>();
  private conn: Connection | undefined;
  private scratch: Channel | undefined;
  private index = 0;
  /** Waits in progress (backoff), cut short by close() so that the process can exit. */
  private readonly waits = new Set<() => void>();
  private recovering = false;
  private connectedOnce = false;
  private closing = false;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  /**
   * Starts connecting at once and keeps trying per `recovery` (events tell how it goes);
   * channels may be created before it is connected. RecoveringConnection.connect() instead
   * waits for the first connection and fails if no URL answers.
   */
  constructor(urls: RecoveryTarget | readonly RecoveryTarget[], options: RecoveringConnectOptions = {}) {
    super();
    const list = Array.isArray(urls) ? (urls as readonly RecoveryTarget[]) : [urls as RecoveryTarget];
    if (list.length === 0) throw new TypeError("RecoveringConnection needs at least one URL");
    const { recovery, ...connectOptions } = options;
    this.connectOptions = connectOptions;
    this.targets = list.map((u) => ({ ...(typeof u === "string" ? parseUrl(u) : u), ...connectOptions }));
    this.recoveryOptions = { ...recovery, resubscribeOnCancel: recovery?.resubscribeOnCancel ?? true };
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
    this.begin();
  }

  /**
   * Connects (trying each URL once) and resolves once connected; afterwards it recovers
   * from any loss.
   */
  static async connect(
    urls: RecoveryTarget | readonly RecoveryTarget[],
    options: RecoveringConnectOptions = {},
  ): Promise<RecoveringConnection> {
    const rc = new RecoveringConnection(urls, options);
    try {
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          rc.off("connect", onConnect);
          rc.off("reconnecting", onRetry);
          rc.off("close", onClose);
          if (err) reject(err);
          else resolve();
        };
        const onConnect = () => done();
        const onRetry = (info: ReconnectInfo) => {
          if (info.attempt >= rc.targets.length) done(info.error);
        };
        const onClose = (err: Error | undefined) => done(err ?? new ClosedError("connection is closed"));
        rc.on("connect", onConnect);
        rc.on("reconnecting", onRetry);
        rc.on("close", onClose);
      });
    } catch (e) {
      await rc.close();
      throw e;
    }
    return rc;
  }

  /** The live connection, if any. */
  get connection(): Connection | undefined {
    return this.conn?.isOpen && !this.recovering ? this.conn : undefined;
  }

  /** True while connected and not recovering. */
  get isOpen(): boolean {
    return this.connection !== undefined;
  }

  /** True while the broker blocks the connection. */
  get blocked(): boolean {
    return this.conn?.blocked ?? false;
  }

  /** The reason of the broker's connection.blocked, "" when not blocked. */
  get blockReason(): string {
    return this.conn?.blockReason ?? "";
  }

  /** Resolves when closed for good. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  /**
   * A channel that survives channel errors and reconnections. Resolves once it is open, or at
   * once while the connection is down (it opens when the connection is back).
   */
  async createChannel(options: ChannelOptions = {}): Promise<RecoveringChannel> {
    if (this.closing) throw new ClosedError("connection is closed");
    const o = { ...this.connectOptions, ...options };
    const operationTimeout = o.operationTimeout ?? 30_000;
    const ch = new RecoveringChannel(this, {
      operationTimeout,
      publishTimeout: o.publishTimeout ?? operationTimeout,
      publishWindow: o.publishWindow ?? 1000,
      maxQueuedBytes: o.maxQueuedBytes ?? 64 * 1024 * 1024,
    });
    this.channels.add(ch);
    // Also while a recovery is restoring the other channels on this connection; with no
    // connection, the next recovery opens it.
    const conn = this.conn;
    if (conn?.isOpen) {
      // Open, or given up on after operationTimeout: it keeps trying in the background, and
      // its operations wait for it (with their own timeouts).
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((r) => (timer = setTimeout(r, operationTimeout || 2 ** 31 - 1)));
      await Promise.race([ch.restore(conn).catch(() => {}), late]);
      clearTimeout(timer);
    }
    return ch;
  }

  /**
   * connection.update-secret on the live connection, and the password of later reconnections.
   */
  async updateSecret(newSecret: string, reason = ""): Promise<void> {
    for (const t of this.targets) t.password = newSecret;
    await this.conn?.updateSecret(newSecret, reason);
  }

  /** Closes for good: channels, then the connection. Pending operations reject (ClosedError). */
  async close(): Promise<void> {
    if (this.closing) return this.closedPromise;
    this.closing = true;
    for (const done of [...this.waits]) done();
    for (const ch of [...this.channels]) ch.shutdown(undefined);
    await this.conn?.close();
    this.finish(undefined);
  }

  // ------------------------------------------------------------------ for RecoveringChannel

  /** @internal */
  release(ch: RecoveringChannel): void {
    this.channels.delete(ch);
  }

  /** @internal A queue deleted through this connection: no channel resubscribes its consumers. */
  forgetConsumersOf(queue: string): void {
    for (const ch of this.channels) ch.forgetConsumersOf(queue);
  }

  /**
   * @internal Makes sure a queue exists before a consumer subscribes again: declares it (and
   * its bindings) again if it was declared through this connection, else checks for it
   * passively. False when it does not exist.
   */
  async ensureQueue(name: string): Promise<boolean> {
    if (this.topology.hasQueue(name)) {
      await this.topology.redeclareQueue(
        name,
        () => this.scratchChannel(),
        (e) => this.report(e),
      );
      return true;
    }
    try {
      await (await this.scratchChannel()).queueDeclare(this.topology.resolveQueue(name), { passive: true });
      return true;
    } catch (e) {
      if (e instanceof ChannelError && e.code === ReplyCode.NOT_FOUND) return false;
      throw e;
    }
  }

  /**
   * @internal Waits ms before a retry (the timer keeps the process alive, as a socket would);
   * close() ends every wait at once.
   */
  sleep(ms: number): Promise<void> {
    if (this.closing) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.waits.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.waits.add(done);
    });
  }

  /** @internal Reports a problem recovery works around. */
  report(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    if (this.listenerCount("error") > 0) this.emit("error", err);
    else process.emitWarning(err);
  }

  // ------------------------------------------------------------------ recovery

  private begin(): void {
    const first = !this.connectedOnce;
    this.run(this.recoveryOptions.maxAttempts ?? Infinity, first).catch((e: unknown) => this.giveUp(e));
  }

  /** Connects (round-robin, with backoff) and restores everything; rejects after maxAttempts. */
  private async run(maxAttempts: number, first: boolean): Promise<void> {
    this.recovering = true;
    try {
      for (let attempt = 0; ; attempt++) {
        if (this.closing) throw new ClosedError("connection is closed");
        const target = this.targets[this.index % this.targets.length]!;
        let conn: Connection | undefined;
        try {
          conn = await connect(target);
          await this.adopt(conn, first);
          return;
        } catch (e) {
          const err = e instanceof Error ? e : new Error(String(e));
          if (conn?.isOpen) await conn.close().catch(() => {});
          this.index++;
          if (this.closing || attempt + 1 >= maxAttempts) throw err;
          const delay = backoffDelay(attempt, this.recoveryOptions);
          const next = this.targets[this.index % this.targets.length]!;
          this.emit("reconnecting", {
            attempt: attempt + 1,
            delay,
            error: err,
            target: `${next.hostname ?? "localhost"}:${next.port ?? (next.protocol === "amqps" ? 5671 : 5672)}`,
          });
          await this.sleep(delay);
        }
      }
    } finally {
      this.recovering = false;
    }
  }

  /** A new connection: topology declared again (after a loss), channels restored, events. */
  private async adopt(conn: Connection, first: boolean): Promise<void> {
    conn.on("error", () => {}); // losses are handled (and reported) through 'close'
    conn.on("close", (err) => this.onLost(conn, err));
    conn.on("blocked", (reason) => this.emit("blocked", reason));
    conn.on("unblocked", () => this.emit("unblocked"));
    this.conn = conn;
    if (!first) {
      const renamed = await this.topology.replay(
        () => this.scratchChannel(),
        (e) => this.report(e),
      );
      for (const [from, to] of renamed) this.emit("queue-renamed", from, to);
    }
    for (const ch of [...this.channels]) await ch.restore(conn);
    // Lost again while restoring: that counts as a failed attempt.
    if (this.conn !== conn || !conn.isOpen) throw new ClosedError("connection lost during recovery");
    this.connectedOnce = true;
    this.emit(first ? "connect" : "recovered", conn);
  }

  /** A channel for declarations and checks, reopened after an error closes it. */
  private async scratchChannel(): Promise<Channel> {
    const conn = this.conn;
    if (!conn?.isOpen) throw new ClosedError("connection lost");
    const s = this.scratch;
    if (s?.isOpen && s.connection === conn) return s;
    const ch = await conn.createChannel(this.connectOptions);
    ch.on("error", () => {}); // refusals reach the operation that caused them
    this.scratch = ch;
    return ch;
  }

  private onLost(conn: Connection, err: Error | undefined): void {
    if (conn !== this.conn) return;
    this.conn = undefined;
    if (this.closing) return;
    this.emit("disconnected", err ?? new ClosedError("connection closed"));
    // A recovery in progress notices by itself (its operations fail).
    if (!this.recovering) this.begin();
  }

  private giveUp(e: unknown): void {
    if (this.closing) return;
    const err = e instanceof Error ? e : new Error(String(e));
    this.closing = true;
    for (const done of [...this.waits]) done();
    this.emit("recovery-failed", err);
    for (const ch of [...this.channels]) ch.shutdown(err);
    this.finish(err);
  }

  private finish(err: Error | undefined): void {
    this.resolveClosed();
    this.emit("close", err);
  }
}
