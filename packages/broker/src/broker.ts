import { readFileSync } from "node:fs";
import net from "node:net";
import { version as nodeVersion, platform } from "node:process";
import {
  type BasicProperties,
  ChannelError,
  encodeRawProperties,
  type FieldTable,
  readTable,
  ReplyCode,
  SERVER_CAPABILITIES,
  TypedValue,
} from "@warren/protocol";
import type { User } from "./auth/users.js";
import { UserStore } from "./auth/users.js";
import { type Definitions, exportDefinitions, importDefinitions } from "./definitions.js";
import { Connection, type ConnectionHost } from "./net/connection.js";
import { asDurable, type DurableStore } from "./store/durable-store.js";
import { MemoryStore } from "./store/memory-store.js";
import type { MessageStore } from "./store/message-store.js";
import { openStore } from "./store/open-store.js";
import { hashPassword } from "./auth/password.js";
import {
  bindingViews,
  channelViews,
  connectionViews,
  consumerViews,
  exchangeViews,
  objectTotals,
  permissionViews,
  queueView,
  userViews,
} from "./inspect.js";
import { publishedMessage } from "./message.js";
import type { Delivered } from "./queue/queue.js";
import { BrokerCounters } from "./stats.js";
import { PublishResult, VHost } from "./vhost.js";
import type {
  BindingView,
  ChannelView,
  ConnectionView,
  ConsumerView,
  ExchangeView,
  ObjectTotals,
  PermissionView,
  QueueView,
  UserView,
} from "./views.js";

export const VERSION = "0.1.0";

export interface BrokerOptions {
  /** TCP port; 0 picks a free one. Default 5672. */
  port?: number;
  host?: string;
  /** Data directory (used by the disk store). */
  dataDir?: string;
  /** A RabbitMQ definitions.json to load at boot. */
  definitions?: string | Definitions;
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
  /** Log lines go here; default console.log. */
  log?: (line: string) => void;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** The owner of queues declared through the management API: no connection. */
const MANAGEMENT_OWNER = {};

/** A message taken by Broker.getMessages, with the properties a basic.get-ok would carry. */
export interface GotMessage {
  exchange: string;
  routingKey: string;
  redelivered: boolean;
  /** Messages left in the queue after this one was taken. */
  messageCount: number;
  rawProperties: Buffer;
  body: Buffer;
}

/**
 * The Warren broker: accepts AMQP 0-9-1 connections and hosts vhosts, users and the
 * message store. Embeddable: `await new Broker({ port: 0 }).start()`.
 */
export class Broker implements ConnectionHost {
  readonly users = new UserStore();
  readonly vhosts = new Map<string, VHost>();
  readonly connections = new Set<Connection>();
  /** Message and connection counters since start (management API, Prometheus). */
  readonly counters = new BrokerCounters();
  /** When the broker was created (ms since the epoch). */
  readonly startedAt = Date.now();
  store: MessageStore;
  readonly limits: ConnectionHost["limits"];
  readonly serverProperties: Record<string, unknown>;
  private server: net.Server | undefined;
  private readonly loopbackUsers: Set<string>;
  private readonly log: (line: string) => void;

  constructor(private readonly options: BrokerOptions = {}) {
    // Memory until start() opens the configured store (openStore picks disk or memory).
    this.store = options.store ?? new MemoryStore();
    this.log = options.log ?? ((l) => console.log(l));
    this.limits = {
      channelMax: options.channelMax ?? 2047,
      frameMax: options.frameMax ?? 131072,
      heartbeat: options.heartbeat ?? 60,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
      consumerTimeoutMs: options.consumerTimeoutMs ?? 30 * 60_000,
      authFailureDelayMs: options.authFailureDelayMs ?? 3000,
    };
    this.loopbackUsers = new Set(options.loopbackUsers ?? ["guest"]);
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
  private saveScheduled = false;
  private alarm = false;
  private diskTimer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;

  /**
   * Definitions at boot: what the store saved last time, then the definitions file on top;
   * with neither, vhost "/" and guest/guest.
   */
  private loadDefinitions(): void {
    const stored = this.durableStore?.loadDefinitions();
    if (stored) importDefinitions(this, JSON.parse(stored) as Definitions);
    const defs = this.options.definitions;
    if (defs) {
      const parsed: Definitions = typeof defs === "string" ? JSON.parse(readFileSync(defs, "utf8")) : defs;
      importDefinitions(this, parsed);
    }
    if (!stored && !defs) {
      this.addVhost("/");
      this.users.add("guest", "guest", ["administrator"]);
      this.users.setPermission("guest", "/", { configure: ".*", write: ".*", read: ".*" });
    }
  }

  private get durableStore(): DurableStore | undefined {
    return asDurable(this.store);
  }

  /** Durable definitions changed: save them with the next group commit. */
  private scheduleSave(): void {
    const store = this.durableStore;
    if (this.booting || !store || this.saveScheduled) return;
    this.saveScheduled = true;
    queueMicrotask(() => {
      this.saveScheduled = false;
      store.saveDefinitions(JSON.stringify(this.exportDefinitions(), jsonSafe));
    });
  }

  /** Puts every durable queue's recovered messages back, in order. */
  private recoverMessages(store: DurableStore, t0: number): void {
    let messages = 0;
    for (const [key, ids] of store.recoverIds()) {
      const sep = key.indexOf("\u0000");
      const q = this.vhosts.get(key.slice(0, sep))?.queues.get(key.slice(sep + 1));
      if (!q?.durable) {
        store.dropQueue(key);
        continue;
      }
      q.restoreIds(ids);
      messages += ids.length;
    }
    const r = store.recovery;
    const damaged =
      r.skippedBytes > 0
        ? `; skipped ${r.skippedBytes} bytes of damaged records (${r.truncatedBytes} torn at the tail)`
        : "";
    this.log(
      `warren: recovered ${messages} messages in ${this.countDurableQueues()} durable queues from ${r.segments} segments in ${Date.now() - t0} ms${damaged}`,
    );
  }

  private countDurableQueues(): number {
    let n = 0;
    for (const vh of this.vhosts.values()) for (const q of vh.queues.values()) if (q.durable) n++;
    return n;
  }

  /** Raises or clears the disk alarm on every connection. */
  private setAlarm(on: boolean): void {
    if (this.alarm === on) return;
    this.alarm = on;
    this.log(
      on
        ? "warren: disk alarm: free space below the limit, blocking publishers"
        : "warren: disk alarm cleared",
    );
    for (const c of this.connections) c.setAlarm(on, "low on disk");
  }

  private diskFreeLimit = 0;

  /** Changes the free-disk limit at run time; the next check (within a second) applies it. */
  setDiskFreeLimit(bytes: number): void {
    this.diskFreeLimit = bytes;
    this.checkDisk?.();
  }

  private checkDisk: (() => void) | undefined;

  private watchDisk(store: DurableStore): void {
    this.diskFreeLimit = this.options.diskFreeLimit ?? 50_000_000;
    this.checkDisk = () => {
      if (store.error) return this.setAlarm(true);
      store.freeBytes().then(
        (free) => this.setAlarm(free < this.diskFreeLimit),
        () => {},
      );
    };
    this.checkDisk();
    this.diskTimer = setInterval(this.checkDisk, 1000);
    this.diskTimer.unref();
  }

  /**
   * Opt-in (env WARREN_STORE_STATS=1) for measurements: every 5 s, one line with the store's
   * counters over the interval (fsyncs/s, messages per group commit) and process memory.
   */
  private logStoreStats(store: DurableStore): void {
    let prev = store.stats();
    let at = Date.now();
    this.statsTimer = setInterval(() => {
      const s = store.stats();
      const now = Date.now();
      const secs = (now - at) / 1000;
      const batches = s.batches - prev.batches;
      const mem = process.memoryUsage();
      const mb = (n: number) => Math.round(n / 1048576);
      this.log(
        `warren: store stats ${JSON.stringify({
          fsyncsPerSec: Math.round((s.fsyncs - prev.fsyncs) / secs),
          batchesPerSec: Math.round(batches / secs),
          publishedPerSec: Math.round((s.published - prev.published) / secs),
          removedPerSec: Math.round((s.removed - prev.removed) / secs),
          pubPerBatch: batches ? +((s.published - prev.published) / batches).toFixed(1) : 0,
          kbPerBatch: batches ? +((s.bytesWritten - prev.bytesWritten) / batches / 1024).toFixed(1) : 0,
          liveMessages: s.liveMessages,
          segments: s.segments,
          indexMB: mb(s.indexBytes),
          rssMB: mb(mem.rss),
          heapUsedMB: mb(mem.heapUsed),
          externalMB: mb(mem.external),
        })}`,
      );
      prev = s;
      at = now;
    }, 5000);
    this.statsTimer.unref();
  }

  addVhost(name: string): VHost {
    let vh = this.vhosts.get(name);
    if (!vh) {
      vh = new VHost(name, this.store);
      vh.onDefinitionsChanged = () => this.scheduleSave();
      this.vhosts.set(name, vh);
    }
    return vh;
  }

  vhost(name: string): VHost | undefined {
    return this.vhosts.get(name);
  }

  exportDefinitions(): Definitions {
    return exportDefinitions(this.users, this.vhosts.values(), VERSION);
  }

  // ------------------------------------------------------------ management views (read-only)

  private vhostsOf(vhost: string | undefined): Iterable<VHost> {
    if (vhost === undefined) return this.vhosts.values();
    const vh = this.vhosts.get(vhost);
    return vh ? [vh] : [];
  }

  /** Vhost names, in creation order. */
  listVhosts(): string[] {
    return [...this.vhosts.keys()];
  }

  listUsers(): UserView[] {
    return userViews(this.users);
  }

  listPermissions(): PermissionView[] {
    return permissionViews(this.users);
  }

  /** Exchanges of one vhost, or of all; the default exchange has name "". */
  listExchanges(vhost?: string): ExchangeView[] {
    return [...this.vhostsOf(vhost)].flatMap(exchangeViews);
  }

  listQueues(vhost?: string): QueueView[] {
    return [...this.vhostsOf(vhost)].flatMap((vh) => [...vh.queues.values()].map(queueView));
  }

  /** One queue, or undefined when the vhost or the queue does not exist. */
  queueInfo(vhost: string, name: string): QueueView | undefined {
    const q = this.vhosts.get(vhost)?.queues.get(name);
    return q ? queueView(q) : undefined;
  }

  /** Bindings of one vhost, or of all, the default exchange's implicit ones included. */
  listBindings(vhost?: string): BindingView[] {
    return [...this.vhostsOf(vhost)].flatMap(bindingViews);
  }

  listConnections(): ConnectionView[] {
    return connectionViews(this.connections);
  }

  listChannels(): ChannelView[] {
    return channelViews(this.connections);
  }

  listConsumers(vhost?: string): ConsumerView[] {
    const all = consumerViews(this.connections);
    return vhost === undefined ? all : all.filter((c) => c.vhost === vhost);
  }

  objectTotals(): ObjectTotals {
    return objectTotals(this.vhosts.values(), this.connections);
  }

  /** Resource alarms in effect, by RabbitMQ's resource names ("disk"); empty when none. */
  activeAlarms(): string[] {
    return this.alarm ? ["disk"] : [];
  }

  /**
   * Checks a user's password for another front door (the management API), with the same
   * loopback-only rule as AMQP logins; the user, or undefined.
   */
  login(name: string, password: string, remoteAddress: string | undefined): UserView | undefined {
    if (this.loopbackUsers.has(name) && !LOOPBACK.test(remoteAddress ?? "")) return undefined;
    const u = this.users.authenticate(name, password);
    return (
      u && {
        name: u.name,
        passwordHash: u.passwordHash,
        hashingAlgorithm: u.hashingAlgorithm,
        tags: [...u.tags],
      }
    );
  }

  // ------------------------------------------------------------ management operations

  /** The vhost, or a 404 channel error naming it as RabbitMQ does. */
  private vhostOrThrow(name: string): VHost {
    const vh = this.vhosts.get(name);
    if (!vh) throw new ChannelError(ReplyCode.NOT_FOUND, `no vhost '${name}'`);
    return vh;
  }

  /** Declares an exchange as exchange.declare would (same checks, same errors). */
  declareExchange(
    vhost: string,
    name: string,
    type: string,
    o: { durable?: boolean; autoDelete?: boolean; internal?: boolean; args?: FieldTable },
  ): void {
    this.vhostOrThrow(vhost).declareExchange(name, type, o);
  }

  deleteExchange(vhost: string, name: string, ifUnused = false): void {
    this.vhostOrThrow(vhost).deleteExchange(name, ifUnused);
  }

  /** Declares a queue owned by no connection (the management API cannot own exclusive queues). */
  declareQueue(
    vhost: string,
    name: string,
    o: { durable?: boolean; autoDelete?: boolean; args?: FieldTable },
  ): QueueView {
    return queueView(this.vhostOrThrow(vhost).declareQueue(name, o, MANAGEMENT_OWNER));
  }

  /** Deletes a queue, even an exclusive one (as RabbitMQ's management API may); its message count. */
  deleteQueue(vhost: string, name: string, o: { ifUnused?: boolean; ifEmpty?: boolean } = {}): number {
    const vh = this.vhostOrThrow(vhost);
    const q = vh.getQueue(name, undefined, false);
    if (o.ifUnused || o.ifEmpty)
      return vh.deleteQueue(name, !!o.ifUnused, !!o.ifEmpty, q.exclusiveOwner ?? {});
    return vh.removeQueue(q);
  }

  /** Purges a queue; the number of messages removed. */
  purgeQueue(vhost: string, name: string): number {
    return this.vhostOrThrow(vhost).getQueue(name, undefined, false).purge();
  }

  bind(
    vhost: string,
    source: string,
    destinationType: "queue" | "exchange",
    destination: string,
    routingKey: string,
    args: FieldTable = {},
  ): void {
    const vh = this.vhostOrThrow(vhost);
    if (destinationType === "exchange") vh.bindExchange(destination, source, routingKey, args);
    else
      vh.bindQueue(
        destination,
        source,
        routingKey,
        args,
        vh.getQueue(destination, undefined, false).exclusiveOwner ?? {},
      );
  }

  unbind(
    vhost: string,
    source: string,
    destinationType: "queue" | "exchange",
    destination: string,
    routingKey: string,
    args: FieldTable = {},
  ): void {
    const vh = this.vhostOrThrow(vhost);
    if (destinationType === "exchange") vh.unbindExchange(destination, source, routingKey, args);
    else vh.unbindQueue(destination, source, routingKey, args);
  }

  /**
   * Publishes one message as basic.publish would, on behalf of user (who must match a user_id
   * property); true when a queue took it.
   */
  publish(
    vhost: string,
    exchange: string,
    routingKey: string,
    properties: BasicProperties,
    body: Buffer,
    user: string,
  ): boolean {
    const vh = this.vhostOrThrow(vhost);
    vh.publishTarget(exchange);
    const msg = publishedMessage(exchange, routingKey, encodeRawProperties(properties), body, user);
    const result = vh.publish(msg);
    this.counters.published++;
    if (result & PublishResult.ROUTED) this.counters.routed++;
    else this.counters.unroutable++;
    return (result & PublishResult.ROUTED) !== 0;
  }

  /**
   * Takes up to count messages from a queue as basic.get does, then requeues them (requeue) or
   * acknowledges them: the management API's "get messages".
   */
  getMessages(vhost: string, queue: string, count: number, requeue: boolean): GotMessage[] {
    const q = this.vhostOrThrow(vhost).getQueue(queue, undefined, false);
    const taken: Delivered[] = [];
    const out: GotMessage[] = [];
    for (let i = 0; i < count; i++) {
      const d = q.get(false);
      if (!d) break;
      taken.push(d);
      this.counters.got++;
      if (d.count > 0) this.counters.redelivered++;
      out.push({
        exchange: d.msg.exchange,
        routingKey: d.msg.routingKey,
        redelivered: d.count > 0,
        messageCount: q.messageCount,
        rawProperties: q.deliveryProperties(d.msg, d.count, true),
        body: d.msg.body,
      });
    }
    if (requeue) {
      if (taken.length > 0) q.requeue(taken, true);
    } else {
      for (const d of taken) q.ack(d);
      this.counters.acked += taken.length;
    }
    q.drain();
    return out;
  }

  /** Closes a connection by its name with 320 CONNECTION_FORCED; false when there is none. */
  closeConnection(name: string, reason = "Closed via management plugin"): boolean {
    for (const c of this.connections) {
      if (c.name !== name) continue;
      c.shutdown(`CONNECTION_FORCED - ${reason}`);
      return true;
    }
    return false;
  }

  /**
   * Creates or replaces a user, with a password (hashed here) or a RabbitMQ password hash;
   * its permissions are kept. Takes effect at once and is saved like definitions.
   */
  putUser(
    name: string,
    o: { password?: string; passwordHash?: string; hashingAlgorithm?: string; tags?: string[] },
  ): void {
    const old = this.users.users.get(name);
    const hash = o.password !== undefined ? hashPassword(o.password) : (o.passwordHash ?? "");
    const algorithm =
      o.password !== undefined
        ? "rabbit_password_hashing_sha256"
        : (o.hashingAlgorithm ?? "rabbit_password_hashing_sha256");
    const u = this.users.addHashed(name, hash, algorithm, o.tags ?? []);
    if (old) for (const [vh, p] of old.permissions) u.permissions.set(vh, p);
    this.scheduleSave();
  }

  /** Deletes a user and closes its connections; false when there was none. */
  deleteUser(name: string): boolean {
    if (!this.users.users.delete(name)) return false;
    for (const c of this.connections)
      if (c.user?.name === name) c.shutdown(`CONNECTION_FORCED - user '${name}' was deleted`);
    this.scheduleSave();
    return true;
  }

  setPermissions(vhost: string, user: string, p: { configure: string; write: string; read: string }): void {
    this.vhostOrThrow(vhost);
    const u = this.users.users.get(user);
    if (!u) throw new ChannelError(ReplyCode.NOT_FOUND, `no user '${user}'`);
    u.permissions.set(vhost, { configure: p.configure, write: p.write, read: p.read });
    this.scheduleSave();
  }

  /** Removes a user's permissions in a vhost; false when it had none. */
  clearPermissions(vhost: string, user: string): boolean {
    const gone = this.users.users.get(user)?.permissions.delete(vhost) ?? false;
    if (gone) this.scheduleSave();
    return gone;
  }

  /**
   * Deletes a vhost with everything in it: its connections are closed, its queues (and their
   * messages) deleted, and permissions in it dropped. False when there was none.
   */
  deleteVhost(name: string): boolean {
    const vh = this.vhosts.get(name);
    if (!vh) return false;
    for (const c of this.connections)
      if (c.vhost === vh) c.shutdown(`CONNECTION_FORCED - vhost '${name}' is deleted`);
    for (const q of [...vh.queues.values()]) vh.removeQueue(q);
    this.vhosts.delete(name);
    for (const u of this.users.users.values()) u.permissions.delete(name);
    this.scheduleSave();
    return true;
  }

  /** Loads definitions (RabbitMQ's definitions.json) into the running broker and saves them. */
  importDefinitions(defs: Definitions): void {
    importDefinitions(this, defs);
    this.scheduleSave();
  }

  authenticate(mechanism: string, response: Buffer, remoteAddress: string | undefined): User | undefined {
    let name: string | undefined;
    let password: string | undefined;
    if (mechanism === "PLAIN") {
      const parts = response.toString("utf8").split("\u0000");
      if (parts.length !== 3) return undefined;
      name = parts[1];
      password = parts[2];
    } else if (mechanism === "AMQPLAIN") {
      try {
        const t = readTable(response, 0, response.length);
        name = typeof t.LOGIN === "string" ? t.LOGIN : undefined;
        password = typeof t.PASSWORD === "string" ? t.PASSWORD : undefined;
      } catch {
        return undefined;
      }
    }
    if (name === undefined || password === undefined) return undefined;
    if (this.loopbackUsers.has(name) && !LOOPBACK.test(remoteAddress ?? "")) return undefined;
    return this.users.authenticate(name, password);
  }

  connectionClosed(c: Connection): void {
    if (!this.connections.delete(c)) return;
    c.vhost?.removeExclusiveQueues(c);
  }

  /** Opens the store, recovers, and starts listening; resolves with the bound port. */
  async start(): Promise<number> {
    const t0 = Date.now();
    if (!this.options.store) {
      this.store = await openStore({
        dataDir: this.options.dataDir,
        onWarning: (m) => this.log(`warren: store: ${m}`),
        onError: (e) => {
          this.log(`warren: store failed: ${e.message}; publishers are blocked`);
          this.setAlarm(true);
        },
      });
    }
    this.loadDefinitions();
    const disk = this.durableStore;
    if (disk) {
      this.recoverMessages(disk, t0);
      this.watchDisk(disk);
      if (process.env.WARREN_STORE_STATS === "1") this.logStoreStats(disk);
    }
    this.booting = false;
    this.scheduleSave();
    return this.listen();
  }

  private listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => {
        const c = new Connection(socket, this);
        this.connections.add(c);
        if (this.alarm) c.setAlarm(true, "low on disk");
      });
      this.server = server;
      server.once("error", reject);
      server.listen(this.options.port ?? 5672, this.options.host, () => {
        const addr = server.address();
        const port = typeof addr === "object" && addr ? addr.port : 0;
        this.log(`warren: listening on port ${port}`);
        resolve(port);
      });
    });
  }

  get port(): number {
    const addr = this.server?.address();
    return typeof addr === "object" && addr ? addr.port : 0;
  }

  /** Stops accepting, closes every connection and the store. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of [...this.connections]) {
      c.shutdown();
      c.socket.destroy();
      c.teardown();
    }
    if (this.diskTimer) clearInterval(this.diskTimer);
    if (this.statsTimer) clearInterval(this.statsTimer);
    if (server) await new Promise<void>((r) => server.close(() => r()));
    await this.store.close();
  }
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
