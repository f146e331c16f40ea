import type { FastifyInstance } from "fastify";
import type { ApiContext } from "../api-context.js";
import { bodySchema, FIELD } from "../body-schema.js";
import { formatUser, formatVhost } from "../format.js";
import { HttpError } from "../http-error.js";
import { applyListQuery, type ListQuery } from "../list-query.js";

interface UserBody {
  password?: string;
  password_hash?: string;
  hashing_algorithm?: string;
  /** "a,b" (rabbitmqadmin, RabbitMQ 3.x) or a list. */
  tags?: string | string[];
}

interface PermissionBody {
  configure: string;
  write: string;
  read: string;
}

const userSchema = bodySchema({
  password: FIELD.string,
  password_hash: FIELD.string,
  hashing_algorithm: FIELD.string,
  tags: { anyOf: [FIELD.string, { type: "array", items: FIELD.string }] },
});

const permissionSchema = bodySchema({ configure: FIELD.string, write: FIELD.string, read: FIELD.string }, [
  "configure",
  "write",
  "read",
]);

const tagList = (t: string | string[] | undefined): string[] =>
  (Array.isArray(t) ? t : (t ?? "").split(",")).map((x) => x.trim()).filter((x) => x.length > 0);

/** /api/vhosts[/{vh}[/permissions]], /api/users[/{u}[/permissions]], /api/permissions[/{vh}/{u}]. */
export function registerUserRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const b = ctx.broker;
  type VhostParams = { Params: { vhost: string }; Querystring: ListQuery };
  type UserParams = { Params: { user: string }; Querystring: ListQuery };
  type PermParams = { Params: { vhost: string; user: string } };

  const vhostJson = (name: string) => formatVhost(name, b.listQueues(name), ctx.node);

  /** An administrator's DELETE: 204, or 404 when remove finds nothing to remove. */
  const adminDelete = (path: string, remove: (params: { vhost?: string; user?: string }) => boolean) =>
    app.delete<{ Params: { vhost?: string; user?: string } }>(path, async (req, reply) => {
      ctx.requireAdmin(req);
      if (!remove(req.params)) throw HttpError.notFound();
      return reply.code(204).send();
    });

  app.get<{ Querystring: ListQuery }>("/api/vhosts", async (req) => {
    // Monitoring users see every vhost's name (and its message counts), as in RabbitMQ.
    const visible = ctx.seesAll(req) ? new Set(b.listVhosts()) : ctx.visibleVhosts(req);
    return applyListQuery(
      b
        .listVhosts()
        .filter((v) => visible.has(v))
        .map(vhostJson),
      req.query,
    );
  });
  app.get<VhostParams>("/api/vhosts/:vhost", async (req) => vhostJson(ctx.vhost(req, req.params.vhost)));
  app.put<VhostParams>("/api/vhosts/:vhost", async (req, reply) => {
    ctx.requireAdmin(req);
    const name = req.params.vhost;
    const existed = b.listVhosts().includes(name);
    b.addVhost(name);
    // As RabbitMQ: whoever creates a vhost through the API gets full permissions in it.
    if (!existed) b.setPermissions(name, req.mgmtUser.name, { configure: ".*", write: ".*", read: ".*" });
    return reply.code(existed ? 204 : 201).send();
  });
  adminDelete("/api/vhosts/:vhost", (p) => b.deleteVhost(p.vhost ?? ""));
  app.get<VhostParams>("/api/vhosts/:vhost/permissions", async (req) => {
    ctx.requireAdmin(req);
    const vh = ctx.vhost(req, req.params.vhost);
    return applyListQuery(
      b.listPermissions().filter((p) => p.vhost === vh),
      req.query,
    );
  });

  app.get<{ Querystring: ListQuery }>("/api/users", async (req) => {
    ctx.requireAdmin(req);
    return applyListQuery(b.listUsers().map(formatUser), req.query);
  });
  app.get<{ Querystring: ListQuery }>("/api/users/without-permissions", async (req) => {
    ctx.requireAdmin(req);
    const withPerms = new Set(b.listPermissions().map((p) => p.user));
    return applyListQuery(
      b
        .listUsers()
        .filter((u) => !withPerms.has(u.name))
        .map(formatUser),
      req.query,
    );
  });
  const findUser = (name: string) => {
    const u = b.listUsers().find((x) => x.name === name);
    if (!u) throw HttpError.notFound();
    return u;
  };
  app.get<UserParams>("/api/users/:user", async (req) => {
    ctx.requireAdmin(req);
    return formatUser(findUser(req.params.user));
  });
  app.put<UserParams & { Body: UserBody }>("/api/users/:user", { schema: userSchema }, async (req, reply) => {
    ctx.requireAdmin(req);
    const body = req.body;
    const name = req.params.user;
    if (body.password === undefined && body.password_hash === undefined) {
      throw HttpError.badRequest("password_or_password_hash_not_present");
    }
    if (body.tags === undefined) throw HttpError.badRequest("tags_not_present");
    const existed = b.listUsers().some((u) => u.name === name);
    b.putUser(name, {
      ...(body.password !== undefined
        ? { password: body.password }
        : { passwordHash: body.password_hash ?? "" }),
      ...(body.hashing_algorithm !== undefined ? { hashingAlgorithm: body.hashing_algorithm } : {}),
      tags: tagList(body.tags),
    });
    return reply.code(existed ? 204 : 201).send();
  });
  adminDelete("/api/users/:user", (p) => b.deleteUser(p.user ?? ""));
  app.get<UserParams>("/api/users/:user/permissions", async (req) => {
    ctx.requireAdmin(req);
    const name = findUser(req.params.user).name;
    return applyListQuery(
      b.listPermissions().filter((p) => p.user === name),
      req.query,
    );
  });

  app.get<{ Querystring: ListQuery }>("/api/permissions", async (req) => {
    ctx.requireAdmin(req);
    return applyListQuery(b.listPermissions(), req.query);
  });
  const findPermission = (vhost: string, user: string) =>
    b.listPermissions().find((p) => p.vhost === vhost && p.user === user);
  app.get<PermParams>("/api/permissions/:vhost/:user", async (req) => {
    ctx.requireAdmin(req);
    const p = findPermission(req.params.vhost, req.params.user);
    if (!p) throw HttpError.notFound();
    return p;
  });
  app.put<PermParams & { Body: PermissionBody }>(
    "/api/permissions/:vhost/:user",
    { schema: permissionSchema },
    async (req, reply) => {
      ctx.requireAdmin(req);
      const { vhost, user } = req.params;
      // RabbitMQ: an unknown vhost or user is a 400 here, not a 404.
      if (!b.listVhosts().includes(vhost)) throw HttpError.badRequest("vhost_or_user_not_found");
      if (!b.listUsers().some((u) => u.name === user)) throw HttpError.badRequest("vhost_or_user_not_found");
      const existed = findPermission(vhost, user) !== undefined;
      b.setPermissions(vhost, user, req.body);
      return reply.code(existed ? 204 : 201).send();
    },
  );
  app.delete<PermParams>("/api/permissions/:vhost/:user", async (req, reply) => {
    ctx.requireAdmin(req);
    if (!b.clearPermissions(req.params.vhost, req.params.user)) throw HttpError.notFound();
    return reply.code(204).send();
  });
}
