import { ChannelError, type FieldTable, type Method, type MethodInit, ReplyCode } from "@warren/protocol";
import type { ChannelAccess } from "../auth/channel-access.js";
import { Access } from "../auth/permissions.js";
import type { Queue, QueueOwner } from "../queue/queue.js";
import { REPLY_TO, type VHost } from "../vhost.js";

/** The exchange.* and queue.* methods a channel hands to Topology. */
export type TopologyMethod = Extract<
  Method,
  {
    name:
      | "exchange.declare"
      | "exchange.delete"
      | "exchange.bind"
      | "exchange.unbind"
      | "queue.declare"
      | "queue.bind"
      | "queue.unbind"
      | "queue.purge"
      | "queue.delete";
  }
>;

/**
 * A channel's declarations, bindings and deletions: each exchange.* and queue.* method
 * checked against the user's permissions (RabbitMQ's rabbit_channel mapping, see
 * docs/access-control.md), applied to the vhost, returning the reply to send (undefined with
 * nowait). It also keeps the channel's last declared queue, which an empty queue name stands
 * for (AMQP 0-9-1's "current queue").
 */
export class Topology {
  private lastQueue = "";

  constructor(
    private readonly vhost: VHost,
    /** The connection: owner of the exclusive queues it declares. */
    private readonly owner: QueueOwner,
    private readonly access: ChannelAccess,
  ) {}

  /** Runs m; errors are thrown as AmqpError, which close the channel (or connection). */
  run(m: TopologyMethod): MethodInit | undefined {
    const vh = this.vhost;
    const access = this.access;
    switch (m.name) {
      case "exchange.declare":
        // Passive declares check nothing, as RabbitMQ; the default exchange's own error
        // comes before the permission check.
        if (!m.passive && m.exchange !== "") {
          access.exchange(Access.CONFIGURE, m.exchange);
          this.checkAlternateExchange(m.exchange, m.arguments);
        }
        vh.declareExchange(m.exchange, m.type, {
          passive: m.passive,
          durable: m.durable,
          autoDelete: m.autoDelete,
          internal: m.internal,
          args: m.arguments,
        });
        return m.nowait ? undefined : { name: "exchange.declare-ok" };
      case "exchange.delete":
        // The default and amq.* exchanges are refused before permissions are looked at.
        if (m.exchange !== "" && !m.exchange.startsWith("amq."))
          access.exchange(Access.CONFIGURE, m.exchange);
        vh.deleteExchange(m.exchange, m.ifUnused);
        return m.nowait ? undefined : { name: "exchange.delete-ok" };
      case "exchange.bind":
        this.checkBinding("exchange", m.destination, m.source, m.routingKey);
        vh.bindExchange(m.destination, m.source, m.routingKey, m.arguments);
        return m.nowait ? undefined : { name: "exchange.bind-ok" };
      case "exchange.unbind":
        this.checkBinding("exchange", m.destination, m.source, m.routingKey);
        vh.unbindExchange(m.destination, m.source, m.routingKey, m.arguments);
        return m.nowait ? undefined : { name: "exchange.unbind-ok" };
      case "queue.declare":
        return this.declareQueue(m);
      case "queue.bind": {
        const queue = this.queueName(m.queue);
        const key = this.bindKey(m.queue, m.routingKey);
        this.checkBinding("queue", queue, m.exchange, key);
        vh.bindQueue(queue, m.exchange, key, m.arguments, this.owner);
        return m.nowait ? undefined : { name: "queue.bind-ok" };
      }
      case "queue.unbind": {
        const queue = this.queueName(m.queue);
        const key = this.bindKey(m.queue, m.routingKey);
        this.checkBinding("queue", queue, m.exchange, key);
        vh.unbindQueue(queue, m.exchange, key, m.arguments);
        return { name: "queue.unbind-ok" }; // queue.unbind has no nowait
      }
      case "queue.purge": {
        const queue = this.queueName(m.queue);
        access.queue(Access.READ, queue);
        const messageCount = vh.purgeQueue(queue, this.owner);
        return m.nowait ? undefined : { name: "queue.purge-ok", messageCount };
      }
      case "queue.delete": {
        const queue = this.queueName(m.queue);
        access.queue(Access.CONFIGURE, queue);
        const messageCount = vh.deleteQueue(queue, m.ifUnused, m.ifEmpty, this.owner);
        return m.nowait ? undefined : { name: "queue.delete-ok", messageCount };
      }
    }
  }

  /**
   * A binding (queue.bind/unbind, exchange.bind/unbind) as RabbitMQ's binding_action checks
   * it: write on the destination, then the default exchange refused, then read on the source,
   * then (when the source is a topic exchange) the topic permission on the binding key. All of
   * it before either side is looked up, so a refusal comes before a 404.
   */
  private checkBinding(kind: "queue" | "exchange", destination: string, source: string, key: string): void {
    if (kind === "queue") this.access.queue(Access.WRITE, destination);
    else this.access.exchange(Access.WRITE, destination);
    if (destination === "" || source === "")
      throw new ChannelError(ReplyCode.ACCESS_REFUSED, "operation not permitted on the default exchange");
    this.access.exchange(Access.READ, source);
    if (this.vhost.exchanges.get(source)?.type === "topic") this.access.topic(Access.READ, source, key);
  }

  /** A new exchange naming an alternate exchange: read on it, write on the alternate. */
  private checkAlternateExchange(name: string, args: FieldTable): void {
    const ae = args["alternate-exchange"];
    if (typeof ae !== "string" || this.vhost.exchanges.has(name)) return;
    this.access.exchange(Access.READ, name);
    this.access.exchange(Access.WRITE, ae);
  }

  private declareQueue(m: Extract<Method, { name: "queue.declare" }>): MethodInit | undefined {
    if (m.queue.startsWith(REPLY_TO)) return this.declareReplyTo(m.queue, m.nowait);
    const q = this.vhost.declareQueue(
      m.queue,
      {
        passive: m.passive,
        durable: m.durable,
        exclusive: m.exclusive,
        autoDelete: m.autoDelete,
        args: m.arguments,
      },
      this.owner,
      (name, isNew) => {
        // Server-named queues too: the check sees the generated amq.gen-* name.
        this.access.queue(Access.CONFIGURE, name);
        // A new queue naming a dead-letter exchange: read on it, write on the exchange.
        const dlx = m.arguments["x-dead-letter-exchange"];
        if (isNew && typeof dlx === "string") {
          this.access.queue(Access.READ, name);
          this.access.exchange(Access.WRITE, dlx);
        }
      },
    );
    this.lastQueue = q.name;
    if (m.nowait) return undefined;
    return {
      name: "queue.declare-ok",
      queue: q.name,
      messageCount: q.messageCount,
      consumerCount: q.consumerCount,
    };
  }

  /**
   * queue.declare of amq.rabbitmq.reply-to (always there) or of a generated reply address
   * (there while its reply consumer is), passive or not, as RabbitMQ answers it.
   */
  private declareReplyTo(name: string, nowait: boolean): MethodInit | undefined {
    if (
      name !== REPLY_TO &&
      !(name[REPLY_TO.length] === "." && this.vhost.hasReplyTarget(name.slice(REPLY_TO.length + 1)))
    )
      throw new ChannelError(ReplyCode.NOT_FOUND, `no queue '${name}' in vhost '${this.vhost.name}'`);
    return nowait ? undefined : { name: "queue.declare-ok", queue: name, messageCount: 0, consumerCount: 1 };
  }

  /**
   * May this user publish to exchange with routingKey? As RabbitMQ: write permission before the
   * exchange is looked up (403 even for a missing one), then 404 or internal (403), then the
   * topic permission (it needs the exchange's type).
   */
  checkPublish(exchange: string, routingKey: string): void {
    this.access.publish(exchange);
    const ex = this.vhost.publishTarget(exchange);
    if (ex.type === "topic") this.access.topic(Access.WRITE, ex.name, routingKey);
  }

  /**
   * The queue basic.consume or basic.get reads (an empty name: the current queue), once the
   * user may read it (403) and this connection may use it (404, 405 exclusive).
   */
  queueToRead(name: string): Queue {
    const q = this.queueName(name);
    this.access.queue(Access.READ, q);
    return this.vhost.getQueue(q, this.owner);
  }

  /** The queue an empty name stands for: the last one this channel declared. */
  queueName(name: string): string {
    if (name !== "") return name;
    if (this.lastQueue === "") throw new ChannelError(ReplyCode.NOT_FOUND, "no previously declared queue");
    return this.lastQueue;
  }

  private bindKey(queue: string, routingKey: string): string {
    return queue === "" && routingKey === "" ? this.lastQueue : routingKey;
  }
}
