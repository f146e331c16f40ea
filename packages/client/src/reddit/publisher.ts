import type { BasicProperties, FieldTable } from "@warren/protocol";
import type { Channel } from "../channel.js";
import { isRecoverable } from "../kombu/broker-connection.js";
import type { Message, ReturnFields } from "../message.js";
import type { ConnectionManager } from "./connection-manager.js";
import { Worker } from "./worker.js";

/** delivery_mode 1: the broker may lose the message on restart. */
export const DELIVERY_TRANSIENT = 1;
/** delivery_mode 2: a durable queue keeps the message across restarts. */
export const DELIVERY_DURABLE = 2;

/** Options of addItem(), as in the seed's add_item(). */
export interface AddItemOptions {
  /** The message-id property. */
  messageId?: string;
  /** DELIVERY_DURABLE (the default) or DELIVERY_TRANSIENT. */
  deliveryMode?: typeof DELIVERY_TRANSIENT | typeof DELIVERY_DURABLE;
  /** Message headers (application_headers). */
  headers?: FieldTable;
  /** Default: the config's exchange. */
  exchange?: string;
}

/** One addItem() call, as the worker publishes it. */
export interface Item {
  readonly exchange: string;
  readonly routingKey: string;
  readonly body: Buffer | string;
  readonly properties: BasicProperties;
}

/** What the publisher reports. */
export interface PublisherHooks {
  /** A mandatory publish came back: no queue is bound with its routing key. */
  unroutable(item: Item, returned: Message<ReturnFields>): void;
  /**
   * A publish failed for good (nacked, refused by the broker, no connection); `item` is
   * undefined only for a failure outside any item's publish.
   */
  error(err: Error, item: Item | undefined): void;
}

/** Attempts per item: the first, and two on new connections if the connection is lost. */
const ATTEMPTS = 3;

/**
 * The publishing half of reddit's wrapper: add_item() hands the publish to the background
 * Worker, which publishes each item in confirm mode with mandatory set and waits for the
 * broker's confirm before the next one, as the seed's pika BlockingChannel does. A message
 * no queue takes comes back (basic.return) and is reported through `hooks.unroutable`,
 * where the seed catches pika's UnroutableError and prints "Message was returned".
 *
 * Where the seed differs, following reddit's original r2/lib/amqp.py: `deliveryMode` and
 * `headers` are sent (the seed accepts them and drops them, so its messages are transient);
 * and when the connection is lost under a publish, the item is published again on a new
 * connection (reddit's add_item retries on EPIPE), up to 3 attempts. The message may then
 * arrive twice: the broker may have taken the first copy before the connection went.
 */
export class Publisher {
  private readonly worker: Worker;
  private readonly confirming = new WeakSet<Channel>();

  constructor(
    private readonly manager: ConnectionManager,
    private readonly hooks: PublisherHooks,
  ) {
    // Items report their own failures (publish() below); this only sees what escapes that.
    this.worker = new Worker((err) => hooks.error(err, undefined));
  }

  /** Items queued or being published. */
  get pending(): number {
    return this.worker.pending;
  }

  /** Queues a publish and returns at once. */
  addItem(routingKey: string, body: Buffer | string, opts: AddItemOptions = {}): void {
    if (typeof body !== "string" && !Buffer.isBuffer(body))
      throw new TypeError("a body is a string or a Buffer");
    const properties: BasicProperties = { deliveryMode: opts.deliveryMode ?? DELIVERY_DURABLE };
    if (opts.messageId !== undefined) properties.messageId = opts.messageId;
    if (opts.headers !== undefined) properties.headers = opts.headers;
    const item: Item = { exchange: opts.exchange ?? this.manager.exchange, routingKey, body, properties };
    this.worker.do(() => this.publish(item));
  }

  /** Resolves once every item added so far is published and confirmed (or reported failed). */
  join(): Promise<void> {
    return this.worker.join();
  }

  private async publish(item: Item): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.publishOnce(item);
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        if (attempt < ATTEMPTS && isRecoverable(err)) continue;
        this.hooks.error(err, item);
        return;
      }
    }
  }

  private async publishOnce(item: Item): Promise<void> {
    const ch = await this.manager.getChannel();
    if (!this.confirming.has(ch)) {
      await ch.confirmSelect();
      this.confirming.add(ch);
    }
    // One item is in flight at a time, so a basic.return on this channel is this item's.
    let returned: Message<ReturnFields> | undefined;
    const onReturn = (m: Message<ReturnFields>): void => {
      returned = m;
    };
    ch.on("return", onReturn);
    try {
      await ch.publishConfirm(item.exchange, item.routingKey, item.body, item.properties, {
        mandatory: true,
      });
    } catch (e) {
      // A client may reject a returned publish (a ReturnedError) rather than resolve it; the
      // 'return' event has it either way.
      if (!returned) throw e;
    } finally {
      ch.off("return", onReturn);
    }
    if (returned) this.hooks.unroutable(item, returned);
  }
}
