import { hostname } from "node:os";
import { type Definitions, DefinitionsError, PolicyError, VERSION } from "@warren/broker";
import type { FastifyInstance } from "fastify";
import type { ApiContext } from "../api-context.js";
import { withRates } from "../format.js";
import { HttpError } from "../http-error.js";
import { jsonValue } from "../json-value.js";
import type { HistoryField } from "../rate-sampler.js";

/**
 * The RabbitMQ version whose management API Warren answers like. Tools read
 * rabbitmq_version to decide which API features exist, so it names the API, not Warren.
 */
export const RABBITMQ_API_VERSION = "3.10.8";

const EXCHANGE_TYPES = ["direct", "fanout", "headers", "topic"].map((name) => ({
  name,
  description: `AMQP ${name} exchange, as per the AMQP specification`,
  enabled: true,
}));

/** The recent-samples parameters of /api/overview (seconds). */
interface HistoryQuery {
  msg_rates_age?: string;
  msg_rates_incr?: string;
  lengths_age?: string;
  lengths_incr?: string;
}

/** [age, incr] in seconds when both are positive numbers, else undefined (no samples). */
function sampleWindow(age: string | undefined, incr: string | undefined): [number, number] | undefined {
  const a = Number(age);
  const i = Number(incr);
  return a > 0 && i > 0 ? [a, i] : undefined;
}

/** Definitions keys RabbitMQ always exports, empty where the broker's export has none. */
const EMPTY_DEFINITIONS = { topic_permissions: [], parameters: [], global_parameters: [], policies: [] };

/**
 * /api/overview, /api/whoami, /api/nodes, /api/aliveness-test/{vh}, /api/definitions[/{vh}],
 * /api/cluster-name.
 */
export function registerOverviewRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const b = ctx.broker;

  app.get<{ Querystring: HistoryQuery }>("/api/overview", async (req) => {
    const t = b.objectTotals();
    const c = b.counters;
    const r = ctx.rates;
    const seesAll = ctx.seesAll(req);
    // With ?msg_rates_age=600&msg_rates_incr=5 (lengths_age, lengths_incr for the depths),
    // RabbitMQ adds the recent samples of each figure, newest first.
    const msgAge = sampleWindow(req.query.msg_rates_age, req.query.msg_rates_incr);
    const lenAge = sampleWindow(req.query.lengths_age, req.query.lengths_incr);
    const withSamples = (rate: number, f: HistoryField, w: [number, number] | undefined) =>
      w ? { rate, samples: r.history.samples(f, w[0], w[1]) } : { rate };
    return {
      management_version: RABBITMQ_API_VERSION,
      rates_mode: "basic",
      sample_retention_policies: { global: [600, 3600, 28800, 86400], basic: [600, 3600], detailed: [600] },
      exchange_types: EXCHANGE_TYPES,
      product_version: VERSION,
      product_name: "Warren",
      rabbitmq_version: RABBITMQ_API_VERSION,
      cluster_name: String(b.serverProperties.cluster_name ?? "warren"),
      erlang_version: process.version,
      erlang_full_version: `Node.js ${process.version}`,
      disable_stats: false,
      enable_queue_totals: false,
      message_stats: withRates({
        publish: [c.published, withSamples(r.rate("published"), "published", msgAge)],
        confirm: [c.confirmed, withSamples(r.rate("confirmed"), "confirmed", msgAge)],
        return_unroutable: [c.returned, r.rate("returned")],
        drop_unroutable: [c.unroutable - c.returned, Math.max(0, r.rate("unroutable") - r.rate("returned"))],
        deliver: [c.delivered, r.rate("delivered")],
        deliver_get: [
          c.delivered + c.got,
          withSamples(r.rate("delivered") + r.rate("got"), "deliver_get", msgAge),
        ],
        get: [c.got, r.rate("got")],
        redeliver: [c.redelivered, r.rate("redelivered")],
        ack: [c.acked, withSamples(r.rate("acked"), "acked", msgAge)],
      }),
      churn_rates: withRates({
        channel_closed: [c.channelsClosed, r.rate("channelsClosed")],
        channel_created: [c.channelsOpened, r.rate("channelsOpened")],
        connection_closed: [c.connectionsClosed, r.rate("connectionsClosed")],
        connection_created: [c.connectionsOpened, r.rate("connectionsOpened")],
      }),
      queue_totals: withRates({
        messages: [t.messagesReady + t.messagesUnacked, r.rate("messagesReady") + r.rate("messagesUnacked")],
        messages_ready: [t.messagesReady, withSamples(r.rate("messagesReady"), "ready", lenAge)],
        messages_unacknowledged: [
          t.messagesUnacked,
          withSamples(r.rate("messagesUnacked"), "unacked", lenAge),
        ],
      }),
      object_totals: seesAll
        ? {
            channels: t.channels,
            connections: t.connections,
            consumers: t.consumers,
            exchanges: t.exchanges,
            queues: t.queues,
          }
        : {},
      statistics_db_event_queue: 0,
      node: ctx.node,
      listeners: [
        { node: ctx.node, protocol: "amqp", ip_address: "::", port: b.port },
        { node: ctx.node, protocol: "http", ip_address: "::", port: ctx.httpPort },
      ],
      contexts: [{ node: ctx.node, description: "Warren Management", path: "/", port: String(ctx.httpPort) }],
    };
  });

  app.get("/api/cluster-name", async () => ({ name: String(b.serverProperties.cluster_name ?? "warren") }));

  app.get("/api/whoami", async (req) => ({ name: req.mgmtUser.name, tags: req.mgmtUser.tags }));

  const node = async () => {
    const r = await b.resources();
    return {
      name: ctx.node,
      type: "disc",
      running: true,
      os_pid: String(process.pid),
      mem_used: r.memoryUsed,
      mem_used_details: { rate: 0.0 },
      mem_limit: r.memoryLimit,
      mem_alarm: r.memoryAlarm,
      mem_calculation_strategy: "rss",
      ...(r.diskFree !== undefined ? { disk_free: r.diskFree, disk_free_details: { rate: 0.0 } } : {}),
      disk_free_limit: r.diskFreeLimit,
      disk_free_alarm: r.diskAlarm,
      uptime: Date.now() - b.startedAt,
      rates_mode: "basic",
      processors:
        (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1,
      partitions: [],
      applications: [],
      being_drained: false,
      host: hostname(),
    };
  };
  app.get("/api/nodes", async () => [await node()]);
  app.get<{ Params: { name: string } }>("/api/nodes/:name", async (req) => {
    if (req.params.name !== ctx.node) throw HttpError.notFound();
    return node();
  });

  // RabbitMQ's check: declare "aliveness-test", publish to it and get the message back. The
  // queue stays, as in RabbitMQ.
  app.get<{ Params: { vhost: string } }>("/api/aliveness-test/:vhost", async (req) => {
    const vh = ctx.vhost(req, req.params.vhost);
    b.declareQueue(vh, "aliveness-test", { durable: false });
    b.publish(vh, "", "aliveness-test", {}, Buffer.from("test_message"), req.mgmtUser.name);
    const got = b.getMessages(vh, "aliveness-test", 1, "ack");
    if (got.length === 0) return { status: "failed", reason: "message not received" };
    return { status: "ok" };
  });

  // rabbit_version comes from the broker's export (Warren's version, as in its saved definitions).
  const exportAll = (): Record<string, unknown> => ({
    rabbitmq_version: RABBITMQ_API_VERSION,
    product_name: "Warren",
    product_version: VERSION,
    ...EMPTY_DEFINITIONS,
    ...(jsonValue(b.exportDefinitions()) as object),
  });

  app.get("/api/definitions", async (req) => {
    ctx.requireAdmin(req);
    return exportAll();
  });
  app.post<{ Body: Definitions }>("/api/definitions", async (req, reply) => {
    ctx.requireAdmin(req);
    importOrThrow(ctx, req.body);
    return reply.code(204).send();
  });

  // One vhost's definitions: no users, vhosts or permissions, and no vhost field on queues,
  // exchanges and bindings (policies and parameters keep theirs, as RabbitMQ exports them).
  app.get<{ Params: { vhost: string } }>("/api/definitions/:vhost", async (req) => {
    ctx.requireAdmin(req);
    const vh = ctx.vhost(req, req.params.vhost);
    const all = exportAll();
    const mine = (key: string) =>
      ((all[key] as Record<string, unknown>[] | undefined) ?? []).filter((i) => i.vhost === vh);
    const strip = (key: string) => mine(key).map(({ vhost: _v, ...rest }) => rest);
    return {
      rabbit_version: all.rabbit_version,
      rabbitmq_version: all.rabbitmq_version,
      product_name: all.product_name,
      product_version: all.product_version,
      parameters: mine("parameters"),
      policies: mine("policies"),
      queues: strip("queues"),
      exchanges: strip("exchanges"),
      bindings: strip("bindings"),
    };
  });
  app.post<{ Params: { vhost: string }; Body: Definitions }>(
    "/api/definitions/:vhost",
    async (req, reply) => {
      ctx.requireAdmin(req);
      const vhost = ctx.vhost(req, req.params.vhost);
      const d = req.body;
      const inVhost = <T>(l: T[] | undefined) => (l ?? []).map((i) => ({ ...i, vhost }));
      importOrThrow(ctx, {
        parameters: inVhost(d.parameters),
        policies: inVhost(d.policies),
        exchanges: inVhost(d.exchanges),
        queues: inVhost(d.queues),
        bindings: inVhost(d.bindings),
      });
      return reply.code(204).send();
    },
  );
}

/** Imports definitions; a malformed document or a refused declaration is a 400. */
function importOrThrow(ctx: ApiContext, defs: unknown): void {
  if (defs === null || typeof defs !== "object" || Array.isArray(defs))
    throw HttpError.badRequest("not_json");
  try {
    ctx.broker.importDefinitions(defs as Definitions);
  } catch (e) {
    if (e instanceof TypeError) throw HttpError.badRequest(e.message);
    if (e instanceof PolicyError) throw HttpError.badRequest(e.reason);
    if (e instanceof DefinitionsError) throw HttpError.badRequest(e.reason);
    throw HttpError.fromBroker(e);
  }
}
