/**
 * The public API of @warren/broker: the embeddable broker, its options, and the types those
 * options and the broker's methods use. Everything else in this package is internal and may
 * change without notice; the package's own tests import it by relative path.
 *
 * @packageDocumentation
 */

/** The broker: `const port = await new Broker({ port: 0 }).start(); ... await broker.stop();` */
export { Broker } from "./broker.js";
/** Options for `new Broker(options)`: port, data directory, definitions, limits, store, log. */
export type { BrokerOptions } from "./broker.js";
/** BrokerOptions.log: the broker's structured logger, and a plain-line one (the default). */
export { lineLogger, type Logger, type LogFields } from "./logger.js";
/** BrokerOptions.defaults: the vhost and user a first start creates (default_user, ...). */
export type { BootDefaults } from "./boot-definitions.js";
/** BrokerOptions.tls: the amqps listener's certificate, key, CA, port and peer verification. */
export type { TlsOptions } from "./net/tls-listener.js";
/** The broker's version, as announced in its server-properties and definitions exports. */
export { VERSION } from "./broker.js";
/** A RabbitMQ definitions.json document: BrokerOptions.definitions and Broker.exportDefinitions(). */
export type { Definitions, PolicyDefinition } from "./definitions.js";
/** A definitions document refused by BrokerAdmin.importDefinitions, with RabbitMQ's reason. */
export { DefinitionsError } from "./definitions-check.js";
/** Parses a size with RabbitMQ's units ("256MiB", "1GB", "268435456") into bytes. */
export { parseByteSize } from "./resources/byte-size.js";

// Access control at run time (docs/access-control.md): what Broker.putUser,
// setPermissions and setTopicPermissions take.
/** A user for Broker.putUser: a password (hashed here) or a RabbitMQ password hash, and tags. */
export type { UserSpec } from "./broker.js";
/** A user's configure / write / read regular expressions in one vhost. */
export type { Permission, TopicPermission } from "./auth/permissions.js";
/** RabbitMQ's per-user and per-vhost limits (max-connections, max-channels, max-queues). */
export type { UserLimits } from "./auth/users.js";
export type { VHostLimits } from "./vhost.js";

// Message storage: BrokerOptions.store accepts any MessageStore, so the contract a store
// implements, the message it holds and the ready-made memory store are public too.
/** What the broker asks of a message store (enqueue, remove, sync, load, close). */
export type { MessageStore, SyncCallback } from "./store/message-store.js";
/** What a store whose `durable` is true adds: recovery, durable definitions, disk facts. */
export type { DurableStore, StoreStats } from "./store/durable-store.js";
/** What a durable store found when it opened (DurableStore.recovery). */
export type { RecoveryReport } from "./store/recovery.js";
/** The store that keeps nothing across restarts (the default without a data directory). */
export { MemoryStore } from "./store/memory-store.js";
/** A published message as a store receives and returns it. */
export { Message } from "./message.js";

// Management: read-only views and counters for tools such as @warren/management (HTTP API,
// Prometheus). Built on request; the broker keeps only plain counters for them.
/** Broker-wide message and connection counters (Broker.counters). */
export type { BrokerCounters } from "./stats.js";
/** A policy as BrokerAdmin.setPolicy takes it: pattern, definition, priority, applyTo. */
export type { PolicySpec } from "./policy/policy-store.js";
/** A refused policy (BrokerAdmin.setPolicy, importDefinitions); reason is RabbitMQ's text. */
export { PolicyError } from "./policy/policy-definition.js";
/** Operations tools' view of a broker (views, operations); the management API uses it. */
export { BrokerAdmin, type GotMessage, type ResourceUsage } from "./admin.js";
/** Snapshots returned by BrokerAdmin.listQueues, listConnections and the other list methods. */
export type {
  BindingView,
  ChannelView,
  ConnectionView,
  ConsumerView,
  ExchangeView,
  ObjectTotals,
  PermissionView,
  PolicyView,
  QueueView,
  UserView,
} from "./views.js";
