import { randomBytes } from "node:crypto";
import {
  ChannelError,
  PropertyFlag,
  peekReplyTo,
  ReplyCode,
  rawShortString,
  withRawProperty,
} from "@warren/protocol";
import { Message } from "../message.js";
import { REPLY_TO, type ReplyTarget, type VHost } from "../vhost.js";

/** A consumer tag as RabbitMQ generates them. */
export function generateConsumerTag(): string {
  return `amq.ctag-${randomBytes(16).toString("base64url").slice(0, 22)}`;
}

/**
 * A channel's side of RabbitMQ's direct reply-to: the pseudo-queue amq.rabbitmq.reply-to
 * consumed without a queue. Requests the channel publishes with reply-to set to it get the
 * address of this consumer (`amq.rabbitmq.reply-to.<key>`), and replies published to that
 * address come straight to the channel, never stored.
 */
export class DirectReplyTo {
  /** Our reply consumer's tag, while there is one. */
  tag: string | undefined;
  private key: string | undefined;

  constructor(
    private readonly vhost: VHost,
    private readonly target: ReplyTarget,
  ) {}

  /** basic.consume of amq.rabbitmq.reply-to; returns the consumer tag. */
  consume(tag: string, noAck: boolean): string {
    if (!noAck) throw new ChannelError(ReplyCode.PRECONDITION_FAILED, "reply consumer cannot acknowledge");
    if (this.tag !== undefined)
      throw new ChannelError(ReplyCode.PRECONDITION_FAILED, "reply consumer already set");
    this.tag = tag === "" ? generateConsumerTag() : tag;
    this.key = this.vhost.addReplyTarget(this.target);
    return this.tag;
  }

  /** A request's reply-to of amq.rabbitmq.reply-to becomes our consumer's address. */
  rewrite(msg: Message): Message {
    if (peekReplyTo(msg.rawProps) !== REPLY_TO) return msg;
    if (this.key === undefined) {
      throw new ChannelError(ReplyCode.PRECONDITION_FAILED, "fast reply consumer does not exist");
    }
    const props = withRawProperty(
      msg.rawProps,
      PropertyFlag.replyTo,
      rawShortString(`${REPLY_TO}.${this.key}`),
    );
    return new Message(msg.exchange, msg.routingKey, props, msg.body);
  }

  /** The consumer is cancelled or its channel closes. */
  drop(): void {
    if (this.key !== undefined) this.vhost.removeReplyTarget(this.key);
    this.key = undefined;
    this.tag = undefined;
  }
}
