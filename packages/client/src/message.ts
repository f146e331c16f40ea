import { type BasicProperties, decodeRawProperties } from "@warren/protocol";
import type { Channel } from "./channel.js";

/** Delivery information of a message from basic.deliver or basic.get-ok. */
export interface DeliveryFields {
  deliveryTag: number;
  redelivered: boolean;
  exchange: string;
  routingKey: string;
  /** The consumer it was delivered to; "" for basic.get. */
  consumerTag: string;
  /** basic.get only: messages left in the queue. */
  messageCount?: number;
}

/** Why and from where a mandatory publish came back (basic.return). */
export interface ReturnFields {
  replyCode: number;
  replyText: string;
  exchange: string;
  routingKey: string;
}

const EMPTY_PROPERTIES: BasicProperties = Object.freeze({});

/**
 * A message received from the broker: a delivery, a basic.get result, or a returned publish
 * (then `fields` are ReturnFields and it cannot be acknowledged).
 *
 * The properties are kept as the raw bytes of the content header and decoded on first
 * access: many consumers never look at them, and decoding a headers table is the most
 * expensive part of receiving a small message.
 */
export class Message<F extends object = DeliveryFields> {
  private decoded: BasicProperties | undefined;

  /** @internal Messages are made by Channel. */
  constructor(
    readonly body: Buffer,
    /** The property flags and list as they came on the wire. */
    readonly rawProperties: Buffer,
    readonly fields: F,
    private readonly channel: Channel | undefined,
  ) {}

  /** The content properties (content type, headers, delivery mode, …), decoded on first use. */
  get properties(): BasicProperties {
    if (this.decoded === undefined) {
      this.decoded =
        this.rawProperties.length <= 2 && !this.rawProperties[0] && !this.rawProperties[1]
          ? EMPTY_PROPERTIES
          : decodeRawProperties(this.rawProperties);
    }
    return this.decoded;
  }

  /** Acknowledges this delivery (and all earlier ones on the channel with `multiple`). */
  ack(multiple = false): void {
    this.owner().ack(this.tag(), multiple);
  }

  /** Negatively acknowledges this delivery; requeued by default. */
  nack(requeue = true, multiple = false): void {
    this.owner().nack(this.tag(), multiple, requeue);
  }

  /** Rejects this delivery; requeued by default. */
  reject(requeue = true): void {
    this.owner().reject(this.tag(), requeue);
  }

  private tag(): number {
    const tag = (this.fields as { deliveryTag?: number }).deliveryTag;
    if (tag === undefined) throw new TypeError("a returned message cannot be acknowledged");
    return tag;
  }

  private owner(): Channel {
    if (!this.channel) throw new TypeError("this message has no channel to acknowledge on");
    return this.channel;
  }
}
