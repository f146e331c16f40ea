import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";

/** Where the build puts the bundled UI (packages/management/ui/build.mjs): dist/ui. */
const UI_DIR = fileURLToPath(new URL("./ui/", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".map": "application/json",
};

/**
 * Everything the page may load comes from this server: no inline script, no other origin.
 * Styles may be set inline (uPlot sizes its canvas with style attributes).
 */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** The page shown when the package was built without its UI (tsc alone). */
const NOT_BUILT = `<!doctype html><title>Warren</title><p>The management UI has not been built:
run <code>npm run build</code> at the repository root. The HTTP API is at <code>/api/</code>.</p>`;

/**
 * The management UI: index.html at `/`, the bundled assets under `/ui/`. The few files are
 * read into memory once, at start; the assets' names carry no hash, so the browser revalidates
 * them (ETag) instead of caching a stale bundle across an upgrade. No auth: the page holds no
 * data, and every API call it makes logs in.
 */
export function registerUiRoutes(app: FastifyInstance, dir = UI_DIR): void {
  const files = new Map<string, Buffer>();
  if (existsSync(dir)) {
    for (const name of readdirSync(dir))
      if (TYPES[extname(name)]) files.set(name, readFileSync(join(dir, name)));
  }
  const headers = { "content-security-policy": CSP, "x-content-type-options": "nosniff" };
  app.get("/", async (_req, reply) => {
    const index = files.get("index.html");
    return reply
      .headers(headers)
      .type("text/html; charset=utf-8")
      .send(index ?? NOT_BUILT);
  });
  app.get<{ Params: { file: string } }>("/ui/:file", async (req, reply) => {
    const body = files.get(req.params.file);
    if (!body) return reply.code(404).send({ error: "Object Not Found", reason: "Not Found" });
    return reply
      .headers({ ...headers, "cache-control": "no-cache" })
      .type(TYPES[extname(req.params.file)]!)
      .send(body);
  });
}
