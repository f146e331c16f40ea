import net from "node:net";
import type { Duplex } from "node:stream";
import type tls from "node:tls";
import { version as nodeVersion, platform } from "node:process";
import { SERVER_CAPABILITIES, TypedValue } from "@warren/protocol";
import { Authenticator } from "./auth/authenticator.js";
import { LoginFailureLog } from "./auth/login-failures.js";
import { DEFAULT_HASHING, hashPassword, isHashingAlgorithm } from "./auth/password.js";
import { type BootDefaults, loadBootDefinitions } from "./boot-definitions.js";
import type { Permission, TopicPermission } from "./auth/permissions.js";
import { type User, UserStore } from "./auth/users.js";
import { BrokerCounters } from "./stats.js";
import { type Definitions, exportDefinitions, importDefinitions } from "./definitions.js";
import { lineLogger, type Logger } from "./logger.js";
import { Connection, type ConnectionHost } from "./net/connection.js";
import { ConnectionLog } from "./net/connection-log.js";
import { type AmqpSocket, InProcessSocket } from "./net/in-process-socket.js";
import { checkTlsOptions, createTlsServer, type TlsOptions } from "./net/tls-listener.js";
import { asDurable, type DurableStore } from "./store/durable-store.js";
import { logStoreStats } from "./store/stats-log.js";
import { MemoryStore } from "./store/memory-store.js";
import type { MessageStore } from "./store/message-store.js";
import type { DiskStore } from "./store/disk-store.js";
import { openSpool } from "./store/open-spool.js";
import { openStore } from "./store/open-store.js";
import { recoverMessages } from "./store/recover-messages.js";
import { admitChannel, admitConnection } from "./resources/admission.js";
import { MemoryMonitor } from "./resources/memory-monitor.js";
import { type MemoryWatermark, parseMemoryWatermark, watermarkBytes } from "./resources/memory-watermark.js";
import { VHost } from "./vhost.js";

/** Resource alarms, as bits: several can be on at once. */
const MEMORY_ALARM = 1;
const DISK_ALARM = 2;

/** RabbitMQ's connection.blocked reason for a set of alarms ("low on memory & disk"). */
function blockedReason(alarms: number): string {
  const on: string[] = [];
  if (alarms & MEMORY_ALARM) on.push("memory");
  if (alarms & DISK_ALARM) on.push("disk");
  return `low on ${on.join(" & ")}`;
}

export const VERSION = "0.1.0";

export interface BrokerOptions {
  /** TCP port; 0 picks a free one. Default 5672. */
  port?: number;
  /**
   * false: no listener at all (neither AMQP nor amqps); clients connect in the same process
   * through connectInProcess(). Default true.
   */
  listen?: boolean;
  host?: string;
  /** Data directory (used by the disk store). */
  dataDir?: string;
  /** A RabbitMQ definitions.json to load at boot. */
  definitions?: string | Definitions;
  /** The vhost and user created on a first start without definitions (default "/", guest/guest). */
  defaults?: BootDefaults;
  heartbeat?: number;
  frameMax?: number;
  channelMax?: number;
  handshakeTimeoutMs?: number;
  /** Default consumer timeout (RabbitMQ's consumer_timeout), 30 minutes. */
  consumerTimeoutMs?: number;
  /** How long a failed login waits before it is refused (RabbitMQ: 3 s). Default 3000. */
  authFailureDelayMs?: number;
  /** Users who may log in only from loopback (RabbitMQ's loopback_users). Default ["guest"]. */
  loopbackUsers?: string[];
  /** The message store; default: a DiskStore in dataDir when dataDir is set, else memory only. */
  store?: MessageStore;
  /** Below this many free bytes on the data disk, publishers are blocked. Default 50 MB. */
  diskFreeLimit?: number;
  /**
   * Above this resident memory, publishers are blocked (RabbitMQ's vm_memory_high_watermark):
   * a fraction of the memory available (number up to 1, or "0.4"), or a size in bytes
   * (268435456, "256MiB", "1GB"). Default 0.4, as RabbitMQ.
   */
  memoryHighWatermark?: number | string;
  /** Largest message body accepted (RabbitMQ's max_message_size). Default 128 MiB. */
  maxMessageSize?: number;
  /**
   * Unacked deliveries a channel with no prefetch (basic.qos 0) may hold; more wait in their
   * queue until acks come. Default 10,000 (see docs/resource-limits.md).
   */
  maxUnackedPerChannel?: number;
  /**
   * Page transient messages of deep queues (past 10,000 ready) out to a spool in the data
   * directory, wiped at every start. Default true when there is a data directory.
   */
  transientPaging?: boolean;
  /** Connections the broker accepts at once, all vhosts together; default no limit. */
  maxConnections?: number;
  /** Where log lines go (see Logger); default plain lines on the console, `lineLogger(console.log)`. */
  log?: Logger;
  /** Failed logins are logged at most once per peer address per this interval. Default 10000. */
  loginFailureLogIntervalMs?: number;
  /**
   * An amqps listener beside the plaintext one (default port 5671), with the EXTERNAL
   * mechanism offered on its connections; see docs/tls.md. Default: none.
   */
  tls?: TlsOptions;
}

/** A user as Broker.putUser takes it: a password, or a hash in RabbitMQ's format. */
export type UserSpec = { tags?: string[] } & (
  { password: string; hashingAlgorithm?: string } | { passwordHash: string; hashingAlgorithm?: string }
);

/**
 * The Warren broker: accepts AMQP 0-9-1 connections and hosts vhosts, users and the
 * message store. Embeddable: `await new Broker({ port: 0 }).start()`.
 */
export class Broker implements ConnectionHost {
  /** @internal The users (BrokerAdmin and the management API read them; use putUser etc.). */
  readonly users = new UserStore();
  /** @internal The vhosts by name (BrokerAdmin reads them; use BrokerAdmin to change them). */
  readonly vhosts = new Map<string, VHost>();
  /** @internal The open AMQP connections (BrokerAdmin lists and closes them). */
  readonly connections = new Set<Connection>();
  /** Message and connection counters since start (management API, Prometheus). */
  readonly counters = new BrokerCounters();
  /** When the broker was created (ms since the epoch). */
  readonly startedAt = Date.now();
  store: MessageStore;
  readonly limits: ConnectionHost["limits"];
  readonly serverProperties: Record<string, unknown>;
  private server: net.Server | undefined;
  private tlsServer: tls.Server | undefined;
  /** Sockets accepted by the TLS server, handshaking or not: stop() must not wait for them. */
  private readonly tlsSockets = new Set<net.Socket>();
  /** The broker's log (ConnectionHost: connections report internal errors to it). */
  readonly log: Logger;
  private readonly connectionLog: ConnectionLog;
  private readonly authenticator: Authenticator;

  constructor(private readonly options: BrokerOptions = {}) {
    // Memory until start() opens the configured store (openStore picks disk or memory).
    this.store = options.store ?? new MemoryStore();
    this.log = options.log ?? lineLogger((l) => console.log(l));
    this.connectionLog = new ConnectionLog(this.log);
    this.limits = {
      channelMax: options.channelMax ?? 2047,
      frameMax: options.frameMax ?? 131072,
      heartbeat: options.heartbeat ?? 60,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
      consumerTimeoutMs: options.consumerTimeoutMs ?? 30 * 60_000,
      authFailureDelayMs: options.authFailureDelayMs ?? 3000,
      maxMessageSize: options.maxMessageSize ?? 128 * 1024 * 1024,
      maxUnackedPerChannel: options.maxUnackedPerChannel ?? 10_000,
    };
    this.authenticator = new Authenticator(
      this.users,
      new Set(options.loopbackUsers ?? ["guest"]),
      new LoginFailureLog(this.log, options.loginFailureLogIntervalMs ?? 10_000),
    );
    if (options.tls) checkTlsOptions(options.tls);
    this.serverProperties = {
      product: "Warren",
      version: VERSION,
      platform: `Node.js ${nodeVersion} (${platform})`,
      copyright: "Copyright (c) Warren contributors",
      information: "Licensed under the MIT license. AMQP 0-9-1 broker compatible with RabbitMQ clients.",
      cluster_name: "warren",
      capabilities: { ...SERVER_CAPABILITIES },
    };
  }

  private booting = true;
  private stopped = false;
  private saveScheduled = false;
  /** Where deep queues page transient messages out; undefined without a data directory. */
  private spool: DiskStore | undefined;
  /** The resource alarms that are on (MEMORY_ALARM | DISK_ALARM). */
  private alarms = 0;
  /** @internal The memory alarm's sampler (its watermark is read by metrics); undefined before start. */
  memory: MemoryMonitor | undefined;
  private diskTimer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;

  private get durableStore(): DurableStore | undefined {
    return asDurable(this.store);
  }

  /** Durable definitions changed (here or through BrokerAdmin): save them with the next group commit. */
  scheduleSave(): void {
    const store = this.durableStore;
    if (this.booting || !store || this.saveScheduled) return;
    this.saveScheduled = true;
    queueMicrotask(() => {
      this.saveScheduled = false;
      store.saveDefinitions(JSON.stringify(this.exportDefinitions(), jsonSafe));
    });
  }

  /**
   * Raises or clears one resource alarm. While any is on, every connection is told (with the
   * reasons of all that are on, as RabbitMQ) and stops reading publishes.
   */
  private setAlarm(alarm: number, on: boolean, why: string): void {
    const next = on ? this.alarms | alarm : this.alarms & ~alarm;
    if (next === this.alarms) return;
    this.alarms = next;
    const name = alarm === MEMORY_ALARM ? "memory" : "disk";
    if (on) this.log.warn(`${name} alarm: ${why}, blocking publishers`, { alarm: name });
    else this.log.info(`${name} alarm cleared`, { alarm: name });
    for (const c of this.connections) this.applyAlarms(c);
  }

  private applyAlarms(c: Connection): void {
    c.setAlarm(this.alarms !== 0, this.alarms !== 0 ? blockedReason(this.alarms) : "");
  }

  /** Whether any resource alarm is on. */
  get alarmed(): boolean {
    return this.alarms !== 0;
  }

  /**
   * Changes the memory high watermark at run time (a fraction or a size, as the option);
   * applied at once.
   */
  setMemoryHighWatermark(w: number | string): void {
    const bytes = watermarkBytes(toWatermark(w));
    if (this.memory) this.memory.setWatermark(bytes);
  }

  /** Starts the memory alarm's sampling; warns when V8's heap limit makes the watermark moot. */
  private watchMemory(): void {
    const bytes = watermarkBytes(toWatermark(this.options.memoryHighWatermark ?? 0.4));
    const monitor = new MemoryMonitor(bytes, (on) =>
      this.setAlarm(
        MEMORY_ALARM,
        on,
        monitor.cause === "heap"
          ? `V8 heap above 85% of its ${mib(monitor.heapSizeLimit)} limit`
          : `resident memory above the ${mib(monitor.watermark)} watermark`,
      ),
    );
    this.memory = monitor;
    this.log.info(`memory high watermark ${mib(bytes)} (resident memory, sampled every 100 ms)`, {
      watermark_bytes: bytes,
    });
    if (this.options.memoryHighWatermark !== undefined && bytes > 2 * monitor.heapSizeLimit) {
      // Bodies live outside V8's heap, so the RSS may exceed its limit; but each queued message
      // keeps a few hundred heap bytes, and the heap guard blocks publishers at 85% of the limit
      // first. Said only for a watermark the operator chose (the default is no decision).
      this.log.warn(
        `the memory high watermark (${mib(bytes)}) is far above V8's heap limit (${mib(monitor.heapSizeLimit)}); publishers will be blocked by the heap guard first. Raise the heap limit with NODE_OPTIONS=--max-old-space-size=MB`,
      );
    }
    monitor.start();
  }

  /** Free disk space, in bytes, below which publishers are blocked. */
  diskFreeLimit = 0;

  /** Changes the free-disk limit at run time; the next check (within a second) applies it. */
  setDiskFreeLimit(bytes: number): void {
    this.diskFreeLimit = bytes;
    this.checkDisk?.();
  }

  private checkDisk: (() => void) | undefined;

  private watchDisk(store: DurableStore): void {
    this.diskFreeLimit = this.options.diskFreeLimit ?? 50_000_000;
    this.checkDisk = () => {
      if (store.error) return this.setAlarm(DISK_ALARM, true, "the store failed");
      store.freeBytes().then(
        (free) =>
          this.setAlarm(
            DISK_ALARM,
            free < this.diskFreeLimit,
            `free disk space below ${this.diskFreeLimit} bytes`,
          ),
        () => {},
      );
    };
    this.checkDisk();
    this.diskTimer = setInterval(this.checkDisk, 1000);
    this.diskTimer.unref();
  }

  /** @internal Creates a vhost if there is none of that name (BrokerAdmin.addVhost is the public way). */
  addVhost(name: string): VHost {
    let vh = this.vhosts.get(name);
    if (!vh) {
      vh = new VHost(name, this.store);
      vh.spool = this.spool;
      vh.onDefinitionsChanged = () => this.scheduleSave();
      this.vhosts.set(name, vh);
    }
    return vh;
  }

  /** @internal The vhost of that name (connections and definitions look vhosts up here). */
  vhost(name: string): VHost | undefined {
    return this.vhosts.get(name);
  }

  exportDefinitions(): Definitions {
    return exportDefinitions(this.users, this.vhosts.values(), VERSION);
  }

  // ------------------------------------------------------------ runtime changes
  //
  // What the management API calls. Changes apply to later checks on open connections as in
  // RabbitMQ: a channel keeps the checks it granted lately (see ChannelAccess), new channels
  // and other resources see the change at once. Durable definitions are saved after each.

  /**
   * Merges a definitions document into the running broker (users, vhosts, permissions, topic
   * permissions, exchanges, queues, bindings): what it names is created or replaced, nothing
   * else is removed.
   */
  importDefinitions(defs: Definitions): void {
    for (const u of defs.users ?? []) {
      const algorithm = u.hashing_algorithm ?? DEFAULT_HASHING;
      if (!isHashingAlgorithm(algorithm))
        throw new Error(`user '${u.name}': unknown hashing algorithm '${algorithm}'`);
    }
    importDefinitions(this, defs);
    this.scheduleSave();
  }

  /** Creates a user or updates its password and tags (its permissions stay). */
  putUser(name: string, spec: UserSpec): void {
    const algorithm = spec.hashingAlgorithm ?? DEFAULT_HASHING;
    if (!isHashingAlgorithm(algorithm)) throw new Error(`unknown hashing algorithm '${algorithm}'`);
    const hash = "password" in spec ? hashPassword(spec.password, algorithm) : spec.passwordHash;
    this.users.addHashed(name, hash, algorithm, spec.tags ?? []);
    this.scheduleSave();
  }

  /**
   * Deletes a user and closes its connections with 320 CONNECTION_FORCED, as RabbitMQ does.
   * Returns whether the user existed.
   */
  deleteUser(name: string): boolean {
    const u = this.users.delete(name);
    if (!u) return false;
    for (const c of [...this.connections]) {
      if (c.user === u) c.shutdown(`CONNECTION_FORCED - user '${name}' is deleted`);
    }
    this.scheduleSave();
    return true;
  }

  /**
   * Sets a user's configure / write / read patterns in a vhost. Open connections keep
   * working; removing a vhost's permissions (clearPermissions) does not close them either,
   * as in RabbitMQ: their next uncached check is refused.
   */
  setPermissions(user: string, vhost: string, p: Permission): void {
    if (!this.vhosts.has(vhost)) throw new Error(`no vhost '${vhost}'`);
    if (!this.users.setPermission(user, vhost, p)) throw new Error(`no user '${user}'`);
    this.scheduleSave();
  }

  /** Removes a user's permissions in a vhost (and so its access to it for new connections). */
  clearPermissions(user: string, vhost: string): void {
    this.users.clearPermission(user, vhost);
    this.scheduleSave();
  }

  /** Sets a user's topic permission on one topic exchange of a vhost. */
  setTopicPermissions(user: string, vhost: string, p: TopicPermission): void {
    if (!this.vhosts.has(vhost)) throw new Error(`no vhost '${vhost}'`);
    if (!this.users.setTopicPermission(user, vhost, p)) throw new Error(`no user '${user}'`);
    this.scheduleSave();
  }

  /** Removes a user's topic permissions in a vhost: on one exchange, or on all. */
  clearTopicPermissions(user: string, vhost: string, exchange?: string): void {
    this.users.clearTopicPermission(user, vhost, exchange);
    this.scheduleSave();
  }

  /**
   * Deletes a vhost with everything in it: its connections are closed, its queues (and their
   * messages) deleted, and permissions in it dropped. False when there was none.
   */
  deleteVhost(name: string): boolean {
    const vh = this.vhosts.get(name);
    if (!vh) return false;
    for (const c of [...this.connections])
      if (c.vhost === vh) c.shutdown(`CONNECTION_FORCED - vhost '${name}' is deleted`);
    for (const q of [...vh.queues.values()]) vh.removeQueue(q);
    this.vhosts.delete(name);
    for (const u of this.users.users.values()) this.users.clearPermission(u.name, name);
    this.scheduleSave();
    return true;
  }

  /** Resource alarms in effect, by RabbitMQ's resource names ("memory", "disk"). */
  activeAlarms(): string[] {
    return (["memory", "disk"] as const).filter((_, i) => this.alarms & (1 << i));
  }

  /** @internal A password login for another front door (the management API): AMQP's rules, no log. */
  login(name: string, password: string, remoteAddress: string | undefined): User | undefined {
    return this.authenticator.login(name, password, remoteAddress);
  }

  // ------------------------------------------------------------ connections

  /** @internal ConnectionHost: who a connection.start-ok logs in as (see Authenticator). */
  readonly authenticate: ConnectionHost["authenticate"] = (...login) =>
    this.authenticator.authenticate(...login);

  /** @internal ConnectionHost: node, vhost and user connection limits at connection.open; logs an admitted one. */
  admitConnection(c: Connection, vh: VHost): void {
    admitConnection(this.connections, this.options.maxConnections, c, vh);
    this.connectionLog.opened(c, vh.name);
  }

  /** @internal ConnectionHost: the user's max-channels at channel.open. */
  admitChannel(c: Connection): void {
    admitChannel(this.connections, c);
  }

  /** @internal ConnectionHost: forgets a closed connection and its exclusive queues. */
  connectionClosed(c: Connection): void {
    if (!this.connections.delete(c)) return;
    c.vhost?.removeExclusiveQueues(c);
    this.connectionLog.closed(c);
  }

  /**
   * Opens the store, recovers, and starts listening; resolves with the bound port (0 with
   * `listen: false`).
   */
  async start(): Promise<number> {
    const t0 = Date.now();
    if (!this.options.store) {
      this.store = await openStore({
        dataDir: this.options.dataDir,
        onWarning: (m) => this.log.warn(`store: ${m}`),
        onError: (e) => {
          this.log.error(`store failed: ${e.message}; publishers are blocked`, { err: e });
          this.setAlarm(DISK_ALARM, true, "the store failed");
        },
      });
    }
    // Transient paging needs a disk of our own: only with the data directory's disk store.
    if (this.options.dataDir !== undefined && this.durableStore && this.options.transientPaging !== false)
      this.spool = await openSpool(this.options.dataDir, this.log);
    const o = this.options;
    loadBootDefinitions(
      this,
      this.durableStore?.loadDefinitions(),
      o.definitions,
      o.defaults ?? {},
      this.log,
    );
    const disk = this.durableStore;
    if (disk) {
      recoverMessages(this.vhosts, disk, t0, this.log);
      this.watchDisk(disk);
      if (process.env.WARREN_STORE_STATS === "1") this.statsTimer = logStoreStats(disk, this.log);
    }
    this.watchMemory();
    this.booting = false;
    this.scheduleSave();
    return this.options.listen === false ? 0 : this.listen();
  }

  private async listen(): Promise<number> {
    // The TLS context first: a bad certificate or key (or a key that does not match) fails
    // start() before anything listens.
    const tlsOptions = this.options.tls;
    const tlsServer = tlsOptions ? this.createTlsServer(tlsOptions) : undefined;
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    const port = await listenOn(server, this.options.port ?? 5672, this.options.host);
    this.log.info(`listening on port ${port}`, { listener: "amqp", port });
    if (tlsServer && tlsOptions) {
      this.tlsServer = tlsServer;
      try {
        const host = tlsOptions.host === null ? undefined : (tlsOptions.host ?? this.options.host);
        await listenOn(tlsServer, tlsOptions.port ?? 5671, host);
      } catch (e) {
        // Do not leave a half-started broker behind (a plaintext-only one, unnoticed).
        this.server = undefined;
        this.tlsServer = undefined;
        server.close();
        throw e;
      }
      this.log.info(`listening for amqps on port ${this.tlsPort}`, { listener: "amqps", port: this.tlsPort });
    }
    return port;
  }

  /**
   * A client connection from this same process, with no socket: returns the client's end of
   * an in-process byte stream whose other end the broker serves as it serves a TCP
   * connection (handshake, authentication, limits, management views; the peer address is
   * "in-process", which counts as loopback for loopback_users). Give it to the client with
   * `connect({ transport: () => broker.connectInProcess() })`. Works with or without
   * listeners, once start() has resolved. While open it keeps the process alive, as a TCP
   * connection does.
   */
  connectInProcess(): Duplex {
    if (this.booting || this.stopped)
      throw new Error(`the broker is ${this.stopped ? "stopped" : "not started"}`);
    const [client, server] = InProcessSocket.pair();
    this.accept(server);
    return client;
  }

  private accept(socket: AmqpSocket): void {
    const c = new Connection(socket, this);
    this.connections.add(c);
    this.connectionLog.watch(c);
    if (this.alarms !== 0) this.applyAlarms(c);
  }

  /** The amqps server: a TLSSocket is a net.Socket, so Connection takes it as it is. */
  private createTlsServer(o: TlsOptions): tls.Server {
    const server = createTlsServer(
      o,
      this.limits.handshakeTimeoutMs,
      (socket) => this.accept(socket),
      (reason, from) =>
        this.log.warn(`amqps connection from ${from ?? "?"} refused: ${reason}`, { peer: from, reason }),
    );
    server.on("connection", (raw: net.Socket) => {
      this.tlsSockets.add(raw);
      raw.once("close", () => this.tlsSockets.delete(raw));
    });
    return server;
  }

  /** The bound AMQP (plaintext) port. */
  get port(): number {
    const addr = this.server?.address();
    return typeof addr === "object" && addr ? addr.port : 0;
  }

  /** The bound amqps port; 0 when there is no TLS listener. */
  get tlsPort(): number {
    const addr = this.tlsServer?.address();
    return typeof addr === "object" && addr ? addr.port : 0;
  }

  /** Stops accepting, closes every connection and the store. */
  async stop(): Promise<void> {
    this.stopped = true;
    const server = this.server;
    const tlsServer = this.tlsServer;
    this.server = undefined;
    this.tlsServer = undefined;
    for (const c of [...this.connections]) {
      c.shutdown();
      c.socket.destroy();
      c.teardown();
    }
    if (this.diskTimer) clearInterval(this.diskTimer);
    this.memory?.stop();
    if (this.statsTimer) clearInterval(this.statsTimer);
    // Clients still in their TLS handshake have no Connection yet: close() would wait for them.
    for (const raw of this.tlsSockets) raw.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
    if (tlsServer) await new Promise<void>((r) => tlsServer.close(() => r()));
    await this.store.close();
    await this.spool?.close();
  }
}

/** Starts a server listening; resolves with the bound port, rejects on a listen error. */
function listenOn(server: net.Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      // Later errors (an accept failing for want of file descriptors) must not crash the
      // broker: the server keeps listening.
      server.on("error", () => {});
      const addr = server.address();
      resolve(typeof addr === "object" && addr ? addr.port : 0);
    });
  });
}

function toWatermark(w: number | string): MemoryWatermark {
  return typeof w === "number" ? (w <= 1 ? { fraction: w } : { bytes: w }) : parseMemoryWatermark(w);
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 1048576)} MiB`;
}

/** JSON.stringify replacer for field tables: typed values and bigints become plain JSON. */
function jsonSafe(_key: string, v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (v instanceof TypedValue) {
    const x = v.value;
    return typeof x === "bigint" ? Number(x) : Buffer.isBuffer(x) ? x.toString("utf8") : x;
  }
  return v;
}
