import { Socket } from "node:net";
import type { AmqpSocket } from "./in-process-socket.js";
import {
  AmqpError,
  ChannelError,
  ConnectionError,
  decodeMethod,
  FrameReader,
  FrameType,
  frameError,
  isHardError,
  type Method,
  type MethodInit,
  PROTOCOL_HEADER,
  ReplyCode,
  METHOD_IDS,
  truncateUtf8,
  Writer,
  writeMethodFrame,
} from "@warren/protocol";
import type { User } from "../auth/users.js";
import type { Logger } from "../logger.js";
import type { BrokerCounters } from "../stats.js";
import type { VHost } from "../vhost.js";
import { ConsumerRemoval } from "../queue/consumer.js";
import { Channel } from "./channel.js";
import {
  unmapped,
  checkTuneOk,
  connectionStart,
  decodeConnectionMethod,
  type HeartbeatTarget,
  offeredMechanisms,
  watchHeartbeats,
} from "./handshake.js";
import { type TlsPeer, tlsPeer } from "./tls-peer.js";

/** What a connection needs from the broker that accepted it. */
export interface ConnectionHost {
  readonly serverProperties: Record<string, unknown>;
  readonly limits: {
    channelMax: number;
    frameMax: number;
    heartbeat: number;
    handshakeTimeoutMs: number;
    consumerTimeoutMs: number;
    /** How long a failed login waits for its refusal. */
    authFailureDelayMs: number;
    /** Largest message body accepted (max_message_size). */
    maxMessageSize: number;
    /** Unacked deliveries a channel without any prefetch may hold. */
    maxUnackedPerChannel: number;
  };
  readonly counters: BrokerCounters;
  readonly log: Logger;
  /** The user a start-ok logs in as; peer: the TLS facts of a TLS connection (for EXTERNAL). */
  authenticate(
    mechanism: string,
    response: Buffer,
    remoteAddress: string | undefined,
    peer?: TlsPeer,
  ): User | undefined;
  vhost(name: string): VHost | undefined;
  /** Throws the ConnectionError that refuses c's connection.open to vhost (connection limits). */
  admitConnection(c: Connection, vhost: VHost): void;
  /** Throws the ConnectionError that refuses one more channel on c (the user's max-channels). */
  admitChannel(c: Connection): void;
  connectionClosed(c: Connection): void;
}

type State = "header" | "start" | "tune" | "open" | "running" | "closing" | "closed";

/** Pending output beyond this stops deliveries until the socket catches up. */
const HIGH_WATER = 1 << 20;
/**
 * Milliseconds of uninterrupted work on one connection's input before it yields to the event
 * loop (see onData). Normal traffic seldom reaches it; a pipelined flood does every few chunks.
 */
const BURST_MS = 25;
/** How long a client that sent connection.close gets to close its socket. */
const CLOSE_LINGER_MS = 5000;

/**
 * One client connection: the handshake, frame dispatch to channels, one output buffer
 * flushed once per event-loop turn, heartbeats, and connection-level errors.
 */
export class Connection implements HeartbeatTarget {
  readonly out = new Writer(64 * 1024);
  readonly capabilities = { consumerCancelNotify: false, authFailureClose: false, connectionBlocked: false };
  frameMax = 131072;
  channelMax = 2047;
  heartbeat = 0;
  user: User | undefined;
  vhost: VHost | undefined;
  clientProperties: Record<string, unknown> = {};
  /** The SASL mechanism the client logged in with (management views). */
  authMechanism = "";
  private state: State = "header";
  private readonly reader: FrameReader;
  /** Open channels by number (read by management views). */
  readonly channels = new Map<number, Channel>();
  private header = Buffer.alloc(0);
  private flushScheduled = false;
  private socketBlocked = false;
  private throttled = false;
  private timers: NodeJS.Timeout[] = [];
  private readonly flushNow = () => this.flush();
  /**
   * A TCP or TLS socket has copied a chunk into the kernel (or TLS) once its write completes,
   * so the writer may reuse it then. An in-process socket hands the chunk itself to the peer,
   * whose messages may be views of it: never reused.
   */
  private readonly recycles: boolean;
  /** Chunks handed to the socket, oldest first, until their write completes (onWritten). */
  private readonly written: Buffer[] = [];
  private readonly onWritten = (err?: Error | null): void => {
    const chunk = this.written.shift();
    if (chunk !== undefined && !err) this.out.recycle(chunk);
  };
  /** When the socket was accepted (ms since the epoch), for the management API. */
  readonly connectedAt = Date.now();
  private closeCounted = false;
  /** RabbitMQ's connection name, "peer_host:peer_port -> host:port"; fixed at accept. */
  readonly name: string;
  readonly peerHost: string;
  readonly peerPort: number;
  /** Why it ended, for the log: the connection.close sent or received, or what happened instead. */
  closeReason: { by: "client" | "broker"; code: number; text: string } | undefined;

  constructor(
    readonly socket: AmqpSocket,
    private readonly host: ConnectionHost,
  ) {
    this.peerHost = unmapped(socket.remoteAddress ?? "");
    this.peerPort = socket.remotePort ?? 0;
    this.name = `${this.peerHost}:${this.peerPort} -> ${unmapped(socket.localAddress ?? "")}:${socket.localPort ?? 0}`;
    host.counters.connectionsOpened++;
    this.reader = new FrameReader(host.limits.frameMax);
    this.recycles = socket instanceof Socket;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("drain", () => {
      this.socketBlocked = false;
      this.resume();
    });
    socket.on("error", () => this.teardown());
    socket.on("close", () => this.teardown());
    const t = setTimeout(() => {
      if (this.state === "running" || this.state === "closed") return;
      this.closeReason ??= { by: "broker", code: 0, text: "handshake timeout" };
      this.teardown();
    }, host.limits.handshakeTimeoutMs);
    this.timers.push(t);
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get counters(): BrokerCounters {
    return this.host.counters;
  }

  /** Open: past connection.open-ok (counted by the connection limits). */
  get isOpen(): boolean {
    return this.state === "running";
  }

  get maxUnackedPerChannel(): number {
    return this.host.limits.maxUnackedPerChannel;
  }

  get maxMessageSize(): number {
    return this.host.limits.maxMessageSize;
  }

  /** RabbitMQ's words for the state: starting (handshake), running, closing, closed. */
  get stateName(): "starting" | "running" | "closing" | "closed" {
    const st = this.state;
    return st === "running" || st === "closing" || st === "closed" ? st : "starting";
  }

  get consumerTimeoutMs(): number {
    return this.host.limits.consumerTimeoutMs;
  }

  /** Closes one channel with a soft error raised outside frame handling (e.g. a timer). */
  channelError(ch: Channel, err: AmqpError): void {
    if (this.channels.get(ch.id) === ch && !ch.closing) this.fail(err, ch);
  }

  /** Resource alarms (memory, disk): publishes pause the socket until they clear. */
  private alarmed = false;
  private alarmReason = "";
  private pausedByAlarm = false;
  private blockedSent = false;

  /**
   * The broker raised or cleared its resource alarms; reason: RabbitMQ's text for those on
   * ("low on memory"). A second alarm while blocked changes only the reason of a later block.
   */
  setAlarm(on: boolean, reason: string): void {
    if (on) this.alarmReason = reason;
    if (this.alarmed === on) return;
    this.alarmed = on;
    if (on) {
      if (this.state === "running") this.sendBlocked();
    } else if (this.blockedSent) {
      this.blockedSent = false;
      this.sendMethod(0, { name: "connection.unblocked" });
    }
    if (!on && this.pausedByAlarm) {
      this.pausedByAlarm = false;
      this.resumeReading();
    }
  }

  private sendBlocked(): void {
    if (this.blockedSent || !this.capabilities.connectionBlocked) return;
    this.blockedSent = true;
    this.sendMethod(0, { name: "connection.blocked", reason: this.alarmReason });
    this.flush();
  }

  /** A publish arrived: while an alarm is on, stop reading this socket (as RabbitMQ does). */
  onPublish(): void {
    if (this.alarmed && !this.pausedByAlarm) {
      this.sendBlocked();
      this.pausedByAlarm = true;
      this.socket.pause();
    }
  }

  /** Room in the output buffer for more deliveries? */
  get canWrite(): boolean {
    if (!this.socketBlocked && this.out.pos < HIGH_WATER) return true;
    this.throttled = true;
    return false;
  }

  // ------------------------------------------------------------------ output

  /** HeartbeatTarget: output is already due to go out. */
  get flushPending(): boolean {
    return this.flushScheduled;
  }

  scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushNow);
  }

  flush(): void {
    this.flushScheduled = false;
    if (this.state === "closed") return;
    for (const ch of this.channels.values()) ch.flushConfirms();
    if (this.out.pos === 0) return;
    const chunk = this.out.take();
    let ok: boolean;
    if (this.recycles) {
      this.written.push(chunk);
      ok = this.socket.write(chunk, this.onWritten);
    } else ok = this.socket.write(chunk);
    if (!ok) this.socketBlocked = true;
    if (this.throttled && !this.socketBlocked) this.resume();
  }

  private resume(): void {
    if (!this.throttled) return;
    this.throttled = false;
    for (const ch of this.channels.values()) ch.resume();
  }

  private sendMethod(channel: number, m: MethodInit): void {
    writeMethodFrame(this.out, channel, m);
    this.scheduleFlush();
  }

  // ------------------------------------------------------------------ input

  private onData(chunk: Buffer): void {
    if (this.state === "closed") return;
    const t0 = performance.now();
    // Work on this connection with no gap since the last chunk is one burst (libuv reads a
    // socket up to 32 times in a row); a gap means other connections had their turn.
    if (t0 - this.lastDataEnd > 1) this.busyMs = 0;
    try {
      if (this.state === "header") {
        chunk = this.readProtocolHeader(chunk);
        if (chunk.length === 0) return;
      }
      this.reader.push(chunk, this.onFrame);
    } catch (e) {
      this.fail(e, undefined);
    }
    const t1 = performance.now();
    this.lastDataEnd = t1;
    this.busyMs += t1 - t0;
    if (this.busyMs >= BURST_MS && !this.yielding) {
      // One connection's flood (50,000 pipelined declares) must not hold the event loop for all
      // that its socket has buffered: after BURST_MS of work, let the other connections run.
      this.yielding = true;
      this.socket.pause();
      setImmediate(this.endYield);
    }
  }

  private busyMs = 0;
  private lastDataEnd = 0;
  private yielding = false;
  private refusingLogin = false;
  private readonly endYield = (): void => {
    this.yielding = false;
    this.busyMs = 0;
    this.resumeReading();
  };

  /** Reads again unless something else still holds the socket paused. */
  private resumeReading(): void {
    if (this.state === "closed" || this.yielding || this.pausedByAlarm || this.refusingLogin) return;
    this.socket.resume();
  }

  private readProtocolHeader(chunk: Buffer): Buffer {
    const need = 8 - this.header.length;
    this.header = Buffer.concat([this.header, chunk.subarray(0, need)]);
    if (this.header.length < 8) return Buffer.alloc(0);
    if (!this.header.equals(PROTOCOL_HEADER)) {
      this.closeReason = { by: "broker", code: 0, text: "bad protocol header" };
      this.state = "closed";
      this.socket.end(PROTOCOL_HEADER);
      return Buffer.alloc(0);
    }
    this.state = "start";
    this.sendMethod(0, connectionStart(this.host.serverProperties, this.socket));
    return chunk.subarray(need);
  }

  private readonly onFrame = (
    type: number,
    channel: number,
    buf: Buffer,
    start: number,
    end: number,
  ): void => {
    if (this.state === "closed") return;
    if (type === FrameType.METHOD) {
      const m = channel === 0 ? decodeConnectionMethod(buf, start, end) : decodeMethod(buf, start, end);
      if (channel === 0) this.onConnectionMethod(m);
      else this.onChannelMethod(channel, m);
    } else if (type === FrameType.HEADER || type === FrameType.BODY) {
      const ch = this.channels.get(channel);
      if (this.state === "closing") return;
      if (!ch)
        throw new ConnectionError(ReplyCode.CHANNEL_ERROR, `unexpected content frame on channel ${channel}`);
      if (ch.closing) return;
      try {
        if (type === FrameType.HEADER) ch.handleHeader(buf, start, end);
        else ch.handleBody(buf, start, end);
      } catch (e) {
        // Content belongs to a basic.publish: a channel error names it, as RabbitMQ's do;
        // frame-level (connection) errors name no method.
        this.fail(e, ch, e instanceof ChannelError ? METHOD_IDS["basic.publish"] : undefined);
      }
    } else if (type === FrameType.HEARTBEAT) {
      if (channel !== 0) throw frameError("heartbeat frame on a non-zero channel");
    } else throw frameError(`unknown frame type ${type}`);
  };

  private onChannelMethod(id: number, m: Method): void {
    if (this.state === "closing") return;
    if (this.state !== "running")
      throw new ConnectionError(ReplyCode.CHANNEL_ERROR, "channel method before connection.open");
    const ch = this.channels.get(id);
    if (m.name === "channel.open") {
      const ids = METHOD_IDS["channel.open"];
      if (ch) throw new ConnectionError(ReplyCode.CHANNEL_ERROR, "second 'channel.open' seen", ...ids);
      if (id > this.channelMax)
        throw new ConnectionError(ReplyCode.CHANNEL_ERROR, `channel ${id} above channel_max`, ...ids);
      if (this.user!.limits) this.host.admitChannel(this);
      this.channels.set(id, new Channel(id, this, this.vhost!));
      this.sendMethod(id, { name: "channel.open-ok" });
      return;
    }
    if (!ch) throw new ConnectionError(ReplyCode.CHANNEL_ERROR, `expected 'channel.open' on channel ${id}`);
    if (m.name === "channel.close") {
      ch.cleanup();
      this.channels.delete(id);
      this.sendMethod(id, { name: "channel.close-ok" });
      return;
    }
    if (m.name === "channel.close-ok") {
      if (ch.closing) this.channels.delete(id);
      return;
    }
    if (ch.closing) return;
    try {
      ch.handleMethod(m);
    } catch (e) {
      this.fail(e, ch, METHOD_IDS[m.name]);
    }
  }

  /**
   * Handles an error: channel.close for soft codes, connection.close for hard ones. ids: the
   * class and method being handled, reported when the error names none itself.
   */
  private fail(e: unknown, ch: Channel | undefined, ids?: readonly [number, number]): void {
    if (!(e instanceof AmqpError))
      this.host.log.error(`internal error on connection ${this.name}`, { err: e });
    const err = e instanceof AmqpError ? e : new ConnectionError(ReplyCode.INTERNAL_ERROR, String(e));
    let classId = err.classId;
    let methodId = err.methodId;
    if (classId === 0 && ids) {
      classId = ids[0];
      methodId = ids[1];
    }
    if (ch && !isHardError(err.code)) {
      ch.closing = true;
      ch.cleanup();
      this.sendMethod(ch.id, {
        name: "channel.close",
        replyCode: err.code,
        replyText: err.replyText,
        classId,
        methodId,
      });
      return;
    }
    this.closeWithError(err.code, err.replyText, classId, methodId);
  }

  /** Sends connection.close and waits (briefly) for close-ok. */
  closeWithError(code: number, text: string, classId = 0, methodId = 0): void {
    if (this.state === "closing" || this.state === "closed") return;
    const handshaking = this.state !== "running";
    this.closeReason ??= { by: "broker", code, text };
    this.state = "closing";
    this.cleanupChannels();
    this.sendMethod(0, {
      name: "connection.close",
      replyCode: code,
      replyText: truncateUtf8(text),
      classId,
      methodId,
    });
    this.flush();
    // During the handshake RabbitMQ does not wait for close-ok.
    if (handshaking) this.socket.end();
    this.timers.push(setTimeout(() => this.teardown(), 1000));
  }

  private onConnectionMethod(m: Method): void {
    switch (m.name) {
      case "connection.start-ok":
        if (this.state !== "start") break;
        return this.onStartOk(m.clientProperties, m.mechanism, m.response);
      case "connection.tune-ok":
        if (this.state !== "tune") break;
        return this.onTuneOk(m.channelMax, m.frameMax, m.heartbeat);
      case "connection.open":
        if (this.state !== "open") break;
        return this.onOpen(m.virtualHost);
      case "connection.close":
        this.closeReason ??= { by: "client", code: m.replyCode, text: m.replyText };
        this.sendMethod(0, { name: "connection.close-ok" });
        this.flush();
        this.state = "closed";
        this.socket.end();
        this.teardown(true);
        return;
      case "connection.close-ok":
        this.teardown();
        return;
      case "connection.update-secret":
        if (this.state === "closing") return; // nothing follows our connection.close
        this.sendMethod(0, { name: "connection.update-secret-ok" });
        return;
      case "connection.blocked":
      case "connection.unblocked":
        return;
      default:
        if (this.state === "closing") return;
        throw new ConnectionError(ReplyCode.COMMAND_INVALID, `unexpected method ${m.name} on channel 0`);
    }
    if (this.state === "closing") return;
    throw new ConnectionError(
      ReplyCode.COMMAND_INVALID,
      `unexpected method ${m.name} in state ${this.state}`,
    );
  }

  private onStartOk(clientProperties: Record<string, unknown>, mechanism: string, response: string): void {
    this.clientProperties = clientProperties;
    this.authMechanism = mechanism;
    const caps = (clientProperties.capabilities ?? {}) as Record<string, unknown>;
    this.capabilities.consumerCancelNotify = caps.consumer_cancel_notify === true;
    this.capabilities.authFailureClose = caps.authentication_failure_close === true;
    this.capabilities.connectionBlocked = caps["connection.blocked"] === true;
    // A mechanism not offered (EXTERNAL on plaintext, unknown): RabbitMQ hangs up after the
    // failed-login delay with no connection.close ("invalid authentication mechanism").
    if (!offeredMechanisms(this.socket).includes(mechanism)) return this.refuseLogin(mechanism, true);
    const user = this.host.authenticate(
      mechanism,
      Buffer.from(response, "latin1"),
      this.remoteAddress,
      tlsPeer(this.socket),
    );
    if (!user) return this.refuseLogin(mechanism);
    this.user = user;
    this.state = "tune";
    const l = this.host.limits;
    this.sendMethod(0, {
      name: "connection.tune",
      channelMax: l.channelMax,
      frameMax: l.frameMax,
      heartbeat: l.heartbeat,
    });
  }

  /**
   * A failed login is answered only after limits.authFailureDelayMs (3 s, as RabbitMQ's
   * SILENT_CLOSE_DELAY), so that one connection cannot try passwords at network speed. The
   * delay is a timer, not a stall: other connections go on, and this one reads nothing more.
   * silent: hang up without connection.close even for clients that asked for one.
   */
  private refuseLogin(mechanism: string, silent = false): void {
    this.closeReason = { by: "broker", code: ReplyCode.ACCESS_REFUSED, text: "login refused" };
    this.state = "closing";
    this.refusingLogin = true;
    this.socket.pause();
    const refuse = () => {
      if (this.capabilities.authFailureClose && !silent) {
        this.state = "start"; // closeWithError: a handshake-time close, no close-ok awaited
        this.closeWithError(
          ReplyCode.ACCESS_REFUSED,
          `ACCESS_REFUSED - Login was refused using authentication mechanism ${mechanism}. For details see the broker logfile.`,
        );
      } else {
        this.state = "closed";
        this.socket.destroy();
        this.teardown();
      }
    };
    const delay = this.host.limits.authFailureDelayMs;
    if (delay <= 0) return refuse();
    const t = setTimeout(refuse, delay);
    t.unref();
    this.timers.push(t);
  }

  private onTuneOk(channelMax: number, frameMax: number, heartbeat: number): void {
    checkTuneOk(this.host.limits, channelMax, frameMax);
    this.frameMax = frameMax;
    this.channelMax = channelMax;
    this.heartbeat = heartbeat;
    this.reader.frameMax = this.frameMax;
    this.state = "open";
    if (heartbeat > 0) this.timers.push(watchHeartbeats(this, heartbeat));
  }

  private onOpen(vhostName: string): void {
    const vhost = this.host.vhost(vhostName);
    const ids = METHOD_IDS["connection.open"];
    if (!vhost) throw new ConnectionError(ReplyCode.NOT_ALLOWED, `vhost ${vhostName} not found`, ...ids);
    if (!this.user!.permissions.has(vhostName)) {
      throw new ConnectionError(
        ReplyCode.NOT_ALLOWED,
        `access to vhost '${vhostName}' refused for user '${this.user!.name}'`,
        ...ids,
      );
    }
    this.host.admitConnection(this, vhost);
    this.vhost = vhost;
    this.state = "running";
    this.sendMethod(0, { name: "connection.open-ok" });
  }

  /**
   * Releases everything the connection holds; idempotent. linger: the client closed the
   * connection and got close-ok; as RabbitMQ, leave closing the socket to it (frames it still
   * sends, such as acks a client library had queued, are read and dropped instead of meeting a
   * reset), destroying it only if it has not after CLOSE_LINGER_MS.
   */
  teardown(linger = false): void {
    if (this.state === "closed" && this.timers.length === 0) return;
    if (!this.closeCounted) {
      this.closeCounted = true;
      this.host.counters.connectionsClosed++;
    }
    this.state = "closed";
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    this.cleanupChannels();
    if (linger && !this.socket.destroyed) {
      const socket = this.socket;
      const t = setTimeout(() => socket.destroy(), CLOSE_LINGER_MS);
      t.unref();
      socket.once("close", () => clearTimeout(t));
    } else if (!this.socket.destroyed) this.socket.destroySoon?.();
    this.host.connectionClosed(this);
  }

  /** Cleans up every channel: consumers leave their queues first, all at once, then unacked messages go back. */
  private cleanupChannels(): void {
    if (this.channels.size === 0) return;
    const removal = new ConsumerRemoval();
    for (const ch of this.channels.values()) ch.detachConsumers(removal);
    removal.run();
    for (const ch of this.channels.values()) ch.cleanup();
    this.channels.clear();
  }

  /** Server-initiated shutdown (broker stopping). */
  shutdown(text = "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'"): void {
    this.closeWithError(ReplyCode.CONNECTION_FORCED, text);
  }
}
