import {
  type BasicProperties,
  ChannelError,
  encodeRawProperties,
  type FieldTable,
  ReplyCode,
} from "@warren/protocol";
import { Access } from "./auth/permissions.js";
import type { UserLimits } from "./auth/users.js";
import type { Broker } from "./broker.js";
import type { Definitions } from "./definitions.js";
import { checkDefinitions } from "./definitions-check.js";
import {
  bindingViews,
  channelViews,
  connectionViews,
  consumerViews,
  exchangeViews,
  objectTotals,
  permissionViews,
  policyViews,
  queueView,
  userViews,
} from "./inspect.js";
import { publishedMessage } from "./message.js";
import { makePolicy, type PolicySpec } from "./policy/policy-store.js";
import { asDurable } from "./store/durable-store.js";
import type { Delivered } from "./queue/queue.js";
import type { BrokerCounters } from "./stats.js";
import { PublishResult, type VHost, type VHostLimits } from "./vhost.js";
import type * as views from "./views.js";

const ACCESS = { configure: Access.CONFIGURE, write: Access.WRITE, read: Access.READ } as const;

/** Memory and disk use against the limits that raise their alarms (bytes). */
export interface ResourceUsage {
  memoryUsed: number;
  memoryLimit: number;
  memoryAlarm: boolean;
  /** Free space on the data directory's disk; undefined without a disk store. */
  diskFree: number | undefined;
  diskFreeLimit: number;
  diskAlarm: boolean;
}

/** The owner of queues declared through the management API: no connection. */
const MANAGEMENT_OWNER = {};

/** A message taken by BrokerAdmin.getMessages, with the properties a basic.get-ok would carry. */
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
 * What operations tools see of a broker and do to it (the management API, later `warren ctl`):
 * read-only views built on request, and the operations an operator performs, each with the
 * checks and errors of the AMQP method it stands for. Users, permissions and vhosts go through
 * the Broker's own run-time API, which saves them and applies them to open connections.
 */
export class BrokerAdmin {
  constructor(private readonly broker: Broker) {}

  /** Message and connection counters since start. */
  get counters(): BrokerCounters {
    return this.broker.counters;
  }

  /** When the broker was created (ms since the epoch). */
  get startedAt(): number {
    return this.broker.startedAt;
  }

  /** The AMQP port the broker listens on. */
  get port(): number {
    return this.broker.port;
  }

  /** What connection.start announces: product, version, capabilities. */
  get serverProperties(): Record<string, unknown> {
    return this.broker.serverProperties;
  }

  /** The running broker's definitions, in RabbitMQ's definitions.json format. */
  exportDefinitions(): Definitions {
    return this.broker.exportDefinitions();
  }

  // ------------------------------------------------------------ management views (read-only)

  private vhostsOf(vhost: string | undefined): Iterable<VHost> {
    if (vhost === undefined) return this.broker.vhosts.values();
    const vh = this.broker.vhosts.get(vhost);
    return vh ? [vh] : [];
  }

  /** Vhost names, in creation order. */
  listVhosts(): string[] {
    return [...this.broker.vhosts.keys()];
  }

  listUsers(): views.UserView[] {
    return userViews(this.broker.users);
  }

  listPermissions(): views.PermissionView[] {
    return permissionViews(this.broker.users);
  }

  /** Exchanges of one vhost, or of all; the default exchange has name "". */
  listExchanges(vhost?: string): views.ExchangeView[] {
    return [...this.vhostsOf(vhost)].flatMap(exchangeViews);
  }

  listQueues(vhost?: string): views.QueueView[] {
    return [...this.vhostsOf(vhost)].flatMap((vh) => [...vh.queues.values()].map(queueView));
  }

  /** One queue, or undefined when the vhost or the queue does not exist. */
  queueInfo(vhost: string, name: string): views.QueueView | undefined {
    const q = this.broker.vhosts.get(vhost)?.queues.get(name);
    return q ? queueView(q) : undefined;
  }

  /** Bindings of one vhost, or of all, the default exchange's implicit ones included. */
  listBindings(vhost?: string): views.BindingView[] {
    return [...this.vhostsOf(vhost)].flatMap(bindingViews);
  }

  listConnections(): views.ConnectionView[] {
    return connectionViews(this.broker.connections);
  }

  listChannels(): views.ChannelView[] {
    return channelViews(this.broker.connections);
  }

  listConsumers(vhost?: string): views.ConsumerView[] {
    const all = consumerViews(this.broker.connections);
    return vhost === undefined ? all : all.filter((c) => c.vhost === vhost);
  }

  objectTotals(): views.ObjectTotals {
    return objectTotals(this.broker.vhosts.values(), this.broker.connections);
  }

  /** Resource alarms in effect, by RabbitMQ's resource names ("memory", "disk"); empty when none. */
  activeAlarms(): string[] {
    return this.broker.activeAlarms();
  }

  /** The memory high watermark and the free-disk limit in bytes (0 before start). */
  resourceLimits(): { memory: number; diskFree: number } {
    return { memory: this.broker.memory?.watermark ?? 0, diskFree: this.broker.diskFreeLimit };
  }

  /**
   * Whether user may configure, write or read the queue or exchange called name in vhost, by
   * the permissions AMQP checks ("" is the default exchange, checked as amq.default).
   */
  permits(user: string, vhost: string, access: "configure" | "write" | "read", name: string): boolean {
    const p = this.broker.users.users.get(user)?.permissions.get(vhost);
    return p?.allows(ACCESS[access], name === "" ? "amq.default" : name) ?? false;
  }

  /**
   * Memory and disk against their alarms, as RabbitMQ's /api/nodes reports them: resident
   * memory and its high watermark, free disk space (undefined without a disk store) and the
   * free-disk limit, and which alarms are on.
   */
  async resources(): Promise<ResourceUsage> {
    const limits = this.resourceLimits();
    const alarms = this.broker.activeAlarms();
    const store = asDurable(this.broker.store);
    return {
      memoryUsed: process.memoryUsage.rss(),
      memoryLimit: limits.memory,
      memoryAlarm: alarms.includes("memory"),
      diskFree: store ? await store.freeBytes().catch(() => undefined) : undefined,
      diskFreeLimit: limits.diskFree,
      diskAlarm: alarms.includes("disk"),
    };
  }

  /**
   * Checks a user's password for another front door (the management API), with the same
   * loopback-only rule as AMQP logins; the user, or undefined.
   */
  login(name: string, password: string, remoteAddress: string | undefined): views.UserView | undefined {
    const u = this.broker.login(name, password, remoteAddress);
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
    const vh = this.broker.vhosts.get(name);
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
  ): views.QueueView {
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

  /** Binds as queue.bind or exchange.bind would. */
  bind(b: views.BindingView): void {
    const vh = this.vhostOrThrow(b.vhost);
    const { source, destination: dest, routingKey: key, arguments: args } = b;
    if (b.destinationType === "exchange") vh.bindExchange(dest, source, key, args);
    else vh.bindQueue(dest, source, key, args, vh.getQueue(dest, undefined, false).exclusiveOwner ?? {});
  }

  /** Unbinds as queue.unbind or exchange.unbind would. */
  unbind(b: views.BindingView): void {
    const vh = this.vhostOrThrow(b.vhost);
    const { source, destination: dest, routingKey: key, arguments: args } = b;
    if (b.destinationType === "exchange") vh.unbindExchange(dest, source, key, args);
    else vh.unbindQueue(dest, source, key, args);
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
    this.broker.counters.published++;
    if (result & PublishResult.ROUTED) this.broker.counters.routed++;
    else this.broker.counters.unroutable++;
    return (result & PublishResult.ROUTED) !== 0;
  }

  /**
   * Takes up to count messages from a queue as basic.get does, then settles them as the
   * management API's "get messages" ackmode says: "requeue" puts them back, "ack" removes
   * them, "reject" rejects them without requeue (dead-lettered where the queue says so).
   */
  getMessages(
    vhost: string,
    queue: string,
    count: number,
    settle: "requeue" | "ack" | "reject",
  ): GotMessage[] {
    const q = this.vhostOrThrow(vhost).getQueue(queue, undefined, false);
    const taken: Delivered[] = [];
    const out: GotMessage[] = [];
    for (let i = 0; i < count; i++) {
      const d = q.get(false);
      if (!d) break;
      taken.push(d);
      this.broker.counters.got++;
      if (d.count > 0) this.broker.counters.redelivered++;
      out.push({
        exchange: d.msg.exchange,
        routingKey: d.msg.routingKey,
        redelivered: d.count > 0,
        messageCount: q.messageCount,
        rawProperties: q.deliveryProperties(d.msg, d.count, true),
        body: d.msg.body,
      });
    }
    if (settle === "requeue") {
      if (taken.length > 0) q.requeue(taken, true);
    } else if (settle === "reject") {
      for (const d of taken) q.reject(d);
    } else {
      for (const d of taken) q.ack(d);
      this.broker.counters.acked += taken.length;
    }
    q.drain();
    return out;
  }

  /** Closes a connection by its name with 320 CONNECTION_FORCED; false when there is none. */
  closeConnection(name: string, reason = "Closed via management plugin"): boolean {
    for (const c of this.broker.connections) {
      if (c.name !== name) continue;
      c.shutdown(`CONNECTION_FORCED - ${reason}`);
      return true;
    }
    return false;
  }

  // ------------------------------------------------------------ users, permissions, vhosts

  /** Creates or replaces a user (password or RabbitMQ hash); its permissions are kept. */
  putUser(
    name: string,
    o: { password?: string; passwordHash?: string; hashingAlgorithm?: string; tags?: string[] },
  ): void {
    const tags = o.tags ?? [];
    if (o.password !== undefined) this.broker.putUser(name, { password: o.password, tags });
    else
      this.broker.putUser(name, {
        passwordHash: o.passwordHash ?? "",
        ...(o.hashingAlgorithm === undefined ? {} : { hashingAlgorithm: o.hashingAlgorithm }),
        tags,
      });
  }

  /** Deletes a user and closes its connections; false when there was none. */
  deleteUser(name: string): boolean {
    return this.broker.deleteUser(name);
  }

  setPermissions(vhost: string, user: string, p: { configure: string; write: string; read: string }): void {
    this.vhostOrThrow(vhost);
    if (!this.broker.users.users.has(user)) throw new ChannelError(ReplyCode.NOT_FOUND, `no user '${user}'`);
    this.broker.setPermissions(user, vhost, { configure: p.configure, write: p.write, read: p.read });
  }

  /** Removes a user's permissions in a vhost; false when it had none. */
  clearPermissions(vhost: string, user: string): boolean {
    const had = this.broker.users.users.get(user)?.permissions.has(vhost) ?? false;
    if (had) this.broker.clearPermissions(user, vhost);
    return had;
  }

  addVhost(name: string): void {
    this.broker.addVhost(name);
  }

  /** Deletes a vhost with everything in it; false when there was none. */
  deleteVhost(name: string): boolean {
    return this.broker.deleteVhost(name);
  }

  /** Vhost limits in effect, by vhost (RabbitMQ's /api/vhost-limits), vhosts without any left out. */
  listVhostLimits(): { vhost: string; value: VHostLimits }[] {
    const out: { vhost: string; value: VHostLimits }[] = [];
    for (const vh of this.broker.vhosts.values())
      if (Object.keys(vh.limits).length > 0) out.push({ vhost: vh.name, value: { ...vh.limits } });
    return out;
  }

  /** Sets or (value undefined) clears one vhost limit; applied at once and saved. */
  setVhostLimit(vhost: string, name: keyof VHostLimits, value: number | undefined): void {
    const vh = this.vhostOrThrow(vhost);
    const next = { ...vh.limits };
    if (value === undefined) delete next[name];
    else next[name] = value;
    vh.limits = next;
    this.broker.scheduleSave();
  }

  /** User limits in effect, by user (RabbitMQ's /api/user-limits), users without any left out. */
  listUserLimits(): { user: string; value: UserLimits }[] {
    const out: { user: string; value: UserLimits }[] = [];
    for (const u of this.broker.users.users.values())
      if (u.limits && Object.keys(u.limits).length > 0) out.push({ user: u.name, value: { ...u.limits } });
    return out;
  }

  /** Sets or (value undefined) clears one user limit; false when there is no such user. */
  setUserLimit(user: string, name: keyof UserLimits, value: number | undefined): boolean {
    const u = this.broker.users.users.get(user);
    if (!u) return false;
    const next = { ...u.limits };
    if (value === undefined) delete next[name];
    else next[name] = value;
    u.limits = next;
    this.broker.scheduleSave();
    return true;
  }

  // ------------------------------------------------------------ policies

  /** Policies (operator: operator policies) of one vhost, or of all, lowest priority first. */
  listPolicies(vhost?: string, operator = false): views.PolicyView[] {
    return [...this.vhostsOf(vhost)].flatMap((vh) =>
      policyViews(operator ? vh.operatorPolicies : vh.policies),
    );
  }

  /**
   * Sets or replaces a policy (operator: an operator policy), applied at once to the vhost's
   * queues and exchanges and saved; true when it is new. A bad one throws PolicyError with
   * RabbitMQ's text.
   */
  setPolicy(vhost: string, name: string, spec: PolicySpec, operator = false): boolean {
    const vh = this.vhostOrThrow(vhost);
    return !vh.setPolicy(makePolicy(vhost, name, spec, operator), operator);
  }

  /** Removes a policy (operator: an operator policy); false when there was none. */
  clearPolicy(vhost: string, name: string, operator = false): boolean {
    return this.broker.vhosts.get(vhost)?.clearPolicy(name, operator) ?? false;
  }

  /** Loads definitions (RabbitMQ's definitions.json) into the running broker and saves them. */
  importDefinitions(defs: Definitions): void {
    checkDefinitions(
      defs,
      (v) => this.broker.vhosts.has(v),
      (u) => this.broker.users.users.has(u),
    );
    this.broker.importDefinitions(defs);
  }
}
