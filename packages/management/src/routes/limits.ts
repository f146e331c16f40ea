import type { FastifyInstance } from "fastify";
import type { ApiContext } from "../api-context.js";
import { bodySchema } from "../body-schema.js";
import { HttpError } from "../http-error.js";

const VHOST_LIMITS = ["max-connections", "max-queues"] as const;
const USER_LIMITS = ["max-connections", "max-channels"] as const;

/** PUT bodies: {"value": N}; the value is checked by hand to give RabbitMQ's reasons. */
const limitSchema = bodySchema({ value: {} });

/**
 * RabbitMQ's limit value rules: a missing value is "[{key_missing,value}]", a name it does not
 * know and a value that is not a number are "Validation failed" with its wording. Negative
 * means no limit, 0 allows none.
 */
function limitValue(name: string, known: readonly string[], body: { value?: unknown }, what: string): number {
  if (body.value === undefined) throw HttpError.badRequest("[{key_missing,value}]");
  const v = body.value;
  if (!known.includes(name)) {
    const term = `[{<<"${name}">>,${typeof v === "number" ? v : JSON.stringify(v)}}]`;
    throw HttpError.badRequest(
      what === "limits"
        ? `Validation failed\n\nUnrecognised terms ${term} in limits\n`
        : `Unrecognised terms ${term} in ${what}`,
    );
  }
  if (typeof v !== "number" || !Number.isInteger(v))
    throw HttpError.badRequest(
      `Validation failed\n\n${name} should be a number, actually was <<"${String(v)}">>\n`,
    );
  return v;
}

/** /api/vhost-limits[/{vh}[/{name}]] and /api/user-limits[/{user}[/{name}]]: list, set, clear. */
export function registerLimitRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const b = ctx.broker;
  type VhostReq = { Params: { vhost: string; name: string }; Body: { value?: unknown } };
  type UserReq = { Params: { user: string; name: string }; Body: { value?: unknown } };

  app.get("/api/vhost-limits", async (req) => ctx.visible(req, b.listVhostLimits()));
  app.get<VhostReq>("/api/vhost-limits/:vhost", async (req) => {
    const vh = ctx.vhost(req, req.params.vhost);
    return b.listVhostLimits().filter((l) => l.vhost === vh);
  });
  app.put<VhostReq>("/api/vhost-limits/:vhost/:name", { schema: limitSchema }, async (req, reply) => {
    ctx.requireAdmin(req);
    const vh = ctx.vhost(req, req.params.vhost);
    const value = limitValue(req.params.name, VHOST_LIMITS, req.body, "limits");
    b.setVhostLimit(vh, req.params.name as (typeof VHOST_LIMITS)[number], value);
    return reply.code(204).send();
  });
  app.delete<VhostReq>("/api/vhost-limits/:vhost/:name", async (req, reply) => {
    ctx.requireAdmin(req);
    const vh = ctx.vhost(req, req.params.vhost);
    const name = req.params.name;
    if (VHOST_LIMITS.includes(name as never))
      b.setVhostLimit(vh, name as (typeof VHOST_LIMITS)[number], undefined);
    return reply.code(204).send();
  });

  app.get("/api/user-limits", async (req) => {
    ctx.requireAdmin(req);
    return b.listUserLimits();
  });
  app.get<UserReq>("/api/user-limits/:user", async (req) => {
    ctx.requireAdmin(req);
    if (!b.listUsers().some((u) => u.name === req.params.user)) throw HttpError.notFound();
    return b.listUserLimits().filter((l) => l.user === req.params.user);
  });
  app.put<UserReq>("/api/user-limits/:user/:name", { schema: limitSchema }, async (req, reply) => {
    ctx.requireAdmin(req);
    const value = limitValue(req.params.name, USER_LIMITS, req.body, "user-limits");
    if (!b.setUserLimit(req.params.user, req.params.name as (typeof USER_LIMITS)[number], value))
      throw HttpError.notFound();
    return reply.code(204).send();
  });
  app.delete<UserReq>("/api/user-limits/:user/:name", async (req, reply) => {
    ctx.requireAdmin(req);
    const name = req.params.name;
    if (USER_LIMITS.includes(name as never) && !b.setUserLimit(req.params.user, name as never, undefined))
      throw HttpError.notFound();
    return reply.code(204).send();
  });
}
