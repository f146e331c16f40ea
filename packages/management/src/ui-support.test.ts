// What the web UI needs from the management server, in-process (fastify inject): its page and
// assets served without auth, no browser login dialog for its own requests, memory and disk
// against their limits in /api/nodes, and the recent samples behind the overview's charts.
// The UI itself is tested in a real browser by interop/ui.test.mjs.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Broker, lineLogger } from "@warren/broker";
import Fastify, { type FastifyInstance } from "fastify";
import type { ApiContext } from "./api-context.js";
import { buildManagementApp } from "./management-server.js";
import { registerUiRoutes } from "./ui-routes.js";

let broker: Broker;
let app: FastifyInstance;
let ctx: ApiContext;
const GUEST = `Basic ${Buffer.from("guest:guest").toString("base64")}`;

before(async () => {
  broker = new Broker({ port: 0, log: lineLogger(() => {}) });
  await broker.start();
  ({ app, ctx } = buildManagementApp(broker, 60_000));
  await app.ready();
});

after(async () => {
  await app.close();
  await broker.stop();
});

test("the UI's page and assets are served without auth, with a strict CSP", async () => {
  const dir = mkdtempSync(join(tmpdir(), "warren-ui-"));
  try {
    writeFileSync(join(dir, "index.html"), "<!doctype html><title>Warren</title>");
    writeFileSync(join(dir, "app.js"), "console.log(1)");
    writeFileSync(join(dir, "notes.txt"), "not served");
    const ui = Fastify();
    registerUiRoutes(ui, dir);
    const page = await ui.inject({ method: "GET", url: "/" });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers["content-type"]), /^text\/html/);
    assert.match(String(page.headers["content-security-policy"]), /script-src 'self'/);
    assert.equal(page.body, "<!doctype html><title>Warren</title>");
    const js = await ui.inject({ method: "GET", url: "/ui/app.js" });
    assert.equal(js.statusCode, 200);
    assert.match(String(js.headers["content-type"]), /^text\/javascript/);
    assert.equal((await ui.inject({ method: "GET", url: "/ui/notes.txt" })).statusCode, 404);
    assert.equal((await ui.inject({ method: "GET", url: "/ui/..%2Findex.html" })).statusCode, 404);

    const unbuilt = Fastify();
    registerUiRoutes(unbuilt, join(dir, "missing"));
    const told = await unbuilt.inject({ method: "GET", url: "/" });
    assert.equal(told.statusCode, 200);
    assert.match(told.body, /npm run build/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // On the real app too: no credentials needed for the page, still needed for the API.
  const real = await app.inject({ method: "GET", url: "/", remoteAddress: "127.0.0.1" });
  assert.equal(real.statusCode, 200);
  assert.equal(
    (await app.inject({ method: "GET", url: "/api/whoami", remoteAddress: "127.0.0.1" })).statusCode,
    401,
  );
});

test("a refused login of the UI's own requests carries no Basic challenge (no browser dialog)", async () => {
  const wrong = `Basic ${Buffer.from("guest:nope").toString("base64")}`;
  const plain = await app.inject({
    method: "GET",
    url: "/api/whoami",
    headers: { authorization: wrong },
    remoteAddress: "127.0.0.1",
  });
  assert.equal(plain.statusCode, 401);
  assert.equal(plain.headers["www-authenticate"], 'Basic realm="RabbitMQ Management"');
  const xhr = await app.inject({
    method: "GET",
    url: "/api/whoami",
    headers: { authorization: wrong, "x-requested-with": "XMLHttpRequest" },
    remoteAddress: "127.0.0.1",
  });
  assert.equal(xhr.statusCode, 401);
  assert.equal(xhr.headers["www-authenticate"], undefined);
  assert.deepEqual(JSON.parse(xhr.body), { error: "not_authorized", reason: "Login failed" });
});

test("/api/nodes: memory against its watermark, the free-disk limit, the alarms", async () => {
  const r = await app.inject({ method: "GET", url: "/api/nodes", headers: { authorization: GUEST } });
  const [n] = JSON.parse(r.body) as Record<string, unknown>[];
  assert.ok(n);
  assert.ok((n.mem_used as number) > 0);
  assert.ok((n.mem_limit as number) > (n.mem_used as number), "the default watermark is 0.4 of memory");
  assert.equal(n.mem_alarm, false);
  assert.equal(n.disk_free_alarm, false);
  // A broker without a data directory has no disk to report.
  assert.equal(n.disk_free, undefined);
  assert.equal(typeof n.disk_free_limit, "number");
});

test("/api/overview?msg_rates_age&lengths_age: recent samples, newest first", async () => {
  const admin = ctx.broker;
  admin.declareQueue("/", "sampled", { durable: false });
  const publish = (n: number) => {
    for (let i = 0; i < n; i++) admin.publish("/", "", "sampled", {}, Buffer.from("x"), "guest");
  };
  ctx.rates.sample();
  publish(3);
  await new Promise((r) => setTimeout(r, 20));
  ctx.rates.sample();
  publish(2);
  await new Promise((r) => setTimeout(r, 20));
  ctx.rates.sample();
  const get = async (q: string) =>
    JSON.parse(
      (await app.inject({ method: "GET", url: `/api/overview${q}`, headers: { authorization: GUEST } })).body,
    );
  const o = await get("?msg_rates_age=60&msg_rates_incr=0.001&lengths_age=60&lengths_incr=0.001");
  const published = o.message_stats.publish_details.samples as { sample: number; timestamp: number }[];
  assert.equal(published.length, 3);
  assert.deepEqual(
    published.map((s) => s.sample - published[2]!.sample),
    [5, 3, 0],
  );
  assert.ok(published[0]!.timestamp > published[2]!.timestamp);
  const ready = o.queue_totals.messages_ready_details.samples as { sample: number }[];
  assert.deepEqual(
    ready.map((s) => s.sample),
    [5, 3, 0],
  );
  // Without the parameters, no samples (RabbitMQ's default answer).
  assert.equal((await get("")).message_stats.publish_details.samples, undefined);
  // An incr longer than the samples' spacing thins them out.
  assert.equal(
    (await get("?msg_rates_age=60&msg_rates_incr=30")).message_stats.publish_details.samples.length,
    1,
  );
});
