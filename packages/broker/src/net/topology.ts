import { ChannelError, type Method, type MethodInit, ReplyCode } from "@warren/protocol";
import type { QueueOwner } from "../queue/queue.js";
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
 * applied to the vhost, returning the reply to send (undefined with nowait). It also keeps the
 * channel's last declared queue, which an empty queue name stands for (AMQP 0-9-1's
 * "current queue").
 */
export class Topology {
  private lastQueue = "";

  constructor(
    private readonly vhost: VHost,
    /** The connection: owner of the exclusive queues it declares. */
    private readonly owner: QueueOwner,
  ) {}

  /** Runs m; errors are thrown as AmqpError, which close the channel (or connection). */
  run(m: TopologyMethod): MethodInit | undefined {
    const vh = this.vhost;
    switch (m.name) {
      case "exchange.declare":
        vh.declareExchange(m.exchange, m.type, {
          passive: m.passive,
          durable: m.durable,
          autoDelete: m.autoDelete,
          internal: m.internal,
          args: m.arguments,
        });
        return m.nowait ? undefined : { name: "exchange.declare-ok" };
      case "exchange.delete":
        vh.deleteExchange(m.exchange, m.ifUnused);
        return m.nowait ? undefined : { name: "exchange.delete-ok" };
      case "exchange.bind":
        vh.bindExchange(m.destination, m.source, m.routingKey, m.arguments);
        return m.nowait ? undefined : { name: "exchange.bind-ok" };
      case "exchange.unbind":
        vh.unbindExchange(m.destination, m.source, m.routingKey, m.arguments);
        return m.nowait ? undefined : { name: "exchange.unbind-ok" };
      case "queue.declare":
        return this.declareQueue(m);
      case "queue.bind":
        vh.bindQueue(
          this.queueName(m.queue),
          m.exchange,
          this.bindKey(m.queue, m.routingKey),
          m.arguments,
          this.owner,
        );
        return m.nowait ? undefined : { name: "queue.bind-ok" };
      case "queue.unbind":
        vh.unbindQueue(this.queueName(m.queue), m.exchange, this.bindKey(m.queue, m.routingKey), m.arguments);
        return { name: "queue.unbind-ok" }; // queue.unbind has no nowait
      case "queue.purge": {
        const messageCount = vh.purgeQueue(this.queueName(m.queue), this.owner);
        return m.nowait ? undefined : { name: "queue.purge-ok", messageCount };
      }
      case "queue.delete": {
        const messageCount = vh.deleteQueue(this.queueName(m.queue), m.ifUnused, m.ifEmpty, this.owner);
        return m.nowait ? undefined : { name: "queue.delete-ok", messageCount };
      }
    }
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
