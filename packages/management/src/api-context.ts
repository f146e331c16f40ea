import type { BrokerAdmin, UserView } from "@warren/broker";
import type { FastifyRequest } from "fastify";
import { HttpError } from "./http-error.js";
import type { RateSampler } from "./rate-sampler.js";

/** Tags that let a user into the management API at all (RabbitMQ's meaning). */
const MANAGEMENT_TAGS = new Set(["administrator", "monitoring", "management", "policymaker"]);

declare module "fastify" {
  interface FastifyRequest {
    /** The user who logged in with HTTP Basic (set by the auth hook before any handler). */
    mgmtUser: UserView;
  }
}

/** What every route needs: the broker, the node name it reports, global message rates. */
export class ApiContext {
  constructor(
    readonly broker: BrokerAdmin,
    readonly node: string,
    readonly rates: RateSampler,
    /** The management listener's port, for /api/overview's listeners. */
    public httpPort = 0,
  ) {}

  /** True when the user has a tag that admits it to the management API. */
  static isManagementUser(u: UserView): boolean {
    return u.tags.some((t) => MANAGEMENT_TAGS.has(t));
  }

  /** Only administrators: users, permissions, vhost changes, definitions. */
  requireAdmin(req: FastifyRequest): void {
    if (!req.mgmtUser.tags.includes("administrator")) throw HttpError.notAuthorised("Not administrator user");
  }

  /** Administrators and monitoring users see every vhost and connection. */
  seesAll(req: FastifyRequest): boolean {
    const t = req.mgmtUser.tags;
    return t.includes("administrator") || t.includes("monitoring");
  }

  /**
   * The vhosts whose queues, exchanges, bindings and consumers this user may see: all for an
   * administrator, else those it has permissions in. RabbitMQ 3.10.8 holds monitoring users to
   * their permissions here too, though they see every vhost's name and every connection.
   */
  visibleVhosts(req: FastifyRequest): Set<string> {
    if (req.mgmtUser.tags.includes("administrator")) return new Set(this.broker.listVhosts());
    const name = req.mgmtUser.name;
    return new Set(
      this.broker
        .listPermissions()
        .filter((p) => p.user === name)
        .map((p) => p.vhost),
    );
  }

  /** The items in vhosts whose resources this user may see (visibleVhosts). */
  visible<T extends { vhost: string }>(req: FastifyRequest, items: T[]): T[] {
    if (req.mgmtUser.tags.includes("administrator")) return items;
    const visible = this.visibleVhosts(req);
    return items.filter((x) => visible.has(x.vhost));
  }

  /**
   * 401 unless the user has access on the queue or exchange, as AMQP would check it (RabbitMQ
   * checks the API user's own permissions, whatever its tags); reason is RabbitMQ's default.
   */
  requireAccess(
    req: FastifyRequest,
    vhost: string,
    access: "configure" | "write" | "read",
    name: string,
    reason = "Access refused.",
  ): void {
    if (!this.broker.permits(req.mgmtUser.name, vhost, access, name)) throw HttpError.notAuthorised(reason);
  }

  /** RabbitMQ's text for a refused AMQP resource access. */
  static refusal(req: FastifyRequest, kind: "queue" | "exchange", name: string, vhost: string): string {
    return `ACCESS_REFUSED - access to ${kind} '${name === "" ? "amq.default" : name}' in vhost '${vhost}' refused for user '${req.mgmtUser.name}'`;
  }

  /**
   * A vhost named in a path: 404 when it does not exist, 401 "User not authorised to access
   * virtual host" when the user may not see its resources (RabbitMQ 3.10.8's answers).
   */
  vhost(req: FastifyRequest, name: string): string {
    if (!this.broker.listVhosts().includes(name)) throw HttpError.notFound();
    if (!this.visibleVhosts(req).has(name))
      throw HttpError.notAuthorised("User not authorised to access virtual host");
    return name;
  }
}
