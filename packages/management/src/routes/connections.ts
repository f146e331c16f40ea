import type { ChannelView, ConnectionView } from "@warren/broker";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ApiContext } from "../api-context.js";
import { formatChannel, formatConnection, formatConsumer } from "../format.js";
import { HttpError } from "../http-error.js";
import { applyListQuery, type ListQuery } from "../list-query.js";

/**
 * /api/connections[/{name}[/channels]], /api/channels[/{name}], /api/consumers[/{vh}],
 * /api/vhosts/{vh}/connections and /api/vhosts/{vh}/channels. Users without the administrator
 * or monitoring tag see only their own connections and channels.
 */
export function registerConnectionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const b = ctx.broker;
  type VhostReq = { Params: { vhost: string }; Querystring: ListQuery };
  const mine = <T extends { user: string | undefined }>(req: FastifyRequest, l: T[]) =>
    ctx.seesAll(req) ? l : l.filter((x) => x.user === req.mgmtUser.name);
  const connectionJson = (c: ConnectionView) => formatConnection(c, ctx.node, ctx.rates.connection(c.name));
  const channelJson = (ch: ChannelView) => formatChannel(ch, ctx.node, ctx.rates.channel(ch.name));
  const connections = (req: FastifyRequest) => mine(req, b.listConnections());
  const channels = (req: FastifyRequest) => mine(req, b.listChannels());
  /** The items in the vhost named by the path (404 or 401 as ctx.vhost decides). */
  const inVhost = <T extends { name: string; vhost: string | undefined }>(
    req: FastifyRequest<VhostReq>,
    l: T[],
  ) => {
    const vh = ctx.vhost(req, req.params.vhost);
    return l.filter((x) => x.vhost === vh);
  };
  /** GET /api/vhosts/{vh}/<path>: the items of list in that vhost. */
  const vhostRoute = <T extends { name: string; vhost: string | undefined }>(
    path: string,
    list: (req: FastifyRequest) => T[],
    format: (x: T) => object,
  ) =>
    app.get<VhostReq>(`/api/vhosts/:vhost/${path}`, async (req) =>
      applyListQuery(inVhost(req, list(req)), req.query, format),
    );
  type NameReq = { Params: { name: string }; Querystring: ListQuery };

  const findConnection = (req: FastifyRequest, name: string) => {
    const c = connections(req).find((x) => x.name === name);
    if (!c) throw HttpError.notFound();
    return c;
  };

  app.get<{ Querystring: ListQuery }>("/api/connections", async (req) =>
    applyListQuery(connections(req), req.query, connectionJson),
  );
  app.get<NameReq>("/api/connections/:name", async (req) =>
    connectionJson(findConnection(req, req.params.name)),
  );
  // Closes the connection with 320 CONNECTION_FORCED; the reason comes from X-Reason, as in RabbitMQ.
  app.delete<NameReq>("/api/connections/:name", async (req, reply) => {
    const c = findConnection(req, req.params.name);
    const reason = req.headers["x-reason"];
    b.closeConnection(c.name, typeof reason === "string" && reason !== "" ? reason : undefined);
    return reply.code(204).send();
  });
  app.get<NameReq>("/api/connections/:name/channels", async (req) => {
    const c = findConnection(req, req.params.name);
    return applyListQuery(
      channels(req)
        .filter((ch) => ch.connection === c.name)
        .map(channelJson),
      req.query,
    );
  });
  vhostRoute("connections", connections, connectionJson);

  app.get<{ Querystring: ListQuery }>("/api/channels", async (req) =>
    applyListQuery(channels(req), req.query, channelJson),
  );
  app.get<NameReq>("/api/channels/:name", async (req) => {
    const ch = channels(req).find((x) => x.name === req.params.name);
    if (!ch) throw HttpError.notFound();
    return channelJson(ch);
  });
  vhostRoute("channels", channels, channelJson);

  app.get<{ Querystring: ListQuery }>("/api/consumers", async (req) =>
    applyListQuery(
      ctx.visible(req, b.listConsumers()).map((c) => formatConsumer(c, ctx.node)),
      req.query,
    ),
  );
  app.get<VhostReq>("/api/consumers/:vhost", async (req) =>
    applyListQuery(
      b.listConsumers(ctx.vhost(req, req.params.vhost)).map((c) => formatConsumer(c, ctx.node)),
      req.query,
    ),
  );
}
