/**
 * reddit's amqp wrapper (r2/lib/amqp.py, as seed 000 documents it) in TypeScript: the
 * queue-declaration DSL (Queues, MessageQueue with bind() for Python's `<<`), the lazy,
 * retrying ConnectionManager, addItem() through a background Worker, consumeItems() and
 * handleItems(). See docs/reddit-amqp.md.
 */
export { Amqp, type AmqpConfig, type AmqpEvents, type UnroutableItem, type Verbose } from "./amqp.js";
export { ConnectionManager, type ConnectionManagerOptions } from "./connection-manager.js";
export { type ConsumeItemsCallback, type ConsumeItemsOptions, consumeItems } from "./consume-items.js";
export { type HandleItemsCallback, type HandleItemsOptions, handleItems } from "./handle-items.js";
export { type BindingSink, MessageQueue, type MessageQueueOptions } from "./message-queue.js";
export {
  type AddItemOptions,
  DELIVERY_DURABLE,
  DELIVERY_TRANSIENT,
  type Item,
  Publisher,
  type PublisherHooks,
} from "./publisher.js";
export { type QueueBinding, Queues } from "./queues.js";
export { Worker, type WorkerTask } from "./worker.js";
