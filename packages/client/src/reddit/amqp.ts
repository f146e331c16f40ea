import { EventEmitter } from "node:events";
import type { Channel } from "../channel.js";
import type { Message, ReturnFields } from "../message.js";
import { ConnectionManager, type ConnectionManagerOptions } from "./connection-manager.js";
import { type ConsumeItemsCallback, type ConsumeItemsOptions, consumeItems } from "./consume-items.js";
import {
  checkBatchSizes,
  type HandleItemsCallback,
  type HandleItemsOptions,
  handleItems,
} from "./handle-items.js";
import { type AddItemOptions, type Item, Publisher } from "./publisher.js";
import type { Queues } from "./queues.js";

/**
 * The seed's Config: where the broker is (amqp_host, amqp_user, amqp_pass and
 * amqp_virtual_host as one URL), the exchange, the queues, and how to retry. `log` also
 * receives "Message was returned" when nobody listens for 'unroutable', failed publishes when
 * nobody listens for 'error', and consumeItems / handleItems progress with `verbose`.
 */
export type AmqpConfig = ConnectionManagerOptions;

/** A mandatory addItem() that no queue took. */
export interface UnroutableItem {
  /** What addItem() was given. */
  readonly item: Item;
  /** The message as the broker returned it; `fields.replyCode` is 312 NO_ROUTE. */
  readonly returned: Message<ReturnFields>;
}

/** Events of Amqp. */
export type AmqpEvents = {
  /** A published item came back unroutable (the seed's UnroutableError). */
  unroutable: [unroutable: UnroutableItem];
  /** A publish failed for good; `item` says which (undefined if none). */
  error: [err: Error, item: Item | undefined];
};

/** `verbose` for consumeItems / handleItems: their progress lines go to the config's `log`. */
export type Verbose = { verbose?: boolean };

/**
 * reddit's amqp module (r2/lib/amqp.py, as seed 000 gives it) for one service: addItem()
 * publishes through a background worker, consumeItems() and handleItems() take messages
 * off a queue, and two ConnectionManagers — one for the publishing worker, one for the
 * foreground consumers, as the seed's thread-local manager gives each thread its own —
 * connect lazily, retry, and declare the exchange, queues and bindings on each connection.
 * Nothing connects until the first call that needs the broker.
 *
 * @example
 *   const queues = new Queues({ newcomments_q: new MessageQueue() });
 *   queues.get("newcomments_q").bind("new_link");
 *   const amqp = new Amqp({ url: "amqp://guest:guest@localhost:5672/", queues });
 *   amqp.on("unroutable", ({ item }) => console.warn("nobody takes", item.routingKey));
 *   amqp.addItem("new_link", JSON.stringify({ id: 1 }));
 *   await amqp.join();
 */
export class Amqp extends EventEmitter<AmqpEvents> {
  readonly queues: Queues;
  readonly exchange: string;
  /** The foreground connection: consumeItems, handleItems, getChannel. */
  readonly connectionManager: ConnectionManager;
  /** The publishing worker's own connection. */
  readonly workerConnectionManager: ConnectionManager;
  private readonly publisher: Publisher;
  private readonly log: (line: string) => void;

  constructor(config: AmqpConfig) {
    super();
    this.log = config.log ?? ((line) => console.error(line));
    const managerOptions = { ...config, log: this.log };
    this.connectionManager = new ConnectionManager(managerOptions);
    this.workerConnectionManager = new ConnectionManager(managerOptions);
    this.queues = config.queues;
    this.exchange = this.connectionManager.exchange;
    this.publisher = new Publisher(this.workerConnectionManager, {
      unroutable: (item, returned) => {
        if (this.listenerCount("unroutable") > 0) this.emit("unroutable", { item, returned });
        else this.log("Message was returned");
      },
      error: (err, item) => {
        if (this.listenerCount("error") > 0) this.emit("error", err, item);
        else this.log(`amqp: publishing to ${item?.routingKey ?? "?"} failed: ${err.message}`);
      },
    });
  }

  /**
   * The seed's add_item(): queues a publish of `body` with `routingKey` to the exchange and
   * returns at once; the worker publishes it in confirm mode with mandatory set. Items no
   * queue takes are emitted as 'unroutable'; failures as 'error'. See Publisher.
   */
  addItem(routingKey: string, body: Buffer | string, opts: AddItemOptions = {}): void {
    this.publisher.addItem(routingKey, body, opts);
  }

  /** The seed's worker.join(): resolves once every item added so far is confirmed or reported. */
  join(): Promise<void> {
    return this.publisher.join();
  }

  /** Items the worker has yet to publish (or is publishing). */
  get pendingItems(): number {
    return this.publisher.pending;
  }

  /** The foreground channel (connecting and declaring on first use). */
  getChannel(reconnect = false): Promise<Channel> {
    return this.connectionManager.getChannel(reconnect);
  }

  /**
   * The seed's consume_items() on the foreground channel; see consumeItems. When it ends,
   * it waits for the worker (join), as reddit's does, so items the callback added are sent.
   */
  async consumeItems(
    queue: string,
    callback: ConsumeItemsCallback,
    opts: Omit<ConsumeItemsOptions, "log"> & Verbose = {},
  ): Promise<void> {
    const ch = await this.connectionManager.getChannel();
    try {
      await consumeItems(ch, queue, callback, this.withLog(opts));
    } finally {
      await this.join();
    }
  }

  /** The seed's handle_items() on the foreground channel; see handleItems. */
  async handleItems(
    queue: string,
    callback: HandleItemsCallback,
    opts: Omit<HandleItemsOptions, "log"> & Verbose = {},
  ): Promise<void> {
    // Checked before connecting, as the seed raises before get_channel().
    checkBatchSizes(opts);
    const ch = await this.connectionManager.getChannel();
    await handleItems(ch, queue, callback, this.withLog(opts));
  }

  /** Waits for the worker, then closes both connections. */
  async close(): Promise<void> {
    await this.join();
    await Promise.all([this.connectionManager.close(), this.workerConnectionManager.close()]);
  }

  private withLog<O extends Verbose>(opts: O): Omit<O, "verbose"> & { log?: (line: string) => void } {
    const { verbose, ...rest } = opts;
    return verbose ? { ...rest, log: this.log } : rest;
  }
}
