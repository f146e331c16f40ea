import type { BasicProperties, FieldTable } from "@warren/protocol";
import type { Channel } from "../channel.js";
import type { Connection } from "../connection.js";
import type { BrokerConnection, RetryPolicy } from "./broker-connection.js";
import { Exchange } from "./exchange.js";
import type { Queue } from "./queue.js";
import { compress, dumps } from "./serialization.js";

/** Options of a Producer. */
export interface ProducerOptions {
  /** Default exchange of publish(); default "" (the default exchange). */
  exchange?: Exchange | string;
  /** Default routing key of publish(). */
  routingKey?: string;
  /** "json" (default), "text", "raw", or a registered one. Buffers always go raw. */
  serializer?: string;
  /** Declare the exchange before the first publish on each connection. Default true. */
  autoDeclare?: boolean;
  /**
   * Compress bodies as kombu does ("zlib" or "gzip": zlib, "brotli"), announced in the
   * `compression` header so that kombu consumers (and ours) decompress them. Default none.
   */
  compression?: string;
  /** Use publisher confirms: publish() resolves once the broker has the message. Default true. */
  confirm?: boolean;
  /** Retry publish() across reconnects (with this policy, or the connection's). Default false. */
  retry?: boolean;
  retryPolicy?: RetryPolicy;
}

/** Options of one publish(); unset ones come from the Producer and its exchange. */
export interface ProducePublishOptions {
  exchange?: Exchange | string;
  routingKey?: string;
  serializer?: string;
  /** Overrides the producer's compression for this message. */
  compression?: string;
  /** Overrides the serializer's content type (the body must then be a Buffer or string). */
  contentType?: string;
  contentEncoding?: string;
  headers?: FieldTable;
  deliveryMode?: "persistent" | "transient" | 1 | 2;
  priority?: number;
  /** Seconds, as in kombu (sent as the expiration property in milliseconds). */
  expiration?: number;
  correlationId?: string;
  replyTo?: string;
  messageId?: string;
  type?: string;
  /** Return the message to the 'return' listeners of the channel if it is unroutable. */
  mandatory?: boolean;
  /** Entities to declare (once per connection) before publishing, e.g. the target Queue. */
  declare?: readonly (Exchange | Queue)[];
  retry?: boolean;
  retryPolicy?: RetryPolicy;
}

/**
 * Publishes messages kombu style: serialized bodies with their content type, the exchange
 * declared once per connection, confirms on by default, and optional retry through
 * BrokerConnection.ensure().
 *
 * @example
 *   const producer = new Producer(conn, { exchange: new Exchange("tasks"), serializer: "json" });
 *   await producer.publish({ id: 1 }, { routingKey: "video", declare: [videoQueue] });
 */
export class Producer {
  readonly exchange: Exchange;
  private channel: Channel | undefined;
  private opening: Promise<Channel> | undefined;

  constructor(
    readonly connection: BrokerConnection,
    private readonly options: ProducerOptions = {},
  ) {
    const ex = options.exchange ?? "";
    this.exchange = typeof ex === "string" ? new Exchange(ex) : ex;
  }

  /** Publishes one message; resolves when it is written, or confirmed with `confirm`. */
  publish(body: unknown, opts: ProducePublishOptions = {}): Promise<void> {
    const retry = opts.retry ?? this.options.retry ?? false;
    if (!retry) return this.connection.connect().then((conn) => this.publishOn(conn, body, opts));
    const policy = opts.retryPolicy ?? this.options.retryPolicy;
    return this.connection.ensure((_ch, conn) => this.publishOn(conn, body, opts), policy);
  }

  /** Declares the producer's exchange now. */
  async declare(): Promise<void> {
    const ch = await this.channelFor(await this.connection.connect());
    await this.exchange.declare(ch);
  }

  /** Closes the producer's channel (the connection stays). */
  async close(): Promise<void> {
    await this.channel?.close();
    this.channel = undefined;
  }

  private async publishOn(conn: Connection, body: unknown, opts: ProducePublishOptions): Promise<void> {
    const ch = await this.channelFor(conn);
    const target = opts.exchange ?? this.exchange;
    const exchange = typeof target === "string" ? new Exchange(target) : target;
    const entities: (Exchange | Queue)[] = [...(opts.declare ?? [])];
    // An exchange given by name is taken to exist, as in kombu; an Exchange is declared.
    if ((this.options.autoDeclare ?? true) && typeof target !== "string") entities.unshift(exchange);
    for (const e of entities) await this.connection.maybeDeclare(e, ch, () => e.declare(ch));

    const serializer = Buffer.isBuffer(body) ? "raw" : (opts.serializer ?? this.options.serializer ?? "json");
    const encoded =
      opts.contentType !== undefined && (Buffer.isBuffer(body) || typeof body === "string")
        ? {
            body: Buffer.from(body),
            contentType: opts.contentType,
            contentEncoding: opts.contentEncoding ?? "binary",
          }
        : dumps(body, serializer);
    const mode = opts.deliveryMode ?? exchange.deliveryMode;
    const method = opts.compression ?? this.options.compression;
    let payload = encoded.body;
    let headers = opts.headers;
    if (method) {
      const c = compress(payload, method);
      payload = c.body;
      headers = { ...headers, compression: c.compression };
    }
    const properties: BasicProperties = {
      contentType: encoded.contentType,
      contentEncoding: opts.contentEncoding ?? encoded.contentEncoding,
      deliveryMode: mode === "persistent" || mode === 2 ? 2 : 1,
      ...(headers !== undefined ? { headers } : {}),
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
      ...(opts.expiration !== undefined ? { expiration: String(Math.round(opts.expiration * 1000)) } : {}),
      ...(opts.correlationId !== undefined ? { correlationId: opts.correlationId } : {}),
      ...(opts.replyTo !== undefined ? { replyTo: opts.replyTo } : {}),
      ...(opts.messageId !== undefined ? { messageId: opts.messageId } : {}),
      ...(opts.type !== undefined ? { type: opts.type } : {}),
    };
    const routingKey = opts.routingKey ?? this.options.routingKey ?? "";
    const publishOpts = { mandatory: opts.mandatory ?? false };
    // Resolves once confirmed (confirm mode) or written; waits while the window is full.
    await ch.publish(exchange.name, routingKey, payload, properties, publishOpts);
  }

  /** The producer's own channel on this connection (in confirm mode if asked), opened once. */
  private async channelFor(conn: Connection): Promise<Channel> {
    const ch = this.channel;
    if (ch?.isOpen && ch.connection === conn) return ch;
    this.opening ??= (async () => {
      const c = await conn.createChannel();
      if (this.options.confirm ?? true) await c.confirmSelect();
      this.channel = c;
      return c;
    })().finally(() => (this.opening = undefined));
    return this.opening;
  }
}
