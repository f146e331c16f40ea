import type { FastifyInstance } from "fastify";

/**
 * Lists of things Warren does not have yet (runtime parameters other than vhost limits):
 * RabbitMQ answers an empty list when there are none, and so does Warren, so that tools which
 * list them (rabbitmqadmin list parameters, dashboards) work. Creating them is not supported:
 * PUT has no route and answers 404.
 */
export function registerEmptyListRoutes(app: FastifyInstance): void {
  const empty = async () => [];
  app.get("/api/parameters", empty);
  app.get<{ Params: { component: string } }>("/api/parameters/:component", empty);
}
