#!/usr/bin/env node
// Time to first render of the management UI's queues page with 10,000 queues (issue 9/): a
// Warren process, the queues declared over AMQP (amqplib), Debian's headless Chromium. Each
// round measures, in the browser, from the navigation until the first page of rows is in the
// table; then a sort by message count and a regex filter, the interactions that make the
// server walk every queue. Prints one line per round and the medians.
//
//   npm run build && node bench/ui-bench.mjs [--queues 10000] [--rounds 5]
import { parseArgs } from "node:util";
import amqplib from "amqplib";
import { chromiumMissing, login, openBrowser, startUiBroker } from "../interop/lib/ui-browser.mjs";

const { values } = parseArgs({ options: { queues: { type: "string" }, rounds: { type: "string" } } });
const queues = Number(values.queues ?? 10_000);
const rounds = Number(values.rounds ?? 5);
if (chromiumMissing) {
  console.error(`ui-bench: ${chromiumMissing}`);
  process.exit(1);
}

const env = await startUiBroker();
const conn = await amqplib.connect(env.broker.url);
const ch = await conn.createChannel();
const qname = (i) => `bench.q-${String(i).padStart(5, "0")}`;
let t0 = performance.now();
// amqplib queues the declarations; a window of 500 keeps the socket busy without a burst.
for (let i = 0; i < queues; i += 500) {
  const batch = [];
  for (let j = i; j < Math.min(queues, i + 500); j++) {
    batch.push(ch.assertQueue(qname(j), { durable: false }));
  }
  await Promise.all(batch);
}
// Some depth to sort by: every 10th queue gets a message, and one queue the most.
for (let i = 0; i < queues; i += 10) ch.sendToQueue(qname(i), Buffer.alloc(16), {});
const DEEPEST = qname(Math.floor(queues / 2) + 1);
/** A regex that matches the last ten queues by name (queues is a multiple of 10). */
const LAST_TEN = `q-${String(Math.floor((queues - 1) / 10)).padStart(4, "0")}[0-9]$`;
for (let i = 0; i < 5; i++) ch.sendToQueue(DEEPEST, Buffer.alloc(16), {});
await new Promise((r) => setTimeout(r, 500));
console.log(`ui-bench: ${queues} queues declared over AMQP in ${(performance.now() - t0).toFixed(0)} ms`);

const { browser, page, problems } = await openBrowser();
await login(page, env.ui);

/**
 * [ms, API ms], measured in the page: from act() until the table's rows pass test (checked on
 * every change of the page's DOM), and how long the last /api/queues request took.
 */
async function timed(act, test) {
  return page.evaluate(
    (actSrc, testSrc) =>
      new Promise((resolve, reject) => {
        const ok = new Function("rows", testSrc);
        const start = performance.now();
        const timer = setTimeout(() => reject(new Error(`timed out: ${testSrc}`)), 20_000);
        const check = () => {
          if (!ok(document.querySelectorAll(".list tbody tr"))) return;
          const end = performance.now();
          observer.disconnect();
          clearTimeout(timer);
          const api = performance
            .getEntriesByType("resource")
            .filter((e) => e.name.includes("/api/queues"))
            .at(-1);
          resolve([end - start, api ? api.responseEnd - api.startTime : NaN]);
        };
        const observer = new MutationObserver(check);
        observer.observe(document.body, { childList: true, subtree: true, characterData: true });
        new Function(actSrc)();
      }),
    act,
    test,
  );
}

const median = (l) => [...l].sort((a, b) => a - b)[Math.floor(l.length / 2)];
const firstRender = [];
const firstApi = [];
const sorted = [];
const filtered = [];
for (let r = 0; r < rounds; r++) {
  // From another page, so that the queues page is built from nothing each time.
  await page.evaluate(() => (location.hash = "#/overview"));
  await page.waitForFunction(() => document.querySelector("main h1")?.textContent === "Overview");
  await new Promise((res) => setTimeout(res, 200));
  const [first, api] = await timed(`location.hash = "#/queues"`, "return rows.length === 100");
  const [sortMs] = await timed(
    `[...document.querySelectorAll("th button.sort")].find((b) => b.textContent.startsWith("Total")).click()`,
    `return rows.length === 100 && rows[0].querySelector("a").textContent === ${JSON.stringify(DEEPEST)}`,
  );
  const [filterMs] = await timed(
    `const i = document.querySelector("#queues-filter"); document.querySelector(".toolbar input[type=checkbox]").click();
     i.value = ${JSON.stringify(LAST_TEN)}; i.dispatchEvent(new Event("input", { bubbles: true }));`,
    `return rows.length === 10`,
  );
  firstRender.push(first);
  firstApi.push(api);
  sorted.push(sortMs);
  filtered.push(filterMs);
  console.log(
    `round ${r + 1}: first render ${first.toFixed(0)} ms (its API call ${api.toFixed(0)} ms); ` +
      `sort by total ${sortMs.toFixed(0)} ms; regex filter ${filterMs.toFixed(0)} ms ` +
      `(includes the filter's 300 ms typing pause)`,
  );
}
// The API call alone, for comparison (what the server spends on a page of 10,000).
const auth = { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}` };
t0 = performance.now();
await (await fetch(`${env.ui}api/queues?page=1&page_size=100`, { headers: auth })).text();
const apiMs = performance.now() - t0;
console.log(
  `ui-bench: ${queues} queues, median of ${rounds}: first render ${median(firstRender).toFixed(0)} ms ` +
    `(API call ${median(firstApi).toFixed(0)} ms), ` +
    `sort ${median(sorted).toFixed(0)} ms, regex filter ${median(filtered).toFixed(0)} ms; ` +
    `GET /api/queues?page=1&page_size=100 alone ${apiMs.toFixed(0)} ms`,
);
if (problems.length > 0) console.error(`ui-bench: the page logged errors:\n${problems.join("\n")}`);
await browser.close();
await conn.close();
await env.broker.stop();
