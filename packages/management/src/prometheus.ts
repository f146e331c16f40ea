import { readdirSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { hostname, totalmem } from "node:os";
import { type Broker, BrokerAdmin } from "@warren/broker";
import Fastify, { type FastifyInstance } from "fastify";
import { listen } from "./listen.js";

/** Options for the Prometheus endpoint. */
export interface PrometheusOptions {
  /** TCP port; 0 picks a free one. RabbitMQ's default is 15692. */
  port: number;
  host?: string;
  /** Directory whose disk's free space is reported (the data directory). */
  dataDir?: string;
}

/** A running Prometheus endpoint. */
export interface PrometheusServer {
  readonly port: number;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

type Sample = [labels: string, value: number];

/** Messages published to the live queues (RabbitMQ sums its queues the same way). */
function queuePublished(broker: BrokerAdmin): number {
  let n = 0;
  for (const q of broker.listQueues()) n += q.published;
  return n;
}

/** Open file descriptors of this process where /proc says (Linux), else undefined. */
function openFds(): number | undefined {
  try {
    return readdirSync("/proc/self/fd").length - 1; // less the one readdir itself opened
  } catch {
    return undefined;
  }
}

/** One metric family in the text exposition format (version 0.0.4). */
function family(out: string[], name: string, type: string, help: string, samples: Sample[] | number): void {
  out.push(`# TYPE ${name} ${type}`, `# HELP ${name} ${help}`);
  if (typeof samples === "number") out.push(`${name} ${samples}`);
  else for (const [labels, v] of samples) out.push(`${name}${labels} ${v}`);
}

const label = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/**
 * The aggregated /metrics of RabbitMQ's Prometheus plugin, with its metric names, types and
 * labels, so dashboards built for RabbitMQ (the "RabbitMQ-Overview" Grafana dashboard) read
 * Warren unchanged. Every value is read from the broker at scrape time.
 */
export async function renderMetrics(
  broker: BrokerAdmin,
  node: string,
  dataDir: string | undefined,
): Promise<string> {
  const t = broker.objectTotals();
  const c = broker.counters;
  const out: string[] = [];
  const amqp = '{protocol="amqp091"}';
  const classic = '{protocol="amqp091",queue_type="rabbit_classic_queue"}';
  family(
    out,
    "rabbitmq_connections_opened_total",
    "counter",
    "Total number of connections opened",
    c.connectionsOpened,
  );
  family(
    out,
    "rabbitmq_connections_closed_total",
    "counter",
    "Total number of connections closed or terminated",
    c.connectionsClosed,
  );
  family(
    out,
    "rabbitmq_channels_opened_total",
    "counter",
    "Total number of channels opened",
    c.channelsOpened,
  );
  family(
    out,
    "rabbitmq_channels_closed_total",
    "counter",
    "Total number of channels closed",
    c.channelsClosed,
  );
  family(
    out,
    "rabbitmq_process_resident_memory_bytes",
    "gauge",
    "Memory used in bytes",
    process.memoryUsage.rss(),
  );
  // RabbitMQ's default vm_memory_high_watermark is 0.4 of the machine's memory.
  family(
    out,
    "rabbitmq_resident_memory_limit_bytes",
    "gauge",
    "Memory high watermark in bytes",
    Math.floor(totalmem() * 0.4),
  );
  if (dataDir !== undefined) {
    try {
      const s = await statfs(dataDir);
      family(
        out,
        "rabbitmq_disk_space_available_bytes",
        "gauge",
        "Disk space available in bytes",
        s.bavail * s.bsize,
      );
    } catch {
      // No data directory yet (memory store): no disk metric rather than a wrong one.
    }
  }
  family(
    out,
    "rabbitmq_queue_messages_ready",
    "gauge",
    "Messages ready to be delivered to consumers",
    t.messagesReady,
  );
  family(
    out,
    "rabbitmq_queue_messages_unacked",
    "gauge",
    "Messages delivered to consumers but not yet acknowledged",
    t.messagesUnacked,
  );
  family(
    out,
    "rabbitmq_queue_messages",
    "gauge",
    "Sum of ready and unacknowledged messages - total queue depth",
    t.messagesReady + t.messagesUnacked,
  );
  family(out, "rabbitmq_queue_consumers", "gauge", "Consumers on a queue", t.consumers);
  family(
    out,
    "rabbitmq_channel_messages_published_total",
    "counter",
    "Total number of messages published into an exchange on a channel",
    c.published,
  );
  family(
    out,
    "rabbitmq_channel_messages_confirmed_total",
    "counter",
    "Total number of messages published into an exchange and confirmed on the channel",
    c.confirmed,
  );
  family(
    out,
    "rabbitmq_channel_messages_unroutable_returned_total",
    "counter",
    "Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable",
    c.returned,
  );
  family(
    out,
    "rabbitmq_queue_messages_published_total",
    "counter",
    "Total number of messages published to queues",
    queuePublished(broker),
  );
  const fds = openFds();
  if (fds !== undefined) {
    family(out, "rabbitmq_process_open_fds", "gauge", "Open file descriptors", fds);
  }
  family(
    out,
    "rabbitmq_channel_messages_unroutable_dropped_total",
    "counter",
    "Total number of messages published as non-mandatory into an exchange and dropped as unroutable",
    c.unroutable - c.returned,
  );
  family(
    out,
    "rabbitmq_channel_messages_delivered_total",
    "counter",
    "Total number of messages delivered to consumers in automatic or manual acknowledgement mode",
    c.delivered,
  );
  family(
    out,
    "rabbitmq_channel_get_total",
    "counter",
    "Total number of messages fetched with basic.get",
    c.got,
  );
  family(
    out,
    "rabbitmq_channel_messages_redelivered_total",
    "counter",
    "Total number of messages redelivered to consumers",
    c.redelivered,
  );
  family(
    out,
    "rabbitmq_channel_messages_acked_total",
    "counter",
    "Total number of messages acknowledged by consumers",
    c.acked,
  );
  family(out, "rabbitmq_connections", "gauge", "Connections currently open", t.connections);
  family(out, "rabbitmq_channels", "gauge", "Channels currently open", t.channels);
  family(out, "rabbitmq_consumers", "gauge", "Consumers currently connected", t.consumers);
  family(out, "rabbitmq_queues", "gauge", "Queues available", t.queues);
  family(
    out,
    "rabbitmq_global_messages_received_total",
    "counter",
    "Total number of messages received from publishers",
    [[amqp, c.published]],
  );
  family(
    out,
    "rabbitmq_global_messages_routed_total",
    "counter",
    "Total number of messages routed to queues or streams",
    [[amqp, c.routed]],
  );
  family(
    out,
    "rabbitmq_global_messages_unroutable_dropped_total",
    "counter",
    "Total number of messages published as non-mandatory into an exchange and dropped as unroutable",
    [[amqp, c.unroutable - c.returned]],
  );
  family(
    out,
    "rabbitmq_global_messages_delivered_total",
    "counter",
    "Total number of messages delivered to consumers",
    [[classic, c.delivered + c.got]],
  );
  family(
    out,
    "rabbitmq_global_messages_delivered_get_manual_ack_total",
    "counter",
    "Total number of messages fetched with basic.get",
    [[classic, c.got]],
  );
  family(
    out,
    "rabbitmq_global_messages_redelivered_total",
    "counter",
    "Total number of messages redelivered to consumers",
    [[classic, c.redelivered]],
  );
  family(
    out,
    "rabbitmq_global_messages_acknowledged_total",
    "counter",
    "Total number of messages acknowledged by consumers",
    [[classic, c.acked]],
  );
  family(
    out,
    "rabbitmq_global_messages_confirmed_total",
    "counter",
    "Total number of messages confirmed to publishers",
    [[amqp, c.confirmed]],
  );
  const cluster = String(broker.serverProperties.cluster_name ?? "warren");
  family(out, "rabbitmq_identity_info", "untyped", "RabbitMQ node & cluster identity info", [
    [
      `{rabbitmq_node="${label(node)}",rabbitmq_cluster="${label(cluster)}",rabbitmq_cluster_permanent_id="${label(`warren-${hostname()}`)}"}`,
      1,
    ],
  ]);
  family(out, "rabbitmq_build_info", "untyped", "RabbitMQ & Erlang/OTP version info", [
    [
      `{rabbitmq_version="3.10.8",prometheus_plugin_version="3.10.8",prometheus_client_version="warren",erlang_version="${label(process.version)}"}`,
      1,
    ],
  ]);
  return out.join("\n") + "\n";
}

/** Starts /metrics on opts.port. */
export async function startPrometheus(broker: Broker, opts: PrometheusOptions): Promise<PrometheusServer> {
  const app = Fastify({ logger: false });
  const node = `warren@${hostname()}`;
  const admin = new BrokerAdmin(broker);
  app.get("/metrics", async (_req, reply) => {
    const body = await renderMetrics(admin, node, opts.dataDir);
    return reply.header("content-type", "text/plain; version=0.0.4; charset=utf-8").send(body);
  });
  const port = await listen(app, opts.port, opts.host);
  return {
    port,
    app,
    close: () => app.close(),
  };
}
