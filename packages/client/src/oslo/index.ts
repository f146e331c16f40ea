/**
 * oslo.messaging for TypeScript: RPC (call, cast, fanout) and notifications over AMQP 0-9-1,
 * wire-compatible with Python's oslo.messaging rabbit driver, so TypeScript services join an
 * OpenStack-style RPC mesh beside Python ones. Names follow oslo.messaging's in camelCase.
 * See docs/oslo-rpc.md.
 */
export * from "./errors.js";
export * from "./notification-dispatcher.js";
export * from "./notification-listener.js";
export * from "./notifier.js";
export * from "./rpc-client.js";
export { type AccessPolicy, defaultAccessPolicy, type Endpoint, RPCDispatcher } from "./rpc-dispatcher.js";
export * from "./rpc-server.js";
export { MessageHandlingServer, type ServerEvents } from "./server.js";
export * from "./target.js";
export * from "./transport.js";
export { parseTransportUrl, type TransportHost, type TransportURL } from "./transport-url.js";
export { type Context, type RawMessage } from "./wire.js";
