import { ChannelError, type FieldTable, ReplyCode } from "@warren/protocol";
import type { Binding, Destination } from "../exchange/exchange-type.js";
import { Message } from "../message.js";
import type { MessageList } from "../ring.js";
import type { MessageStore } from "../store/message-store.js";
import { Compactor } from "./compactor.js";
import type { Consumer } from "./consumer.js";
import { withDeliveryCount } from "./delivery-count.js";
import { ExpiresTimer, MAX_TIMER_MS } from "./expires-timer.js";
import { PagedList } from "./paged-list.js";
import { PriorityList } from "./priority-list.js";
import { amqpTypeName, integerOf, type QueueArgs } from "./queue-args.js";
import {
  type AppliedPolicy,
  type DeadLetterReason,
  type Delivered,
  NO_POLICY,
  type QueueHooks,
  type QueueOwner,
} from "./queue-types.js";

export type { AppliedPolicy, DeadLetterReason, Delivered, QueueHooks, QueueOwner };

/** Ready messages a queue keeps in memory before paging the rest out (with a disk store). */
const PAGE_AFTER = 10_000;
/**
 * Or ready bytes: 10,000 messages of 64 KiB would be 640 MiB, past the default watermark of
 * most machines before paging ever started.
 */
const PAGE_AFTER_BYTES = 32 << 20;

/**
 * A classic (or single-node quorum) queue: a list of message references, consumers served
 * round-robin by priority, TTLs driven by one timer on the head, length limits, and the
 * message store told about persistent messages. Deliveries happen synchronously when a
 * message arrives and a consumer has room; otherwise `drain` runs when room appears.
 */
export class Queue implements Destination {
  readonly kind = "queue" as const;
  routeMark = 0;
  readonly ready: MessageList<Message>;
  readonly consumers: Consumer[] = [];
  /** Bindings pointing at this queue, with their source exchange name. */
  readonly bindings = new Set<{ exchange: string; binding: Binding }>();
  /** The key the store knows this queue by. */
  readonly storeKey: string;
  readyBytes = 0;
  unacked = 0;
  deleted = false;
  /** Counters for the management API: plain increments, read when someone asks. */
  publishedCount = 0;
  deliveredCount = 0;
  ackedCount = 0;
  private rr = 0;
  private exclusiveConsumers = 0;
  private seq = 0;
  private hadConsumers = false;
  private draining = false;
  private limited = false;
  /** Persistent messages may be paged out to the store. */
  private readonly pageable: boolean;
  /**
   * Where transient messages of a deep queue are paged out (open-spool.ts); undefined without
   * a disk store. In the ready list a spooled entry's id is negative, and a message loaded
   * back from the spool keeps the negative id, meaning "this queue's spool holds my record".
   */
  spool: MessageStore | undefined;
  private readonly priorities: boolean;
  private mixedConsumerPriorities = false;
  /** With x-single-active-consumer: the consumer that gets the messages. */
  private active: Consumer | undefined;
  private ttlTimer: NodeJS.Timeout | undefined;
  private ttlTimerAt = 0;
  /** x-expires: the queue is deleted once unused for that long. */
  private expires: ExpiresTimer | undefined;
  private readonly compactor: Compactor;
  /** The settings in effect: the declared arguments, or those and a policy (reconfigure). */
  a: QueueArgs;
  policy: AppliedPolicy = NO_POLICY;

  constructor(
    readonly name: string,
    readonly vhost: string,
    readonly durable: boolean,
    readonly exclusiveOwner: QueueOwner | undefined,
    readonly autoDelete: boolean,
    readonly args: FieldTable,
    /** The settings its arguments ask for. */
    readonly declared: QueueArgs,
    private readonly store: MessageStore,
    private readonly hooks: QueueHooks,
  ) {
    this.storeKey = `${vhost}\u0000${name}`;
    this.priorities = declared.maxPriority !== undefined;
    // Paged-out entries past a window go to a tail file of the store (or the spool).
    const openTail = (block: number) => (this.pageable ? this.store : this.spool)?.openTail?.(block);
    this.ready = this.priorities
      ? new PriorityList<Message>(declared.maxPriority!, openTail)
      : new PagedList<Message>(openTail);
    this.compactor = new Compactor(this.ready);
    this.pageable = durable && store.durable;
    this.a = declared;
    this.reconfigure(declared, NO_POLICY);
  }

  /**
   * Puts new settings in effect (a policy changed), as RabbitMQ does: a shorter limit drops
   * (and dead-letters) the head at once, the x-expires clock restarts, a new message TTL
   * applies to messages that arrive from now on.
   */
  reconfigure(a: QueueArgs, policy: AppliedPolicy): void {
    this.a = a;
    this.policy = policy;
    this.limited = a.maxLength !== undefined || a.maxLengthBytes !== undefined;
    this.expires?.clear();
    this.expires =
      a.expires === undefined ? undefined : new ExpiresTimer(a.expires, () => this.hooks.remove(this));
    this.touch();
    if (this.limited && a.overflow === "drop-head") this.dropHeadOverLimit();
  }

  get messageCount(): number {
    return this.ready.length;
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  private isFull(extraBytes: number): boolean {
    const a = this.a;
    return (
      (a.maxLength !== undefined && this.ready.length >= a.maxLength) ||
      (a.maxLengthBytes !== undefined && this.readyBytes + extraBytes > a.maxLengthBytes)
    );
  }

  /** Expiry time for a message entering now, 0 when it never expires. */
  private expiryOf(msg: Message, now: number): number {
    const q = this.a.messageTtl;
    const m = msg.expirationMs;
    if (q === undefined && m < 0) return 0;
    const ttl = q === undefined ? m : m < 0 ? q : Math.min(q, m);
    return now + ttl;
  }

  /**
   * Accepts a routed message; false when the queue refuses it (reject-publish overflow),
   * so the publisher can be nacked.
   */
  enqueue(msg: Message): boolean {
    if (this.limited && this.a.overflow !== "drop-head" && this.isFull(msg.bodySize)) {
      if (this.a.overflow === "reject-publish-dlx") this.hooks.deadLetter(this, msg, "maxlen");
      return false;
    }
    if (this.durable && msg.persistent) this.store.enqueue(this.storeKey, msg);
    this.publishedCount++;
    const seq = ++this.seq;
    let exp = 0;
    let now = 0;
    if (this.a.messageTtl !== undefined || msg.expirationMs >= 0) {
      now = Date.now();
      exp = this.expiryOf(msg, now);
    }
    if (this.ready.length === 0 && this.consumers.length > 0) {
      const c = this.pickConsumer();
      if (c) {
        this.deliverTo(c, msg, 0, seq, exp);
        return true;
      }
    }
    if (exp !== 0 && exp <= now) {
      // TTL 0: expires unless it could be delivered at once.
      this.dropMessage(msg, "expired");
      return true;
    }
    this.pushReady(msg, 0, seq, exp);
    if (exp !== 0) this.armTtl();
    if (this.limited) this.dropHeadOverLimit();
    return true;
  }

  private dropHeadOverLimit(): void {
    const a = this.a;
    while (
      this.ready.length > 0 &&
      ((a.maxLength !== undefined && this.ready.length > a.maxLength) ||
        (a.maxLengthBytes !== undefined && this.readyBytes > a.maxLengthBytes))
    ) {
      this.dropMessage(this.shiftHead(), "maxlen");
    }
  }

  /**
   * Appends a ready message. Deep durable queues keep only the first PAGE_AFTER persistent
   * messages in memory; the rest are known by store id and loaded when they reach the head,
   * so a backlog costs a few dozen bytes per message whatever the body size.
   */
  private pushReady(msg: Message, count: number, seq: number, exp: number): void {
    let id = msg.id;
    let paged = false;
    if (this.ready.length >= PAGE_AFTER || this.readyBytes >= PAGE_AFTER_BYTES) {
      if (this.pageable && id > 0 && msg.persistent) paged = true;
      else if (this.spool !== undefined && !msg.persistent) {
        id = this.spoolOut(msg);
        paged = id < 0;
      }
    }
    this.ready.push(paged ? undefined : msg, this.priorities ? msg.priority : 0, count, seq, exp, id);
    this.readyBytes += msg.bodySize;
    if (!paged) this.compactor.pushed();
  }

  /**
   * Puts messages recovered from the store back, in order; those in `delivered` (delivered
   * before the restart and not acked) go out redelivered, the rest as new. Only the head is
   * read back now; the rest stay paged out unless the queue needs their properties
   * (priorities, byte limits, TTLs). May be called several times (a deep queue comes back in
   * runs); ids that are not positive are skipped (removed entries of a run).
   */
  restoreIds(ids: ArrayLike<number>, delivered?: ReadonlySet<number>): void {
    const needProps =
      this.priorities || this.a.maxLengthBytes !== undefined || this.a.messageTtl !== undefined;
    const now = Date.now();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id <= 0) continue;
      const count = delivered?.has(id) ? 1 : 0;
      if (this.ready.length < PAGE_AFTER || needProps) {
        const msg = this.store.load(id);
        const exp = this.a.messageTtl !== undefined || msg.expirationMs >= 0 ? this.expiryOf(msg, now) : 0;
        this.pushReady(msg, count, ++this.seq, exp);
      } else this.ready.push(undefined, 0, count, ++this.seq, 0, id);
    }
    this.armTtl();
  }

  /**
   * Pages a transient message out to the spool; returns its ready-list id (negative), or 0
   * when the spool took nothing (failed). Only transient messages go there: they never reach
   * the durable store, so the two id spaces never meet on one Message. The spool gets a copy:
   * the Message may sit in other queues (fanout), and its id must stay theirs.
   */
  private spoolOut(msg: Message): number {
    if (msg.id < 0) return msg.id; // loaded back from this queue's spool and requeued
    const copy = new Message(msg.exchange, msg.routingKey, msg.rawProps, msg.body);
    this.spool!.enqueue(this.storeKey, copy);
    return -copy.id;
  }

  /** Reads a message back, from the durable store or (negative id) the spool. */
  private loadPaged(id: number): Message {
    if (id > 0) return this.store.load(id);
    const msg = this.spool!.load(-id);
    msg.id = id;
    return msg;
  }

  /** Removes the head, keeping byte accounting right; read head columns first. */
  private shiftHead(): Message {
    const id = this.ready.headId;
    const msg = this.ready.shift() ?? this.loadPaged(id);
    this.readyBytes -= msg.bodySize;
    return msg;
  }

  /** A message leaves the queue without being delivered (expired, dropped, rejected). */
  private dropMessage(msg: Message, reason: DeadLetterReason): void {
    this.hooks.deadLetter(this, msg, reason);
    this.settle(msg);
  }

  /** Expires messages at the head whose time has come. */
  private expireHead(now: number): void {
    while (this.ready.length > 0) {
      const exp = this.ready.headExp;
      if (exp === 0 || exp > now) break;
      this.dropMessage(this.shiftHead(), "expired");
    }
  }

  /** Keeps one timer armed for the head's expiry. */
  private armTtl(): void {
    if (this.ready.length === 0 || this.deleted) return;
    const exp = this.ready.headExp;
    if (exp === 0) return;
    if (this.ttlTimer && this.ttlTimerAt <= exp) return;
    if (this.ttlTimer) clearTimeout(this.ttlTimer);
    this.ttlTimerAt = exp;
    this.ttlTimer = setTimeout(this.onTtl, Math.min(MAX_TIMER_MS, Math.max(0, exp - Date.now())));
    this.ttlTimer.unref();
  }

  private readonly onTtl = (): void => {
    this.ttlTimer = undefined;
    this.expireHead(Date.now());
    this.armTtl();
  };

  /** The next consumer with room, round-robin within the highest priority that has room. */
  private pickConsumer(): Consumer | undefined {
    const cs = this.consumers;
    const n = cs.length;
    if (this.a.singleActiveConsumer) {
      const c = this.active;
      return c?.owner.canDeliver(c) ? c : undefined;
    }
    if (!this.mixedConsumerPriorities) {
      for (let tries = 0; tries < n; tries++) {
        if (this.rr >= n) this.rr = 0;
        const c = cs[this.rr++]!;
        if (c.owner.canDeliver(c)) return c;
      }
      return undefined;
    }
    // Consumers are sorted by priority; try each priority group in turn.
    for (let start = 0; start < n;) {
      let end = start + 1;
      while (end < n && cs[end]!.priority === cs[start]!.priority) end++;
      const size = end - start;
      for (let tries = 0; tries < size; tries++) {
        const c = cs[start + ((this.rr + tries) % size)]!;
        if (c.owner.canDeliver(c)) {
          this.rr = (this.rr + tries + 1) % size;
          return c;
        }
      }
      start = end;
    }
    return undefined;
  }

  /** Delivers ready messages while some consumer has room. */
  drain(): void {
    if (this.draining || this.deleted) return;
    this.draining = true;
    try {
      let now = 0;
      while (this.ready.length > 0 && this.consumers.length > 0) {
        const exp = this.ready.headExp;
        if (exp !== 0) {
          now ||= Date.now();
          if (exp <= now) {
            this.dropMessage(this.shiftHead(), "expired");
            continue;
          }
        }
        const c = this.pickConsumer();
        if (!c) break;
        const count = this.ready.headCount;
        const seq = this.ready.headSeq;
        const msg = this.shiftHead();
        this.deliverTo(c, msg, count, seq, exp);
      }
    } finally {
      this.draining = false;
    }
    this.armTtl();
  }

  /** Hands msg to c's channel; counts it as unacked unless the consumer does not ack. */
  private deliverTo(c: Consumer, msg: Message, count: number, seq: number, exp: number): void {
    this.deliveredCount++;
    if (c.owner.deliver(c, this, msg, count, seq, exp)) {
      this.unacked++;
      c.unacked++;
      if (count === 0) this.recordDelivery(msg);
    } else this.settle(msg);
  }

  /**
   * The properties a delivery of msg carries: quorum queues tell consumers how often a message
   * came back (x-delivery-count), on every basic.get (0 the first time) but only on consumer
   * deliveries that are redeliveries, as RabbitMQ 3.10 does.
   */
  deliveryProperties(msg: Message, count: number, get: boolean): Buffer {
    return (count > 0 || get) && this.a.queueType === "quorum"
      ? withDeliveryCount(msg.rawProps, count)
      : msg.rawProps;
  }

  /**
   * basic.get: takes the head message, or undefined when there is none. With noAck it has
   * left the queue; otherwise it counts as unacked until ack, reject or requeue.
   */
  get(noAck: boolean): Delivered | undefined {
    this.touch();
    if (this.ready.length > 0 && this.ready.headExp !== 0) this.expireHead(Date.now());
    if (this.ready.length === 0) return undefined;
    const r = this.ready;
    const d: Delivered = {
      queue: this,
      count: r.headCount,
      seq: r.headSeq,
      exp: r.headExp,
      msg: this.shiftHead(),
      consumer: undefined,
    };
    this.armTtl();
    this.deliveredCount++;
    if (noAck) this.settle(d.msg);
    else {
      this.unacked++;
      if (d.count === 0) this.recordDelivery(d.msg);
    }
    return d;
  }

  /**
   * First delivery of a stored message awaiting an ack: the store notes it so that a restart
   * flags it redelivered. Later deliveries need no note (the first one's stays until the ack).
   */
  private recordDelivery(msg: Message): void {
    if (this.durable && msg.id > 0 && msg.persistent) this.store.delivered(this.storeKey, msg.id);
  }

  /** A delivered message leaves the unacked count (and its consumer's). */
  private release(d: Delivered): void {
    this.unacked--;
    if (d.consumer) d.consumer.unacked--;
  }

  /** A message that left the queue for good (acked, no-ack delivery): the store forgets it. */
  private settle(msg: Message): void {
    if (msg.id < 0) this.spool?.removeId(this.storeKey, -msg.id);
    else if (this.durable && msg.persistent) this.store.remove(this.storeKey, msg);
  }

  /** basic.ack of a delivery. Call drain() after a batch: its consumer may have room now. */
  ack(d: Delivered): void {
    this.ackedCount++;
    this.release(d);
    this.settle(d.msg);
  }

  /** A delivery rejected without requeue: dead-lettered if configured. */
  reject(d: Delivered): void {
    this.release(d);
    this.dropMessage(d.msg, "rejected");
  }

  /**
   * Puts delivered messages back at the head, in their original order. `returned`: the client
   * asked for it (nack/reject with requeue, basic.recover) rather than its channel going away;
   * a quorum queue without a delivery limit then appends them at the tail instead, as
   * RabbitMQ 3.10's quorum queues do.
   */
  requeue(items: Delivered[], returned = false): void {
    for (const d of items) this.release(d);
    if (this.deleted) {
      for (const d of items) this.settle(d.msg);
      return;
    }
    if (returned && this.a.queueType === "quorum" && this.a.deliveryLimit === undefined) {
      items.sort((a, b) => a.seq - b.seq);
      for (const d of items) {
        this.pushReady(d.msg, d.count + 1, ++this.seq, d.exp);
      }
      this.drain();
      return;
    }
    const limit = this.a.deliveryLimit;
    for (const d of items) {
      if (limit !== undefined && d.count + 1 > limit) {
        this.dropMessage(d.msg, "delivery_limit");
        continue;
      }
      d.msg.compact();
      this.ready.restore(d.msg, this.priorities ? d.msg.priority : 0, d.count + 1, d.seq, d.exp, d.msg.id);
      this.readyBytes += d.msg.bodySize;
    }
    // Requeued messages count against the limit too: drop-head drops (and dead-letters) the
    // head, as RabbitMQ does; reject-publish lets the queue run over.
    if (this.limited && this.a.overflow === "drop-head") this.dropHeadOverLimit();
    this.drain();
  }

  addConsumer(c: Consumer): void {
    // Keep consumers sorted by priority (stable), highest first.
    let i = this.consumers.length;
    while (i > 0 && this.consumers[i - 1]!.priority < c.priority) i--;
    this.consumers.splice(i, 0, c);
    if (
      c.priority !== this.consumers[0]!.priority ||
      c.priority !== this.consumers[this.consumers.length - 1]!.priority
    ) {
      this.mixedConsumerPriorities = true;
    }
    if (c.exclusive) this.exclusiveConsumers++;
    // Single active consumer: the first to arrive stays active whatever its priority.
    this.active ??= c;
    this.hadConsumers = true;
    this.expires?.clear();
    this.drain();
  }

  /**
   * Whether a consumer may join, as RabbitMQ decides: not beside an exclusive one, not
   * exclusive beside others (403), and with an integer x-priority (406). Returns its priority.
   */
  consumerPriority(exclusive: boolean, args: FieldTable): number {
    if (this.exclusiveConsumers > 0 || (exclusive && this.consumers.length > 0)) {
      throw new ChannelError(
        ReplyCode.ACCESS_REFUSED,
        `queue '${this.name}' in vhost '${this.vhost}' in exclusive use`,
      );
    }
    const prio = args["x-priority"];
    const priority = prio === undefined ? 0 : integerOf(prio);
    if (priority === undefined) {
      throw new ChannelError(
        ReplyCode.PRECONDITION_FAILED,
        `invalid arg 'x-priority' for queue '${this.name}' in vhost '${this.vhost}': "expected integer, got ${amqpTypeName(prio!)}"`,
      );
    }
    return priority;
  }

  removeConsumer(c: Consumer): void {
    const i = this.consumers.indexOf(c);
    if (i < 0) return;
    this.consumers.splice(i, 1);
    if (this.rr > i) this.rr--;
    this.consumersRemoved(c === this.active, c.exclusive ? 1 : 0);
  }

  /**
   * Removes several consumers in one pass (a channel or connection closing with many of them),
   * where one removeConsumer call each would be quadratic in the queue's consumer count.
   */
  removeConsumers(gone: ReadonlySet<Consumer>): void {
    const cs = this.consumers;
    let kept = 0;
    let rr = this.rr;
    let exclusive = 0;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i]!;
      if (gone.has(c)) {
        if (i < this.rr) rr--;
        if (c.exclusive) exclusive++;
      } else cs[kept++] = c;
    }
    if (kept === cs.length) return;
    cs.length = kept;
    this.rr = rr;
    this.consumersRemoved(this.active !== undefined && gone.has(this.active), exclusive);
  }

  private consumersRemoved(wasActive: boolean, exclusive: number): void {
    this.exclusiveConsumers -= exclusive;
    // The next active consumer is the highest-priority one, earliest first (as RabbitMQ).
    if (wasActive) this.active = this.consumers[0];
    if (this.consumers.length === 0) {
      this.mixedConsumerPriorities = false;
      if (this.autoDelete && this.hadConsumers) {
        this.hooks.remove(this);
        return;
      }
      this.armExpires();
    } else if (wasActive) this.drain();
  }

  /** Use (redeclare, basic.get) restarts the x-expires clock. */
  touch(): void {
    if (this.consumers.length === 0) this.armExpires();
  }

  private armExpires(): void {
    if (!this.deleted) this.expires?.arm();
  }

  /** Drops every ready message; returns how many. */
  purge(): number {
    const n = this.ready.length;
    while (this.ready.length > 0) {
      const id = this.ready.headId;
      const msg = this.ready.shift();
      if (msg) this.settle(msg);
      else if (id < 0) this.spool?.removeId(this.storeKey, -id);
      else this.store.removeId(this.storeKey, id);
    }
    this.readyBytes = 0;
    return n;
  }

  /** Marks the queue deleted, cancels its consumers, drops its messages; returns the ready count. */
  destroy(): number {
    this.deleted = true;
    this.expires?.clear();
    if (this.ttlTimer) clearTimeout(this.ttlTimer);
    this.compactor.stop();
    const consumers = this.consumers.splice(0);
    this.active = undefined;
    this.exclusiveConsumers = 0;
    for (const c of consumers) c.owner.cancelledByServer(c);
    const n = this.purge();
    if (this.durable) this.store.dropQueue(this.storeKey);
    this.spool?.dropQueue(this.storeKey);
    return n;
  }
}
