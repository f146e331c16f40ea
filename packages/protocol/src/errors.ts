import { ReplyCode, replyCodeName } from "./generated/methods.js";
import { truncateUtf8 } from "./writer.js";

/**
 * An AMQP exception: a reply code, text, and the method that caused it. The broker turns a
 * ChannelError into channel.close and a ConnectionError into connection.close; the reply text
 * on the wire is `NAME - text` as RabbitMQ writes it.
 */
export class AmqpError extends Error {
  constructor(
    readonly code: number,
    readonly text: string,
    readonly classId = 0,
    readonly methodId = 0,
  ) {
    super(`${replyCodeName(code)} - ${text}`);
  }

  /** The reply code (same as `code`), under the name the AMQP methods give it. */
  get replyCode(): number {
    return this.code;
  }

  /**
   * The reply-text as RabbitMQ formats it, e.g. "NOT_FOUND - no queue 'q' in vhost '/'", cut
   * to the 255 bytes a shortstr holds (names quoted in it may be 255 bytes themselves).
   */
  get replyText(): string {
    return truncateUtf8(this.message);
  }
}

/** A soft error: closes the channel only. */
export class ChannelError extends AmqpError {
  override name = "ChannelError";
}

/** A hard error: closes the whole connection. */
export class ConnectionError extends AmqpError {
  override name = "ConnectionError";
}

/** Malformed bytes on the wire; always a connection error. */
export class ProtocolError extends ConnectionError {
  override name = "ProtocolError";
}

export const frameError = (text: string): ProtocolError => new ProtocolError(ReplyCode.FRAME_ERROR, text);
export const syntaxError = (text: string, classId = 0, methodId = 0): ProtocolError =>
  new ProtocolError(ReplyCode.SYNTAX_ERROR, text, classId, methodId);
export const commandInvalid = (text: string, classId = 0, methodId = 0): ProtocolError =>
  new ProtocolError(ReplyCode.COMMAND_INVALID, text, classId, methodId);
export const unexpectedFrame = (text: string, classId = 0, methodId = 0): ProtocolError =>
  new ProtocolError(ReplyCode.UNEXPECTED_FRAME, text, classId, methodId);
