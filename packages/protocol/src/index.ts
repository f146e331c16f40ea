/**
 * The public API of @warren/protocol: the AMQP 0-9-1 codec the broker and the client share
 * (frame reader and writer, the protocol's methods generated from RabbitMQ's specification,
 * content properties, field tables and typed values, reply codes and the AmqpError family).
 *
 * @packageDocumentation
 */
export * from "./capabilities.js";
export * from "./content-assembler.js";
export * from "./errors.js";
export * from "./field-table.js";
export * from "./frame-reader.js";
export * from "./frame-writer.js";
export * from "./generated/methods.js";
export * from "./properties.js";
export * from "./raw-table.js";
export * from "./writer.js";

/** The protocol header a client sends first: "AMQP" 0 0 9 1. */
export const PROTOCOL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);
