import type { BindingView } from "@warren/broker";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ApiContext } from "../api-context.js";
import { bodySchema, FIELD } from "../body-schema.js";
import { formatBinding, propertiesKey } from "../format.js";
import { HttpError } from "../http-error.js";
import { applyListQuery, type ListQuery } from "../list-query.js";
import { exchangeName } from "./exchanges.js";

interface BindingBody {
  routing_key?: string;
  arguments?: Record<string, unknown>;
}

const bindingSchema = bodySchema({ routing_key: FIELD.string, arguments: FIELD.object });

/** The destination-type letter of a binding path: q or e. */
const KINDS = { q: "queue", e: "exchange" } as const;

/**
 * /api/bindings[/{vh}], and /api/bindings/{vh}/e/{x}/{q|e}/{dest}[/{props}]: list, create
 * (POST, 201 with a Location naming the new binding), show and delete one by its properties
 * key ("~" for an empty routing key).
 */
export function registerBindingRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const b = ctx.broker;
  type PairReq = {
    Params: { vhost: string; source: string; kind: string; destination: string; props?: string };
    Querystring: ListQuery;
  };

  app.get<{ Querystring: ListQuery }>("/api/bindings", async (req) =>
    applyListQuery(ctx.visible(req, b.listBindings()).map(formatBinding), req.query),
  );
  app.get<{ Params: { vhost: string }; Querystring: ListQuery }>("/api/bindings/:vhost", async (req) =>
    applyListQuery(b.listBindings(ctx.vhost(req, req.params.vhost)).map(formatBinding), req.query),
  );

  /** The vhost, source, destination type and name of a binding path; 404 for an unknown object. */
  const pair = (req: FastifyRequest<PairReq>, creating = false) => {
    const p = req.params;
    const kind = KINDS[p.kind as keyof typeof KINDS];
    if (!kind) throw HttpError.notFound();
    const vhost = ctx.vhost(req, p.vhost);
    const source = exchangeName(p.source);
    // RabbitMQ names the missing end: {"error": "not_found", "reason": "no queue 'q' in vhost '/'"}.
    const missing = (what: string, name: string) =>
      creating
        ? new HttpError(404, "not_found", `no ${what} '${name}' in vhost '${vhost}'`)
        : HttpError.notFound();
    if (!b.listExchanges(vhost).some((x) => x.name === source)) throw missing("exchange", source);
    const exists =
      kind === "queue"
        ? b.queueInfo(vhost, p.destination) !== undefined
        : b.listExchanges(vhost).some((x) => x.name === p.destination);
    if (!exists) throw missing(kind, p.destination);
    return { vhost, source, kind, destination: p.destination };
  };
  /** Binding and unbinding need write on the destination and read on the source (as AMQP). */
  const mayBind = (req: FastifyRequest, t: { vhost: string; source: string; destination: string }) => {
    ctx.requireAccess(req, t.vhost, "write", t.destination);
    ctx.requireAccess(req, t.vhost, "read", t.source);
  };
  const between = (t: ReturnType<typeof pair>) =>
    b
      .listBindings(t.vhost)
      .filter(
        (x) => x.source === t.source && x.destinationType === t.kind && x.destination === t.destination,
      );

  app.get<PairReq>("/api/bindings/:vhost/e/:source/:kind/:destination", async (req) => {
    return applyListQuery(between(pair(req)).map(formatBinding), req.query);
  });
  app.post<PairReq & { Body: BindingBody }>(
    "/api/bindings/:vhost/e/:source/:kind/:destination",
    { schema: bindingSchema },
    async (req, reply) => {
      const t = pair(req, true);
      mayBind(req, t);
      const wanted = {
        source: t.source,
        vhost: t.vhost,
        destination: t.destination,
        destinationType: t.kind,
        routingKey: req.body.routing_key ?? "",
        arguments: (req.body.arguments ?? {}) as BindingView["arguments"],
      };
      b.bind(wanted);
      const made = between(t).find((x) => x.routingKey === wanted.routingKey) ?? wanted;
      const seg = encodeURIComponent;
      return reply
        .code(201)
        .header(
          "location",
          `bindings/${seg(t.vhost)}/e/${seg(req.params.source)}/${req.params.kind}/${seg(t.destination)}/${seg(propertiesKey(made))}`,
        )
        .send();
    },
  );
  const one = (req: FastifyRequest<PairReq>) => {
    const t = pair(req);
    const found = between(t).find((x) => propertiesKey(x) === req.params.props);
    if (!found) throw HttpError.notFound();
    return found;
  };
  app.get<PairReq>("/api/bindings/:vhost/e/:source/:kind/:destination/:props", async (req) =>
    formatBinding(one(req)),
  );
  app.delete<PairReq>("/api/bindings/:vhost/e/:source/:kind/:destination/:props", async (req, reply) => {
    const x = one(req);
    mayBind(req, x);
    b.unbind(x);
    return reply.code(204).send();
  });
}
