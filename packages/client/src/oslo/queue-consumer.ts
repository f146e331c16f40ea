import type { FieldTable } from "@warren/protocol";
import type { Channel } from "../channel.js";
import type { Connection } from "../connection.js";
import type { Message } from "../message.js";
import type { ExchangeSpec } from "./publisher.js";
import type { Transport } from "./transport.js";

/** A queue as the rabbit driver's Consumer declares it (kombu's Queue.declare). */
export interface QueueSpec {
  queue: string;
  /** Declared, and the queue bound to it with routingKey; undefined: the default exchange, no binding. */
  exchange: ExchangeSpec | undefined;
  routingKey: string;
  durable: boolean;
  autoDelete: boolean;
  arguments: FieldTable;
  /** Deleted when the consumer closes (oslo deletes its fanout queues on close). */
  deleteOnClose?: boolean;
}

/**
 * Consumes a set of queues on one channel of a transport's connection, as a listener of the
 * rabbit driver does: declares exchanges, queues and bindings, consumes them all with one
 * handler, and declares and consumes again on a new connection after the old one was lost
 * and when the broker cancels a consumer (its queue was deleted).
 */
export class QueueConsumer {
  private ch: Channel | undefined;
  private tags: string[] = [];
  private active = false;
  private started: Promise<void> | undefined;
  private readonly onRevive = (conn: Connection) => this.reattach(conn);

  constructor(
    private readonly transport: Transport,
    private readonly specs: readonly QueueSpec[],
    private readonly onMessage: (m: Message) => void,
    private readonly onError: (e: Error) => void,
  ) {}

  /** Declares and consumes (retrying per `retry`, forever by default); once. */
  start(retry?: number): Promise<void> {
    this.started ??= (async () => {
      this.active = true;
      // A consumer keeps the connection: it reconnects in the background when lost.
      this.transport.connection.retain(this);
      this.transport.connection.on("revive", this.onRevive);
      try {
        await this.transport.ensure((conn) => this.attach(conn), retry, "cannot consume");
      } catch (e) {
        this.active = false;
        this.started = undefined;
        this.transport.connection.off("revive", this.onRevive);
        this.transport.connection.release(this);
        throw e;
      }
    })();
    return this.started;
  }

  /** Cancels the consumers; deliveries already received are still handled. */
  async stop(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    this.transport.connection.off("revive", this.onRevive);
    this.transport.connection.release(this);
    const ch = this.ch;
    const tags = this.tags.splice(0);
    if (ch?.isOpen) await Promise.all(tags.map((t) => ch.basicCancel(t))).catch(() => undefined);
  }

  /** Stops, deletes the queues marked deleteOnClose and closes the channel. */
  async close(): Promise<void> {
    await this.stop();
    const ch = this.ch;
    this.ch = undefined;
    this.started = undefined;
    if (!ch?.isOpen) return;
    for (const s of this.specs) {
      if (s.deleteOnClose) await ch.queueDelete(s.queue).catch(() => undefined);
    }
    await ch.close();
  }

  private async attach(conn: Connection): Promise<void> {
    const old = this.ch;
    this.ch = undefined;
    if (old?.isOpen) await old.close().catch(() => undefined);
    const ch = await conn.createChannel();
    try {
      const prefetch = this.transport.conf.rabbitQosPrefetchCount;
      if (prefetch > 0) await ch.basicQos(prefetch);
      for (const s of this.specs) {
        const x = s.exchange;
        if (x) await ch.exchangeDeclare(x.name, x.type, { durable: x.durable, autoDelete: x.autoDelete });
        await ch.queueDeclare(s.queue, {
          durable: s.durable,
          autoDelete: s.autoDelete,
          arguments: s.arguments,
        });
        if (x) await ch.queueBind(s.queue, x.name, s.routingKey);
      }
      const tags: string[] = [];
      // Several bindings may share a queue (a listener pool): one consumer per queue.
      for (const queue of new Set(this.specs.map((s) => s.queue))) {
        tags.push(await ch.basicConsume(queue, this.onMessage, { onCancel: () => this.onServerCancel(ch) }));
      }
      if (!this.active) {
        // stop() came while we were declaring.
        await ch.close();
        return;
      }
      this.ch = ch;
      this.tags = tags;
    } catch (e) {
      if (ch.isOpen) await ch.close().catch(() => undefined);
      throw e;
    }
  }

  /** A new connection replaced the lost one: consume again (retrying forever, as oslo). */
  private reattach(conn: Connection): void {
    if (!this.active) return;
    this.attach(conn).catch((e: unknown) => {
      const err = e instanceof Error ? e : new Error(String(e));
      this.onError(err);
      // The connection failed again (ensure reconnects and revives); anything else is retried here.
      if (conn.isOpen) this.retryLater();
    });
  }

  /**
   * The broker cancelled one of our consumers (its queue was deleted): declare and consume
   * everything again on a new channel after kombu_reconnect_delay, as oslo does.
   */
  private onServerCancel(ch: Channel): void {
    if (!this.active || ch !== this.ch) return;
    this.retryLater();
  }

  private retryLater(): void {
    const t = setTimeout(() => {
      if (!this.active) return;
      this.transport
        .ensure((conn) => this.attach(conn), undefined, "cannot consume")
        .catch((e: unknown) => this.onError(e instanceof Error ? e : new Error(String(e))));
    }, this.transport.conf.kombuReconnectDelay * 1000);
    t.unref();
  }
}
