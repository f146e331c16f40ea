import type { FastifyInstance } from "fastify";
import type { ApiContext } from "../api-context.js";

/**
 * Lists of things Warren does not have yet (runtime parameters, vhost limits through the
 * API): RabbitMQ answers an empty list when there are none, and so does Warren, so that tools
 * which list them (rabbitmqadmin list parameters, dashboards) work. Creating them is not
 * supported: PUT has no route and answers 404.
 */
export function registerEmptyListRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const empty = async () => [];
  for (const path of ["/api/parameters", "/api/vhost-limits"]) app.get(path, empty);
  app.get<{ Params: { vhost: string } }>("/api/vhost-limits/:vhost", async (req) => {
    ctx.vhost(req, req.params.vhost);
    return [];
  });
  app.get<{ Params: { component: string } }>("/api/parameters/:component", empty);
}
