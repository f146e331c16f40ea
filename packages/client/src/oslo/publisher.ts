import { ReturnedError } from "../errors.js";
import type { Channel } from "../channel.js";
import type { Message, ReturnFields } from "../message.js";
import { MessageUndeliverable } from "./errors.js";
import type { Transport } from "./transport.js";
import { addUniqueId, deserializeMsg, messageProperties, type RawMessage, serializeMsg } from "./wire.js";

/** An exchange as the rabbit driver declares it before publishing to it. */
export interface ExchangeSpec {
  name: string;
  type: "topic" | "fanout";
  durable: boolean;
  autoDelete: boolean;
}

/** One publish. */
interface Send {
  /** Declared (once per channel) before publishing; undefined: the default exchange. */
  exchange: ExchangeSpec | undefined;
  routingKey: string;
  msg: RawMessage;
  /** Seconds: the message's TTL (a call's timeout). */
  expiration?: number | undefined;
  /** Return the message if no queue takes it (replies), then MessageUndeliverable. */
  mandatory?: boolean;
  /** Declare and bind a queue named after the routing key first (notifications). */
  defaultQueue?: boolean;
  /** kombu ensure() retries; undefined: forever. */
  retry?: number | undefined;
  /** false: the bare message (format 1.0, the "messaging" notification driver). */
  envelope?: boolean;
  /** True once nobody waits for this send any more: it is then dropped, not retried. */
  abandoned?: (() => boolean) | undefined;
}

/**
 * The sending half of oslo's rabbit driver on a transport's shared channel, in confirm mode
 * as oslo runs kombu (`confirm_publish`): every send resolves when the broker has taken the
 * message. Exchanges (and notification queues) are declared once per channel, as the driver
 * caches its declarations; a lost connection is re-established and the publish repeated per
 * the retry policy (receivers drop repeats by `_unique_id`).
 */
export class Publisher {
  private readonly ready = new WeakMap<Channel, Promise<void>>();
  private readonly declared = new WeakMap<Channel, Map<string, Promise<void>>>();
  /** Unique ids of mandatory publishes the broker returned, until their confirm arrives. */
  private readonly returned = new Map<string, ReturnFields>();

  constructor(private readonly transport: Transport) {}

  /** The control (or a target's) exchange, as topic_send and notify_send declare it. */
  topicExchange(name: string): ExchangeSpec {
    const c = this.transport.conf;
    return { name, type: "topic", durable: c.amqpDurableQueues, autoDelete: c.amqpAutoDelete };
  }

  /** `<topic>_fanout`: never durable, deleted with its last queue. */
  fanoutExchange(topic: string): ExchangeSpec {
    return { name: `${topic}_fanout`, type: "fanout", durable: false, autoDelete: true };
  }

  /**
   * topic_send: to `routingKey` (`topic` or `topic.server`) on a topic exchange; a call's
   * request expires after its timeout (seconds), and is not sent at all once the caller gave
   * up (`abandoned`), however long reconnecting took.
   */
  topicSend(
    exchange: string,
    routingKey: string,
    msg: RawMessage,
    o: { expiration?: number; retry?: number | undefined; abandoned?: () => boolean } = {},
  ): Promise<void> {
    return this.send({ exchange: this.topicExchange(exchange), routingKey, msg, ...o });
  }

  /** fanout_send: to every server's queue bound to `<topic>_fanout`. */
  fanoutSend(topic: string, msg: RawMessage, retry?: number): Promise<void> {
    return this.send({ exchange: this.fanoutExchange(topic), routingKey: "", msg, retry });
  }

  /**
   * notify_send: declares the queue `<topic>.<priority>` on the exchange first, so that
   * notifications sent before any listener started are kept for it.
   */
  notifySend(exchange: string, routingKey: string, msg: RawMessage, retry?: number, envelope = true) {
    const x = this.topicExchange(exchange);
    return this.send({ exchange: x, routingKey, msg, defaultQueue: true, retry, envelope });
  }

  /**
   * direct_send: a reply, through the default exchange to the caller's reply queue, with
   * mandatory set; throws MessageUndeliverable when that queue does not exist.
   */
  directSend(replyQ: string, msg: RawMessage): Promise<void> {
    return this.send({ exchange: undefined, routingKey: replyQ, msg, mandatory: true });
  }

  private async send(s: Send): Promise<void> {
    const uniqueId = (s.msg._unique_id as string | undefined) ?? addUniqueId(s.msg);
    const body = s.envelope === false ? Buffer.from(JSON.stringify(s.msg)) : serializeMsg(s.msg);
    const props = messageProperties(
      s.expiration === undefined ? undefined : String(Math.trunc(s.expiration * 1000)),
    );
    const exchangeName = s.exchange?.name ?? "";
    try {
      await this.transport.ensure(
        async (_conn, ch) => {
          if (s.abandoned?.()) throw new Error("abandoned: the caller gave up");
          await this.prepare(ch);
          const x = s.exchange;
          if (x) {
            await this.once(ch, `exchange ${x.name}`, () =>
              ch.exchangeDeclare(x.name, x.type, { durable: x.durable, autoDelete: x.autoDelete }),
            );
            if (s.defaultQueue) {
              await this.once(ch, `queue ${x.name} ${s.routingKey}`, async () => {
                await ch.queueDeclare(s.routingKey, { durable: x.durable, autoDelete: x.autoDelete });
                await ch.queueBind(s.routingKey, x.name, s.routingKey);
              });
            }
          }
          try {
            await ch.publishConfirm(exchangeName, s.routingKey, body, props, {
              mandatory: s.mandatory === true,
            });
          } catch (e) {
            // The client rejects a returned mandatory publish's confirm with ReturnedError.
            if (!(e instanceof ReturnedError)) throw e;
            throw new MessageUndeliverable(e.exchange, e.routingKey, e.replyCode, e.replyText);
          }
          // The broker sends basic.return before the basic.ack of the same publish.
          const r = this.returned.get(uniqueId);
          if (r) {
            this.returned.delete(uniqueId);
            throw new MessageUndeliverable(r.exchange, r.routingKey, r.replyCode, r.replyText);
          }
        },
        s.retry,
        `cannot send to exchange '${exchangeName}'`,
      );
    } finally {
      this.returned.delete(uniqueId);
    }
  }

  /** Confirm mode and the return listener, once per channel. */
  private prepare(ch: Channel): Promise<void> {
    let p = this.ready.get(ch);
    if (!p) {
      ch.on("return", (m) => this.onReturn(m));
      p = ch.confirmSelect();
      this.ready.set(ch, p);
    }
    return p;
  }

  /** Runs a declaration once per channel (again after a failure). */
  private once(ch: Channel, key: string, declare: () => Promise<void>): Promise<void> {
    let m = this.declared.get(ch);
    if (!m) this.declared.set(ch, (m = new Map()));
    let p = m.get(key);
    if (!p) {
      p = declare();
      m.set(key, p);
      p.catch(() => m.delete(key));
    }
    return p;
  }

  private onReturn(m: Message<ReturnFields>): void {
    try {
      const id = deserializeMsg(m.body)._unique_id;
      if (typeof id === "string") this.returned.set(id, m.fields);
    } catch {
      // Not one of ours: nobody waits for it.
    }
  }
}
