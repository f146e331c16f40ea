import type { FieldTable } from "@warren/protocol";
import type { Channel } from "../channel.js";

/** Options of an Exchange; kombu's defaults (durable, not auto-deleted, persistent messages). */
export interface ExchangeOptions {
  /** "direct" (default), "fanout", "topic", "headers". */
  type?: string;
  durable?: boolean;
  autoDelete?: boolean;
  internal?: boolean;
  arguments?: FieldTable;
  /** Default delivery mode of messages a Producer publishes here. Default "persistent". */
  deliveryMode?: "persistent" | "transient" | 1 | 2;
  /** Never declare it (it exists already, or we lack the permission). */
  noDeclare?: boolean;
}

/**
 * An exchange declaration, kombu style: a description that can be declared on any channel,
 * again after a reconnect. The name "" is the default exchange, which is never declared.
 */
export class Exchange {
  readonly type: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly arguments: FieldTable;
  readonly deliveryMode: 1 | 2;
  readonly noDeclare: boolean;

  constructor(
    readonly name = "",
    opts: ExchangeOptions = {},
  ) {
    this.type = opts.type ?? "direct";
    this.durable = opts.durable ?? true;
    this.autoDelete = opts.autoDelete ?? false;
    this.internal = opts.internal ?? false;
    this.arguments = opts.arguments ?? {};
    const mode = opts.deliveryMode ?? "persistent";
    this.deliveryMode = mode === "persistent" || mode === 2 ? 2 : 1;
    this.noDeclare = opts.noDeclare ?? false;
  }

  /** Declares the exchange (no-op for the default exchange or with noDeclare). */
  async declare(channel: Channel, opts: { passive?: boolean } = {}): Promise<void> {
    if (this.name === "" || this.noDeclare) return;
    await channel.exchangeDeclare(this.name, this.type, {
      passive: opts.passive ?? false,
      durable: this.durable,
      autoDelete: this.autoDelete,
      internal: this.internal,
      arguments: this.arguments,
    });
  }

  /** Binds this exchange to receive from `source`. */
  bindTo(channel: Channel, source: Exchange | string, routingKey = "", args: FieldTable = {}): Promise<void> {
    return channel.exchangeBind(this.name, nameOf(source), routingKey, args);
  }

  unbindFrom(
    channel: Channel,
    source: Exchange | string,
    routingKey = "",
    args: FieldTable = {},
  ): Promise<void> {
    return channel.exchangeUnbind(this.name, nameOf(source), routingKey, args);
  }

  delete(channel: Channel, opts: { ifUnused?: boolean } = {}): Promise<void> {
    return channel.exchangeDelete(this.name, opts);
  }
}

function nameOf(e: Exchange | string): string {
  return typeof e === "string" ? e : e.name;
}
