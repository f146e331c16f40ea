import { randomBytes } from "node:crypto";
import { ChannelError, ConnectionError, type FieldTable, ReplyCode } from "@warren/protocol";
import { Exchange } from "./exchange/exchange.js";
import type { Destination } from "./exchange/exchange-type.js";
import { createExchangeType } from "./exchange/registry.js";
import type { Message } from "./message.js";
import { applyExchangePolicy, applyQueuePolicy } from "./policy/apply-policies.js";
import { type Policy, PolicyStore } from "./policy/policy-store.js";
import { deadLetterMessage, isDeadLetterCycle } from "./queue/dead-letter.js";
import { type DeadLetterReason, Queue, type QueueHooks, type QueueOwner } from "./queue/queue.js";
import {
  amqpTypeName,
  checkArgsEquivalence,
  checkEquivalentArgs,
  parseQueueArgs,
} from "./queue/queue-args.js";
import type { MessageStore } from "./store/message-store.js";

export interface ExchangeOptions {
  passive?: boolean;
  durable?: boolean;
  autoDelete?: boolean;
  internal?: boolean;
  args?: FieldTable;
}

export interface QueueOptions {
  passive?: boolean;
  durable?: boolean;
  exclusive?: boolean;
  autoDelete?: boolean;
  args?: FieldTable;
}

/** Where direct reply-to replies go (a channel consuming amq.rabbitmq.reply-to). */
export interface ReplyTarget {
  deliverReply(msg: Message): void;
}

export const REPLY_TO = "amq.rabbitmq.reply-to";

/**
 * What became of a published message, as a bit set so that routing allocates nothing. No
 * ROUTED bit: unroutable (a mandatory publish is returned). The channel maps the result to a
 * confirm, a nack or a return; dead-lettering ignores it.
 */
export const PublishResult = {
  /** No queue (nor direct reply-to consumer) took it. */
  UNROUTED: 0,
  /** At least one queue or a direct reply-to consumer took it. */
  ROUTED: 1,
  /** A durable queue took it persistent: its confirm waits for the store to sync. */
  PERSISTED: 2,
  /** A queue refused it (overflow reject-publish): its confirm is a nack. */
  REJECTED: 4,
} as const;
export type PublishResult = number;

/** Called when definitions that must survive a restart change. */
export type DefinitionsListener = () => void;

const PREDECLARED: [string, string][] = [
  ["amq.direct", "direct"],
  ["amq.fanout", "fanout"],
  ["amq.topic", "topic"],
  ["amq.headers", "headers"],
  ["amq.match", "headers"],
];

const notFound = (what: string, name: string, vhost: string) =>
  new ChannelError(ReplyCode.NOT_FOUND, `no ${what} '${name}' in vhost '${vhost}'`);

/** Renders a declared value the way RabbitMQ's inequivalence messages do. */
const show = (v: unknown) =>
  typeof v === "bigint" ? v.toString() : typeof v === "object" ? JSON.stringify(v) : String(v);

/** Per-vhost limits, as RabbitMQ's vhost-limits parameter. */
export interface VHostLimits {
  "max-connections"?: number;
  "max-queues"?: number;
}

/**
 * A virtual host: its exchanges, queues and bindings, and message routing between them.
 * Names, errors and defaults follow RabbitMQ.
 */
export class VHost implements QueueHooks {
  readonly exchanges = new Map<string, Exchange>();
  /** Direct reply-to targets by the key in `amq.rabbitmq.reply-to.<key>`. */
  private readonly replyTargets = new Map<string, ReplyTarget>();
  readonly queues = new Map<string, Queue>();
  /** Exclusive queues by owner, so a closing connection need not scan every queue. */
  private readonly exclusive = new Map<QueueOwner, Set<Queue>>();
  private routeGen = 0;
  private readonly scratch: Destination[] = [];
  private readonly routed: Queue[] = [];
  onDefinitionsChanged: DefinitionsListener | undefined;
  /** Bumped by every change to durable definitions (see Channel.replyDurable). */
  definitionsVersion = 0;
  /**
   * RabbitMQ's vhost limits (`rabbitmqctl set_vhost_limits`): max-connections and max-queues;
   * absent or negative means none, 0 allows none.
   */
  limits: VHostLimits = {};
  /** Where deep queues page transient messages out (see Queue.spool); set by the broker. */
  spool: MessageStore | undefined;
  /** Policies and operator policies (docs/policies.md), saved with the definitions. */
  readonly policies = new PolicyStore();
  readonly operatorPolicies = new PolicyStore();

  constructor(
    readonly name: string,
    readonly store: MessageStore,
  ) {
    this.exchanges.set("", new Exchange("", "direct", true, false, false, {}, createExchangeType("direct")!));
    for (const [n, t] of PREDECLARED)
      this.exchanges.set(n, new Exchange(n, t, true, false, false, {}, createExchangeType(t)!));
  }

  private changed(durable: boolean): void {
    if (!durable) return;
    this.definitionsVersion++;
    this.onDefinitionsChanged?.();
  }

  // ------------------------------------------------------------ policies

  /** Sets or replaces a (operator) policy and applies it at once; whether one of that name existed. */
  setPolicy(p: Policy, operator = false): boolean {
    const existed = (operator ? this.operatorPolicies : this.policies).set(p);
    this.applyPolicies();
    return existed;
  }

  /** Removes a (operator) policy; whether it existed. Objects it applied to fall back to the next match. */
  clearPolicy(name: string, operator = false): boolean {
    if (!(operator ? this.operatorPolicies : this.policies).delete(name)) return false;
    this.applyPolicies();
    return true;
  }

  private applyPolicies(): void {
    for (const q of [...this.queues.values()]) applyQueuePolicy(q, this.policies, this.operatorPolicies);
    for (const ex of this.exchanges.values()) applyExchangePolicy(ex, this.policies);
    this.changed(true);
  }

  // ------------------------------------------------------------ exchanges

  getExchange(name: string): Exchange {
    const ex = this.exchanges.get(name);
    if (!ex) throw notFound("exchange", name, this.name);
    return ex;
  }

  declareExchange(name: string, type: string, o: ExchangeOptions): Exchange {
    if (name === "")
      throw new ChannelError(ReplyCode.ACCESS_REFUSED, "operation not permitted on the default exchange");
    const existing = this.exchanges.get(name);
    if (o.passive) {
      if (!existing) throw notFound("exchange", name, this.name);
      return existing;
    }
    if (name === "")
      throw new ChannelError(ReplyCode.ACCESS_REFUSED, "operation not permitted on the default exchange");
    if (existing) {
      const check = (arg: string, got: unknown, cur: unknown) => {
        if (got !== cur) {
          throw new ChannelError(
            ReplyCode.PRECONDITION_FAILED,
            `inequivalent arg '${arg}' for exchange '${name}' in vhost '${this.name}': received '${show(got)}' but current is '${show(cur)}'`,
          );
        }
      };
      check("type", type, existing.type);
      check("durable", !!o.durable, existing.durable);
      check("auto_delete", !!o.autoDelete, existing.autoDelete);
      check("internal", !!o.internal, existing.internal);
      checkArgsEquivalence(
        `exchange '${name}' in vhost '${this.name}'`,
        ["alternate-exchange"],
        existing.args,
        o.args ?? {},
      );
      return existing;
    }
    if (name.startsWith("amq.")) {
      throw new ChannelError(
        ReplyCode.ACCESS_REFUSED,
        `exchange name '${name}' contains reserved prefix 'amq.*'`,
      );
    }
    const router = createExchangeType(type);
    if (!router) throw new ConnectionError(ReplyCode.COMMAND_INVALID, `invalid exchange type '${type}'`);
    const ae = o.args?.["alternate-exchange"];
    if (ae !== undefined && typeof ae !== "string") {
      throw new ChannelError(
        ReplyCode.PRECONDITION_FAILED,
        `invalid type '${amqpTypeName(ae)}' for arg 'alternate-exchange' in exchange '${name}' in vhost '${this.name}'`,
      );
    }
    const ex = new Exchange(name, type, !!o.durable, !!o.autoDelete, !!o.internal, o.args ?? {}, router);
    this.exchanges.set(name, ex);
    applyExchangePolicy(ex, this.policies);
    this.changed(ex.durable);
    return ex;
  }

  deleteExchange(name: string, ifUnused: boolean): void {
    if (name === "")
      throw new ChannelError(ReplyCode.ACCESS_REFUSED, "operation not permitted on the default exchange");
    if (name.startsWith("amq.")) {
      throw new ChannelError(
        ReplyCode.ACCESS_REFUSED,
        `deletion of system exchange '${name}' in vhost '${this.name}' refused`,
      );
    }
    const ex = this.exchanges.get(name);
    if (!ex) return; // idempotent, as RabbitMQ 3.x
    if (ifUnused && ex.bindings.size > 0) {
      throw new ChannelError(
        ReplyCode.PRECONDITION_FAILED,
        `exchange '${name}' in vhost '${this.name}' in use`,
      );
    }
    this.removeExchange(ex);
  }

  private removeExchange(ex: Exchange): void {
    this.exchanges.delete(ex.name);
    for (const b of [...ex.bindings.values()]) {
      ex.unbind(b);
      this.detachDestination(ex, b.destination, b);
    }
    // Bindings from other exchanges to this one go too.
    for (const src of this.exchanges.values()) {
      for (const b of [...src.bindings.values()]) if (b.destination === ex) this.unbindRaw(src, b);
    }
    this.changed(ex.durable);
  }

  private detachDestination(src: Exchange, d: Destination, b: { key: string }): void {
    if (d.kind === "queue") {
      const q = d as Queue;
      for (const e of q.bindings)
        if (e.exchange === src.name && e.binding.key === b.key) q.bindings.delete(e);
    } else (d as Exchange).inbound--;
  }

  private unbindRaw(src: Exchange, b: import("./exchange/exchange-type.js").Binding): void {
    src.unbind(b);
    this.detachDestination(src, b.destination, b);
    if (src.autoDelete && src.bindings.size === 0) this.removeExchange(src);
  }

  private checkBindable(exchange: string): Exchange {
    if (exchange === "")
      throw new ChannelError(ReplyCode.ACCESS_REFUSED, "operation not permitted on the default exchange");
    return this.getExchange(exchange);
  }

  bindExchange(destination: string, source: string, routingKey: string, args: FieldTable): void {
    const src = this.checkBindable(source);
    const dst = this.checkBindable(destination);
    if (src.bind(dst, routingKey, args)) {
      dst.inbound++;
      this.changed(src.durable && dst.durable);
    }
  }

  unbindExchange(destination: string, source: string, routingKey: string, args: FieldTable): void {
    const src = this.checkBindable(source);
    const dst = this.checkBindable(destination);
    const b = src.bindings.get(Exchange.bindingKey(dst, routingKey, args));
    if (b) {
      this.unbindRaw(src, b);
      this.changed(src.durable && dst.durable);
    }
  }

  // ------------------------------------------------------------ queues

  /** The queue, checking exclusive ownership. */
  getQueue(name: string, owner: QueueOwner | undefined, exclusiveCheck = true): Queue {
    const q = this.queues.get(name);
    if (!q) throw notFound("queue", name, this.name);
    if (exclusiveCheck) this.checkOwner(q, owner);
    return q;
  }

  private checkOwner(q: Queue, owner: QueueOwner | undefined, force = false): void {
    if (force || (q.exclusiveOwner !== undefined && q.exclusiveOwner !== owner)) {
      throw new ChannelError(
        ReplyCode.RESOURCE_LOCKED,
        `cannot obtain exclusive access to locked queue '${q.name}' in vhost '${this.name}'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.`,
      );
    }
  }

  /**
   * authorize: called with the queue's final name (a server-generated amq.gen-* one included)
   * once the name is valid and before anything changes, with whether the queue is new; it
   * throws to refuse (access control lives with the channel, see ChannelAccess).
   */
  declareQueue(
    name: string,
    o: QueueOptions,
    owner: QueueOwner,
    authorize?: (name: string, isNew: boolean) => void,
  ): Queue {
    if (o.passive) {
      const q = this.getQueue(name, owner);
      q.touch(); // a passive declare counts as use for x-expires, as in RabbitMQ
      return q;
    }
    if (name === "") name = `amq.gen-${randomBytes(16).toString("base64url").slice(0, 22)}`;
    else if (name.startsWith("amq.")) {
      throw new ChannelError(
        ReplyCode.ACCESS_REFUSED,
        `queue name '${name}' contains reserved prefix 'amq.*'`,
      );
    }
    const existing = this.queues.get(name);
    authorize?.(name, existing === undefined);
    if (existing) {
      this.checkOwner(existing, owner);
      existing.touch();
      const check = (arg: string, got: unknown, cur: unknown) => {
        if (got !== cur) {
          throw new ChannelError(
            ReplyCode.PRECONDITION_FAILED,
            `inequivalent arg '${arg}' for queue '${name}' in vhost '${this.name}': received '${show(got)}' but current is '${show(cur)}'`,
          );
        }
      };
      check("durable", !!o.durable, existing.durable);
      if (!!o.exclusive !== (existing.exclusiveOwner !== undefined))
        this.checkOwner(existing, undefined, true);
      check("auto_delete", !!o.autoDelete, existing.autoDelete);
      checkEquivalentArgs(name, this.name, existing.a.queueType, existing.args, o.args ?? {});
      return existing;
    }
    const args = o.args ?? {};
    const parsed = parseQueueArgs(name, this.name, args, !!o.durable, !!o.exclusive, !!o.autoDelete);
    const owned = o.exclusive ? owner : undefined;
    const maxQueues = this.limits["max-queues"];
    if (maxQueues !== undefined && maxQueues >= 0 && this.queues.size >= maxQueues) {
      throw new ChannelError(
        ReplyCode.PRECONDITION_FAILED,
        `cannot declare queue '${name}': queue limit in vhost '${this.name}' (${maxQueues}) is reached`,
      );
    }
    const q = new Queue(name, this.name, !!o.durable, owned, !!o.autoDelete, args, parsed, this.store, this);
    q.spool = this.spool;
    this.queues.set(name, q);
    applyQueuePolicy(q, this.policies, this.operatorPolicies);
    if (owned) {
      let mine = this.exclusive.get(owned);
      if (!mine) this.exclusive.set(owned, (mine = new Set()));
      mine.add(q);
    }
    this.changed(q.durable);
    return q;
  }

  bindQueue(queue: string, exchange: string, routingKey: string, args: FieldTable, owner: QueueOwner): void {
    const q = this.getQueue(queue, owner);
    const ex = this.checkBindable(exchange);
    const b = ex.bind(q, routingKey, args);
    if (b) {
      q.bindings.add({ exchange: ex.name, binding: b });
      this.changed(q.durable && ex.durable);
    }
  }

  /** Unbinding is allowed from any connection, exclusive queues included (as RabbitMQ). */
  unbindQueue(queue: string, exchange: string, routingKey: string, args: FieldTable): void {
    const q = this.getQueue(queue, undefined, false);
    const ex = this.checkBindable(exchange);
    const b = ex.bindings.get(Exchange.bindingKey(q, routingKey, args));
    if (b) {
      this.unbindRaw(ex, b);
      this.changed(q.durable && ex.durable);
    }
  }

  purgeQueue(name: string, owner: QueueOwner): number {
    return this.getQueue(name, owner).purge();
  }

  /** Deletes a queue; returns its message count, or 0 when it did not exist. */
  deleteQueue(name: string, ifUnused: boolean, ifEmpty: boolean, owner: QueueOwner): number {
    const q = this.queues.get(name);
    if (!q) return 0;
    this.checkOwner(q, owner);
    if (ifUnused && q.consumerCount > 0) {
      throw new ChannelError(ReplyCode.PRECONDITION_FAILED, `queue '${name}' in vhost '${this.name}' in use`);
    }
    if (ifEmpty && q.messageCount > 0) {
      throw new ChannelError(
        ReplyCode.PRECONDITION_FAILED,
        `queue '${name}' in vhost '${this.name}' not empty`,
      );
    }
    return this.removeQueue(q);
  }

  /** Exclusive queues die with their owner (a connection closing). */
  removeExclusiveQueues(owner: QueueOwner): void {
    const mine = this.exclusive.get(owner);
    if (mine) for (const q of [...mine]) this.removeQueue(q);
  }

  /** QueueHooks: auto-delete or x-expires. */
  remove(q: Queue): void {
    this.removeQueue(q);
  }

  /** QueueHooks: republishes msg to the queue's dead-letter exchange, if it has one. */
  deadLetter(q: Queue, msg: Message, reason: DeadLetterReason): void {
    const dlx = q.a.deadLetterExchange;
    if (dlx === undefined || !this.exchanges.has(dlx)) return;
    this.publish(deadLetterMessage(msg, q.name, reason, dlx, q.a.deadLetterRoutingKey), true);
  }

  /** Removes a queue and its bindings (auto-delete, exclusive owner gone, queue.delete). */
  removeQueue(q: Queue): number {
    if (this.queues.get(q.name) !== q) return 0;
    this.queues.delete(q.name);
    if (q.exclusiveOwner !== undefined) {
      const mine = this.exclusive.get(q.exclusiveOwner);
      mine?.delete(q);
      if (mine?.size === 0) this.exclusive.delete(q.exclusiveOwner);
    }
    for (const { exchange, binding } of [...q.bindings]) {
      const ex = this.exchanges.get(exchange);
      if (ex) this.unbindRaw(ex, binding);
    }
    q.bindings.clear();
    const n = q.destroy();
    this.changed(q.durable);
    return n;
  }

  // ------------------------------------------------------------ publishing

  /**
   * The exchange a client may publish to: 404 when it does not exist, 403 when it is internal.
   * Checked when the publish arrives; publish() itself treats a missing exchange as
   * unroutable (one deleted before a transaction commits).
   */
  publishTarget(name: string): Exchange {
    const ex = this.exchanges.get(name);
    if (!ex) throw notFound("exchange", name, this.name);
    if (ex.internal) {
      throw new ChannelError(
        ReplyCode.ACCESS_REFUSED,
        `cannot publish to internal exchange '${name}' in vhost '${this.name}'`,
      );
    }
    return ex;
  }

  /**
   * Routes msg from its exchange and enqueues it on every queue it reaches: the one path of a
   * message into queues, for clients and for dead-lettering alike. A client's publish to the
   * default exchange with an `amq.rabbitmq.reply-to.<key>` routing key goes straight to that
   * reply consumer. deadLettered: skip queues the message already died in (a cycle).
   */
  publish(msg: Message, deadLettered = false): PublishResult {
    const ex = this.exchanges.get(msg.exchange);
    if (!ex) return PublishResult.UNROUTED;
    if (ex.name === "" && !deadLettered && msg.routingKey.startsWith(REPLY_TO)) {
      const target = this.replyTargets.get(msg.routingKey.slice(REPLY_TO.length + 1));
      if (!target) return PublishResult.UNROUTED;
      target.deliverReply(msg);
      return PublishResult.ROUTED;
    }
    const out = this.routed;
    const start = out.length; // re-entrant: enqueue may dead-letter (reject-publish-dlx)
    this.route(ex, msg.routingKey, msg, out);
    let result: PublishResult = PublishResult.UNROUTED;
    for (let i = start; i < out.length; i++) {
      const q = out[i]!;
      if (deadLettered && isDeadLetterCycle(msg, q.name)) continue;
      result |= PublishResult.ROUTED;
      if (!q.enqueue(msg)) result |= PublishResult.REJECTED;
      else if (q.durable && msg.persistent) result |= PublishResult.PERSISTED;
    }
    out.length = start;
    return result;
  }

  /** Registers a direct reply-to consumer; returns the key replies are addressed to. */
  addReplyTarget(target: ReplyTarget): string {
    const key = randomBytes(18).toString("base64url");
    this.replyTargets.set(key, target);
    return key;
  }

  removeReplyTarget(key: string): void {
    this.replyTargets.delete(key);
  }

  hasReplyTarget(key: string): boolean {
    return this.replyTargets.has(key);
  }

  // ------------------------------------------------------------ routing

  /**
   * Collects the queues msg goes to from exchange ex into out (each queue once, following
   * exchange-to-exchange bindings without loops). Allocates nothing on the common path.
   */
  route(ex: Exchange, routingKey: string, msg: Message, out: Queue[]): void {
    const start = out.length;
    this.routeOne(ex, routingKey, msg, out);
    if (out.length > start || ex.alternate === undefined) return;
    // Alternate exchanges: follow the chain until something routes, never visiting twice.
    const seen = new Set<Exchange>([ex]);
    let cur = ex;
    for (;;) {
      const ae = cur.alternate;
      const next = ae === undefined ? undefined : this.exchanges.get(ae);
      if (!next || seen.has(next)) return;
      seen.add(next);
      this.routeOne(next, routingKey, msg, out);
      if (out.length > start) return;
      cur = next;
    }
  }

  private routeOne(ex: Exchange, routingKey: string, msg: Message, out: Queue[]): void {
    if (ex.name === "") {
      const q = this.queues.get(routingKey);
      if (q) out.push(q);
      return;
    }
    const gen = ++this.routeGen;
    const s = this.scratch;
    s.length = 0;
    ex.routeMark = gen;
    ex.router.route(routingKey, msg, s);
    for (let i = 0; i < s.length; i++) {
      const d = s[i]!;
      if (d.routeMark === gen) continue;
      d.routeMark = gen;
      if (d.kind === "queue") out.push(d as Queue);
      else (d as Exchange).router.route(routingKey, msg, s);
    }
    s.length = 0;
  }
}
