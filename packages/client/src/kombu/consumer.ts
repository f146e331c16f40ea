import type { Channel } from "../channel.js";
import type { Connection } from "../connection.js";
import type { Message } from "../message.js";
import type { BrokerConnection } from "./broker-connection.js";
import type { Queue } from "./queue.js";
import { loads } from "./serialization.js";

/** Receives the decoded body and the message (for ack(), reject(), properties). */
export type ConsumerCallback = (body: unknown, message: Message) => void | Promise<void>;

/** Options of a Consumer. */
export interface ConsumerOptions {
  queues: Queue | readonly Queue[];
  callbacks?: readonly ConsumerCallback[];
  /** Instead of callbacks: gets the raw message, undecoded. */
  onMessage?: (message: Message) => void | Promise<void>;
  /** Content types (or serializer names) to decode; others are rejected. Default: any. */
  accept?: readonly string[];
  /** Messages count as acknowledged when sent. Default false: callbacks must ack. */
  noAck?: boolean;
  /** basic.qos prefetch count per consumer. Default: unlimited. */
  prefetchCount?: number;
  /**
   * A message that cannot be decoded (bad JSON, content type not accepted). Default:
   * reject it without requeue, so that it does not loop (it dead-letters if so configured).
   */
  onDecodeError?: (err: Error, message: Message) => void;
  /** Declare the queues (and their exchanges and bindings) before consuming. Default true. */
  autoDeclare?: boolean;
}

/**
 * Consumes from one or more queues kombu style: bodies decoded by content type and handed
 * to callbacks. The consumer follows its BrokerConnection across reconnects: after
 * 'revive' it declares its queues and consumes again on the new connection.
 *
 * @example
 *   const consumer = new Consumer(conn, {
 *     queues: [videoQueue],
 *     callbacks: [(body, message) => { handle(body); message.ack(); }],
 *     prefetchCount: 10,
 *   });
 *   await consumer.consume();
 */
export class Consumer {
  readonly queues: readonly Queue[];
  private readonly callbacks: ConsumerCallback[];
  private channel: Channel | undefined;
  private tags: string[] = [];
  private active = false;
  private readonly onRevive = (conn: Connection) => {
    this.start(conn).catch((e: unknown) => this.report(e));
  };

  constructor(
    readonly connection: BrokerConnection,
    private readonly options: ConsumerOptions,
  ) {
    this.queues = Array.isArray(options.queues) ? [...options.queues] : [options.queues as Queue];
    this.callbacks = [...(options.callbacks ?? [])];
  }

  /** Adds a callback for the following messages. */
  addCallback(cb: ConsumerCallback): void {
    this.callbacks.push(cb);
  }

  /** True between consume() and cancel(). */
  get consuming(): boolean {
    return this.active;
  }

  /** Declares the queues and starts consuming from each; keeps consuming after reconnects. */
  async consume(): Promise<void> {
    if (this.active) return;
    this.active = true;
    this.connection.on("revive", this.onRevive);
    try {
      await this.start(await this.connection.connect());
    } catch (e) {
      this.active = false;
      this.connection.off("revive", this.onRevive);
      throw e;
    }
  }

  /** Stops consuming and closes the consumer's channel. Unacked messages are requeued. */
  async cancel(): Promise<void> {
    this.active = false;
    this.connection.off("revive", this.onRevive);
    const ch = this.channel;
    this.channel = undefined;
    if (!ch?.isOpen) return;
    for (const tag of this.tags) await ch.basicCancel(tag);
    this.tags = [];
    await ch.close();
  }

  private async start(conn: Connection): Promise<void> {
    if (!this.active) return;
    const ch = await conn.createChannel();
    this.channel = ch;
    this.tags = [];
    if (this.options.prefetchCount) await ch.basicQos(this.options.prefetchCount);
    const noAck = this.options.noAck ?? false;
    for (const q of this.queues) {
      const name = (this.options.autoDeclare ?? true) ? await q.declare(ch) : q.declaredName;
      this.tags.push(await ch.basicConsume(name, (m) => this.receive(m), { noAck }));
    }
  }

  private receive(message: Message): void | Promise<void> {
    if (this.options.onMessage) return this.options.onMessage(message);
    let body: unknown;
    try {
      body = loads(message.body, message.properties.contentType, this.options.accept);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      if (this.options.onDecodeError) this.options.onDecodeError(err, message);
      else if (!this.options.noAck) message.reject(false);
      return;
    }
    if (this.callbacks.length === 1) return this.callbacks[0]!(body, message);
    return Promise.all(this.callbacks.map((cb) => cb(body, message))).then(() => undefined);
  }

  private report(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    if (this.connection.listenerCount("error") > 0) this.connection.emit("error", err);
  }
}
