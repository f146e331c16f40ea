import { EventEmitter } from "node:events";
import net from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import {
  AmqpError,
  type BasicProperties,
  ConnectionError,
  decodeMethod,
  encodeProperties,
  type FieldTable,
  FrameReader,
  FrameType,
  type Method,
  type MethodInit,
  PROTOCOL_HEADER,
  ReplyCode,
  unexpectedFrame,
  Writer,
  writeHeartbeat,
  writeMethodFrame,
  writeMethodWithContent,
} from "@warren/protocol";
import { Channel } from "./channel.js";
import type { ChannelOptions } from "./channel-types.js";
import { BlockedError, ClosedError, TimeoutError } from "./errors.js";
import { type ConnectionEvents, type ConnectOptions, replyTextBody } from "./connection-types.js";
import { startOk, tune, watchHeartbeats } from "./handshake.js";
import { memoryBrokerName, memoryTransport } from "./memory-transport.js";
import { parseUrl } from "./url.js";

/** Pending output beyond this makes publish() return false. */
const HIGH_WATER = 1 << 20;
/** Output smaller than this is copied out at flush and the write buffer reused. */
const COPY_MAX = 16 * 1024;
/** A write buffer grown beyond this by a big message is not kept after flush. */
const KEEP_MAX = 256 * 1024;
const INITIAL_OUT = 64 * 1024;

type State = "opening" | "open" | "closing" | "closed";

/**
 * Connects to a broker and opens an AMQP connection: PLAIN (or EXTERNAL) authentication,
 * tune negotiation, then connection.open on the vhost.
 *
 * @param url an amqp:// or amqps:// URL, or options
 * @param overrides options applied over those parsed from the URL (a `tls` object here is
 *   merged into the URL's)
 * @example
 *   const conn = await connect("amqp://guest:guest@localhost:5672/");
 *   const ch = await conn.createChannel();
 * @example
 *   // TLS with a client certificate, logging in as the certificate's CN
 *   const conn = await connect("amqps://broker.example.com?auth_mechanism=external", {
 *     tls: { ca: readFileSync("ca.pem"), cert: readFileSync("client.pem"), key: readFileSync("client.key") },
 *   });
 */
export function connect(
  url: string | ConnectOptions = {},
  overrides: ConnectOptions = {},
): Promise<Connection> {
  const base = typeof url === "string" ? parseUrl(url) : url;
  const merged: ConnectOptions = { ...base, ...overrides };
  if (base.tls && overrides.tls) merged.tls = { ...base.tls, ...overrides.tls };
  return Connection.open(merged);
}

/**
 * An AMQP 0-9-1 connection. Obtain one with connect(); open channels with createChannel().
 *
 * Output from every channel goes into one buffer that is written to the socket once per
 * event-loop turn (setImmediate), so a burst of publishes or acks costs one syscall.
 */
export class Connection extends EventEmitter<ConnectionEvents> {
  /** The server's connection.start properties (product, version, capabilities, …). */
  serverProperties: FieldTable = {};
  /** Negotiated largest frame size in bytes (0: unlimited). */
  frameMax = 0;
  /** Negotiated highest channel number. */
  channelMax = 0;
  /** Negotiated heartbeat interval in seconds (0: none). */
  heartbeat = 0;
  private state: State = "opening";
  private _blocked = false;
  private _blockReason = "";
  private secretUpdate:
    { resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  /** A TCP or TLS socket, or the stream of options.transport. */
  private readonly socket: Duplex;
  /** Bytes in and out, for the heartbeat watch (a transport's stream may not count them). */
  private readonly traffic = { bytesRead: 0, bytesWritten: 0 };
  private readonly reader = new FrameReader(0);
  private readonly out = new Writer(INITIAL_OUT);
  /** Reused to encode publish properties before they are copied into `out`. */
  private readonly props = new Writer(256);
  private readonly channels = new Map<number, Channel>();
  private nextChannelId = 1;
  private flushScheduled = false;
  private needDrain = false;
  private awaitingHeader = true;
  private socketError: Error | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private opening: { resolve: (c: Connection) => void; reject: (e: Error) => void } | undefined;
  /** How far the handshake got, for a useful error when the server just hangs up. */
  private stage = "connecting";
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;
  private closeError: Error | undefined;
  private readonly flushNow = () => this.flush();

  /** Use connect(). */
  static async open(options: ConnectOptions): Promise<Connection> {
    // protocol "memory" without a transport: options written by hand rather than parsed.
    const transport =
      options.transport ??
      (options.protocol === "memory"
        ? memoryTransport(memoryBrokerName(options.hostname ?? ""), options.vhost ?? "/")
        : undefined);
    const stream = transport ? await transport() : undefined;
    return new Promise((resolve, reject) => {
      new Connection(options, { resolve, reject }, stream);
    });
  }

  private constructor(
    private readonly options: ConnectOptions,
    opening: { resolve: (c: Connection) => void; reject: (e: Error) => void },
    stream: Duplex | undefined,
  ) {
    super();
    this.opening = opening;
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
    this.socket = stream ?? this.connectSocket(options);
    // A transport's stream comes connected.
    if (stream) this.stage = "waiting for connection.start";
    const s = this.socket;
    s.on("data", (chunk: Buffer) => this.onData(chunk));
    s.on("error", (e) => (this.socketError ??= e));
    s.on("close", () => this.onSocketClose());
    s.on("drain", () => this.maybeDrain());
    // Queued by the socket until it connects.
    s.write(PROTOCOL_HEADER);
    const ms = options.connectionTimeout ?? 10_000;
    this.timers.push(
      setTimeout(() => {
        if (this.state !== "opening") return;
        const err = new Error(`connection timeout after ${ms} ms (${this.stage})`);
        s.destroy(Object.assign(err, { code: "ETIMEDOUT" }));
      }, ms),
    );
  }

  /** A TCP connection to hostname:port, TLS for amqps. */
  private connectSocket(options: ConnectOptions): Duplex {
    const secure = options.protocol === "amqps";
    const host = options.hostname ?? "localhost";
    const port = options.port ?? (secure ? 5671 : 5672);
    const s = secure
      ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...options.tls })
      : net.connect({ host, port });
    s.setNoDelay(true);
    if (options.keepAlive) s.setKeepAlive(true, options.keepAlive === true ? 60_000 : options.keepAlive);
    s.on(secure ? "secureConnect" : "connect", () => (this.stage = "waiting for connection.start"));
    return s;
  }

  /** True while the server has us blocked (connection.blocked). */
  get blocked(): boolean {
    return this._blocked;
  }

  /** The reason of the server's connection.blocked ("" when not blocked). */
  get blockReason(): string {
    return this._blocked ? this._blockReason : "";
  }

  /** True until the connection is closing or closed. */
  get isOpen(): boolean {
    return this.state === "open";
  }

  /** Resolves when the connection is closed, for whatever reason. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  /**
   * False when more output is buffered than the high-water mark (1 MiB), or the server
   * blocked us: publishers should wait for 'drain'.
   */
  get writable(): boolean {
    if (!this._blocked && this.out.pos + this.socket.writableLength < HIGH_WATER) return true;
    this.needDrain = true;
    return false;
  }

  /** Opens a channel; its options default to the connection's. */
  async createChannel(options: ChannelOptions = {}): Promise<Channel> {
    if (this.state !== "open") throw this.closedError();
    const id = this.allocateChannelId();
    const o = { ...this.options, ...options };
    const operationTimeout = o.operationTimeout ?? 30_000;
    const ch = new Channel(this, id, {
      operationTimeout,
      publishTimeout: o.publishTimeout ?? operationTimeout,
      publishWindow: o.publishWindow ?? 1000,
      maxQueuedBytes: o.maxQueuedBytes ?? 64 * 1024 * 1024,
    });
    this.channels.set(id, ch);
    await ch.open();
    return ch;
  }

  /**
   * Closes the connection cleanly: connection.close, then close-ok from the server. Channels
   * are closed with it; their pending operations reject with a ClosedError.
   */
  close(): Promise<void> {
    if (this.state === "opening") this.socket.destroy();
    if (this.state !== "open") return this.closedPromise;
    this.state = "closing";
    writeMethodFrame(this.out, 0, {
      name: "connection.close",
      replyCode: ReplyCode.REPLY_SUCCESS,
      replyText: "Goodbye",
      classId: 0,
      methodId: 0,
    });
    this.flush();
    const t = setTimeout(() => this.socket.destroy(), 5000);
    t.unref();
    this.timers.push(t);
    return this.closedPromise;
  }

  /**
   * Gives the broker a new secret for this connection's user (connection.update-secret), e.g.
   * a refreshed OAuth 2 token, without reconnecting. Resolves on update-secret-ok.
   */
  updateSecret(
    newSecret: string,
    reason = "",
    timeout = this.options.operationTimeout ?? 30_000,
  ): Promise<void> {
    if (this.state !== "open") return Promise.reject(this.closedError());
    if (this.secretUpdate) return Promise.reject(new Error("a secret update is already in progress"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.secretUpdate = undefined;
          reject(
            this._blocked
              ? new BlockedError("connection.update-secret", timeout, this._blockReason)
              : new TimeoutError(`connection.update-secret timed out after ${timeout} ms`, timeout),
          );
        },
        timeout || 2 ** 31 - 1,
      );
      timer.unref();
      this.secretUpdate = { resolve, reject, timer };
      this.sendMethod(0, { name: "connection.update-secret", newSecret, reason });
    });
  }

  // ------------------------------------------------------------------ for Channel

  /** @internal Appends a method frame; flushed at the end of the event-loop turn. */
  sendMethod(channel: number, m: MethodInit): void {
    writeMethodFrame(this.out, channel, m);
    this.scheduleFlush();
  }

  /** @internal Appends basic.publish with its content header and body frames. */
  sendPublish(
    channel: number,
    exchange: string,
    routingKey: string,
    mandatory: boolean,
    properties: BasicProperties,
    body: Buffer,
  ): void {
    const p = this.props;
    p.pos = 0;
    encodeProperties(p, properties);
    writeMethodWithContent(
      this.out,
      channel,
      { name: "basic.publish", exchange, routingKey, mandatory },
      p.buf.subarray(0, p.pos),
      body,
      this.frameMax,
    );
    this.scheduleFlush();
  }

  /** @internal The channel is fully closed: its number may be reused. */
  releaseChannel(ch: { readonly id: number }): void {
    if (this.channels.get(ch.id) === ch) this.channels.delete(ch.id);
  }

  /** @internal The error for an operation attempted after close. */
  closedError(): Error {
    return new ClosedError("connection is closed", this.closeError ? { cause: this.closeError } : undefined);
  }

  // ------------------------------------------------------------------ output

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushNow);
  }

  private flush(): void {
    this.flushScheduled = false;
    const out = this.out;
    if (out.pos === 0 || this.socket.destroyed) {
      out.pos = 0;
      return;
    }
    let chunk: Buffer;
    if (out.pos < COPY_MAX) {
      // Small output: copy it out and keep the buffer.
      chunk = Buffer.allocUnsafe(out.pos);
      out.buf.copy(chunk, 0, 0, out.pos);
    } else {
      // Big output: hand the buffer itself to the socket and start a new one, a small one
      // again if a large message had grown it.
      chunk = out.buf.subarray(0, out.pos);
      out.buf = Buffer.allocUnsafe(out.buf.length > KEEP_MAX ? INITIAL_OUT : out.buf.length);
    }
    out.pos = 0;
    this.traffic.bytesWritten += chunk.length;
    if (this.socket.write(chunk)) this.maybeDrain();
  }

  private maybeDrain(): void {
    if (!this.needDrain || !this.writable) return;
    this.needDrain = false;
    this.emit("drain");
    for (const ch of this.channels.values()) ch.onDrain();
  }

  // ------------------------------------------------------------------ input

  private onData(chunk: Buffer): void {
    if (this.state === "closed") return;
    this.traffic.bytesRead += chunk.length;
    if (this.awaitingHeader) {
      this.awaitingHeader = false;
      // A server that does not speak 0-9-1 answers with its own protocol header and hangs up.
      if (chunk[0] === 0x41) {
        this.fail(
          new ClosedError(
            `server refused AMQP 0-9-1 (it offers ${JSON.stringify(chunk.toString("latin1"))})`,
          ),
        );
        return;
      }
    }
    try {
      this.reader.push(chunk, this.onFrame);
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private readonly onFrame = (
    type: number,
    channel: number,
    buf: Buffer,
    start: number,
    end: number,
  ): void => {
    if (this.state === "closed") return;
    if (channel === 0) {
      if (type === FrameType.METHOD) this.onConnectionMethod(decodeMethod(buf, start, end));
      else if (type !== FrameType.HEARTBEAT) throw unexpectedFrame(`frame type ${type} on channel 0`);
      return;
    }
    const ch = this.channels.get(channel);
    // Frames for a channel we already let go of (e.g. deliveries racing our close) are dropped.
    if (ch) ch.onFrame(type, buf, start, end);
  };

  private onConnectionMethod(m: Method): void {
    switch (m.name) {
      case "connection.start":
        return this.onStart(m.serverProperties, m.mechanisms);
      case "connection.tune":
        return this.onTune(m.channelMax, m.frameMax, m.heartbeat);
      case "connection.open-ok": {
        if (this.state !== "opening") break;
        this.state = "open";
        this.stage = "open";
        this.startHeartbeat();
        const o = this.opening;
        this.opening = undefined;
        o?.resolve(this);
        return;
      }
      case "connection.close": {
        writeMethodFrame(this.out, 0, { name: "connection.close-ok" });
        this.flush();
        this.socket.end();
        this.finish(
          new ConnectionError(m.replyCode, replyTextBody(m.replyCode, m.replyText), m.classId, m.methodId),
        );
        return;
      }
      case "connection.close-ok":
        this.socket.end();
        this.finish(undefined);
        return;
      case "connection.blocked":
        this._blocked = true;
        this._blockReason = m.reason;
        this.emit("blocked", m.reason);
        return;
      case "connection.unblocked":
        this._blocked = false;
        this.emit("unblocked");
        this.maybeDrain();
        return;
      case "connection.update-secret-ok": {
        const u = this.secretUpdate;
        this.secretUpdate = undefined;
        if (u) {
          clearTimeout(u.timer);
          u.resolve();
        }
        return;
      }
      default:
        break;
    }
    throw unexpectedFrame(`unexpected ${m.name} on channel 0`);
  }

  private onStart(serverProperties: FieldTable, mechanisms: string): void {
    if (this.state !== "opening" || this.stage !== "waiting for connection.start") {
      throw unexpectedFrame("unexpected connection.start");
    }
    this.serverProperties = serverProperties;
    const m = startOk(this.options, mechanisms);
    this.stage = "authenticating";
    this.sendMethod(0, m);
  }

  private onTune(channelMax: number, frameMax: number, heartbeat: number): void {
    if (this.state !== "opening" || this.stage !== "authenticating") {
      throw unexpectedFrame("unexpected connection.tune");
    }
    const t = tune(this.options, { channelMax, frameMax, heartbeat });
    this.channelMax = t.channelMax;
    this.frameMax = t.frameMax;
    this.heartbeat = t.heartbeat;
    this.reader.frameMax = this.frameMax;
    this.stage = "opening the vhost";
    this.sendMethod(0, { name: "connection.tune-ok", ...t });
    this.sendMethod(0, { name: "connection.open", virtualHost: this.options.vhost ?? "/" });
  }

  private startHeartbeat(): void {
    if (this.heartbeat <= 0) return;
    const beat = () => {
      // Output about to be flushed counts as traffic.
      if (this.flushScheduled) return;
      writeHeartbeat(this.out);
      this.flush();
    };
    this.timers.push(watchHeartbeats(this.traffic, this.socket, this.heartbeat, beat));
  }

  private allocateChannelId(): number {
    const max = this.channelMax;
    for (let i = 0; i < max; i++) {
      const id = ((this.nextChannelId - 1 + i) % max) + 1;
      if (!this.channels.has(id)) {
        this.nextChannelId = (id % max) + 1;
        return id;
      }
    }
    throw new ClosedError(`no free channel (channel_max ${max})`);
  }

  /** A protocol-level failure on our side: tell the server, then drop the connection. */
  private fail(err: Error): void {
    if (this.state === "closed") return;
    if (err instanceof AmqpError && this.state !== "opening") {
      writeMethodFrame(this.out, 0, {
        name: "connection.close",
        replyCode: err.code,
        replyText: err.replyText.slice(0, 255),
        classId: err.classId,
        methodId: err.methodId,
      });
      this.flush();
    }
    this.socket.end();
    this.finish(err);
  }

  private onSocketClose(): void {
    if (this.state === "closed") return;
    if (this.state === "closing") return this.finish(undefined);
    const cause = this.socketError;
    if (this.state === "opening") {
      // connect() rejects with the socket's own error (ECONNREFUSED, ETIMEDOUT…) when there
      // is one, so that err.code works as callers expect.
      if (cause) return this.finish(cause);
      const hint = this.stage === "authenticating" ? " (wrong username or password?)" : "";
      return this.finish(new ClosedError(`connection closed by the server while ${this.stage}${hint}`));
    }
    const text = cause ? `connection lost: ${cause.message}` : "connection lost";
    this.finish(new ClosedError(text, cause ? { cause } : undefined));
  }

  /** Everything ends here, once: channels, timers, the open promise, events. */
  private finish(err: Error | undefined): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.closeError = err;
    for (const t of this.timers) clearTimeout(t);
    this.timers.length = 0;
    const channelErr = err ?? new ClosedError("connection closed");
    for (const ch of [...this.channels.values()]) ch.terminate(channelErr);
    this.channels.clear();
    if (!this.socket.destroyed) {
      if (!this.socket.writableEnded) this.socket.end();
      // Give the peer a moment to read our last frames, but do not wait forever.
      setTimeout(() => this.socket.destroy(), 1000).unref();
    }
    const u = this.secretUpdate;
    this.secretUpdate = undefined;
    if (u) {
      clearTimeout(u.timer);
      u.reject(channelErr);
    }
    const o = this.opening;
    this.opening = undefined;
    this.resolveClosed();
    if (o) {
      // Never opened: the caller of connect() gets the error, no events.
      o.reject(err ?? new ClosedError("connection closed during the handshake"));
      return;
    }
    if (err) {
      // Nobody listening: a warning rather than silence, and never an uncaught exception.
      if (this.listenerCount("error") > 0) this.emit("error", err);
      else process.emitWarning(err);
    }
    this.emit("close", err);
  }
}
