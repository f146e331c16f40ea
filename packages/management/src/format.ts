import type {
  BindingView,
  ChannelView,
  ConnectionView,
  ConsumerView,
  ExchangeView,
  PolicyView,
  QueueView,
  UserView,
} from "@warren/broker";
import { jsonValue } from "./json-value.js";
import type { ChannelRates, ConnectionRates, QueueRates } from "./rate-sampler.js";

/*
 * The broker's views in the JSON shapes of RabbitMQ 3.10's management API (field names,
 * nesting, the "_details": {"rate"} companions). Fields Warren has no equivalent for are
 * left out rather than faked, except where tools read them unconditionally.
 */

type Json = Record<string, unknown>;

/** The zero rate is shared: most queues of a long list are idle, and each object is garbage. */
const ZERO_RATE = Object.freeze({ rate: 0 });
const rate = (r = 0) => (r === 0 ? ZERO_RATE : { rate: r });

/**
 * Counters in RabbitMQ's shape: each name with its count and a "<name>_details": {"rate"}
 * companion (a rate, or details with samples). For overview-sized objects; long lists build their objects literally (faster).
 */
export function withRates(counts: Record<string, readonly [count: number, details?: number | object]>): Json {
  const out: Json = {};
  for (const [name, [count, d]] of Object.entries(counts)) {
    out[name] = count;
    out[`${name}_details`] = typeof d === "object" ? d : rate(d);
  }
  return out;
}

/** The path segment and JSON name of the default exchange. */
export const DEFAULT_EXCHANGE = "amq.default";

/**
 * A binding's properties key as RabbitMQ builds it: "~" for an empty routing key without
 * arguments, the routing key itself without arguments, otherwise the key, "~" and a hash of
 * the arguments. It names one binding in /api/bindings/{vh}/e/{x}/q/{q}/{props}.
 */
export function propertiesKey(b: BindingView): string {
  const args = jsonValue(b.arguments) as Json;
  if (Object.keys(args).length === 0) return b.routingKey === "" ? "~" : b.routingKey;
  let h = 0;
  for (const ch of JSON.stringify(args)) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  return `${b.routingKey}~${h.toString(36)}`;
}

/** A queue in RabbitMQ's shape; rates from the sampler (messages per second, last 5 s). */
export function formatQueue(q: QueueView, node: string, r: QueueRates): Json {
  const messages = q.ready + q.unacked;
  return {
    arguments: jsonValue(q.arguments),
    auto_delete: q.autoDelete,
    durable: q.durable,
    exclusive: q.exclusive,
    exclusive_consumer_tag: null,
    name: q.name,
    node,
    vhost: q.vhost,
    type: q.type,
    state: "running",
    policy: q.policy ?? null,
    operator_policy: q.operatorPolicy ?? null,
    effective_policy_definition: q.effectivePolicyDefinition,
    consumers: q.consumers,
    consumer_capacity: q.consumers > 0 ? 1 : 0,
    consumer_utilisation: q.consumers > 0 ? 1 : 0,
    messages,
    messages_details: rate(r.ready + r.unacked),
    messages_ready: q.ready,
    messages_ready_details: rate(r.ready),
    messages_unacknowledged: q.unacked,
    messages_unacknowledged_details: rate(r.unacked),
    message_bytes: q.readyBytes,
    message_bytes_ready: q.readyBytes,
    message_bytes_unacknowledged: 0,
    ...(q.owner !== undefined ? { owner_pid_details: { name: q.owner } } : {}),
    message_stats: {
      publish: q.published,
      publish_details: rate(r.published),
      deliver_get: q.delivered,
      deliver_get_details: rate(r.delivered),
      ack: q.acked,
      ack_details: rate(r.acked),
    },
  };
}

export function formatExchange(x: ExchangeView): Json {
  return {
    arguments: jsonValue(x.arguments),
    auto_delete: x.autoDelete,
    durable: x.durable,
    internal: x.internal,
    name: x.name,
    type: x.type,
    vhost: x.vhost,
    // RabbitMQ names an exchange's policy only when one applies.
    ...(x.policy !== undefined ? { policy: x.policy } : {}),
  };
}

/** A policy or operator policy as RabbitMQ's API and definitions carry it. */
export function formatPolicy(p: PolicyView): Json {
  return {
    vhost: p.vhost,
    name: p.name,
    pattern: p.pattern,
    "apply-to": p.applyTo,
    definition: p.definition,
    priority: p.priority,
  };
}

export function formatBinding(b: BindingView): Json {
  return {
    source: b.source,
    vhost: b.vhost,
    destination: b.destination,
    destination_type: b.destinationType,
    routing_key: b.routingKey,
    arguments: jsonValue(b.arguments),
    properties_key: propertiesKey(b),
  };
}

export function formatUser(u: UserView): Json {
  return {
    name: u.name,
    password_hash: u.passwordHash,
    hashing_algorithm: u.hashingAlgorithm,
    tags: u.tags,
    limits: {},
  };
}

export function formatConnection(c: ConnectionView, node: string, r: ConnectionRates): Json {
  return {
    name: c.name,
    node,
    type: "network",
    state: c.state,
    user: c.user ?? "",
    user_who_performed_action: c.user ?? "",
    vhost: c.vhost ?? "",
    protocol: "AMQP 0-9-1",
    auth_mechanism: c.authMechanism,
    ssl: false,
    host: c.host,
    port: c.port,
    peer_host: c.peerHost,
    peer_port: c.peerPort,
    channels: c.channels,
    channel_max: c.channelMax,
    frame_max: c.frameMax,
    timeout: c.heartbeat,
    connected_at: c.connectedAt,
    client_properties: jsonValue(c.clientProperties),
    recv_oct: c.recvOct,
    recv_oct_details: rate(r.recvOct),
    send_oct: c.sendOct,
    send_oct_details: rate(r.sendOct),
  };
}

export function formatChannel(ch: ChannelView, node: string, r: ChannelRates): Json {
  return {
    name: ch.name,
    number: ch.number,
    node,
    state: "running",
    user: ch.user ?? "",
    user_who_performed_action: ch.user ?? "",
    vhost: ch.vhost,
    consumer_count: ch.consumers,
    messages_unacknowledged: ch.unacked,
    messages_unconfirmed: 0,
    messages_uncommitted: 0,
    acks_uncommitted: 0,
    prefetch_count: ch.prefetch,
    global_prefetch_count: ch.globalPrefetch,
    confirm: ch.confirm,
    transactional: ch.transactional,
    connection_details: { name: ch.connection, peer_host: ch.peerHost, peer_port: ch.peerPort },
    message_stats: {
      publish: ch.published,
      publish_details: rate(r.published),
      deliver_get: ch.delivered,
      deliver_get_details: rate(r.delivered),
      ack: ch.acked,
      ack_details: rate(r.acked),
    },
  };
}

export function formatConsumer(c: ConsumerView, node: string): Json {
  return {
    consumer_tag: c.tag,
    queue: { name: c.queue, vhost: c.vhost },
    channel_details: {
      name: c.channel,
      number: c.channelNumber,
      connection_name: c.connection,
      peer_host: c.peerHost,
      peer_port: c.peerPort,
      user: c.user ?? "",
      node,
    },
    ack_required: c.ackRequired,
    exclusive: c.exclusive,
    prefetch_count: c.prefetch,
    arguments: jsonValue(c.arguments),
    active: true,
    activity_status: "up",
  };
}

/** Message counts of one vhost, from its queues. */
export function formatVhost(name: string, queues: QueueView[], node: string): Json {
  let ready = 0;
  let unacked = 0;
  for (const q of queues) {
    ready += q.ready;
    unacked += q.unacked;
  }
  return {
    name,
    description: name === "/" ? "Default virtual host" : "",
    tags: [],
    default_queue_type: "undefined",
    metadata: { description: name === "/" ? "Default virtual host" : "", tags: [] },
    tracing: false,
    cluster_state: { [node]: "running" },
    ...withRates({
      messages: [ready + unacked],
      messages_ready: [ready],
      messages_unacknowledged: [unacked],
    }),
  };
}
