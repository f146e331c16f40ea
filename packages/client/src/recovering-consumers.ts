import { randomBytes } from "node:crypto";
import { ChannelError } from "@warren/protocol";
import { backoffDelay } from "./backoff.js";
import type { Channel } from "./channel.js";
import type { ConsumeOptions, MessageHandler } from "./channel-types.js";
import type { Message } from "./message.js";
import type { RecoveringConnection } from "./recovering-connection.js";

interface RecordedConsumer {
  readonly tag: string;
  /** The queue as the application named it (resolved to its current name at each subscribe). */
  readonly queue: string;
  readonly handler: MessageHandler;
  readonly options: ConsumeOptions;
  /** Waiting for its queue to exist again after a server cancel or a failed subscribe. */
  parked: boolean;
  /** The channel it is (being) subscribed on. */
  subscribedOn: Channel | undefined;
  /** A resubscribeLater() loop runs for it. */
  retrying: boolean;
}

/** What the consumers need from their RecoveringChannel. */
export interface ConsumersHost {
  readonly connection: RecoveringConnection;
  /** The channel in use, if it is open. */
  live(): Channel | undefined;
  /** Reports an error (the channel's 'error' event). */
  report(e: unknown): void;
  /** The server cancelled a consumer ('cancel'). */
  cancelled(tag: string): void;
  /** A cancelled consumer consumes again ('resubscribed'). */
  resubscribed(tag: string, queue: string): void;
}

let tagCounter = 0;
const tagPrefix = `warren-${randomBytes(4).toString("hex")}`;

/**
 * The consumers of a RecoveringChannel: what it takes to subscribe them again, under the same
 * tags, on every new channel, and after a server cancel (parked until their queue exists).
 */
export class RecoveringConsumers {
  private readonly consumers = new Map<string, RecordedConsumer>();

  constructor(private readonly host: ConsumersHost) {}

  /**
   * Subscribes a new consumer on the channel run() hands over; resolves with its tag (one of
   * ours when none is given, so that it stays the same on every channel).
   */
  async add(
    queue: string,
    handler: MessageHandler,
    options: ConsumeOptions,
    run: (op: (ch: Channel) => Promise<string>) => Promise<string>,
  ): Promise<string> {
    const tag = options.consumerTag ?? `${tagPrefix}-${++tagCounter}`;
    if (this.consumers.has(tag)) throw new Error(`consumer tag '${tag}' is already in use on this channel`);
    const c: RecordedConsumer = {
      tag,
      queue,
      handler,
      options,
      parked: false,
      subscribedOn: undefined,
      retrying: false,
    };
    // Recorded first: deliveries may follow consume-ok in the same packet. A channel restored
    // meanwhile subscribes it, and subscribe() does not do it twice.
    this.consumers.set(tag, c);
    try {
      await run((ch) => this.subscribe(ch, c));
    } catch (e) {
      this.consumers.delete(tag);
      throw e;
    }
    return tag;
  }

  /** Cancels a consumer for good. */
  async cancel(tag: string): Promise<void> {
    const c = this.consumers.get(tag);
    this.consumers.delete(tag);
    const ch = this.host.live();
    if (c && !c.parked && ch && c.subscribedOn === ch) await ch.basicCancel(tag);
  }

  /** Forgets the consumers of a queue deleted through the connection. */
  forgetQueue(queue: string): void {
    for (const [tag, c] of this.consumers) if (c.queue === queue) this.consumers.delete(tag);
  }

  /** Subscribes every consumer on ch; false when one failed and closed ch (it is parked then). */
  async resubscribeAll(ch: Channel): Promise<boolean> {
    for (const c of [...this.consumers.values()]) {
      if (c.parked) continue;
      try {
        await this.subscribe(ch, c);
      } catch (e) {
        if (!(e instanceof ChannelError)) throw e;
        c.parked = true;
        this.host.report(
          new Error(`consumer '${c.tag}' could not subscribe to '${c.queue}': ${e.message}`, { cause: e }),
        );
        return false;
      }
      // Cancelled meanwhile: take it off the server again.
      if (this.consumers.get(c.tag) !== c) await ch.basicCancel(c.tag);
    }
    return true;
  }

  /** The channel is in use: parked consumers look for their queue. */
  resumeParked(): void {
    for (const c of this.consumers.values()) if (c.parked) this.resubscribeLater(c);
  }

  /** The server cancelled a consumer on ch (its queue was deleted, …). */
  onServerCancel(ch: Channel, tag: string): void {
    const c = this.consumers.get(tag);
    if (!c || ch !== this.host.live()) return;
    c.subscribedOn = undefined;
    this.host.cancelled(tag);
    try {
      c.options.onCancel?.(tag);
    } catch (e) {
      this.host.report(e);
    }
    const conn = this.host.connection;
    if (!conn.recoveryOptions.resubscribeOnCancel || conn.deleting.has(c.queue)) {
      this.consumers.delete(tag);
      return;
    }
    c.parked = true;
    this.resubscribeLater(c);
  }

  private async subscribe(ch: Channel, c: RecordedConsumer): Promise<string> {
    if (c.subscribedOn === ch && ch.isOpen) return c.tag;
    c.subscribedOn = ch;
    const { onCancel: _, consumerTag: __, ...opts } = c.options;
    const queue = this.host.connection.topology.resolveQueue(c.queue);
    try {
      return await ch.basicConsume(queue, (m) => this.deliver(c, m), { ...opts, consumerTag: c.tag });
    } catch (e) {
      if (c.subscribedOn === ch) c.subscribedOn = undefined;
      throw e;
    }
  }

  private deliver(c: RecordedConsumer, m: Message): void {
    if (this.consumers.get(c.tag) !== c) {
      // Cancelled by the application while this was on the wire: give it back.
      if (!c.options.noAck) m.nack({ requeue: true });
      return;
    }
    try {
      const r = c.handler(m);
      if (r !== null && typeof r === "object" && typeof (r as Promise<unknown>).then === "function") {
        (r as Promise<unknown>).then(undefined, (e: unknown) => this.host.report(e));
      }
    } catch (e) {
      this.host.report(e);
    }
  }

  /**
   * Subscribes a parked consumer again once its queue exists: declared again if it was
   * declared through this connection, otherwise looked for (passively) until it reappears.
   */
  private resubscribeLater(c: RecordedConsumer): void {
    if (c.retrying) return;
    c.retrying = true;
    const conn = this.host.connection;
    void (async () => {
      for (let attempt = 0; ; attempt++) {
        const ch = this.host.live();
        if (this.consumers.get(c.tag) !== c || !c.parked || !ch) return;
        try {
          if (await conn.ensureQueue(c.queue)) {
            if (this.host.live() !== ch || this.consumers.get(c.tag) !== c) return;
            c.parked = false;
            try {
              await this.subscribe(ch, c);
            } catch (e) {
              c.parked = true;
              throw e;
            }
            this.host.resubscribed(c.tag, conn.topology.resolveQueue(c.queue));
            return;
          }
        } catch (e) {
          if (ch.isOpen) this.host.report(e);
        }
        await conn.sleep(backoffDelay(attempt, conn.recoveryOptions));
      }
    })()
      .catch((e: unknown) => this.host.report(e))
      .finally(() => (c.retrying = false));
  }
}
