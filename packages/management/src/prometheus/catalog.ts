import type {
  BrokerAdmin,
  BrokerCounters,
  ChannelView,
  ConnectionView,
  ExchangeView,
  ObjectTotals,
  QueueView,
} from "@warren/broker";
import { labelValue, type MetricType } from "./exposition.js";

/*
 * Every metric Warren exposes, in one table per kind of object, with RabbitMQ 3.10's names,
 * types, help texts and labels (taken from its prometheus plugin's output), so that dashboards
 * built for RabbitMQ (the "RabbitMQ-Overview" Grafana dashboard, KEDA, alert rules) read Warren
 * unchanged. One table drives the three endpoints:
 *   /metrics             node metrics, and each object metric summed over its objects;
 *   /metrics/per-object  node metrics, and each object metric once per object, labelled;
 *   /metrics/detailed    the families asked for, as rabbitmq_detailed_*, filtered by vhost.
 * The family names are the prometheus plugin's (`?family=queue_coarse_metrics`).
 */

/** What one scrape knows about the node, read once per scrape. */
export interface NodeFacts {
  counters: BrokerCounters;
  totals: ObjectTotals;
  residentMemory: number;
  memoryLimit: number;
  diskFree: number | undefined;
  diskFreeLimit: number;
  openFds: number | undefined;
  alarms: string[];
  uptimeSeconds: number;
}

/** One metric: its name without the rabbitmq_ prefix, and how to read it from T. */
export interface Metric<T> {
  name: string;
  type: MetricType;
  help: string;
  /** The value for one object; undefined where Warren does not know it per object. */
  value?: (x: T) => number;
  /**
   * The aggregated value where it is not the sum over live objects: counters kept by the
   * broker, which do not drop when a channel closes (a Prometheus counter must not go down).
   */
  total?: (n: NodeFacts) => number;
}

/** A plugin family of metrics about one kind of object, each labelled per object. */
export interface ObjectFamily<T> {
  family: string;
  /** The name prefix after rabbitmq_ in /metrics/detailed: "detailed_" or "cluster_". */
  detailedPrefix: string;
  /** Whether /metrics and /metrics/per-object carry it (the cluster_* ones are detailed only). */
  inAggregate: boolean;
  /** The objects, in the vhosts given (all when undefined). */
  list(b: BrokerAdmin, vhosts: ReadonlySet<string> | undefined): T[];
  labels(x: T): string;
  metrics: Metric<T>[];
}

/** A family of node metrics: one sample each, with fixed labels (often none). */
export interface NodeFamily {
  /** "" for metrics RabbitMQ has only in /metrics and /metrics/per-object. */
  family: string;
  labels: string;
  metrics: Metric<NodeFacts>[];
}

const inVhosts = <T extends { vhost: string | undefined }>(
  l: T[],
  vhosts: ReadonlySet<string> | undefined,
) => (vhosts === undefined ? l : l.filter((x) => x.vhost !== undefined && vhosts.has(x.vhost)));
const queueLabels = (q: QueueView) => `{vhost="${labelValue(q.vhost)}",queue="${labelValue(q.name)}"}`;
// RabbitMQ labels channels and connections by their Erlang pid; Warren by their names.
const channelLabels = (c: { name: string }) => `{channel="${labelValue(c.name)}"}`;

const counter = <T>(
  name: string,
  help: string,
  value?: (x: T) => number,
  total?: (n: NodeFacts) => number,
) => ({
  name,
  type: "counter" as const,
  help,
  ...(value ? { value } : {}),
  ...(total ? { total } : {}),
});
const gauge = <T>(name: string, help: string, value: (x: T) => number): Metric<T> => ({
  name,
  type: "gauge",
  help,
  value,
});

/** A family in the list of them all; its list and labels agree on T, which the list forgets. */
const erase = <T>(f: ObjectFamily<T>) => f as unknown as ObjectFamily<unknown>;

/** Makes families of one kind of object: (family name, metrics) → a detailed_ family. */
const familiesOf =
  <T extends { vhost: string | undefined }>(all: (b: BrokerAdmin) => T[], labels: (x: T) => string) =>
  (family: string, metrics: Metric<T>[]) =>
    erase<T>({
      family,
      detailedPrefix: "detailed_",
      inAggregate: true,
      list: (b, vhosts) => inVhosts(all(b), vhosts),
      labels,
      metrics,
    });
const queueFamily = familiesOf((b) => b.listQueues(), queueLabels);
const channelFamily = familiesOf<ChannelView>((b) => b.listChannels(), channelLabels);
const connectionFamily = familiesOf<ConnectionView>((b) => b.listConnections(), channelLabels);

const READY = "Messages ready to be delivered to consumers";
const UNACKED = "Messages delivered to consumers but not yet acknowledged";
const DEPTH = "Sum of ready and unacknowledged messages - total queue depth";
const CONSUMERS = "Consumers on a queue";
const DROPPED =
  "Total number of messages published as non-mandatory into an exchange and dropped as unroutable";
const RETURNED =
  "Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable";

/** The object families, in the order RabbitMQ writes them. */
export const OBJECT_FAMILIES: ObjectFamily<unknown>[] = [
  queueFamily("queue_coarse_metrics", [
    gauge("queue_messages_ready", READY, (q) => q.ready),
    gauge("queue_messages_unacked", UNACKED, (q) => q.unacked),
    gauge("queue_messages", DEPTH, (q) => q.ready + q.unacked),
  ]),
  queueFamily("queue_consumer_count", [gauge("queue_consumers", CONSUMERS, (q) => q.consumers)]),
  queueFamily("queue_metrics", [
    gauge("queue_messages_bytes", "Size in bytes of ready and unacknowledged messages", (q) => q.readyBytes),
    gauge("queue_messages_ready_bytes", "Size in bytes of ready messages", (q) => q.readyBytes),
  ]),
  queueFamily("channel_queue_exchange_metrics", [
    counter(
      "queue_messages_published_total",
      "Total number of messages published to queues",
      (q) => q.published,
    ),
  ]),
  channelFamily("channel_metrics", [
    gauge("channel_consumers", "Consumers on a channel", (c) => c.consumers),
    gauge("channel_messages_unacked", UNACKED, (c) => c.unacked),
    gauge(
      "channel_prefetch",
      "Total limit of unacknowledged messages for all consumers on a channel",
      (c) => c.globalPrefetch,
    ),
    gauge("consumer_prefetch", "Limit of unacknowledged messages for each consumer", (c) => c.prefetch),
  ]),
  channelFamily("channel_exchange_metrics", [
    counter(
      "channel_messages_published_total",
      "Total number of messages published into an exchange on a channel",
      (c) => c.published,
      (n) => n.counters.published,
    ),
    counter(
      "channel_messages_confirmed_total",
      "Total number of messages published into an exchange and confirmed on the channel",
      undefined,
      (n) => n.counters.confirmed,
    ),
    counter("channel_messages_unroutable_returned_total", RETURNED, undefined, (n) => n.counters.returned),
    counter(
      "channel_messages_unroutable_dropped_total",
      DROPPED,
      undefined,
      (n) => n.counters.unroutable - n.counters.returned,
    ),
  ]),
  channelFamily("channel_queue_metrics", [
    counter(
      "channel_get_total",
      "Total number of messages fetched with basic.get",
      undefined,
      (n) => n.counters.got,
    ),
    counter(
      "channel_messages_delivered_total",
      "Total number of messages delivered to consumers in automatic or manual acknowledgement mode",
      (c) => c.delivered,
      (n) => n.counters.delivered,
    ),
    counter(
      "channel_messages_redelivered_total",
      "Total number of messages redelivered to consumers",
      undefined,
      (n) => n.counters.redelivered,
    ),
    counter(
      "channel_messages_acked_total",
      "Total number of messages acknowledged by consumers",
      (c) => c.acked,
      (n) => n.counters.acked,
    ),
  ]),
  connectionFamily("connection_coarse_metrics", [
    counter(
      "connection_incoming_bytes_total",
      "Total number of bytes received on a connection",
      (c) => c.recvOct,
    ),
    counter(
      "connection_outgoing_bytes_total",
      "Total number of bytes sent on a connection",
      (c) => c.sendOct,
    ),
  ]),
  connectionFamily("connection_metrics", [
    gauge("connection_channels", "Channels on a connection", (c) => c.channels),
  ]),
  erase<ExchangeView>({
    family: "exchange_names",
    detailedPrefix: "cluster_",
    inAggregate: false,
    // RabbitMQ leaves the default exchange out.
    list: (b, vhosts) => inVhosts(b.listExchanges(), vhosts).filter((x) => x.name !== ""),
    labels: (x) => `{vhost="${labelValue(x.vhost)}",exchange="${labelValue(x.name)}",type="${x.type}"}`,
    metrics: [
      {
        name: "exchange_name",
        type: "gauge",
        help: "Enumerates exchanges without any additional info",
        value: () => 1,
      },
    ],
  }),
  erase<string>({
    family: "vhost_status",
    detailedPrefix: "cluster_",
    inAggregate: false,
    list: (b, vhosts) => b.listVhosts().filter((v) => vhosts === undefined || vhosts.has(v)),
    labels: (v) => `{vhost="${labelValue(v)}"}`,
    metrics: [
      { name: "vhost_status", type: "gauge", help: "Whether a given vhost is running", value: () => 1 },
    ],
  }),
];

const AMQP = '{protocol="amqp091"}';
const CLASSIC = '{protocol="amqp091",queue_type="rabbit_classic_queue"}';
const node = (
  name: string,
  type: MetricType,
  help: string,
  total: (n: NodeFacts) => number,
): Metric<NodeFacts> => ({
  name,
  type,
  help,
  total,
});

/** A node metric that is one of the broker's counters. */
const counted = (name: string, help: string, key: keyof BrokerCounters) =>
  node(name, "counter", help, (n) => n.counters[key] as number);

/** The node families; those named "" are in /metrics and /metrics/per-object only. */
export const NODE_FAMILIES: NodeFamily[] = [
  {
    family: "",
    labels: "",
    metrics: [
      node("alarms_memory_used_watermark", "gauge", "is 1 if VM memory watermark alarm is in effect", (n) =>
        n.alarms.includes("memory") ? 1 : 0,
      ),
      node(
        "alarms_free_disk_space_watermark",
        "gauge",
        "is 1 if free disk space watermark alarm is in effect",
        (n) => (n.alarms.includes("disk") ? 1 : 0),
      ),
    ],
  },
  {
    family: "connection_churn_metrics",
    labels: "",
    metrics: [
      counted("connections_opened_total", "Total number of connections opened", "connectionsOpened"),
      counted(
        "connections_closed_total",
        "Total number of connections closed or terminated",
        "connectionsClosed",
      ),
      counted("channels_opened_total", "Total number of channels opened", "channelsOpened"),
      counted("channels_closed_total", "Total number of channels closed", "channelsClosed"),
    ],
  },
  {
    family: "node_coarse_metrics",
    labels: "",
    metrics: [
      node("process_open_fds", "gauge", "Open file descriptors", (n) => n.openFds ?? NaN),
      node("process_resident_memory_bytes", "gauge", "Memory used in bytes", (n) => n.residentMemory),
      node("disk_space_available_bytes", "gauge", "Disk space available in bytes", (n) => n.diskFree ?? NaN),
    ],
  },
  {
    family: "node_metrics",
    labels: "",
    metrics: [
      node("resident_memory_limit_bytes", "gauge", "Memory high watermark in bytes", (n) => n.memoryLimit),
      node(
        "disk_space_available_limit_bytes",
        "gauge",
        "Free disk space low watermark in bytes",
        (n) => n.diskFreeLimit,
      ),
      node("erlang_uptime_seconds", "gauge", "Node uptime", (n) => n.uptimeSeconds),
    ],
  },
  {
    family: "",
    labels: "",
    metrics: [
      node("connections", "gauge", "Connections currently open", (n) => n.totals.connections),
      node("channels", "gauge", "Channels currently open", (n) => n.totals.channels),
      node("consumers", "gauge", "Consumers currently connected", (n) => n.totals.consumers),
      node("queues", "gauge", "Queues available", (n) => n.totals.queues),
    ],
  },
  {
    family: "",
    labels: AMQP,
    metrics: [
      counted(
        "global_messages_received_total",
        "Total number of messages received from publishers",
        "published",
      ),
      counted(
        "global_messages_routed_total",
        "Total number of messages routed to queues or streams",
        "routed",
      ),
      node(
        "global_messages_unroutable_dropped_total",
        "counter",
        DROPPED,
        (n) => n.counters.unroutable - n.counters.returned,
      ),
      counted("global_messages_unroutable_returned_total", RETURNED, "returned"),
      counted(
        "global_messages_confirmed_total",
        "Total number of messages confirmed to publishers",
        "confirmed",
      ),
    ],
  },
  {
    family: "",
    labels: CLASSIC,
    metrics: [
      node(
        "global_messages_delivered_total",
        "counter",
        "Total number of messages delivered to consumers",
        (n) => n.counters.delivered + n.counters.got,
      ),
      counted(
        "global_messages_delivered_get_manual_ack_total",
        "Total number of messages fetched with basic.get",
        "got",
      ),
      counted(
        "global_messages_redelivered_total",
        "Total number of messages redelivered to consumers",
        "redelivered",
      ),
      counted(
        "global_messages_acknowledged_total",
        "Total number of messages acknowledged by consumers",
        "acked",
      ),
    ],
  },
];
