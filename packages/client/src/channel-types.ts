import type { FieldTable } from "@warren/protocol";
import type { Message, ReturnFields } from "./message.js";

/** Events of a Channel. */
export type ChannelEvents = {
  /**
   * The server closed the channel (a ChannelError with the reply code), or a consumer
   * callback threw. The same server error also rejects the operation it refused. With no
   * listener, a server error that no awaited operation received becomes a process warning
   * (never an uncaught exception), and a callback error is rethrown as uncaught.
   */
  error: [err: Error];
  /** The channel is closed; `err` says why, undefined after a clean close(). */
  close: [err: Error | undefined];
  /** A mandatory publish could not be routed (basic.return). */
  return: [message: Message<ReturnFields>];
  /** Output has drained after basicPublish() returned false. */
  drain: [];
  /** The server cancelled a consumer (its queue was deleted, …). */
  cancel: [consumerTag: string];
  /** The server paused (false) or resumed (true) our publishes (channel.flow). */
  flow: [active: boolean];
};

/** Options of a channel; defaults come from the connection's options. */
export interface ChannelOptions {
  /**
   * Milliseconds a method call (declare, bind, qos, consume, get, …) may wait for its reply
   * before rejecting with a TimeoutError (a BlockedError while the broker blocks the
   * connection). Default 30000; 0: no limit.
   */
  operationTimeout?: number;
  /**
   * Milliseconds a publish() may wait for room in the window plus, in confirm mode, for its
   * confirm. Default: operationTimeout.
   */
  publishTimeout?: number;
  /** Confirm mode: most publishes awaiting their confirm before publish() waits. Default 1000. */
  publishWindow?: number;
  /**
   * Bytes of message bodies publish() may hold while they wait for room; past this it throws
   * a BufferFullError. Default 64 MiB.
   */
  maxQueuedBytes?: number;
}

/** Options of publish(). */
export interface PublishOptions {
  /** Return the message (a 'return' event; a ReturnedError in confirm mode) when no queue takes it. */
  mandatory?: boolean;
}

/** Options of exchangeDeclare(); all false by default, as in the spec. */
export interface ExchangeDeclareOptions {
  /** Only check that the exchange exists (404 otherwise). */
  passive?: boolean;
  durable?: boolean;
  autoDelete?: boolean;
  internal?: boolean;
  arguments?: FieldTable;
}

/** Options of queueDeclare(); all false by default, as in the spec. */
export interface QueueDeclareOptions {
  /** Only check that the queue exists (404 otherwise). */
  passive?: boolean;
  durable?: boolean;
  exclusive?: boolean;
  autoDelete?: boolean;
  /** x-arguments: x-message-ttl, x-dead-letter-exchange, x-max-length, x-queue-type, … */
  arguments?: FieldTable;
}

/** queue.declare-ok. */
export interface QueueDeclareResult {
  queue: string;
  messageCount: number;
  consumerCount: number;
}

/** Options of basicConsume(). */
export interface ConsumeOptions {
  /** Default: the server picks one. */
  consumerTag?: string;
  /** The broker considers messages acknowledged as soon as it sends them. */
  noAck?: boolean;
  exclusive?: boolean;
  noLocal?: boolean;
  /** Consumer priority (x-priority). */
  priority?: number;
  arguments?: FieldTable;
  /** Called when the server cancels this consumer (e.g. its queue was deleted). */
  onCancel?: (consumerTag: string) => void;
}

/**
 * Receives each delivery, synchronously from the socket's data handler: no promise or
 * queue per message. What it returns is ignored, except that a returned promise is watched
 * for rejection (reported like a thrown error, see the 'error' event).
 */
export type MessageHandler = (message: Message) => unknown;

/** Body types publish() accepts: bytes, or a string sent as UTF-8. */
export type Body = Buffer | Uint8Array | string;

/**
 * The body as a Buffer. Anything else (a plain object, a number) is refused with a TypeError,
 * as amqplib and pika do: serialize it first (JSON.stringify), or use the kombu layer's Producer.
 */
export function toBody(body: Body): Buffer {
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === "string") return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError(
    `message body must be a Buffer, Uint8Array or string, not ${body === null ? "null" : typeof body} (serialize objects first, e.g. with JSON.stringify)`,
  );
}
