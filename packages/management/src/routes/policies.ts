import { PolicyError, type PolicyView } from "@warren/broker";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ApiContext } from "../api-context.js";
import { formatPolicy } from "../format.js";
import { HttpError } from "../http-error.js";
import { applyListQuery, type ListQuery } from "../list-query.js";

interface PolicyBody {
  pattern?: unknown;
  definition?: unknown;
  priority?: unknown;
  "apply-to"?: unknown;
}

type VhostReq = { Params: { vhost: string }; Querystring: ListQuery };
type PolicyReq = { Params: { vhost: string; name: string } };

/** RabbitMQ escapes these in a policy's validation text (not in an operator policy's). */
const escapeTags = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * /api/policies[/{vh}[/{name}]] and /api/operator-policies[/{vh}[/{name}]], with RabbitMQ
 * 3.10's rules: any management user lists the policies of the vhosts it may see; reading one,
 * setting and clearing policies takes the policymaker or administrator tag (and access to the
 * vhost), operator policies the administrator tag. PUT answers 201 for a new policy, 204 for a
 * replaced one; a refused one is a 400 with RabbitMQ's "Validation failed" text.
 */
export function registerPolicyRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const b = ctx.broker;
  for (const operator of [false, true]) {
    const base = operator ? "/api/operator-policies" : "/api/policies";
    /** Policy lists, RabbitMQ's default order: by priority. */
    const list = (req: FastifyRequest<{ Querystring: ListQuery }>, views: PolicyView[]) =>
      applyListQuery(views.map(formatPolicy), { sort: "priority", ...req.query });

    /** The vhost of a single-policy request, once the user may touch its policies. */
    const authorised = (req: FastifyRequest<PolicyReq>, missing: HttpError): string => {
      const vhost = req.params.vhost;
      if (!b.listVhosts().includes(vhost)) throw missing;
      if (operator) ctx.requireAdmin(req);
      else {
        const tags = req.mgmtUser.tags;
        const maker = tags.includes("administrator") || tags.includes("policymaker");
        if (!maker || !ctx.visibleVhosts(req).has(vhost))
          throw HttpError.notAuthorised("User not authorised to access object");
      }
      return vhost;
    };
    const find = (vhost: string, name: string) => {
      const p = b.listPolicies(vhost, operator).find((x) => x.name === name);
      if (!p) throw HttpError.notFound();
      return p;
    };

    app.get<{ Querystring: ListQuery }>(base, async (req) =>
      list(req, ctx.visible(req, b.listPolicies(undefined, operator))),
    );
    app.get<VhostReq>(`${base}/:vhost`, async (req) =>
      list(req, b.listPolicies(ctx.vhost(req, req.params.vhost), operator)),
    );
    app.get<PolicyReq>(`${base}/:vhost/:name`, async (req) =>
      formatPolicy(find(authorised(req, HttpError.notFound()), req.params.name)),
    );
    app.put<PolicyReq & { Body: PolicyBody }>(`${base}/:vhost/:name`, async (req, reply) => {
      const vhost = authorised(req, new HttpError(404, "not_found", "vhost_not_found"));
      const body = req.body;
      if (typeof body !== "object" || body === null || Array.isArray(body))
        throw HttpError.badRequest("not_json");
      for (const key of ["pattern", "definition"] as const)
        if (body[key] === undefined) throw HttpError.badRequest(`[{key_missing,${key}}]`);
      let created: boolean;
      try {
        const spec = { pattern: body.pattern, definition: body.definition, priority: body.priority };
        created = b.setPolicy(vhost, req.params.name, { ...spec, applyTo: body["apply-to"] }, operator);
      } catch (e) {
        if (!(e instanceof PolicyError)) throw e;
        throw HttpError.badRequest(operator ? e.reason : escapeTags(e.reason));
      }
      return reply.code(created ? 201 : 204).send();
    });
    app.delete<PolicyReq>(`${base}/:vhost/:name`, async (req, reply) => {
      if (!b.clearPolicy(authorised(req, HttpError.notFound()), req.params.name, operator))
        throw HttpError.notFound();
      return reply.code(204).send();
    });
  }
}
