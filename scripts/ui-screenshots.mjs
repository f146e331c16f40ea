#!/usr/bin/env node
// Screenshots of every page of the management UI, for the README and docs/ui.md: a Warren
// process with some traffic (amqplib publishers and consumers running for a minute, so the
// charts have something to show), Debian's headless Chromium, one PNG per page in docs/ui/.
//
//   npm run ui:screenshots            (builds first)     node scripts/ui-screenshots.mjs
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import amqplib from "amqplib";
import { chromiumMissing, login, openBrowser, show, startUiBroker } from "../interop/lib/ui-browser.mjs";

if (chromiumMissing) {
  console.error(`ui-screenshots: ${chromiumMissing}`);
  process.exit(1);
}
const out = fileURLToPath(new URL("../docs/ui/", import.meta.url));
mkdirSync(out, { recursive: true });
const TRAFFIC_MS = Number(process.env.TRAFFIC_MS ?? 60_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const env = await startUiBroker();
const { browser, page, problems } = await openBrowser({ width: 1440, height: 900 });
const conns = [];
try {
  // A small shop: orders fan out to billing and shipping; emails wait for a worker.
  const conn = await amqplib.connect(env.broker.url, {
    clientProperties: { connection_name: "order-service" },
  });
  const worker = await amqplib.connect(env.broker.url, {
    clientProperties: { connection_name: "billing-worker" },
  });
  conns.push(conn, worker);
  const ch = await conn.createConfirmChannel();
  await ch.assertExchange("orders", "topic", { durable: true });
  await ch.assertExchange("events", "fanout", { durable: true });
  for (const [q, key] of [
    ["billing.invoices", "order.created"],
    ["shipping.parcels", "order.*"],
    ["audit.log", "#"],
  ]) {
    await ch.assertQueue(q, { durable: true });
    await ch.bindQueue(q, "orders", key);
  }
  await ch.assertQueue("emails.outbound", { durable: true, arguments: { "x-max-length": 100000 } });
  await ch.assertQueue("reports.nightly", { durable: true });
  await ch.bindExchange("events", "orders", "order.#");
  const wc = await worker.createChannel();
  await wc.prefetch(50);
  await wc.consume("billing.invoices", (m) => m && wc.ack(m));
  await wc.consume("shipping.parcels", (m) => m && setTimeout(() => wc.ack(m), 20));

  // Traffic that changes over the minute, so the charts have a shape; it goes on (slower)
  // while the pages are photographed, so the rates are live.
  const started = Date.now();
  let n = 0;
  let stop = false;
  const traffic = (async () => {
    while (!stop) {
      const elapsed = Date.now() - started;
      const phase = elapsed / TRAFFIC_MS;
      const burst = elapsed < TRAFFIC_MS ? Math.round(20 + 60 * Math.sin(phase * Math.PI * 2) ** 2) : 10;
      for (let i = 0; i < burst; i++) {
        const id = ++n;
        ch.publish("orders", "order.created", Buffer.from(JSON.stringify({ id, total: (id * 7.31) % 500 })), {
          contentType: "application/json",
          persistent: true,
          messageId: `order-${id}`,
          headers: { "x-tenant": "acme", "x-attempt": 1 },
        });
        if (id % 3 === 0) ch.sendToQueue("emails.outbound", Buffer.from(`Your order ${id} has shipped`));
      }
      await ch.waitForConfirms();
      await sleep(250);
    }
  })();
  await sleep(TRAFFIC_MS);

  const shot = async (name, full = false) => {
    await sleep(600);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(out, `${name}.png`), fullPage: full });
    console.log(`ui-screenshots: docs/ui/${name}.png`);
  };
  await page.goto(env.ui, { waitUntil: "networkidle0" });
  await shot("login");
  await login(page, env.ui);
  await sleep(1500);
  await shot("overview");
  await show(page, "#/queues", "Queues");
  await page.waitForSelector(".list tbody tr");
  await shot("queues");
  await show(page, "#/queues/%2F/audit.log", "audit.log");
  await page.waitForSelector('form[aria-label="Get messages"]');
  await page.click('form[aria-label="Get messages"] button[type="submit"]');
  await page.waitForSelector("article.message");
  await sleep(5500); // a second poll: the charts have two points
  await shot("queue", true);
  await show(page, "#/exchanges", "Exchanges");
  await page.waitForSelector(".list tbody tr");
  await shot("exchanges");
  await show(page, "#/exchanges/%2F/orders", "orders");
  await page.waitForSelector("main table.kv");
  await shot("exchange", true);
  await show(page, "#/connections", "Connections");
  await page.waitForSelector(".list tbody tr");
  await sleep(5500); // two polls: byte rates
  await shot("connections");
  await page.click(".list tbody a");
  await page.waitForSelector("main table.kv");
  await shot("connection", true);
  await show(page, "#/channels", "Channels");
  await page.waitForSelector(".list tbody tr");
  await shot("channels");
  await show(page, "#/admin/users", "Users");
  await page.waitForSelector("main table tbody tr");
  await shot("admin-users");
  await show(page, "#/admin/permissions", "Permissions");
  await shot("admin-permissions");
  await show(page, "#/admin/policies", "Policies");
  await shot("admin-policies");
  await show(page, "#/admin/definitions", "Definitions");
  await shot("admin-definitions");
  stop = true;
  await traffic;
  if (problems.length > 0) throw new Error(`the page logged errors:\n${problems.join("\n")}`);
} finally {
  await browser.close();
  for (const c of conns) await c.close().catch(() => {});
  await env.broker.stop();
}
