import type { Message, ReturnFields } from "./message.js";

/*
 * The client's error classes. A server's channel.close or connection.close arrives as
 * ChannelError or ConnectionError (from @warren/protocol, re-exported by the package index):
 * `replyCode`, `replyText` ("NOT_FOUND - no queue 'q' in vhost '/'"), `classId` and `methodId`
 * of the method the server refused. Everything below is raised by the client itself.
 */

/**
 * Raised for an operation on a channel or connection that is closed or closing, and for a
 * connection lost without a close handshake (socket error, missed heartbeats). `cause` holds
 * what closed it, when known: the server's ChannelError or ConnectionError, or the socket error.
 *
 * Server-initiated closes reject the operation the server refused with the server's own error
 * (ChannelError / ConnectionError with the reply code); this class is for everything else, so
 * that callers can tell "the broker refused this" from "this channel was already gone".
 */
export class ClosedError extends Error {
  override name = "ClosedError";
}

/** The broker nacked a publish (confirm mode): it did not take responsibility for the message. */
export class NackError extends Error {
  override name = "NackError";
  constructor(
    /** The publish's sequence number on its channel (the delivery tag the broker nacked). */
    readonly deliveryTag: number,
  ) {
    super(`publish nacked by the broker (delivery tag ${deliveryTag})`);
  }
}

/**
 * A mandatory publish came back (basic.return: no queue took it), as pika's UnroutableError.
 * In confirm mode the broker still acks it, after the return; publish() rejects with this
 * instead of resolving.
 */
export class ReturnedError extends Error {
  override name = "ReturnedError";
  /** NO_ROUTE (312) or NO_CONSUMERS (313). */
  readonly replyCode: number;
  readonly replyText: string;
  readonly exchange: string;
  readonly routingKey: string;
  constructor(
    /** The message as the broker returned it (body and properties). */
    readonly returned: Message<ReturnFields>,
  ) {
    const f = returned.fields;
    super(
      `message returned by the broker: ${f.replyCode} ${f.replyText} (exchange ${JSON.stringify(f.exchange)}, routing key ${JSON.stringify(f.routingKey)})`,
    );
    this.replyCode = f.replyCode;
    this.replyText = f.replyText;
    this.exchange = f.exchange;
    this.routingKey = f.routingKey;
  }
}

/** An operation did not complete in time (see the `operationTimeout` and `publishTimeout` options). */
export class TimeoutError extends Error {
  override name = "TimeoutError";
  constructor(
    message: string,
    /** The limit that ran out, in milliseconds. */
    readonly timeout: number,
  ) {
    super(message);
  }
}

/**
 * An operation timed out while the broker had the connection blocked (connection.blocked,
 * a memory or disk alarm): the broker was not reading from us.
 */
export class BlockedError extends TimeoutError {
  override name = "BlockedError";
  constructor(
    what: string,
    timeout: number,
    /** The reason the broker gave in connection.blocked. */
    readonly reason: string,
  ) {
    super(
      `${what} timed out after ${timeout} ms: the broker has blocked the connection (${reason})`,
      timeout,
    );
  }
}

/**
 * publish() was called while more than `maxQueuedBytes` of earlier publishes were still
 * waiting for room: the caller is not waiting for publish() to resolve. Raised synchronously
 * so that a loop that never awaits stops here instead of filling memory.
 */
export class BufferFullError extends Error {
  override name = "BufferFullError";
}
