import {
  type BasicProperties,
  decodeRawProperties,
  type FieldTable,
  type FieldValue,
  TypedValue,
} from "@warren/protocol";
import type { ChannelBase } from "./channel-base.js";

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

/** Options of a negative acknowledgement (Message.nack, Channel.nack). */
export interface NackOptions {
  /** Put the message back in its queue (true, the default) or drop / dead-letter it. */
  requeue?: boolean;
  /** Also every earlier unacknowledged delivery on the channel. Default false. */
  multiple?: boolean;
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
  private _settled = false;

  /** @internal Messages are made by Channel. */
  constructor(
    readonly body: Buffer,
    /** The property flags and list as they came on the wire. */
    readonly rawProperties: Buffer,
    readonly fields: F,
    private readonly channel: ChannelBase | undefined,
  ) {}

  /**
   * The content properties (content type, headers, delivery mode, …), decoded on first use.
   * Header values come as plain JavaScript values: integers of any width as numbers (64-bit
   * ones beyond Number.MAX_SAFE_INTEGER as bigint), timestamps as Date, byte arrays as
   * Buffer. Only decimals keep their wire form (a TypedValue of type "D").
   */
  get properties(): BasicProperties {
    if (this.decoded === undefined) {
      const raw = this.rawProperties;
      if (raw.length <= 2 && !raw[0] && !raw[1]) this.decoded = EMPTY_PROPERTIES;
      else {
        const p = decodeRawProperties(raw);
        if (p.headers) plainTable(p.headers);
        this.decoded = p;
      }
    }
    return this.decoded;
  }

  /** True once ack(), nack() or reject() was called on this message (or it needs none: noAck). */
  get settled(): boolean {
    return this._settled;
  }

  /**
   * Acknowledges this delivery (and all earlier ones on the channel with `multiple`).
   * @returns false when the channel is closed: there is nothing left to acknowledge, since the
   *   broker requeued the channel's unacknowledged messages when it closed.
   */
  ack(multiple = false): boolean {
    this._settled = true;
    return this.owner().ack(this.tag(), multiple);
  }

  /**
   * Negatively acknowledges this delivery; requeued unless `requeue: false`.
   * The positional form nack(requeue, multiple) of earlier versions still works.
   * @returns false when the channel is closed (see ack()).
   */
  nack(options?: NackOptions): boolean;
  /** @deprecated Use nack({ requeue, multiple }). */
  nack(requeue: boolean, multiple?: boolean): boolean;
  nack(options: NackOptions | boolean = {}, multiple = false): boolean {
    const o = typeof options === "boolean" ? { requeue: options, multiple } : options;
    this._settled = true;
    return this.owner().nack(this.tag(), o);
  }

  /**
   * Rejects this delivery; requeued by default.
   * @returns false when the channel is closed (see ack()).
   */
  reject(requeue = true): boolean {
    this._settled = true;
    return this.owner().reject(this.tag(), requeue);
  }

  /** @internal Marks a noAck delivery, which needs no acknowledgement. */
  markSettled(): void {
    this._settled = true;
  }

  private tag(): number {
    const tag = (this.fields as { deliveryTag?: number }).deliveryTag;
    if (tag === undefined) throw new TypeError("a returned message cannot be acknowledged");
    return tag;
  }

  private owner(): ChannelBase {
    if (!this.channel) throw new TypeError("this message has no channel to acknowledge on");
    return this.channel;
  }
}

/**
 * Replaces, in place, the TypedValues the protocol decoder keeps (so that the broker can pass
 * a table on unchanged) by the plain values an application expects.
 */
function plainTable(t: FieldTable): void {
  for (const k of Object.keys(t)) t[k] = plainValue(t[k]);
}

function plainValue(v: FieldValue): FieldValue {
  if (v instanceof TypedValue) {
    const x = v.value;
    switch (v.type) {
      case "T":
        return new Date(Number(x) * 1000);
      case "x":
        return x as Buffer;
      case "D":
        return v;
      default:
        if (typeof x === "bigint")
          return x >= Number.MIN_SAFE_INTEGER && x <= Number.MAX_SAFE_INTEGER ? Number(x) : x;
        return x as number;
    }
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = plainValue(v[i]);
  } else if (v !== null && typeof v === "object" && !Buffer.isBuffer(v) && !(v instanceof Date)) {
    plainTable(v as FieldTable);
  }
  return v;
}
