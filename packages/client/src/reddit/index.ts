/**
 * reddit's amqp wrapper (r2/lib/amqp.py, as seed 000 documents it) in TypeScript: the
 * queue-declaration DSL (Queues, MessageQueue with bind() for Python's `<<`), the lazy,
 * retrying ConnectionManager, addItem() through a background Worker, consumeItems() and
 * handleItems(). See docs/reddit-amqp.md.
 */
export * from "./amqp.js";
export * from "./connection-manager.js";
export * from "./consume-items.js";
export * from "./handle-items.js";
export * from "./message-queue.js";
export * from "./publisher.js";
export * from "./queues.js";
export * from "./worker.js";
