import type { Consumer } from "./queue/consumer.js";
import type { FieldTable } from "@warren/protocol";

/*
 * Read-only snapshots of the broker's objects for management tools (the HTTP API, metrics).
 * They are built when asked for, from the live objects, and hold no reference to them except
 * argument tables and client properties, which are shared rather than copied (treat them as
 * read-only). A caller can keep, sort or serialize the views without pinning broker objects.
 */

/** A virtual host. */
export interface VhostView {
  name: string;
}

/** A user as definitions carry it. */
export interface UserView {
  name: string;
  passwordHash: string;
  hashingAlgorithm: string;
  tags: string[];
}

/** One user's permissions in one vhost. */
export interface PermissionView {
  user: string;
  vhost: string;
  configure: string;
  write: string;
  read: string;
}

/** An exchange; the default exchange has name "". */
export interface ExchangeView {
  name: string;
  vhost: string;
  type: string;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: FieldTable;
  /** The policy in effect, if any. */
  policy: string | undefined;
}

/** A queue with its message counts and counters since it was declared. */
export interface QueueView {
  name: string;
  vhost: string;
  durable: boolean;
  autoDelete: boolean;
  exclusive: boolean;
  /** The connection (ConnectionView.name) owning an exclusive queue. */
  owner: string | undefined;
  arguments: FieldTable;
  type: string;
  ready: number;
  unacked: number;
  readyBytes: number;
  consumers: number;
  published: number;
  delivered: number;
  acked: number;
  /** The policy and operator policy in effect, if any. */
  policy: string | undefined;
  operatorPolicy: string | undefined;
  /** Their definitions merged (RabbitMQ's effective_policy_definition); {} when none. */
  effectivePolicyDefinition: Readonly<Record<string, unknown>>;
}

/** A policy or operator policy of a vhost. */
export interface PolicyView {
  vhost: string;
  name: string;
  pattern: string;
  applyTo: "queues" | "exchanges" | "all";
  definition: Readonly<Record<string, unknown>>;
  priority: number;
}

/** A binding from an exchange to a queue or exchange. */
export interface BindingView {
  source: string;
  vhost: string;
  destination: string;
  destinationType: "queue" | "exchange";
  routingKey: string;
  arguments: FieldTable;
}

/** A client connection. */
export interface ConnectionView {
  /** RabbitMQ's form: "peer_host:peer_port -> host:port". */
  name: string;
  user: string | undefined;
  vhost: string | undefined;
  state: string;
  peerHost: string;
  peerPort: number;
  host: string;
  port: number;
  /** Milliseconds since the epoch. */
  connectedAt: number;
  channels: number;
  channelMax: number;
  frameMax: number;
  heartbeat: number;
  clientProperties: Record<string, unknown>;
  /** PLAIN or AMQPLAIN; "" before start-ok. */
  authMechanism: string;
  recvOct: number;
  sendOct: number;
}

/** A channel of a connection, with its counters (ChannelFacts but for the consumer count). */
export interface ChannelView extends Omit<ChannelFacts, "consumers"> {
  /** RabbitMQ's form: "<connection name> (<number>)". */
  name: string;
  connection: string;
  number: number;
  user: string | undefined;
  peerHost: string;
  peerPort: number;
  consumers: number;
}

/** A consumer on a queue. */
export interface ConsumerView {
  tag: string;
  queue: string;
  vhost: string;
  channel: string;
  channelNumber: number;
  connection: string;
  peerHost: string;
  peerPort: number;
  user: string | undefined;
  ackRequired: boolean;
  exclusive: boolean;
  prefetch: number;
  arguments: FieldTable;
}

/** Object counts across the broker. */
export interface ObjectTotals {
  connections: number;
  channels: number;
  consumers: number;
  exchanges: number;
  queues: number;
  vhosts: number;
  messagesReady: number;
  messagesUnacked: number;
}

/** What a channel tells management views about itself (Channel.describe). */
export interface ChannelFacts {
  vhost: string;
  consumers: Consumer[];
  unacked: number;
  prefetch: number;
  globalPrefetch: number;
  confirm: boolean;
  transactional: boolean;
  published: number;
  delivered: number;
  acked: number;
}
