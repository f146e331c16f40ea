import { AmqpError } from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { ApiContext } from "../api-context.js";
import { bodySchema, FIELD } from "../body-schema.js";
import { DEFAULT_EXCHANGE, formatBinding, formatExchange } from "../format.js";
import { HttpError } from "../http-error.js";
import { applyListQuery, type ListQuery } from "../list-query.js";
import { propertiesFromJson } from "../message-properties.js";

interface ExchangeBody {
  type?: string;
  durable?: boolean;
  auto_delete?: boolean;
  internal?: boolean;
  arguments?: Record<string, unknown>;
}

interface PublishBody {
  routing_key: string;
  payload: string;
  payload_encoding?: string;
  properties?: Record<string, unknown>;
}

const exchangeSchema = bodySchema({
  type: FIELD.string,
  durable: FIELD.boolean,
  auto_delete: FIELD.boolean,
  internal: FIELD.boolean,
  arguments: FIELD.object,
});

const publishSchema = bodySchema(
  {
    routing_key: FIELD.string,
    payload: FIELD.string,
    payload_encoding: { type: "string", enum: ["string", "base64"] },
    properties: FIELD.object,
  },
  ["routing_key", "payload"],
);

/** "amq.default" in a path is the default exchange, "". */
export const exchangeName = (segment: string): string => (segment === DEFAULT_EXCHANGE ? "" : segment);

/** /api/exchanges[/{vh}[/{x}[/publish|/bindings/source|/bindings/destination]]]. */
export function registerExchangeRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const b = ctx.broker;
  type VhostReq = { Params: { vhost: string }; Querystring: ListQuery };
  type XReq = { Params: { vhost: string; name: string }; Querystring: ListQuery & { "if-unused"?: string } };

  const find = (vhost: string, name: string) => {
    const x = b.listExchanges(vhost).find((e) => e.name === name);
    if (!x) throw HttpError.notFound();
    return x;
  };

  app.get<{ Querystring: ListQuery }>("/api/exchanges", async (req) =>
    applyListQuery(ctx.visible(req, b.listExchanges()), req.query, formatExchange),
  );
  app.get<VhostReq>("/api/exchanges/:vhost", async (req) =>
    applyListQuery(b.listExchanges(ctx.vhost(req, req.params.vhost)), req.query, formatExchange),
  );
  app.get<XReq>("/api/exchanges/:vhost/:name", async (req) =>
    formatExchange(find(ctx.vhost(req, req.params.vhost), exchangeName(req.params.name))),
  );
  app.put<XReq & { Body: ExchangeBody }>(
    "/api/exchanges/:vhost/:name",
    { schema: exchangeSchema },
    async (req, reply) => {
      const vhost = ctx.vhost(req, req.params.vhost);
      const name = exchangeName(req.params.name);
      ctx.requireAccess(req, vhost, "configure", name);
      const body = req.body;
      const type = body.type ?? "direct";
      const existed = b.listExchanges(vhost).some((e) => e.name === name);
      b.declareExchange(vhost, name, type, {
        durable: body.durable ?? false, // the API's default, unlike rabbitmqadmin's
        autoDelete: body.auto_delete ?? false,
        internal: body.internal ?? false,
        args: (body.arguments ?? {}) as never,
      });
      return reply.code(existed ? 204 : 201).send();
    },
  );
  app.delete<XReq>("/api/exchanges/:vhost/:name", async (req, reply) => {
    const vhost = ctx.vhost(req, req.params.vhost);
    const name = exchangeName(req.params.name);
    ctx.requireAccess(req, vhost, "configure", name);
    find(vhost, name);
    b.deleteExchange(vhost, name, req.query["if-unused"] === "true");
    return reply.code(204).send();
  });

  app.post<XReq & { Body: PublishBody }>(
    "/api/exchanges/:vhost/:name/publish",
    { schema: publishSchema },
    async (req) => {
      const vhost = ctx.vhost(req, req.params.vhost);
      const name = exchangeName(req.params.name);
      // RabbitMQ answers a refused publish as the AMQP error it is: a 400 with the reply text.
      if (!b.permits(req.mgmtUser.name, vhost, "write", name))
        throw HttpError.badRequest(`403 ${ApiContext.refusal(req, "exchange", name, vhost)}`);
      const body = req.body;
      const payload = Buffer.from(body.payload, body.payload_encoding === "base64" ? "base64" : "utf8");
      try {
        const routed = b.publish(
          vhost,
          name,
          body.routing_key,
          propertiesFromJson(body.properties),
          payload,
          req.mgmtUser.name,
        );
        return { routed };
      } catch (e) {
        // RabbitMQ reports the AMQP error of the publish as a 400 with its reply text.
        if (e instanceof AmqpError) throw HttpError.badRequest(`${e.code} ${e.replyText}`);
        throw e;
      }
    },
  );

  const bindingsOf = (vhost: string, pred: (src: string, dst: string, dt: string) => boolean) =>
    b
      .listBindings(vhost)
      .filter((x) => pred(x.source, x.destination, x.destinationType))
      .map(formatBinding);
  app.get<XReq>("/api/exchanges/:vhost/:name/bindings/source", async (req) => {
    const vhost = ctx.vhost(req, req.params.vhost);
    const name = find(vhost, exchangeName(req.params.name)).name;
    return applyListQuery(
      bindingsOf(vhost, (s) => s === name),
      req.query,
    );
  });
  app.get<XReq>("/api/exchanges/:vhost/:name/bindings/destination", async (req) => {
    const vhost = ctx.vhost(req, req.params.vhost);
    const name = find(vhost, exchangeName(req.params.name)).name;
    return applyListQuery(
      bindingsOf(vhost, (_s, d, t) => t === "exchange" && d === name),
      req.query,
    );
  });
}
