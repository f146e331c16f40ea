/**
 * @warren/client: an AMQP 0-9-1 client (connect, Connection, Channel, Message), typed errors,
 * an opt-in recovering connection, a small kombu-style layer on top (BrokerConnection with
 * ensure/failover, Exchange, Queue, Producer, Consumer), and oslo.messaging's RPC and
 * notifications (the `oslo` namespace).
 */
export {
  AmqpError,
  type BasicProperties,
  ChannelError,
  ConnectionError,
  type FieldTable,
  type FieldValue,
  ReplyCode,
  typed,
} from "@warren/protocol";
export * from "./channel.js";
export * from "./channel-types.js";
export * from "./errors.js";
export * from "./connection.js";
export * from "./connection-types.js";
export * from "./message.js";
export { type BackoffOptions, backoffDelay } from "./backoff.js";
export * from "./recovering-channel.js";
export * from "./recovering-connection.js";
export * from "./url.js";
/** memory:// URLs: stop the brokers they embedded in this process (docs/memory-transport.md). */
export { closeMemoryBrokers } from "./memory-transport.js";
export * from "./kombu/broker-connection.js";
export * from "./kombu/consumer.js";
export * from "./kombu/exchange.js";
export * from "./kombu/producer.js";
export * from "./kombu/queue.js";
export * from "./kombu/serialization.js";
/** The kombu-style layer as a namespace, with kombu's names (kombu.Connection, …). */
export * as kombu from "./kombu/index.js";
/** oslo.messaging's RPC and notifications, wire-compatible with Python (docs/oslo-rpc.md). */
export * as oslo from "./oslo/index.js";
/** reddit's amqp wrapper (Queues, MessageQueue, Amqp with addItem, consumeItems, handleItems). */
export * as reddit from "./reddit/index.js";
