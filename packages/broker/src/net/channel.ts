import {
  type AmqpError,
  ChannelError,
  ConnectionError,
  ContentAssembler,
  type Method,
  type MethodInit,
  PropertyFlag,
  ReplyCode,
  writeDeliver,
  writeMethodFrame,
  writeMethodWithContent,
} from "@warren/protocol";
import { ChannelAccess } from "../auth/channel-access.js";
import { type Message, publishedMessage } from "../message.js";
import { Consumer, type ConsumerOwner, ConsumerRemoval } from "../queue/consumer.js";
import type { Delivered, Queue } from "../queue/queue.js";
import { PublishResult, REPLY_TO, type ReplyTarget, type VHost } from "../vhost.js";
import type { BrokerCounters } from "../stats.js";
import type { ChannelFacts } from "../views.js";
import type { ChannelOutput } from "./channel-output.js";
import { PublisherConfirms } from "./confirms.js";
import type { Connection } from "./connection.js";
import { Deliveries, type SettleKind, type Settlement, settlementOf } from "./deliveries.js";
import { DirectReplyTo, generateConsumerTag } from "./direct-reply-to.js";
import { ReplyOrder } from "./reply-order.js";
import { Topology } from "./topology.js";

type TxOp =
  | { kind: "publish"; msg: Message; mandatory: boolean }
  | { kind: SettleKind; tag: number; multiple: boolean; requeue: boolean };

/**
 * One AMQP channel: it turns the client's methods into broker operations and the results into
 * replies. The work is done by what it owns: a ContentAssembler (publish frames → message),
 * the vhost (routing: one publish() for every path), PublisherConfirms, Deliveries (delivery
 * tags, unacked messages, consumer timeout), DirectReplyTo and Topology (declarations). What
 * stays here is the order of things: validation, transactions, prefetch and reply ordering.
 */
export class Channel implements ConsumerOwner, ReplyTarget, ChannelOutput {
  /** Set after we sent channel.close and until channel.close-ok arrives. */
  closing = false;
  /** Closed (cleaned up): late replies are dropped. */
  private closed = false;
  private readonly consumers = new Map<string, Consumer>();
  private readonly deliveries: Deliveries;
  private readonly content: ContentAssembler;
  /** The basic.publish whose content is being assembled. */
  private pubExchange = "";
  private pubKey = "";
  private pubMandatory = false;
  /** basic.qos global=false: the prefetch new consumers get. */
  private consumerPrefetch = 0;
  /** basic.qos global=true: the limit shared by all consumers of the channel. */
  private channelPrefetch = 0;
  private confirms: PublisherConfirms | undefined;
  private tx: TxOp[] | undefined;
  private readonly topology: Topology;
  private readonly replyTo: DirectReplyTo;
  private readonly replies: ReplyOrder;
  /** Broker-wide counters (shared), and this channel's own for the management API. */
  private readonly counters: BrokerCounters;
  private readonly stats = { published: 0, delivered: 0, acked: 0 };

  constructor(
    readonly id: number,
    readonly conn: Connection,
    private readonly vhost: VHost,
  ) {
    this.topology = new Topology(vhost, conn, new ChannelAccess(conn.user!, vhost.name));
    // max_message_size is checked on the content header, before any body is buffered.
    this.content = new ContentAssembler("view", conn.maxMessageSize);
    this.replyTo = new DirectReplyTo(vhost, this);
    this.replies = new ReplyOrder(this, vhost.store);
    this.deliveries = new Deliveries(id, conn.consumerTimeoutMs, conn.maxUnackedPerChannel, (err) => {
      if (!this.closing) this.fail(err);
    });
    this.counters = conn.counters;
    this.counters.channelsOpened++;
  }

  // ------------------------------------------------------------------ methods

  /** One method from the client; server methods it causes follow its reply (see ReplyOrder). */
  handleMethod(m: Method): void {
    this.replies.beginMethod();
    try {
      this.dispatch(m);
    } catch (e) {
      this.replies.endMethod(true); // the channel is closing: nothing deferred goes out
      throw e;
    }
    this.replies.endMethod(false);
  }

  /** Errors thrown here get the class and method ids of m from the connection. */
  private dispatch(m: Method): void {
    this.content.expectMethod();
    switch (m.name) {
      case "basic.publish":
        if (m.immediate) throw new ConnectionError(ReplyCode.NOT_IMPLEMENTED, "immediate=true");
        this.conn.onPublish();
        this.content.begin(m.name);
        this.pubExchange = m.exchange;
        this.pubKey = m.routingKey;
        this.pubMandatory = m.mandatory;
        return;
      case "basic.ack":
        return this.settle("ack", m.deliveryTag, m.multiple, false);
      case "basic.qos":
        return this.qos(m.prefetchSize, m.prefetchCount, m.global);
      case "basic.consume":
        return this.consume(m);
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
        if (!m.requeue) throw new ConnectionError(ReplyCode.NOT_IMPLEMENTED, "requeue=false");
        this.recover("requeue");
        if (m.name === "basic.recover") this.send({ name: "basic.recover-ok" });
        return;
      case "exchange.declare":
      case "exchange.delete":
      case "exchange.bind":
      case "exchange.unbind":
      case "queue.declare":
      case "queue.bind":
      case "queue.unbind":
      case "queue.purge":
      case "queue.delete": {
        const v = this.vhost.definitionsVersion;
        const reply = this.topology.run(m);
        if (reply) this.replies.sendDurable(reply, this.vhost.definitionsVersion !== v);
        return;
      }
      case "channel.flow":
        if (!m.active) throw new ConnectionError(ReplyCode.NOT_IMPLEMENTED, "active=false");
        this.send({ name: "channel.flow-ok", active: true });
        return;
      case "channel.flow-ok":
        return;
      case "confirm.select":
        if (this.tx)
          throw new ChannelError(ReplyCode.PRECONDITION_FAILED, "cannot switch from tx to confirm mode");
        this.confirms ??= new PublisherConfirms(this, this.vhost.store, this.counters);
        if (!m.nowait) this.send({ name: "confirm.select-ok" });
        return;
      case "tx.select":
        if (this.confirms)
          throw new ChannelError(ReplyCode.PRECONDITION_FAILED, "cannot switch from confirm to tx mode");
        this.tx ??= [];
        this.send({ name: "tx.select-ok" });
        return;
      case "tx.commit":
        if (!this.tx) throw new ChannelError(ReplyCode.PRECONDITION_FAILED, "channel is not transactional");
        this.commit();
        return;
      case "tx.rollback":
        if (!this.tx) throw new ChannelError(ReplyCode.PRECONDITION_FAILED, "channel is not transactional");
        this.tx = [];
        this.send({ name: "tx.rollback-ok" });
        return;
      case "access.request":
        this.send({ name: "access.request-ok", ticket: 1 });
        return;
      default:
        throw new ConnectionError(ReplyCode.COMMAND_INVALID, `unexpected method ${m.name} on a channel`);
    }
  }

  // ------------------------------------------------------------------ output

  private send(m: MethodInit): void {
    this.replies.send(m);
  }

  /** ChannelOutput: what the helpers write is dropped once the channel is closing. */
  get open(): boolean {
    return !this.closing && !this.closed;
  }

  /** ChannelOutput: a frame into the connection's buffer, which the caller flushes. */
  writeMethod(m: MethodInit): void {
    writeMethodFrame(this.conn.out, this.id, m);
  }

  /** ChannelOutput. */
  scheduleFlush(): void {
    this.conn.scheduleFlush();
  }

  /** ChannelOutput: closes this channel with an error raised outside frame handling. */
  fail(err: AmqpError): void {
    this.conn.channelError(this, err);
  }

  // ------------------------------------------------------------------ publish

  /** A content header frame of the publish being assembled. */
  handleHeader(buf: Buffer, start: number, end: number): void {
    const body = this.content.header(buf, start, end);
    if (body) this.completePublish(body);
  }

  /** A content body frame of the publish being assembled. */
  handleBody(buf: Buffer, start: number, end: number): void {
    const body = this.content.bodyFrame(buf, start, end);
    if (body) this.completePublish(body);
  }

  /**
   * The publish is complete: validate it as RabbitMQ does (in this order), then route it now
   * or at tx.commit. Channel errors thrown here name basic.publish (see Connection).
   */
  private completePublish(body: Buffer): void {
    const props = this.content.takeProperties();
    if (this.closing) return;
    this.topology.checkPublish(this.pubExchange, this.pubKey);
    const user = this.conn.user?.name ?? "";
    let msg = publishedMessage(this.pubExchange, this.pubKey, props, body, user);
    if (props.length >= 2 && props.readUInt16BE(0) & PropertyFlag.replyTo) msg = this.replyTo.rewrite(msg);
    if (this.tx) this.tx.push({ kind: "publish", msg, mandatory: this.pubMandatory });
    else this.publish(msg, this.pubMandatory);
  }

  /** Routes msg (see VHost.publish) and answers the publisher: a return, a confirm or a nack. */
  private publish(msg: Message, mandatory: boolean): void {
    const result = this.vhost.publish(msg);
    const routed = (result & PublishResult.ROUTED) !== 0;
    this.stats.published++;
    this.counters.countPublish(routed, mandatory);
    if (mandatory && !routed) this.basicReturn(msg, ReplyCode.NO_ROUTE, "NO_ROUTE");
    this.confirms?.published(result);
  }

  /** Called by the connection just before it writes its buffer out: coalesces confirms. */
  flushConfirms(): void {
    this.confirms?.flush();
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
      throw new ConnectionError(ReplyCode.NOT_IMPLEMENTED, `prefetch_size!=0 (${prefetchSize})`);
    if (global) this.channelPrefetch = prefetchCount;
    else this.consumerPrefetch = prefetchCount;
    this.send({ name: "basic.qos-ok" });
    if (global) this.resume();
  }

  private consume(m: Extract<Method, { name: "basic.consume" }>): void {
    const { noAck, exclusive, nowait, arguments: args } = m;
    let tag = m.consumerTag;
    if (m.queue === REPLY_TO) {
      const replyTag = this.replyTo.consume(tag, noAck);
      if (!nowait) this.send({ name: "basic.consume-ok", consumerTag: replyTag });
      return;
    }
    const q = this.topology.queueToRead(m.queue);
    if (tag === "") tag = generateConsumerTag();
    else if (this.consumers.has(tag)) {
      throw new ConnectionError(ReplyCode.NOT_ALLOWED, `attempt to reuse consumer tag '${tag}'`);
    }
    const priority = q.consumerPriority(exclusive, args);
    const c = new Consumer(tag, this, q, noAck, exclusive, this.consumerPrefetch, args, priority);
    this.consumers.set(tag, c);
    if (!nowait) this.send({ name: "basic.consume-ok", consumerTag: tag });
    q.addConsumer(c);
  }

  /** ReplyTarget: a reply addressed to this channel's amq.rabbitmq.reply-to consumer. */
  deliverReply(msg: Message): void {
    const tag = this.replyTo.tag;
    if (this.closing || tag === undefined) return;
    this.writeDelivery(tag, this.deliveries.next(), false, msg, msg.rawProps);
  }

  /** basic.deliver with header and body, straight into the connection's output buffer. */
  private writeDelivery(
    consumerTag: string,
    tag: number,
    redelivered: boolean,
    msg: Message,
    props: Buffer,
  ): void {
    const c = this.conn;
    writeDeliver(
      c.out,
      this.id,
      consumerTag,
      tag,
      redelivered,
      msg.exchange,
      msg.routingKey,
      props,
      msg.body,
      c.frameMax,
    );
    c.scheduleFlush();
  }

  private cancel(tag: string, nowait: boolean): void {
    if (tag === this.replyTo.tag) this.replyTo.drop();
    const c = this.consumers.get(tag);
    if (c) {
      this.consumers.delete(tag);
      c.queue.removeConsumer(c);
    }
    if (!nowait) this.send({ name: "basic.cancel-ok", consumerTag: tag });
  }

  /** ConsumerOwner: room for a delivery to c (prefetch, socket backpressure)? */
  canDeliver(c: Consumer): boolean {
    return (
      !this.closing &&
      !this.closed &&
      this.conn.canWrite &&
      (c.prefetch === 0
        ? this.channelPrefetch !== 0 || this.deliveries.belowCap()
        : c.unacked < c.prefetch) &&
      (this.channelPrefetch === 0 || this.deliveries.size < this.channelPrefetch)
    );
  }

  /** ConsumerOwner: writes basic.deliver; true when it waits for an ack. */
  deliver(c: Consumer, q: Queue, msg: Message, count: number, seq: number, exp: number): boolean {
    const tag = this.deliveries.next();
    this.writeDelivery(c.tag, tag, count > 0, msg, q.deliveryProperties(msg, count, false));
    this.stats.delivered++;
    this.counters.delivered++;
    if (count > 0) this.counters.redelivered++;
    if (c.noAck) return false;
    // An unacked delivery is held until its ack; prefetch bounds how many, so only a consumer
    // without a limit pays for the copy (see Message.compact).
    if (c.prefetch === 0 && this.channelPrefetch === 0) msg.compact();
    this.deliveries.add(tag, q, msg, count, seq, exp, c);
    return true;
  }

  /** ConsumerOwner: the queue went away under c. */
  cancelledByServer(c: Consumer): void {
    this.consumers.delete(c.tag);
    if (this.conn.capabilities.consumerCancelNotify && !this.closing) {
      this.replies.sendServerMethod({ name: "basic.cancel", consumerTag: c.tag, nowait: true });
    }
  }

  private get(queueName: string, noAck: boolean): void {
    const q = this.topology.queueToRead(queueName);
    const d = q.get(noAck);
    if (!d) {
      this.send({ name: "basic.get-empty" });
      return;
    }
    const tag = this.deliveries.next();
    const { msg, count } = d;
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
      q.deliveryProperties(msg, count, true),
      msg.body,
      this.conn.frameMax,
    );
    this.conn.scheduleFlush();
    this.stats.delivered++;
    this.counters.got++;
    if (count > 0) this.counters.redelivered++;
    if (noAck) return;
    msg.compact();
    this.deliveries.addGot(tag, d);
  }

  // ------------------------------------------------------------------ acks

  private settle(kind: SettleKind, tag: number, multiple: boolean, requeue: boolean): void {
    if (this.tx) {
      this.deliveries.check(tag, multiple, kind);
      this.tx.push({ kind, tag, multiple, requeue });
      return;
    }
    // Fast path: a single ack of one delivery.
    if (kind === "ack" && !multiple) {
      this.deliveries.ackOne(tag).drain();
      this.stats.acked++;
      this.counters.acked++;
      if (this.channelPrefetch > 0 || this.deliveries.capped) this.resume();
      return;
    }
    this.finish(this.deliveries.take(tag, multiple, kind), settlementOf(kind, requeue));
  }

  private finish(items: Delivered[], how: Settlement): void {
    Deliveries.settle(items, how);
    if (how === "ack") {
      this.stats.acked += items.length;
      this.counters.acked += items.length;
    }
    // Consumers on other queues of this channel may have room now (global prefetch, cap).
    if (this.channelPrefetch > 0 || this.deliveries.capped) this.resume();
  }

  private recover(how: "requeue" | "restore"): void {
    this.finish(this.deliveries.takeAll(), how);
  }

  private commit(): void {
    const ops = this.tx!;
    this.tx = [];
    for (const op of ops) {
      if (op.kind === "publish") this.publish(op.msg, op.mandatory);
      else this.finish(this.deliveries.take(op.tag, op.multiple, op.kind), settlementOf(op.kind, op.requeue));
    }
    this.send({ name: "tx.commit-ok" });
  }

  // ------------------------------------------------------------------ management views

  /** What management views show of this channel (see inspect.ts); built on request only. */
  describe(): ChannelFacts {
    return {
      vhost: this.vhost.name,
      consumers: [...this.consumers.values()],
      unacked: this.deliveries.size,
      prefetch: this.consumerPrefetch,
      globalPrefetch: this.channelPrefetch,
      confirm: this.confirms !== undefined,
      transactional: this.tx !== undefined,
      ...this.stats,
    };
  }

  // ------------------------------------------------------------------ lifecycle

  /** Connection lost or channel closed: requeue unacked messages, drop consumers. */
  cleanup(): void {
    if (!this.closed) this.counters.channelsClosed++;
    this.closed = true;
    this.content.reset();
    this.replies.clear();
    this.replyTo.drop();
    this.deliveries.stop();
    this.tx = undefined;
    if (this.consumers.size > 0) {
      const removal = new ConsumerRemoval();
      this.detachConsumers(removal);
      removal.run();
    }
    if (this.deliveries.size > 0) this.recover("restore");
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
    this.deliveries.capped = false;
    for (const c of this.consumers.values()) c.queue.drain();
  }
}
