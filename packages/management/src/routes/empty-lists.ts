import type { FastifyInstance } from "fastify";
import type { ApiContext } from "../api-context.js";

/**
 * Lists of things Warren does not have yet (policies, parameters): RabbitMQ
 * answers an empty list when there are none, and so does Warren, so that tools which list
 * them (rabbitmqadmin list policies, dashboards) work. Creating them is not supported: PUT
 * has no route and answers 404.
 */
export function registerEmptyListRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const empty = async () => [];
  for (const path of ["/api/policies", "/api/operator-policies", "/api/parameters"]) {
    app.get(path, empty);
  }
  for (const path of ["/api/policies/:vhost", "/api/operator-policies/:vhost"]) {
    app.get<{ Params: { vhost: string } }>(path, async (req) => {
      ctx.vhost(req, req.params.vhost);
      return [];
    });
  }
  app.get<{ Params: { component: string } }>("/api/parameters/:component", empty);
}
