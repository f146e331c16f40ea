import type { FastifyInstance, FastifyReply } from "fastify";
import type { ApiContext } from "../api-context.js";

/**
 * RabbitMQ's health checks (/api/health/checks/...): 200 {"status":"ok"} when healthy, 503
 * {"status":"failed","reason":...} otherwise, as load balancers and Kubernetes probes expect.
 * Warren is a single node, so the cluster-wide and local checks agree.
 */
export function registerHealthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const b = ctx.broker;
  const failed = (reply: FastifyReply, body: Record<string, unknown>) =>
    reply.code(503).send({ status: "failed", ...body });
  const alarms = (where: string) => async (_req: unknown, reply: FastifyReply) => {
    const active = b.activeAlarms();
    if (active.length === 0) return { status: "ok" };
    return failed(reply, {
      reason: `resource alarm(s) in effect ${where}`,
      alarms: active.map((resource) => ({ node: ctx.node, resource })),
    });
  };
  app.get("/api/health/checks/alarms", alarms("in the cluster"));
  app.get("/api/health/checks/local-alarms", alarms("on the node"));
  app.get("/api/health/checks/virtual-hosts", async () => ({ status: "ok" }));
  app.get("/api/health/checks/node-is-quorum-critical", async () => ({
    status: "ok",
    reason: "single node cluster",
  }));
  const listeners = () => [
    { protocol: "amqp", port: b.port },
    { protocol: "http", port: ctx.httpPort },
  ];
  app.get<{ Params: { port: string } }>("/api/health/checks/port-listener/:port", async (req, reply) => {
    const port = Number(req.params.port);
    const ports = listeners().map((l) => l.port);
    if (ports.includes(port)) return { status: "ok", port };
    return failed(reply, { reason: "No active listener", missing: port, ports });
  });
  app.get<{ Params: { protocol: string } }>(
    "/api/health/checks/protocol-listener/:protocol",
    async (req, reply) => {
      const protocol = req.params.protocol;
      const protocols = listeners().map((l) => l.protocol);
      if (protocols.includes(protocol)) return { status: "ok", protocol };
      return failed(reply, { reason: "No active listener", missing: protocol, protocols });
    },
  );
}
