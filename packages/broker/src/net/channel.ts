import { randomBytes } from "node:crypto";
import {
  AmqpError,
  ChannelError,
  ConnectionError,
  type FieldTable,
  type Method,
  ReplyCode,
  unexpectedFrame,
  writeDeliver,
  writeMethodFrame,
  writeMethodWithContent,
} from "@warren/protocol";
import { Message } from "../message.js";
import { Consumer, type ConsumerOwner } from "../queue/consumer.js";
import type { Delivered, Queue } from "../queue/queue.js";
import type { VHost } from "../vhost.js";
import type { Connection } from "./connection.js";

/** A delivery awaiting ack. */
interface Unacked extends Delivered {
  readonly consumer: Consumer | undefined;
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
export class Channel implements ConsumerOwner {
  /** Set after we sent channel.close and until channel.close-ok arrives. */
  closing = false;
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

  constructor(
    readonly id: number,
    readonly conn: Connection,
    private readonly vhost: VHost,
  ) {}

  // ------------------------------------------------------------------ frames

  handleMethod(m: Method): void {
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
        const ex = this.vhost.declareExchange(m.exchange, m.type, {
          passive: m.passive,
          durable: m.durable,
          autoDelete: m.autoDelete,
          internal: m.internal,
          args: m.arguments,
        });
        void ex;
        if (!m.nowait) this.send({ name: "exchange.declare-ok" });
        return;
      }
      case "exchange.delete":
        this.vhost.deleteExchange(m.exchange, m.ifUnused);
        if (!m.nowait) this.send({ name: "exchange.delete-ok" });
        return;
      case "exchange.bind":
        this.vhost.bindExchange(m.destination, m.source, m.routingKey, m.arguments);
        if (!m.nowait) this.send({ name: "exchange.bind-ok" });
        return;
      case "exchange.unbind":
        this.vhost.unbindExchange(m.destination, m.source, m.routingKey, m.arguments);
        if (!m.nowait) this.send({ name: "exchange.unbind-ok" });
        return;
      case "queue.declare": {
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
          this.send({
            name: "queue.declare-ok",
            queue: q.name,
            messageCount: q.messageCount,
            consumerCount: q.consumerCount,
          });
        }
        return;
      }
      case "queue.bind":
        this.vhost.bindQueue(
          this.queueName(m.queue),
          m.exchange,
          this.bindKey(m.queue, m.routingKey),
          m.arguments,
          this.conn,
        );
        if (!m.nowait) this.send({ name: "queue.bind-ok" });
        return;
      case "queue.unbind":
        this.vhost.unbindQueue(
          this.queueName(m.queue),
          m.exchange,
          this.bindKey(m.queue, m.routingKey),
          m.arguments,
          this.conn,
        );
        this.send({ name: "queue.unbind-ok" });
        return;
      case "queue.purge": {
        const n = this.vhost.purgeQueue(this.queueName(m.queue), this.conn);
        if (!m.nowait) this.send({ name: "queue.purge-ok", messageCount: n });
        return;
      }
      case "queue.delete": {
        const n = this.vhost.deleteQueue(this.queueName(m.queue), m.ifUnused, m.ifEmpty, this.conn);
        if (!m.nowait) this.send({ name: "queue.delete-ok", messageCount: n });
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

  private queueName(name: string): string {
    if (name !== "") return name;
    if (this.lastQueue === "") throw new ChannelError(ReplyCode.NOT_FOUND, "no previously declared queue");
    return this.lastQueue;
  }

  private bindKey(queue: string, routingKey: string): string {
    return queue === "" && routingKey === "" ? this.lastQueue : routingKey;
  }

  private send(m: Parameters<typeof writeMethodFrame>[2]): void {
    writeMethodFrame(this.conn.out, this.id, m);
    this.conn.scheduleFlush();
  }

  // ------------------------------------------------------------------ publish

  private onPublish(exchange: string, routingKey: string, mandatory: boolean, immediate: boolean): void {
    if (immediate) throw new ConnectionError(ReplyCode.NOT_IMPLEMENTED, "immediate=true", 60, 40);
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
    if (!p || !p.awaitingHeader) throw unexpectedFrame("unexpected content header frame");
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
      p.body ??= Buffer.allocUnsafe(p.bodySize);
      buf.copy(p.body, p.received, start, end);
    }
    p.received += n;
    if (p.received === p.bodySize) this.completePublish(p);
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
    const msg = new Message(p.exchange, p.routingKey, p.rawProps, p.body!);
    if (this.tx) {
      this.tx.push({ kind: "publish", msg, mandatory: p.mandatory });
      return;
    }
    this.publish(msg, p.mandatory);
  }

  private publish(msg: Message, mandatory: boolean): void {
    const ex = this.vhost.exchanges.get(msg.exchange);
    const out = this.routed;
    out.length = 0;
    if (ex) this.vhost.route(ex, msg.routingKey, msg, out);
    let persisted = false;
    const routedTo = out.length;
    for (let i = 0; i < routedTo; i++) {
      const q = out[i]!;
      if (q.durable && msg.persistent) persisted = true;
      q.enqueue(msg);
    }
    out.length = 0;
    if (mandatory && routedTo === 0) this.basicReturn(msg, ReplyCode.NO_ROUTE, "NO_ROUTE");
    if (this.confirming) {
      const seq = ++this.publishSeq;
      if (persisted || this.awaitingSync > 0) {
        this.awaitingSync++;
        this.vhost.store.sync(() => {
          this.awaitingSync--;
          this.confirm(seq);
        });
      } else this.confirm(seq);
    }
  }

  private awaitingSync = 0;

  private confirm(seq: number): void {
    if (seq > this.confirmedUpTo) this.confirmedUpTo = seq;
    this.conn.scheduleFlush();
  }

  /** Called by the connection just before it writes its buffer out: coalesces confirms. */
  flushConfirms(): void {
    const upTo = this.confirmedUpTo;
    if (upTo > this.confirmSent && !this.closing) {
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
    const q = this.vhost.getQueue(this.queueName(queueName), this.conn);
    if (tag === "") tag = `amq.ctag-${randomBytes(16).toString("base64url").slice(0, 22)}`;
    else if (this.consumers.has(tag)) {
      throw new ConnectionError(ReplyCode.NOT_ALLOWED, `attempt to reuse consumer tag '${tag}'`, 60, 20);
    }
    if (q.consumers.some((c) => c.exclusive) || (exclusive && q.consumerCount > 0)) {
      throw new ChannelError(
        ReplyCode.ACCESS_REFUSED,
        `queue '${q.name}' in vhost '${this.vhost.name}' in exclusive use`,
        60,
        20,
      );
    }
    const c = new Consumer(tag, this, q, noAck, exclusive, this.consumerPrefetch, args);
    this.consumers.set(tag, c);
    if (!nowait) this.send({ name: "basic.consume-ok", consumerTag: tag });
    q.addConsumer(c);
  }

  private cancel(tag: string, nowait: boolean): void {
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
      this.conn.canWrite &&
      (c.prefetch === 0 || c.unacked < c.prefetch) &&
      (this.channelPrefetch === 0 || this.unacked.size < this.channelPrefetch)
    );
  }

  deliver(c: Consumer, q: Queue, msg: Message, count: number, seq: number): void {
    const tag = ++this.deliveryTag;
    writeDeliver(
      this.conn.out,
      this.id,
      c.tag,
      tag,
      count > 0,
      msg.exchange,
      msg.routingKey,
      msg.rawProps,
      msg.body,
      this.conn.frameMax,
    );
    this.conn.scheduleFlush();
    if (c.noAck) {
      q.settle(msg);
      return;
    }
    this.unacked.set(tag, { queue: q, msg, count, seq, consumer: c });
    c.unacked++;
    q.unacked++;
  }

  cancelledByServer(c: Consumer): void {
    this.consumers.delete(c.tag);
    if (this.conn.capabilities.consumerCancelNotify && !this.closing) {
      this.send({ name: "basic.cancel", consumerTag: c.tag, nowait: true });
    }
  }

  private get(queueName: string, noAck: boolean): void {
    const q = this.vhost.getQueue(this.queueName(queueName), this.conn);
    const got = q.get();
    if (!got) {
      this.send({ name: "basic.get-empty" });
      return;
    }
    const { msg, count, seq } = got;
    const tag = ++this.deliveryTag;
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
      msg.rawProps,
      msg.body,
      this.conn.frameMax,
    );
    this.conn.scheduleFlush();
    if (noAck) q.settle(msg);
    else {
      this.unacked.set(tag, { queue: q, msg, count, seq, consumer: undefined });
      q.unacked++;
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
    this.finish(items, kind === "ack" ? false : requeue);
  }

  private release(u: Unacked): void {
    u.queue.unacked--;
    if (u.consumer) u.consumer.unacked--;
  }

  /** Settles or requeues taken entries, then lets their queues deliver again. */
  private finish(items: Unacked[], requeue: boolean): void {
    const queues = new Set<Queue>();
    const back = new Map<Queue, Unacked[]>();
    for (const u of items) {
      this.release(u);
      queues.add(u.queue);
      if (requeue) {
        let l = back.get(u.queue);
        if (!l) back.set(u.queue, (l = []));
        l.push(u);
      } else u.queue.settle(u.msg);
    }
    for (const [q, l] of back) q.requeue(l);
    for (const q of queues) q.drain();
    // Consumers on other queues of this channel may have room now (global prefetch).
    if (this.channelPrefetch > 0) for (const c of this.consumers.values()) c.queue.drain();
  }

  private recover(): void {
    const items = [...this.unacked.values()];
    this.unacked.clear();
    this.finish(items, true);
  }

  private commit(): void {
    const ops = this.tx!;
    this.tx = [];
    for (const op of ops) {
      if (op.kind === "publish") this.publish(op.msg, op.mandatory);
      else if (op.kind === "ack") this.finish(this.take(op.tag, op.multiple, 80), false);
      else this.finish(this.take(op.tag, op.multiple, op.kind === "nack" ? 120 : 90), op.requeue);
    }
    this.send({ name: "tx.commit-ok" });
  }

  // ------------------------------------------------------------------ lifecycle

  /** Connection lost or channel closed: requeue unacked messages, drop consumers. */
  cleanup(): void {
    this.pending = undefined;
    this.tx = undefined;
    const consumers = [...this.consumers.values()];
    this.consumers.clear();
    for (const c of consumers) c.queue.removeConsumer(c);
    if (this.unacked.size > 0) this.recover();
  }

  /** Resumes deliveries after backpressure let go. */
  resume(): void {
    for (const c of this.consumers.values()) c.queue.drain();
  }

  /** Turns a thrown error into the AMQP error the channel or connection closes with. */
  static asAmqpError(e: unknown, m: Method | undefined): AmqpError {
    if (e instanceof AmqpError) return e;
    void m;
    return new ConnectionError(ReplyCode.INTERNAL_ERROR, e instanceof Error ? e.message : String(e));
  }
}

const EMPTY = Buffer.alloc(0);
