export * from "./broker-connection.js";
export { BrokerConnection as Connection } from "./broker-connection.js";
export * from "./consumer.js";
export * from "./exchange.js";
export * from "./producer.js";
export * from "./queue.js";
export * from "./serialization.js";
export * from "./pools.js";
export * from "./simple.js";
