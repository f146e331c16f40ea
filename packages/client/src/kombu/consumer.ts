import { EventEmitter } from "node:events";
import type { Channel } from "../channel.js";
import type { Connection } from "../connection.js";
import type { Message } from "../message.js";
import type { BrokerConnection, RetryPolicy } from "./broker-connection.js";
import type { Queue } from "./queue.js";
import { decompress, loads } from "./serialization.js";

/** Receives the decoded body and the message (for ack(), reject(), properties). */
export type ConsumerCallback = (body: unknown, message: Message) => unknown;

/** Options of a Consumer. */
export interface ConsumerOptions {
  queues: Queue | readonly Queue[];
  callbacks?: readonly ConsumerCallback[];
  /** Instead of callbacks: gets the raw message, undecoded (and not decompressed). */
  onMessage?: (message: Message) => unknown;
  /** Content types (or serializer names) to decode; others are rejected. Default: any. */
  accept?: readonly string[];
  /** Messages count as acknowledged when sent. Default false: callbacks must ack. */
  noAck?: boolean;
  /** basic.qos prefetch count per consumer. Default: unlimited. */
  prefetchCount?: number;
  /**
   * A message that cannot be decoded (bad JSON, content type not accepted, unknown
   * compression). Default: reject it without requeue, so that it does not loop (it
   * dead-letters if so configured).
   */
  onDecodeError?: (err: Error, message: Message) => void;
  /** Declare the queues (and their exchanges and bindings) before consuming. Default true. */
  autoDeclare?: boolean;
  /** How to retry after a channel error or a failed re-subscription. Default: the connection's. */
  retryPolicy?: RetryPolicy;
}

/** Events of a Consumer. */
export type ConsumerEvents = {
  /**
   * Something stopped it: a channel error (e.g. 406 after a double ack), a failed
   * re-subscription, a callback that threw or rejected. The same error goes to the
   * BrokerConnection's 'error' listeners; with no listener anywhere, a process warning.
   */
  error: [err: Error];
  /** The server cancelled the consumer of this queue (e.g. the queue was deleted). */
  cancel: [queue: string];
  /** Consuming again from every queue after an interruption (channel error, cancel, reconnect). */
  resume: [];
};

/**
 * Consumes from one or more queues kombu style: bodies decompressed (kombu's `compression`
 * header) and decoded by content type, then handed to callbacks.
 *
 * The consumer keeps itself alive until cancel(): after a lost connection it waits for its
 * BrokerConnection to reconnect (the connection reconnects because a consumer needs it); after
 * a channel error it opens a new channel; after the server cancels it (queue deleted) it
 * declares the queue again (with autoDeclare) and re-subscribes; each time with the retry
 * policy's waits, a 'resume' event when it is back, and `consuming` false meanwhile.
 *
 * A callback that throws or rejects is reported ('error') and its message, if the callback
 * neither acknowledged nor rejected it, is rejected without requeue.
 *
 * @example
 *   const consumer = new Consumer(conn, {
 *     queues: [videoQueue],
 *     callbacks: [(body, message) => { handle(body); message.ack(); }],
 *     prefetchCount: 10,
 *   });
 *   await consumer.consume();
 */
export class Consumer extends EventEmitter<ConsumerEvents> {
  readonly queues: readonly Queue[];
  private readonly callbacks: ConsumerCallback[];
  private channel: Channel | undefined;
  /** Consumer tag per queue, while subscribed. */
  private readonly tags = new Map<Queue, string>();
  private active = false;
  private interrupted = false;
  private restarting = false;
  private readonly onRevive = (conn: Connection) => this.restart(() => this.start(conn));

  constructor(
    readonly connection: BrokerConnection,
    private readonly options: ConsumerOptions,
  ) {
    super();
    this.queues = Array.isArray(options.queues) ? [...options.queues] : [options.queues as Queue];
    this.callbacks = [...(options.callbacks ?? [])];
  }

  /** Adds a callback for the following messages. */
  addCallback(cb: ConsumerCallback): void {
    this.callbacks.push(cb);
  }

  /** True while subscribed to every queue on an open channel (false while it resumes). */
  get consuming(): boolean {
    return this.active && this.channel?.isOpen === true && this.tags.size === this.queues.length;
  }

  /** Declares the queues and starts consuming from each; keeps consuming until cancel(). */
  async consume(): Promise<void> {
    if (this.active) return;
    this.active = true;
    this.connection.on("revive", this.onRevive);
    this.connection.retain(this);
    try {
      await this.start(await this.connection.connect());
    } catch (e) {
      this.stop();
      throw e;
    }
  }

  /** Stops consuming and closes the consumer's channel. Unacked messages are requeued. */
  async cancel(): Promise<void> {
    this.stop();
    const ch = this.channel;
    this.channel = undefined;
    if (!ch?.isOpen) return;
    for (const tag of this.tags.values()) await ch.basicCancel(tag);
    this.tags.clear();
    await ch.close();
  }

  private stop(): void {
    this.active = false;
    this.connection.off("revive", this.onRevive);
    this.connection.release(this);
  }

  /** A new channel on conn: qos, then each queue declared (autoDeclare) and consumed. */
  private async start(conn: Connection): Promise<void> {
    if (!this.active || (this.consuming && this.channel?.connection === conn)) return;
    const old = this.channel;
    this.channel = undefined;
    this.tags.clear();
    if (old?.isOpen) await old.close().catch(() => {});
    const ch = await conn.createChannel();
    this.channel = ch;
    ch.on("error", () => {}); // reported from 'close' below
    ch.on("close", (err) => this.onChannelClosed(ch, err));
    ch.on("cancel", (tag) => this.onServerCancel(ch, tag));
    if (this.options.prefetchCount) await ch.basicQos(this.options.prefetchCount);
    for (const q of this.queues) await this.subscribe(ch, q);
    this.resumed();
  }

  private async subscribe(ch: Channel, q: Queue): Promise<void> {
    const name = (this.options.autoDeclare ?? true) ? await q.declare(ch) : q.declaredName;
    const noAck = this.options.noAck ?? false;
    this.tags.set(q, await ch.basicConsume(name, (m) => this.receive(m), { noAck }));
  }

  private resumed(): void {
    if (!this.interrupted || !this.consuming) return;
    this.interrupted = false;
    this.emit("resume");
  }

  private onChannelClosed(ch: Channel, err: Error | undefined): void {
    if (this.channel !== ch || !this.active) return;
    this.interrupted = true;
    // A lost connection is reported by the BrokerConnection, and 'revive' brings us back.
    if (!ch.connection.isOpen) return;
    // While restarting, the attempt that failed reports the error.
    if (err && !this.restarting) this.report(err);
    this.restart(() => this.start(ch.connection));
  }

  private onServerCancel(ch: Channel, tag: string): void {
    const q = [...this.tags].find(([, t]) => t === tag)?.[0];
    if (!q || this.channel !== ch) return;
    this.tags.delete(q);
    this.interrupted = true;
    this.emit("cancel", q.declaredName);
    this.restart(async () => {
      if (this.channel !== ch || !ch.isOpen)
        throw new Error(`channel closed before ${q.name} was consumed again`);
      await this.subscribe(ch, q);
      this.resumed();
    });
  }

  /**
   * Runs `first`, then new starts on the live connection, until the consumer is consuming
   * again, waiting per the retry policy between tries. Stops when the consumer is cancelled or
   * the connection is lost ('revive' takes over then).
   */
  private restart(first: () => Promise<void>): void {
    if (this.restarting) return;
    this.restarting = true;
    const policy = this.options.retryPolicy ?? this.connection.retryPolicy;
    void (async () => {
      let attempt = first;
      for (let n = 0; this.active && !this.consuming; n++) {
        try {
          await attempt();
        } catch (e) {
          this.report(e);
        }
        const conn = this.connection.connection;
        if (!this.active || this.consuming || !conn) return;
        const start = policy.intervalStart ?? 2;
        const interval = Math.min(start + n * (policy.intervalStep ?? 2), policy.intervalMax ?? 30);
        await new Promise((r) => setTimeout(r, interval * 1000));
        attempt = () => this.start(conn);
      }
    })()
      .catch((e: unknown) => this.report(e))
      .finally(() => (this.restarting = false));
  }

  /** Decodes and hands on one delivery, then tells the connection (for drainEvents()). */
  private receive(message: Message): unknown {
    try {
      const r = this.decodeAndCall(message);
      if (r !== null && typeof r === "object" && typeof (r as Promise<unknown>).then === "function") {
        return (r as Promise<unknown>)
          .then(undefined, (e: unknown) => this.callbackFailed(e, message))
          .finally(() => this.connection.eventHandled());
      }
    } catch (e) {
      this.callbackFailed(e, message);
    }
    this.connection.eventHandled();
    return undefined;
  }

  private decodeAndCall(message: Message): unknown {
    if (this.options.onMessage) return this.options.onMessage(message);
    let body: unknown;
    try {
      const compression = message.properties.headers?.compression;
      const raw = typeof compression === "string" ? decompress(message.body, compression) : message.body;
      body = loads(raw, message.properties.contentType, this.options.accept);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      if (this.options.onDecodeError) this.options.onDecodeError(err, message);
      else if (!this.options.noAck) message.reject(false);
      return undefined;
    }
    if (this.callbacks.length === 1) return this.callbacks[0]!(body, message);
    return Promise.all(this.callbacks.map((cb) => cb(body, message)));
  }

  /** A callback threw or rejected: report it, and reject its message unless it was settled. */
  private callbackFailed(e: unknown, message: Message): void {
    if (!this.options.noAck && !message.settled) message.reject(false);
    this.report(e);
  }

  private report(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    if (this.listenerCount("error") > 0) this.emit("error", err);
    if (this.connection.listenerCount("error") > 0 || this.listenerCount("error") === 0)
      this.connection.report(err);
  }
}
