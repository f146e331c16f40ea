import { hostname } from "node:os";
import { type Broker, BrokerAdmin } from "@warren/broker";
import { AmqpError } from "@warren/protocol";
import Fastify, { type FastifyError, type FastifyInstance } from "fastify";
import { ApiContext } from "./api-context.js";
import { HttpError } from "./http-error.js";
import { listen } from "./listen.js";
import { RateSampler } from "./rate-sampler.js";
import { registerBindingRoutes } from "./routes/bindings.js";
import { registerConnectionRoutes } from "./routes/connections.js";
import { registerEmptyListRoutes } from "./routes/empty-lists.js";
import { registerExchangeRoutes } from "./routes/exchanges.js";
import { registerHealthRoutes } from "./routes/health.js";
import { registerLimitRoutes } from "./routes/limits.js";
import { registerOverviewRoutes } from "./routes/overview.js";
import { registerPolicyRoutes } from "./routes/policies.js";
import { registerQueueRoutes } from "./routes/queues.js";
import { registerUserRoutes } from "./routes/users.js";
import { registerUiRoutes } from "./ui-routes.js";

/** Options for the management HTTP API. */
export interface ManagementOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Address to bind; default all interfaces. */
  host?: string;
  /** How often global message rates are sampled (ms). Default 5000, as RabbitMQ. */
  rateIntervalMs?: number;
}

/** A running management API. */
export interface ManagementServer {
  /** The bound port. */
  readonly port: number;
  /** The fastify instance (tests use inject()). */
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** Basic credentials from an Authorization header, or undefined. */
function basicCredentials(header: string | undefined): [string, string] | undefined {
  if (!header?.startsWith("Basic ")) return undefined;
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const i = decoded.indexOf(":");
  return i < 0 ? undefined : [decoded.slice(0, i), decoded.slice(i + 1)];
}

/**
 * Builds the RabbitMQ-compatible management API for a broker (not listening yet): HTTP Basic
 * against the broker's users, RabbitMQ's error shapes, and the /api routes.
 *
 * @internal For this package's tests (fastify's inject() without a socket); applications call
 *   startManagement.
 */
export function buildManagementApp(
  broker: Broker,
  rateIntervalMs = 5000,
): { app: FastifyInstance; ctx: ApiContext } {
  const admin = new BrokerAdmin(broker);
  const rates = new RateSampler(admin, rateIntervalMs);
  const ctx = new ApiContext(admin, `warren@${hostname()}`, rates);
  const app = Fastify({
    // RabbitMQ accepts "%2F" in a path segment as one segment: keep it that way.
    routerOptions: { ignoreTrailingSlash: true },
    // The broker logs; per-request logs would cost more than the API calls.
    logger: false,
  });
  app.decorateRequest("mgmtUser", undefined as never);

  // rabbitmqadmin and curl users send JSON with or without a content type, and PUT with an
  // empty body: accept any type, an empty body as {}, and refuse bad JSON as RabbitMQ does.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === "") return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch {
      done(HttpError.badRequest("not_json"), undefined);
    }
  });

  // A PUT without any body (curl -X PUT) declares with the defaults, as RabbitMQ does.
  app.addHook("preValidation", async (req) => {
    if (req.body === undefined || req.body === null) req.body = {};
  });
  app.addHook("onRequest", async (req) => {
    // The UI's page and assets hold no data; every /api call logs in.
    if (!req.url.startsWith("/api/")) return;
    const creds = basicCredentials(req.headers.authorization);
    const user = creds && broker.login(creds[0], creds[1], req.socket.remoteAddress);
    if (!user) {
      // No challenge to the UI's own requests (marked as XHR, as Spring Security does): the
      // browser would answer it with its login dialog on top of the UI's login form.
      const xhr = req.headers["x-requested-with"] === "XMLHttpRequest";
      throw new HttpError(
        401,
        "not_authorized",
        "Login failed",
        xhr ? {} : { "www-authenticate": 'Basic realm="RabbitMQ Management"' },
      );
    }
    if (!ApiContext.isManagementUser(user)) throw HttpError.notAuthorised("Not management user");
    req.mgmtUser = user;
  });

  app.setErrorHandler((err: FastifyError | HttpError | AmqpError, req, reply) => {
    let e: HttpError;
    if (err instanceof HttpError) e = err;
    else if (err instanceof AmqpError) e = HttpError.fromBroker(err);
    else if ("validation" in err && err.validation) {
      const v = err.validation[0];
      // RabbitMQ names the value it could not read as a boolean: ["not_boolean", "maybe"].
      const field = v?.instancePath.replace(/^\//, "") ?? "";
      const given = (req.body as Record<string, unknown> | undefined)?.[field];
      e = HttpError.badRequest(
        v?.keyword === "type" && v.params.type === "boolean" ? ["not_boolean", given] : err.message,
      );
    } else if ("statusCode" in err && err.statusCode && err.statusCode < 500) {
      e = HttpError.badRequest(err.message);
    } else e = new HttpError(500, "internal_server_error", String(err.message));
    void reply.code(e.status).headers(e.headers).send({ error: e.error, reason: e.reason });
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply.code(404).send({ error: "Object Not Found", reason: "Not Found" });
  });

  registerOverviewRoutes(app, ctx);
  registerUserRoutes(app, ctx);
  registerExchangeRoutes(app, ctx);
  registerQueueRoutes(app, ctx);
  registerBindingRoutes(app, ctx);
  registerLimitRoutes(app, ctx);
  registerConnectionRoutes(app, ctx);
  registerPolicyRoutes(app, ctx);
  registerEmptyListRoutes(app);
  registerHealthRoutes(app, ctx);
  registerUiRoutes(app);
  return { app, ctx };
}

/** Starts the management API on opts.port (RabbitMQ's default is 15672). */
export async function startManagement(broker: Broker, opts: ManagementOptions): Promise<ManagementServer> {
  const { app, ctx } = buildManagementApp(broker, opts.rateIntervalMs);
  const port = await listen(app, opts.port, opts.host);
  ctx.httpPort = port;
  ctx.rates.start();
  return {
    port,
    app,
    close: async () => {
      ctx.rates.stop();
      await app.close();
    },
  };
}
