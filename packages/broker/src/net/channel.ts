import { randomBytes } from "node:crypto";
import {
  ChannelError,
  ConnectionError,
  type FieldTable,
  type Method,
  type MethodInit,
  PropertyFlag,
  peekExpiration,
  peekReplyTo,
  propertiesProblem,
  propertyOffset,
  rawShortString,
  ReplyCode,
  unexpectedFrame,
  writeDeliver,
  writeMethodFrame,
  writeMethodWithContent,
  withRawProperty,
} from "@warren/protocol";
import { expirationProblem, Message } from "../message.js";
import { Consumer, type ConsumerOwner, ConsumerRemoval } from "../queue/consumer.js";
import { withDeliveryCount } from "../queue/delivery-count.js";
import type { Delivered, Queue } from "../queue/queue.js";
import { amqpTypeName, integerOf } from "../queue/queue-args.js";
import type { VHost } from "../vhost.js";
import { REPLY_TO, type ReplyTarget } from "../vhost.js";

/** How often unacked deliveries are checked against the consumer timeout. */
const TIMEOUT_TICK_MS = 250;

import type { Connection } from "./connection.js";

/** A delivery awaiting ack. */
interface Unacked extends Delivered {
  readonly consumer: Consumer | undefined;
  /** Consumer-timeout clock tick at delivery. */
  readonly tick: number;
}

/** A publish being assembled from method, header and body frames. */
interface Pending {
  exchange: string;
  routingKey: string;
  mandatory: boolean;
  rawProps: Buffer;
  bodySize: number;
  body: Buffer | undefined;
  /** For multi-frame bodies: bytes received so far. */
  received: number;
  /** Waiting for the content header. */
  awaitingHeader: boolean;
}

type TxOp =
  | { kind: "publish"; msg: Message; mandatory: boolean }
  | { kind: "ack" | "nack" | "reject"; tag: number; multiple: boolean; requeue: boolean };

const MAX_MESSAGE_SIZE = 128 * 1024 * 1024;

/**
 * One AMQP channel: publishes assembled from frames and routed, consumers and their
 * deliveries, acks, prefetch, confirms and transactions.
 */
export class Channel implements ConsumerOwner, ReplyTarget {
  /** Set after we sent channel.close and until channel.close-ok arrives. */
  closing = false;
  /** Closed (cleaned up): late replies are dropped. */
  private closed = false;
  private readonly consumers = new Map<string, Consumer>();
  private readonly unacked = new Map<number, Unacked>();
  private deliveryTag = 0;
  private pending: Pending | undefined;
  /** basic.qos global=false: the prefetch new consumers get. */
  private consumerPrefetch = 0;
  /** basic.qos global=true: the limit shared by all consumers of the channel. */
  private channelPrefetch = 0;
  private confirming = false;
  private publishSeq = 0;
  /** Highest publish sequence number whose confirm may be sent. */
  private confirmedUpTo = 0;
  private confirmSent = 0;
  private tx: TxOp[] | undefined;
  private lastQueue = "";
  private readonly routed: Queue[] = [];
  /** Direct reply-to: our consumer tag and the key replies are addressed to. */
  private replyConsumer: string | undefined;
  private replyKey: string | undefined;
  private ticks = 0;
  private tickTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: number,
    readonly conn: Connection,
    private readonly vhost: VHost,
  ) {}

  // ------------------------------------------------------------------ frames

  /**
   * One method from the client. A basic.cancel it causes for this channel's own consumers
   * (queue.delete of the queue they consume) goes out after the method's reply, as RabbitMQ
   * orders them: a client that closes its channel when its consumer is cancelled would
   * otherwise never see the reply.
   */
  handleMethod(m: Method): void {
    this.inMethod = true;
    try {
      this.dispatch(m);
    } catch (e) {
      this.deferredCancels = undefined; // the channel is closing
      throw e;
    } finally {
      this.inMethod = false;
    }
    const cancels = this.deferredCancels;
    if (cancels) {
      this.deferredCancels = undefined;
      for (const c of cancels) this.send(c);
    }
  }

  private inMethod = false;
  /** basic.cancel caused by the method being handled, sent after its reply. */
  private deferredCancels: MethodInit[] | undefined;

  private dispatch(m: Method): void {
    if (this.pending) {
      throw unexpectedFrame(`expected content header for class 60, got non content header frame instead`);
    }
    switch (m.name) {
      case "basic.publish":
        return this.onPublish(m.exchange, m.routingKey, m.mandatory, m.immediate);
      case "basic.ack":
        return this.ack(m.deliveryTag, m.multiple);
      case "basic.qos":
        return this.qos(m.prefetchSize, m.prefetchCount, m.global);
      case "basic.consume":
        return this.consume(m.queue, m.consumerTag, m.noLocal, m.noAck, m.exclusive, m.nowait, m.arguments);
      case "basic.cancel":
        return this.cancel(m.consumerTag, m.nowait);
      case "basic.get":
        return this.get(m.queue, m.noAck);
      case "basic.nack":
        return this.settle("nack", m.deliveryTag, m.multiple, m.requeue);
      case "basic.reject":
        return this.settle("reject", m.deliveryTag, false, m.requeue);
      case "basic.recover-async":
      case "basic.recover":
        if (!m.requeue)
          throw new ConnectionError(
            ReplyCode.NOT_IMPLEMENTED,
            "requeue=false",
            60,
            m.name === "basic.recover" ? 110 : 100,
          );
        this.recover();
        if (m.name === "basic.recover") this.send({ name: "basic.recover-ok" });
        return;
      case "exchange.declare": {
        const v = this.vhost.definitionsVersion;
        const ex = this.vhost.declareExchange(m.exchange, m.type, {
          passive: m.passive,
          durable: m.durable,
          autoDelete: m.autoDelete,
          internal: m.internal,
          args: m.arguments,
        });
        void ex;
        if (!m.nowait) this.replyDurable({ name: "exchange.declare-ok" }, v);
        return;
      }
      case "exchange.delete": {
        const v = this.vhost.definitionsVersion;
        this.vhost.deleteExchange(m.exchange, m.ifUnused);
        if (!m.nowait) this.replyDurable({ name: "exchange.delete-ok" }, v);
        return;
      }
      case "exchange.bind": {
        const v = this.vhost.definitionsVersion;
        this.vhost.bindExchange(m.destination, m.source, m.routingKey, m.arguments);
        if (!m.nowait) this.replyDurable({ name: "exchange.bind-ok" }, v);
        return;
      }
      case "exchange.unbind": {
        const v = this.vhost.definitionsVersion;
        this.vhost.unbindExchange(m.destination, m.source, m.routingKey, m.arguments);
        if (!m.nowait) this.replyDurable({ name: "exchange.unbind-ok" }, v);
        return;
      }
      case "queue.declare": {
        if (m.queue.startsWith(REPLY_TO)) return this.declareReplyTo(m.queue, m.nowait);
        const v = this.vhost.definitionsVersion;
        const q = this.vhost.declareQueue(
          m.queue,
          {
            passive: m.passive,
            durable: m.durable,
            exclusive: m.exclusive,
            autoDelete: m.autoDelete,
            args: m.arguments,
          },
          this.conn,
        );
        this.lastQueue = q.name;
        if (!m.nowait) {
          this.replyDurable(
            {
              name: "queue.declare-ok",
              queue: q.name,
              messageCount: q.messageCount,
              consumerCount: q.consumerCount,
            },
            v,
          );
        }
        return;
      }
      case "queue.bind": {
        const v = this.vhost.definitionsVersion;
        this.vhost.bindQueue(
          this.queueName(m.queue),
          m.exchange,
          this.bindKey(m.queue, m.routingKey),
          m.arguments,
          this.conn,
        );
        if (!m.nowait) this.replyDurable({ name: "queue.bind-ok" }, v);
        return;
      }
      case "queue.unbind": {
        const v = this.vhost.definitionsVersion;
        this.vhost.unbindQueue(
          this.queueName(m.queue),
          m.exchange,
          this.bindKey(m.queue, m.routingKey),
          m.arguments,
        );
        this.replyDurable({ name: "queue.unbind-ok" }, v);
        return;
      }
      case "queue.purge": {
        const n = this.vhost.purgeQueue(this.queueName(m.queue), this.conn);
        if (!m.nowait) this.send({ name: "queue.purge-ok", messageCount: n });
        return;
      }
      case "queue.delete": {
        const v = this.vhost.definitionsVersion;
        const n = this.vhost.deleteQueue(this.queueName(m.queue), m.ifUnused, m.ifEmpty, this.conn);
        if (!m.nowait) this.replyDurable({ name: "queue.delete-ok", messageCount: n }, v);
        return;
      }
      case "channel.flow":
        if (!m.active) throw new ConnectionError(ReplyCode.NOT_IMPLEMENTED, "active=false", 20, 20);
        this.send({ name: "channel.flow-ok", active: true });
        return;
      case "channel.flow-ok":
        return;
      case "confirm.select":
        if (this.tx)
          throw new ChannelError(
            ReplyCode.PRECONDITION_FAILED,
            "cannot switch from tx to confirm mode",
            85,
            10,
          );
        this.confirming = true;
        if (!m.nowait) this.send({ name: "confirm.select-ok" });
        return;
      case "tx.select":
        if (this.confirming)
          throw new ChannelError(
            ReplyCode.PRECONDITION_FAILED,
            "cannot switch from confirm to tx mode",
            90,
            10,
          );
        this.tx ??= [];
        this.send({ name: "tx.select-ok" });
        return;
      case "tx.commit":
        if (!this.tx)
          throw new ChannelError(ReplyCode.PRECONDITION_FAILED, "channel is not transactional", 90, 20);
        this.commit();
        return;
      case "tx.rollback":
        if (!this.tx)
          throw new ChannelError(ReplyCode.PRECONDITION_FAILED, "channel is not transactional", 90, 30);
        this.tx = [];
        this.send({ name: "tx.rollback-ok" });
        return;
      case "access.request":
        this.send({ name: "access.request-ok", ticket: 1 });
        return;
      case "channel.open":
        throw new ConnectionError(ReplyCode.CHANNEL_ERROR, "second 'channel.open' seen", 20, 10);
      default:
        throw new ConnectionError(ReplyCode.COMMAND_INVALID, `unexpected method ${m.name} on a channel`);
    }
  }

  /**
   * queue.declare of amq.rabbitmq.reply-to (always there) or of a generated reply address
   * (there while its reply consumer is), passive or not, as RabbitMQ answers it.
   */
  private declareReplyTo(name: string, nowait: boolean): void {
    if (
      name !== REPLY_TO &&
      !(name[REPLY_TO.length] === "." && this.vhost.replyTargets.has(name.slice(REPLY_TO.length + 1)))
    )
      throw new ChannelError(ReplyCode.NOT_FOUND, `no queue '${name}' in vhost '${this.vhost.name}'`);
    if (!nowait) this.send({ name: "queue.declare-ok", queue: name, messageCount: 0, consumerCount: 1 });
  }

  private queueName(name: string): string {
    if (name !== "") return name;
    if (this.lastQueue === "") throw new ChannelError(ReplyCode.NOT_FOUND, "no previously declared queue");
    return this.lastQueue;
  }

  private bindKey(queue: string, routingKey: string): string {
    return queue === "" && routingKey === "" ? this.lastQueue : routingKey;
  }

  /**
   * Sends a reply or a server-initiated method (basic.cancel). While a reply waits for the
   * store (see replyDurable), later ones queue behind it: replies go out in request order, and
   * a basic.cancel caused by a queue.delete follows its queue.delete-ok, as in RabbitMQ. A
   * client that closes its channel when its consumer is cancelled would otherwise never get
   * the reply it waits for.
   */
  private send(m: MethodInit): void {
    if (this.held.length > 0) {
      this.held.push({ m, ready: true });
      return;
    }
    writeMethodFrame(this.conn.out, this.id, m);
    this.conn.scheduleFlush();
  }

  /** Replies (and methods after them) waiting for a durable reply ahead of them. */
  private readonly held: { m: MethodInit; ready: boolean }[] = [];

  /**
   * The reply to a method that may have changed durable definitions (version: the vhost's
   * definitionsVersion before it ran). If it did, the reply waits until the store has synced
   * them, as RabbitMQ answers only once its metadata store has committed: a declare-ok must
   * not be followed by a crash that forgets the declaration. The broker hands the new
   * definitions to the store in a microtask queued during the change; the sync is requested
   * in one queued after it, so it covers them.
   */
  private replyDurable(m: MethodInit, version: number): void {
    const store = this.vhost.store;
    if (this.vhost.definitionsVersion === version || !store.durable) return this.send(m);
    const entry = { m, ready: false };
    this.held.push(entry);
    queueMicrotask(() =>
      store.sync((err) => {
        if (this.closed || this.closing) return;
        if (err) {
          this.held.length = 0;
          this.conn.channelError(
            this,
            new ConnectionError(ReplyCode.INTERNAL_ERROR, `cannot save definitions: ${err.message}`),
          );
          return;
        }
        entry.ready = true;
        while (this.held.length > 0 && this.held[0]!.ready) {
          writeMethodFrame(this.conn.out, this.id, this.held.shift()!.m);
        }
        this.conn.scheduleFlush();
      }),
    );
  }

  // ------------------------------------------------------------------ publish

  private onPublish(exchange: string, routingKey: string, mandatory: boolean, immediate: boolean): void {
    if (immediate) throw new ConnectionError(ReplyCode.NOT_IMPLEMENTED, "immediate=true", 60, 40);
    this.conn.onPublish();
    this.pending = {
      exchange,
      routingKey,
      mandatory,
      rawProps: EMPTY,
      bodySize: 0,
      body: undefined,
      received: 0,
      awaitingHeader: true,
    };
  }

  /** A content header frame payload: class-id, weight, body-size, properties. */
  handleHeader(buf: Buffer, start: number, end: number): void {
    const p = this.pending;
    if (!p?.awaitingHeader) throw unexpectedFrame("unexpected content header frame");
    if (end - start < 14) throw unexpectedFrame("content header too short");
    if (buf.readUInt16BE(start) !== 60) throw unexpectedFrame("content header for a class other than basic");
    const size = buf.readUInt32BE(start + 4) * 0x100000000 + buf.readUInt32BE(start + 8);
    p.rawProps = buf.subarray(start + 12, end);
    p.bodySize = size;
    p.awaitingHeader = false;
    if (size > MAX_MESSAGE_SIZE) {
      this.pending = undefined;
      throw new ChannelError(
        ReplyCode.PRECONDITION_FAILED,
        `message size ${size} is larger than configured max size ${MAX_MESSAGE_SIZE}`,
        60,
        40,
      );
    }
    if (size === 0) {
      p.body = EMPTY;
      this.completePublish(p);
    }
  }

  handleBody(buf: Buffer, start: number, end: number): void {
    const p = this.pending;
    if (!p || p.awaitingHeader) throw unexpectedFrame("unexpected content body frame");
    const n = end - start;
    if (p.received + n > p.bodySize) throw unexpectedFrame("content body longer than its header said");
    if (p.received === 0 && n === p.bodySize) {
      p.body = buf.subarray(start, end);
    } else {
      // Grow with what arrives rather than trusting the declared size: a header may announce
      // 128 MiB and never send it, and thousands of channels may do so at once.
      const need = p.received + n;
      if (!p.body || p.body.length < need) {
        const size = Math.min(p.bodySize, Math.max(need, 2 * (p.body?.length ?? 0)));
        const grown = Buffer.allocUnsafe(size);
        if (p.body) p.body.copy(grown, 0, 0, p.received);
        p.body = grown;
      }
      buf.copy(p.body, p.received, start, end);
    }
    p.received += n;
    if (p.received === p.bodySize) {
      if (p.body!.length > p.bodySize) p.body = p.body!.subarray(0, p.bodySize);
      this.completePublish(p);
    }
  }

  private completePublish(p: Pending): void {
    this.pending = undefined;
    if (this.closing) return;
    const ex = this.vhost.exchanges.get(p.exchange);
    if (!ex)
      throw new ChannelError(
        ReplyCode.NOT_FOUND,
        `no exchange '${p.exchange}' in vhost '${this.vhost.name}'`,
        60,
        40,
      );
    if (ex.internal) {
      throw new ChannelError(
        ReplyCode.ACCESS_REFUSED,
        `cannot publish to internal exchange '${p.exchange}' in vhost '${this.vhost.name}'`,
        60,
        40,
      );
    }
    const problem = propertiesProblem(p.rawProps);
    if (problem !== undefined) throw malformedProperties(problem);
    let msg = new Message(p.exchange, p.routingKey, p.rawProps, p.body!);
    if (Number.isNaN(msg.expirationMs)) {
      throw new ChannelError(
        ReplyCode.PRECONDITION_FAILED,
        `invalid expiration '${peekExpiration(p.rawProps)}': ${expirationProblem(peekExpiration(p.rawProps) ?? "")}`,
        60,
        40,
      );
    }
    const flags = p.rawProps.length >= 2 ? p.rawProps.readUInt16BE(0) : 0;
    if (flags & PropertyFlag.userId) this.checkUserId(p.rawProps);
    if (flags & PropertyFlag.replyTo) msg = this.rewriteReplyTo(msg);
    if (this.tx) {
      this.tx.push({ kind: "publish", msg, mandatory: p.mandatory });
      return;
    }
    this.publish(msg, p.mandatory);
  }

  /** RabbitMQ refuses a user-id property that is not the authenticated user. */
  private checkUserId(raw: Buffer): void {
    const o = propertyOffset(raw, PropertyFlag.userId);
    const user = this.conn.user?.name ?? "";
    const given = o < 0 ? undefined : raw.toString("utf8", o + 1, o + 1 + raw[o]!);
    if (given !== undefined && given !== user) {
      throw new ChannelError(
        ReplyCode.PRECONDITION_FAILED,
        `user_id property set to '${given}' but authenticated user was '${user}'`,
        60,
        40,
      );
    }
  }

  /** Direct reply-to: a request's reply-to becomes the address of this channel's reply consumer. */
  private rewriteReplyTo(msg: Message): Message {
    if (peekReplyTo(msg.rawProps) !== REPLY_TO) return msg;
    if (this.replyKey === undefined) {
      throw new ChannelError(ReplyCode.PRECONDITION_FAILED, "fast reply consumer does not exist", 60, 40);
    }
    const props = withRawProperty(
      msg.rawProps,
      PropertyFlag.replyTo,
      rawShortString(`${REPLY_TO}.${this.replyKey}`),
    );
    return new Message(msg.exchange, msg.routingKey, props, msg.body);
  }

  private publish(msg: Message, mandatory: boolean): void {
    const ex = this.vhost.exchanges.get(msg.exchange);
    const out = this.routed;
    out.length = 0;
    let routedTo = 0;
    let persisted = false;
    let rejected = false;
    if (ex?.name === "" && msg.routingKey.startsWith(REPLY_TO)) {
      const target = this.vhost.replyTargets.get(msg.routingKey.slice(REPLY_TO.length + 1));
      if (target) {
        target.deliverReply(msg);
        routedTo = 1;
      }
    } else if (ex) {
      this.vhost.route(ex, msg.routingKey, msg, out);
      routedTo = out.length;
      for (let i = 0; i < routedTo; i++) {
        const q = out[i]!;
        if (q.enqueue(msg)) {
          if (q.durable && msg.persistent) persisted = true;
        } else rejected = true;
      }
      out.length = 0;
    }
    if (mandatory && routedTo === 0) this.basicReturn(msg, ReplyCode.NO_ROUTE, "NO_ROUTE");
    if (this.confirming) {
      const seq = ++this.publishSeq;
      if (rejected) this.pendingNacks.push(seq);
      if (persisted || this.unsyncedUpTo > this.syncedUpTo) {
        // Confirms wait for the store: requested once per flush, not per message.
        this.unsyncedUpTo = seq;
        this.conn.scheduleFlush();
      } else this.settleConfirms(seq, undefined);
    }
  }

  /** Publish sequence numbers up to which confirms wait on a store sync (requested or not). */
  private unsyncedUpTo = 0;
  /** Highest sequence number a store sync has been requested for. */
  private syncRequestedUpTo = 0;
  /** Highest sequence number whose sync completed. */
  private syncedUpTo = 0;
  /** Publishes a queue refused (reject-publish): nacked when their turn comes. */
  private readonly pendingNacks: number[] = [];

  /**
   * Every publish up to upTo is settled: nack the refused ones (or all of them when the store
   * failed), ack the rest. Writes happen in sequence order, acks coalesced with multiple.
   */
  private settleConfirms(upTo: number, err: Error | undefined): void {
    if (this.closing || this.closed) return;
    if (err) {
      this.flushConfirms();
      if (upTo > this.confirmSent) {
        const multiple = upTo - this.confirmSent > 1;
        writeMethodFrame(this.conn.out, this.id, {
          name: "basic.nack",
          deliveryTag: upTo,
          multiple,
          requeue: false,
        });
        this.confirmSent = this.confirmedUpTo = upTo;
      }
      this.pendingNacks.length = 0;
    } else {
      while (this.pendingNacks.length > 0 && this.pendingNacks[0]! <= upTo) {
        const seq = this.pendingNacks.shift()!;
        this.confirmedUpTo = Math.max(this.confirmedUpTo, seq - 1);
        this.flushConfirms();
        writeMethodFrame(this.conn.out, this.id, {
          name: "basic.nack",
          deliveryTag: seq,
          multiple: false,
          requeue: false,
        });
        this.confirmSent = seq;
      }
      if (upTo > this.confirmedUpTo) this.confirmedUpTo = upTo;
    }
    this.conn.scheduleFlush();
  }

  private readonly onSynced = (err?: Error): void => {
    const upTo = this.syncQueue.shift()!;
    this.syncedUpTo = upTo;
    this.settleConfirms(upTo, err);
  };
  private readonly syncQueue: number[] = [];

  /** Called by the connection just before it writes its buffer out: coalesces confirms. */
  flushConfirms(): void {
    if (this.unsyncedUpTo > this.syncRequestedUpTo) {
      this.syncRequestedUpTo = this.unsyncedUpTo;
      this.syncQueue.push(this.unsyncedUpTo);
      this.vhost.store.sync(this.onSynced);
    }
    const upTo = this.confirmedUpTo;
    if (upTo > this.confirmSent && !this.closing && !this.closed) {
      writeMethodFrame(this.conn.out, this.id, {
        name: "basic.ack",
        deliveryTag: upTo,
        multiple: upTo - this.confirmSent > 1,
      });
      this.confirmSent = upTo;
    }
  }

  private basicReturn(msg: Message, code: number, text: string): void {
    writeMethodWithContent(
      this.conn.out,
      this.id,
      {
        name: "basic.return",
        replyCode: code,
        replyText: text,
        exchange: msg.exchange,
        routingKey: msg.routingKey,
      },
      msg.rawProps,
      msg.body,
      this.conn.frameMax,
    );
    this.conn.scheduleFlush();
  }

  // ------------------------------------------------------------------ consume

  private qos(prefetchSize: number, prefetchCount: number, global: boolean): void {
    if (prefetchSize !== 0)
      throw new ConnectionError(ReplyCode.NOT_IMPLEMENTED, `prefetch_size!=0 (${prefetchSize})`, 60, 10);
    if (global) this.channelPrefetch = prefetchCount;
    else this.consumerPrefetch = prefetchCount;
    this.send({ name: "basic.qos-ok" });
    if (global) for (const c of this.consumers.values()) c.queue.drain();
  }

  private consume(
    queueName: string,
    tag: string,
    _noLocal: boolean,
    noAck: boolean,
    exclusive: boolean,
    nowait: boolean,
    args: FieldTable,
  ): void {
    if (queueName === REPLY_TO) return this.consumeReplies(tag, noAck, nowait);
    const q = this.vhost.getQueue(this.queueName(queueName), this.conn);
    if (tag === "") tag = `amq.ctag-${randomBytes(16).toString("base64url").slice(0, 22)}`;
    else if (this.consumers.has(tag)) {
      throw new ConnectionError(ReplyCode.NOT_ALLOWED, `attempt to reuse consumer tag '${tag}'`, 60, 20);
    }
    if (q.hasExclusiveConsumer || (exclusive && q.consumerCount > 0)) {
      throw new ChannelError(
        ReplyCode.ACCESS_REFUSED,
        `queue '${q.name}' in vhost '${this.vhost.name}' in exclusive use`,
        60,
        20,
      );
    }
    const prio = args["x-priority"];
    const priority = prio === undefined ? 0 : integerOf(prio);
    if (priority === undefined) {
      throw new ChannelError(
        ReplyCode.PRECONDITION_FAILED,
        `invalid arg 'x-priority' for queue '${q.name}' in vhost '${this.vhost.name}': "expected integer, got ${amqpTypeName(prio!)}"`,
        60,
        20,
      );
    }
    const c = new Consumer(tag, this, q, noAck, exclusive, this.consumerPrefetch, args, priority);
    this.consumers.set(tag, c);
    if (!nowait) this.send({ name: "basic.consume-ok", consumerTag: tag });
    q.addConsumer(c);
  }

  private consumeReplies(tag: string, noAck: boolean, nowait: boolean): void {
    if (!noAck)
      throw new ChannelError(ReplyCode.PRECONDITION_FAILED, "reply consumer cannot acknowledge", 60, 20);
    if (this.replyConsumer !== undefined) {
      throw new ChannelError(ReplyCode.PRECONDITION_FAILED, "reply consumer already set", 60, 20);
    }
    if (tag === "") tag = `amq.ctag-${randomBytes(16).toString("base64url").slice(0, 22)}`;
    this.replyConsumer = tag;
    this.replyKey = randomBytes(18).toString("base64url");
    this.vhost.replyTargets.set(this.replyKey, this);
    if (!nowait) this.send({ name: "basic.consume-ok", consumerTag: tag });
  }

  /** ReplyTarget: a reply addressed to this channel's amq.rabbitmq.reply-to consumer. */
  deliverReply(msg: Message): void {
    if (this.closing || this.replyConsumer === undefined) return;
    const tag = ++this.deliveryTag;
    writeDeliver(
      this.conn.out,
      this.id,
      this.replyConsumer,
      tag,
      false,
      msg.exchange,
      msg.routingKey,
      msg.rawProps,
      msg.body,
      this.conn.frameMax,
    );
    this.conn.scheduleFlush();
  }

  private dropReplyConsumer(): void {
    if (this.replyKey !== undefined) this.vhost.replyTargets.delete(this.replyKey);
    this.replyKey = undefined;
    this.replyConsumer = undefined;
  }

  private cancel(tag: string, nowait: boolean): void {
    if (tag === this.replyConsumer) this.dropReplyConsumer();
    const c = this.consumers.get(tag);
    if (c) {
      this.consumers.delete(tag);
      c.queue.removeConsumer(c);
    }
    if (!nowait) this.send({ name: "basic.cancel-ok", consumerTag: tag });
  }

  canDeliver(c: Consumer): boolean {
    return (
      !this.closing &&
      !this.closed &&
      this.conn.canWrite &&
      (c.prefetch === 0 || c.unacked < c.prefetch) &&
      (this.channelPrefetch === 0 || this.unacked.size < this.channelPrefetch)
    );
  }

  deliver(c: Consumer, q: Queue, msg: Message, count: number, seq: number, exp: number): void {
    const tag = ++this.deliveryTag;
    // Quorum queues tell consumers how often a message came back.
    const props =
      count > 0 && q.a.queueType === "quorum" ? withDeliveryCount(msg.rawProps, count) : msg.rawProps;
    const out = this.conn.out;
    writeDeliver(
      out,
      this.id,
      c.tag,
      tag,
      count > 0,
      msg.exchange,
      msg.routingKey,
      props,
      msg.body,
      this.conn.frameMax,
    );
    this.conn.scheduleFlush();
    if (c.noAck) {
      q.settle(msg);
      return;
    }
    // An unacked delivery is held until its ack; prefetch bounds how many, so only a consumer
    // without a limit pays for the copy (see Message.compact).
    if (c.prefetch === 0 && this.channelPrefetch === 0) msg.compact();
    this.unacked.set(tag, { queue: q, msg, count, seq, exp, consumer: c, tick: this.ticks });
    c.unacked++;
    q.unacked++;
    this.tickTimer ??= this.startTimeoutTicks();
  }

  /** Consumer timeout: a delivery unacked for longer than its queue allows closes the channel. */
  private startTimeoutTicks(): NodeJS.Timeout {
    const t = setInterval(() => {
      this.ticks++;
      if (this.unacked.size === 0 || this.closing) return;
      for (const u of this.unacked.values()) {
        const limit = u.queue.a.consumerTimeout ?? this.conn.consumerTimeoutMs;
        if ((this.ticks - u.tick) * TIMEOUT_TICK_MS > limit) {
          this.conn.channelError(
            this,
            new ChannelError(
              ReplyCode.PRECONDITION_FAILED,
              `delivery acknowledgement on channel ${this.id} timed out. Timeout value used: ${limit} ms. This timeout value can be configured, see consumers doc guide to learn more`,
            ),
          );
          return;
        }
      }
    }, TIMEOUT_TICK_MS);
    t.unref();
    return t;
  }

  cancelledByServer(c: Consumer): void {
    this.consumers.delete(c.tag);
    if (this.conn.capabilities.consumerCancelNotify && !this.closing) {
      const m: MethodInit = { name: "basic.cancel", consumerTag: c.tag, nowait: true };
      if (this.inMethod) (this.deferredCancels ??= []).push(m);
      else this.send(m);
    }
  }

  private get(queueName: string, noAck: boolean): void {
    const q = this.vhost.getQueue(this.queueName(queueName), this.conn);
    const msg = q.get();
    if (!msg) {
      this.send({ name: "basic.get-empty" });
      return;
    }
    const count = q.lastCount;
    const seq = q.lastSeq;
    const exp = q.lastExp;
    const tag = ++this.deliveryTag;
    // Quorum queues put x-delivery-count on every basic.get (0 the first time), but only on
    // consumer deliveries that are redeliveries.
    const props = q.a.queueType === "quorum" ? withDeliveryCount(msg.rawProps, count) : msg.rawProps;
    writeMethodWithContent(
      this.conn.out,
      this.id,
      {
        name: "basic.get-ok",
        deliveryTag: tag,
        redelivered: count > 0,
        exchange: msg.exchange,
        routingKey: msg.routingKey,
        messageCount: q.messageCount,
      },
      props,
      msg.body,
      this.conn.frameMax,
    );
    this.conn.scheduleFlush();
    if (noAck) q.settle(msg);
    else {
      msg.compact();
      this.unacked.set(tag, { queue: q, msg, count, seq, exp, consumer: undefined, tick: this.ticks });
      q.unacked++;
      this.tickTimer ??= this.startTimeoutTicks();
    }
  }

  // ------------------------------------------------------------------ acks

  private ack(tag: number, multiple: boolean): void {
    if (this.tx) {
      this.checkTag(tag, multiple, 80);
      this.tx.push({ kind: "ack", tag, multiple, requeue: false });
      return;
    }
    this.settle("ack", tag, multiple, false);
  }

  private checkTag(tag: number, multiple: boolean, methodId: number): void {
    if (multiple && tag === 0) return;
    if (!this.unacked.has(tag))
      throw new ChannelError(ReplyCode.PRECONDITION_FAILED, `unknown delivery tag ${tag}`, 60, methodId);
  }

  /** Removes the unacked entries an ack/nack/reject names, in tag order. */
  private take(tag: number, multiple: boolean, methodId: number): Unacked[] {
    this.checkTag(tag, multiple, methodId);
    if (!multiple) {
      const u = this.unacked.get(tag)!;
      this.unacked.delete(tag);
      return [u];
    }
    const out: Unacked[] = [];
    for (const [t, u] of this.unacked) {
      if (tag !== 0 && t > tag) break;
      out.push(u);
      this.unacked.delete(t);
    }
    return out;
  }

  private settle(kind: "ack" | "nack" | "reject", tag: number, multiple: boolean, requeue: boolean): void {
    const methodId = kind === "ack" ? 80 : kind === "nack" ? 120 : 90;
    if (this.tx && kind !== "ack") {
      this.checkTag(tag, multiple, methodId);
      this.tx.push({ kind, tag, multiple, requeue });
      return;
    }
    // Fast path: a single ack of one delivery.
    if (kind === "ack" && !multiple) {
      const u = this.unacked.get(tag);
      if (!u) throw new ChannelError(ReplyCode.PRECONDITION_FAILED, `unknown delivery tag ${tag}`, 60, 80);
      this.unacked.delete(tag);
      this.release(u);
      u.queue.settle(u.msg);
      u.queue.drain();
      return;
    }
    const items = this.take(tag, multiple, methodId);
    this.finish(items, kind === "ack" ? "ack" : requeue ? "requeue" : "reject");
  }

  private release(u: Unacked): void {
    u.queue.unacked--;
    if (u.consumer) u.consumer.unacked--;
  }

  /**
   * Settles or requeues taken entries, then lets their queues deliver again. "requeue": the
   * client returned them; "restore": the channel or connection went away with them.
   */
  private finish(items: Unacked[], how: "ack" | "requeue" | "restore" | "reject"): void {
    const requeue = how === "requeue" || how === "restore";
    const queues = new Set<Queue>();
    const back = new Map<Queue, Unacked[]>();
    for (const u of items) {
      this.release(u);
      queues.add(u.queue);
      if (requeue) {
        let l = back.get(u.queue);
        if (!l) back.set(u.queue, (l = []));
        l.push(u);
      } else if (how === "reject") u.queue.reject(u.msg);
      else u.queue.settle(u.msg);
    }
    for (const [q, l] of back) q.requeue(l, how === "requeue");
    for (const q of queues) q.drain();
    // Consumers on other queues of this channel may have room now (global prefetch).
    if (this.channelPrefetch > 0) for (const c of this.consumers.values()) c.queue.drain();
  }

  private recover(returned = true): void {
    const items = [...this.unacked.values()];
    this.unacked.clear();
    this.finish(items, returned ? "requeue" : "restore");
  }

  private commit(): void {
    const ops = this.tx!;
    this.tx = [];
    for (const op of ops) {
      if (op.kind === "publish") this.publish(op.msg, op.mandatory);
      else if (op.kind === "ack") this.finish(this.take(op.tag, op.multiple, 80), "ack");
      else
        this.finish(
          this.take(op.tag, op.multiple, op.kind === "nack" ? 120 : 90),
          op.requeue ? "requeue" : "reject",
        );
    }
    this.send({ name: "tx.commit-ok" });
  }

  // ------------------------------------------------------------------ lifecycle

  /** Connection lost or channel closed: requeue unacked messages, drop consumers. */
  cleanup(): void {
    this.closed = true;
    this.pending = undefined;
    this.held.length = 0;
    this.dropReplyConsumer();
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.tickTimer = undefined;
    this.tx = undefined;
    if (this.consumers.size > 0) {
      const removal = new ConsumerRemoval();
      this.detachConsumers(removal);
      removal.run();
    }
    if (this.unacked.size > 0) this.recover(false);
  }

  /**
   * Hands this channel's consumers to a removal shared by all channels of a closing connection
   * (see Connection.teardown), before any unacked message is requeued, so that requeued
   * messages never meet a consumer that is going away.
   */
  detachConsumers(removal: ConsumerRemoval): void {
    for (const c of this.consumers.values()) removal.add(c);
    this.consumers.clear();
  }

  /** Resumes deliveries after backpressure let go. */
  resume(): void {
    for (const c of this.consumers.values()) c.queue.drain();
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Properties that do not parse (an unknown field type, a length past the end). They are
 * refused at publish, as RabbitMQ decodes properties there (its channel fails and the
 * connection is closed with 541 on 0/0), so that nothing that reads the stored message later
 * (dead-lettering in a timer, recovery, another client's basic.get) can meet them.
 */
function malformedProperties(problem: string): ConnectionError {
  return new ConnectionError(ReplyCode.INTERNAL_ERROR, `invalid content header properties: ${problem}`);
}
