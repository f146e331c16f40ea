import type { QueueView } from "@warren/broker";
import { decodeRawProperties } from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { ApiContext } from "../api-context.js";
import { bodySchema, FIELD } from "../body-schema.js";
import { formatBinding, formatQueue } from "../format.js";
import { HttpError } from "../http-error.js";
import { applyListQuery, type ListQuery } from "../list-query.js";
import { propertiesToJson } from "../message-properties.js";

interface QueueBody {
  durable?: boolean;
  auto_delete?: boolean;
  arguments?: Record<string, unknown>;
}

interface GetBody {
  count: number;
  ackmode: string;
  encoding: string;
  truncate?: number;
}

const queueSchema = bodySchema({
  durable: FIELD.boolean,
  auto_delete: FIELD.boolean,
  arguments: FIELD.object,
});

const ACKMODES = ["ack_requeue_true", "ack_requeue_false", "reject_requeue_true", "reject_requeue_false"];

const getSchema = bodySchema(
  {
    count: { type: "integer", minimum: 1 },
    ackmode: { type: "string", enum: ACKMODES },
    encoding: { type: "string", enum: ["auto", "base64"] },
    truncate: { type: "integer", minimum: 0 },
  },
  ["count", "ackmode", "encoding"],
);

/** A body as /get shows it: text when it is valid UTF-8 and encoding is "auto", else base64. */
function payloadJson(body: Buffer, encoding: string): { payload: string; payload_encoding: string } {
  if (encoding === "auto") {
    const text = body.toString("utf8");
    if (Buffer.byteLength(text) === body.length && !text.includes("\uFFFD")) {
      return { payload: text, payload_encoding: "string" };
    }
  }
  return { payload: body.toString("base64"), payload_encoding: "base64" };
}

/** /api/queues[/{vh}[/{q}[/contents|/get|/bindings]]]. */
export function registerQueueRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const b = ctx.broker;
  type VhostReq = { Params: { vhost: string }; Querystring: ListQuery };
  type QReq = {
    Params: { vhost: string; name: string };
    Querystring: ListQuery & { "if-unused"?: string; "if-empty"?: string };
  };

  const find = (vhost: string, name: string) => {
    const q = b.queueInfo(vhost, name);
    if (!q) throw HttpError.notFound();
    return q;
  };

  const queueJson = (q: QueueView) => formatQueue(q, ctx.node, ctx.rates.queue(q.vhost, q.name));
  app.get<{ Querystring: ListQuery }>("/api/queues", async (req) =>
    applyListQuery(ctx.visible(req, b.listQueues()), req.query, queueJson),
  );
  app.get<VhostReq>("/api/queues/:vhost", async (req) =>
    applyListQuery(b.listQueues(ctx.vhost(req, req.params.vhost)), req.query, queueJson),
  );
  app.get<QReq>("/api/queues/:vhost/:name", async (req) => {
    const vhost = ctx.vhost(req, req.params.vhost);
    const q = formatQueue(find(vhost, req.params.name), ctx.node, ctx.rates.queue(vhost, req.params.name));
    const consumers = b.listConsumers(vhost).filter((c) => c.queue === req.params.name);
    return {
      ...q,
      consumer_details: consumers.map((c) => ({
        consumer_tag: c.tag,
        channel_details: { name: c.channel, number: c.channelNumber, connection_name: c.connection },
        ack_required: c.ackRequired,
        exclusive: c.exclusive,
        prefetch_count: c.prefetch,
        arguments: {},
        active: true,
        activity_status: "up",
        queue: { name: c.queue, vhost: c.vhost },
      })),
    };
  });
  app.put<QReq & { Body: QueueBody }>(
    "/api/queues/:vhost/:name",
    { schema: queueSchema },
    async (req, reply) => {
      const vhost = ctx.vhost(req, req.params.vhost);
      const name = req.params.name;
      ctx.requireAccess(req, vhost, "configure", name);
      const existed = b.queueInfo(vhost, name) !== undefined;
      const body = req.body;
      b.declareQueue(vhost, name, {
        durable: body.durable ?? false, // the API's default, unlike rabbitmqadmin's
        autoDelete: body.auto_delete ?? false,
        args: (body.arguments ?? {}) as never,
      });
      return reply.code(existed ? 204 : 201).send();
    },
  );
  app.delete<QReq>("/api/queues/:vhost/:name", async (req, reply) => {
    const vhost = ctx.vhost(req, req.params.vhost);
    ctx.requireAccess(req, vhost, "configure", req.params.name);
    find(vhost, req.params.name);
    b.deleteQueue(vhost, req.params.name, {
      ifUnused: req.query["if-unused"] === "true",
      ifEmpty: req.query["if-empty"] === "true",
    });
    return reply.code(204).send();
  });
  app.delete<QReq>("/api/queues/:vhost/:name/contents", async (req, reply) => {
    const vhost = ctx.vhost(req, req.params.vhost);
    ctx.requireAccess(req, vhost, "read", req.params.name);
    find(vhost, req.params.name);
    b.purgeQueue(vhost, req.params.name);
    return reply.code(204).send();
  });
  app.post<QReq & { Body: GetBody }>("/api/queues/:vhost/:name/get", { schema: getSchema }, async (req) => {
    const vhost = ctx.vhost(req, req.params.vhost);
    const name = req.params.name;
    ctx.requireAccess(req, vhost, "read", name, ApiContext.refusal(req, "queue", name, vhost));
    find(vhost, name);
    const { count, ackmode, encoding, truncate } = req.body;
    const settle = ackmode.endsWith("_requeue_true")
      ? "requeue"
      : ackmode.startsWith("ack")
        ? "ack"
        : "reject";
    return b.getMessages(vhost, name, count, settle).map((m) => {
      const body = truncate !== undefined && m.body.length > truncate ? m.body.subarray(0, truncate) : m.body;
      return {
        payload_bytes: m.body.length,
        redelivered: m.redelivered,
        exchange: m.exchange,
        routing_key: m.routingKey,
        message_count: m.messageCount,
        properties: propertiesToJson(decodeRawProperties(m.rawProperties)),
        ...payloadJson(body, encoding),
      };
    });
  });
  app.get<QReq>("/api/queues/:vhost/:name/bindings", async (req) => {
    const vhost = ctx.vhost(req, req.params.vhost);
    const name = find(vhost, req.params.name).name;
    return applyListQuery(
      b
        .listBindings(vhost)
        .filter((x) => x.destinationType === "queue" && x.destination === name)
        .map(formatBinding),
      req.query,
    );
  });
}
