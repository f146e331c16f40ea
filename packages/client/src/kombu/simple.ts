import type { Message } from "../message.js";
import type { BrokerConnection } from "./broker-connection.js";
import { Consumer } from "./consumer.js";
import { Exchange } from "./exchange.js";
import { Producer, type ProducePublishOptions } from "./producer.js";
import { Queue, type QueueOptions } from "./queue.js";

/** Raised by SimpleQueue.get() when no message came in time (Python's queue.Empty). */
export class Empty extends Error {
  override name = "Empty";
}

/** A message from SimpleQueue.get(): the Message with its decoded body as `payload`. */
export type SimpleMessage = Message & { readonly payload: unknown };

/** Options of a SimpleQueue. */
export interface SimpleQueueOptions {
  /** Messages count as acknowledged when delivered. Default false (SimpleBuffer: true). */
  noAck?: boolean;
  /** Options of the queue; kombu's defaults: durable (SimpleBuffer: transient, auto-delete). */
  queueOptions?: QueueOptions;
  /** Serializer of put(). Default "json". */
  serializer?: string;
  /** Compression of put(), e.g. "zlib". Default none. */
  compression?: string;
  /** Content types (or serializer names) get() decodes; others are rejected. Default: any. */
  accept?: readonly string[];
}

/**
 * kombu.simple.SimpleQueue: a queue used like a local one. The queue `name` is bound to a
 * direct exchange of the same name with the routing key `name`; put() publishes there and
 * get() waits for the next message.
 *
 * @example
 *   const q = new SimpleQueue(conn, "jobs");
 *   await q.put({ id: 1 });
 *   const m = await q.get({ timeout: 1 });
 *   console.log(m.payload);
 *   m.ack();
 *   await q.close();
 */
export class SimpleQueue {
  readonly queue: Queue;
  private readonly producer: Producer;
  private readonly consumer: Consumer;
  private readonly buffer: SimpleMessage[] = [];
  private readonly waiters: ((m: SimpleMessage) => void)[] = [];
  private consuming: Promise<void> | undefined;

  constructor(
    readonly connection: BrokerConnection,
    name: string | Queue,
    private readonly options: SimpleQueueOptions = {},
  ) {
    const exchange = new Exchange(typeof name === "string" ? name : name.name, { type: "direct" });
    this.queue =
      typeof name === "string"
        ? new Queue(name, { exchange, routingKey: name, ...options.queueOptions })
        : name;
    this.producer = new Producer(connection, {
      exchange: this.queue.exchange ?? exchange,
      routingKey: this.queue.routingKey,
      serializer: options.serializer ?? "json",
      ...(options.compression !== undefined ? { compression: options.compression } : {}),
    });
    this.consumer = new Consumer(connection, {
      queues: this.queue,
      noAck: options.noAck ?? false,
      ...(options.accept ? { accept: options.accept } : {}),
      callbacks: [(body, message) => this.deliver(Object.assign(message, { payload: body }))],
    });
  }

  /** Publishes a message to the queue. */
  async put(body: unknown, opts: ProducePublishOptions = {}): Promise<void> {
    await this.producer.publish(body, { declare: [this.queue], ...opts });
  }

  /**
   * The next message. With block false, or once timeout (seconds) has passed, rejects with
   * Empty if none came. Default: block without timeout.
   */
  async get(opts: { block?: boolean; timeout?: number } = {}): Promise<SimpleMessage> {
    this.consuming ??= this.consumer.consume();
    await this.consuming;
    const ready = this.buffer.shift();
    if (ready) return ready;
    const block = opts.block ?? true;
    return new Promise<SimpleMessage>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = (m: SimpleMessage): void => {
        clearTimeout(timer);
        resolve(m);
      };
      if (!block || opts.timeout !== undefined) {
        timer = setTimeout(
          () => {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            reject(new Empty(`no message in ${this.queue.name}`));
          },
          block ? opts.timeout! * 1000 : 0,
        );
      }
      this.waiters.push(waiter);
    });
  }

  /** get({ block: false }). */
  getNowait(): Promise<SimpleMessage> {
    return this.get({ block: false });
  }

  /** Messages ready in the queue on the broker (not counting those already fetched). */
  async qsize(): Promise<number> {
    const ch = await this.connection.defaultChannel();
    await this.queue.declare(ch);
    return (await this.queue.status(ch)).messageCount;
  }

  /** Purges the queue; resolves with the number of messages removed. */
  async clear(): Promise<number> {
    const ch = await this.connection.defaultChannel();
    await this.queue.declare(ch);
    return (await ch.queuePurge(this.queue.declaredName)).messageCount;
  }

  /** Stops consuming (fetched, unacknowledged messages return to the queue). */
  async close(): Promise<void> {
    await this.consumer.cancel();
    await this.producer.close();
    this.buffer.length = 0;
  }

  private deliver(m: SimpleMessage): void {
    const w = this.waiters.shift();
    if (w) w(m);
    else this.buffer.push(m);
  }
}

/**
 * kombu.simple.SimpleBuffer: a SimpleQueue for transient data: the queue is not durable and
 * auto-deleted, messages are transient and need no ack.
 */
export class SimpleBuffer extends SimpleQueue {
  constructor(connection: BrokerConnection, name: string, options: SimpleQueueOptions = {}) {
    super(connection, name, {
      noAck: true,
      ...options,
      queueOptions: { durable: false, autoDelete: true, ...options.queueOptions },
    });
  }

  override put(body: unknown, opts: ProducePublishOptions = {}): Promise<void> {
    return super.put(body, { deliveryMode: "transient", ...opts });
  }
}
