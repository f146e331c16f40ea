import type { FieldTable } from "@warren/protocol";
import type { Channel } from "../channel.js";
import type { QueueDeclareResult } from "../channel-types.js";
import type { Message } from "../message.js";
import type { Exchange } from "./exchange.js";

/** Options of a Queue; kombu's defaults (durable, not exclusive, not auto-deleted). */
export interface QueueOptions {
  /** Declared along with the queue, and bound to it with routingKey. */
  exchange?: Exchange;
  /** Binding key to `exchange`; defaults to the queue name. */
  routingKey?: string;
  bindingArguments?: FieldTable;
  durable?: boolean;
  exclusive?: boolean;
  autoDelete?: boolean;
  /** x-arguments (x-message-ttl, x-max-length, x-queue-type, …). */
  arguments?: FieldTable;
}

/**
 * A queue declaration, kombu style: declare() declares the exchange, the queue and the
 * binding, and can be repeated on a new connection. A queue named "" gets its name from
 * the server at each declare (see `declaredName`).
 */
export class Queue {
  readonly exchange: Exchange | undefined;
  readonly bindingArguments: FieldTable;
  readonly durable: boolean;
  readonly exclusive: boolean;
  readonly autoDelete: boolean;
  readonly arguments: FieldTable;
  /** The name the queue had at its last declare: the server's choice for "". */
  declaredName: string;
  private readonly key: string | undefined;

  constructor(
    readonly name = "",
    opts: QueueOptions = {},
  ) {
    this.exchange = opts.exchange;
    this.key = opts.routingKey;
    this.bindingArguments = opts.bindingArguments ?? {};
    this.durable = opts.durable ?? true;
    this.exclusive = opts.exclusive ?? false;
    this.autoDelete = opts.autoDelete ?? false;
    this.arguments = opts.arguments ?? {};
    this.declaredName = name;
  }

  /** The binding key: the one given, else the queue's (declared) name. */
  get routingKey(): string {
    return this.key ?? this.declaredName;
  }

  /** Declares the exchange (if any), the queue, and the binding; resolves with the queue name. */
  async declare(channel: Channel, opts: { passive?: boolean } = {}): Promise<string> {
    if (this.exchange) await this.exchange.declare(channel, opts);
    const ok = await this.queueDeclare(channel, opts.passive ?? false);
    this.declaredName = ok.queue;
    if (this.exchange && this.exchange.name !== "") {
      await channel.queueBind(ok.queue, this.exchange.name, this.routingKey, this.bindingArguments);
    }
    return ok.queue;
  }

  /** Message count and consumer count, via a passive declare. */
  status(channel: Channel): Promise<QueueDeclareResult> {
    return this.queueDeclare(channel, true);
  }

  bindTo(
    channel: Channel,
    exchange: Exchange | string,
    routingKey = "",
    args: FieldTable = {},
  ): Promise<void> {
    return channel.queueBind(
      this.declaredName,
      typeof exchange === "string" ? exchange : exchange.name,
      routingKey,
      args,
    );
  }

  /** Fetches one message (basic.get), or null when empty. */
  get(channel: Channel, opts: { noAck?: boolean } = {}): Promise<Message | null> {
    return channel.basicGet(this.declaredName, opts);
  }

  async purge(channel: Channel): Promise<number> {
    return (await channel.queuePurge(this.declaredName)).messageCount;
  }

  async delete(channel: Channel, opts: { ifUnused?: boolean; ifEmpty?: boolean } = {}): Promise<number> {
    return (await channel.queueDelete(this.declaredName, opts)).messageCount;
  }

  private queueDeclare(channel: Channel, passive: boolean): Promise<QueueDeclareResult> {
    return channel.queueDeclare(passive ? this.declaredName : this.name, {
      passive,
      durable: this.durable,
      exclusive: this.exclusive,
      autoDelete: this.autoDelete,
      arguments: this.arguments,
    });
  }
}
