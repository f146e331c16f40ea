import { readdirSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { hostname } from "node:os";
import { type Broker, BrokerAdmin } from "@warren/broker";
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import { listen } from "./listen.js";
import { NODE_FAMILIES, type NodeFacts, OBJECT_FAMILIES, type ObjectFamily } from "./prometheus/catalog.js";
import { EXPOSITION_CONTENT_TYPE, header, labelValue, sample } from "./prometheus/exposition.js";

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

/** Open file descriptors of this process where /proc says (Linux), else undefined. */
function openFds(): number | undefined {
  try {
    return readdirSync("/proc/self/fd").length - 1; // less the one readdir itself opened
  } catch {
    return undefined;
  }
}

/** Free bytes on the data directory's disk; undefined without one (memory store). */
async function diskFree(dataDir: string | undefined): Promise<number | undefined> {
  if (dataDir === undefined) return undefined;
  try {
    const s = await statfs(dataDir);
    return s.bavail * s.bsize;
  } catch {
    return undefined; // no data directory yet: no disk metric rather than a wrong one
  }
}

/** What the node's metrics read, once per scrape. */
async function nodeFacts(broker: BrokerAdmin, dataDir: string | undefined): Promise<NodeFacts> {
  const limits = broker.resourceLimits();
  return {
    counters: broker.counters,
    totals: broker.objectTotals(),
    residentMemory: process.memoryUsage.rss(),
    memoryLimit: limits.memory,
    diskFree: await diskFree(dataDir),
    diskFreeLimit: limits.diskFree,
    openFds: openFds(),
    alarms: broker.activeAlarms(),
    uptimeSeconds: Math.floor((Date.now() - broker.startedAt) / 1000),
  };
}

/** Which of /metrics, /metrics/per-object and /metrics/detailed is being written. */
export type MetricsView =
  | { kind: "aggregated" }
  | { kind: "per-object" }
  | { kind: "detailed"; families: ReadonlySet<string>; vhosts: ReadonlySet<string> | undefined };

/** The node's and the cluster's identity and version, which every RabbitMQ scrape ends with. */
function identity(out: string[], broker: BrokerAdmin, node: string): void {
  const cluster = String(broker.serverProperties.cluster_name ?? "warren");
  header(out, "rabbitmq_build_info", "untyped", "RabbitMQ & Erlang/OTP version info");
  sample(
    out,
    "rabbitmq_build_info",
    `{rabbitmq_version="3.10.8",prometheus_plugin_version="3.10.8",prometheus_client_version="warren",erlang_version="${labelValue(process.version)}"}`,
    1,
  );
  header(out, "rabbitmq_identity_info", "untyped", "RabbitMQ node & cluster identity info");
  sample(
    out,
    "rabbitmq_identity_info",
    `{rabbitmq_node="${labelValue(node)}",rabbitmq_cluster="${labelValue(cluster)}",rabbitmq_cluster_permanent_id="${labelValue(`warren-${hostname()}`)}"}`,
    1,
  );
}

/** One object family's metrics: summed (aggregated), per object, or per object as detailed. */
function writeObjectFamily(
  out: string[],
  f: ObjectFamily<unknown>,
  objects: unknown[],
  facts: NodeFacts,
  view: MetricsView,
): void {
  for (const m of f.metrics) {
    const name = `rabbitmq_${view.kind === "detailed" ? f.detailedPrefix : ""}${m.name}`;
    if (view.kind === "aggregated") {
      let v = 0;
      if (m.total) v = m.total(facts);
      else if (m.value) for (const x of objects) v += m.value(x);
      header(out, name, m.type, m.help);
      sample(out, name, "", v);
    } else if (m.value) {
      header(out, name, m.type, m.help);
      for (const x of objects) sample(out, name, f.labels(x), m.value(x));
    } else if (m.total && view.kind === "per-object") {
      // Known only in total: RabbitMQ's per-object scrape has it per channel; one sample keeps
      // the family present for dashboards that sum it.
      header(out, name, m.type, m.help);
      sample(out, name, "", m.total(facts));
    }
  }
}

/**
 * A scrape in the text exposition format, with RabbitMQ's metric names, types and labels (see
 * catalog.ts). Every value is read from the broker at scrape time.
 */
export async function renderMetrics(
  broker: BrokerAdmin,
  node: string,
  dataDir: string | undefined,
  view: MetricsView = { kind: "aggregated" },
): Promise<string> {
  const facts = await nodeFacts(broker, dataDir);
  const out: string[] = [];
  const wanted = (family: string) => (view.kind === "detailed" ? view.families.has(family) : true);
  for (const f of NODE_FAMILIES) {
    if (view.kind === "detailed" ? !view.families.has(f.family) : false) continue;
    for (const m of f.metrics) {
      const v = m.total?.(facts) ?? NaN;
      if (Number.isNaN(v)) continue; // unknown here (no /proc, no data directory)
      const name = `rabbitmq_${view.kind === "detailed" ? "detailed_" : ""}${m.name}`;
      header(out, name, m.type, m.help);
      sample(out, name, f.labels, v);
    }
  }
  const vhosts = view.kind === "detailed" ? view.vhosts : undefined;
  for (const f of OBJECT_FAMILIES) {
    if (view.kind === "detailed" ? !wanted(f.family) : !f.inAggregate) continue;
    const objects =
      view.kind === "aggregated" && f.metrics.every((m) => m.total) ? [] : f.list(broker, vhosts);
    writeObjectFamily(out, f, objects, facts, view);
  }
  identity(out, broker, node);
  return out.join("\n") + "\n";
}

/** The ?family= and ?vhost= of /metrics/detailed (each may repeat). */
function detailedView(query: Record<string, string | string[] | undefined>): MetricsView {
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const vhosts = list(query.vhost);
  return {
    kind: "detailed",
    families: new Set(list(query.family)),
    vhosts: vhosts.length > 0 ? new Set(vhosts) : undefined,
  };
}

/** Starts /metrics, /metrics/per-object and /metrics/detailed on opts.port. */
export async function startPrometheus(broker: Broker, opts: PrometheusOptions): Promise<PrometheusServer> {
  const app = Fastify({ logger: false });
  const node = `warren@${hostname()}`;
  const admin = new BrokerAdmin(broker);
  const scrape = (view: MetricsView) => renderMetrics(admin, node, opts.dataDir, view);
  const send = (reply: FastifyReply, body: string) =>
    reply.header("content-type", EXPOSITION_CONTENT_TYPE).send(body);
  app.get("/metrics", async (_req, reply) => send(reply, await scrape({ kind: "aggregated" })));
  app.get("/metrics/per-object", async (_req, reply) => send(reply, await scrape({ kind: "per-object" })));
  app.get<{ Querystring: Record<string, string | string[] | undefined> }>(
    "/metrics/detailed",
    async (req, reply) => send(reply, await scrape(detailedView(req.query))),
  );
  const port = await listen(app, opts.port, opts.host);
  return {
    port,
    app,
    close: () => app.close(),
  };
}
