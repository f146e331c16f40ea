// The management UI in a real browser: Debian's headless Chromium driven by puppeteer-core
// against a real Warren process with the management port on, and amqplib for the AMQP side.
// Each step is what an operator does; every step fails on a console error or page error.
//
//   node --test interop/ui.test.mjs
//
// Skipped (with the reason) when /usr/bin/chromium is missing; scripts/test.mjs and .ci/run
// install Debian's chromium package.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import amqplib from "amqplib";
import { chromiumMissing, login, openBrowser, show, startUiBroker } from "./lib/ui-browser.mjs";

const skip = chromiumMissing;
const QUEUE = "ui-test-orders";
const USER = "ui-test-ops";

let env; // { broker, ui, port }
let browser;
let page;
let problems;
let conn;
let closed; // resolves with the amqplib connection's close error

/** The management API as guest, for checking what the UI did. */
async function apiGet(path) {
  const r = await fetch(`${env.ui}api${path}`, {
    headers: { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}` },
  });
  return { status: r.status, body: r.status === 200 ? await r.json() : undefined };
}

/** The text of the first element matching selector whose text includes `has`, waiting for it. */
async function waitForText(selector, has, timeout = 30000) {
  await page.waitForFunction(
    (sel, t) => [...document.querySelectorAll(sel)].some((e) => e.textContent.includes(t)),
    { timeout },
    selector,
    has,
  );
}

/** Clicks the button whose text is exactly `text` (inside `scope` when given). */
async function clickButton(text, scope = "main") {
  const handle = await page.waitForFunction(
    (s, t) =>
      [...document.querySelectorAll(`${s} button`)].find((b) => b.textContent.trim() === t && !b.disabled),
    {},
    scope,
    text,
  );
  await handle.asElement().click();
}

/**
 * No console or page errors, and every control on the page can be named by a screen reader:
 * form fields have a label (or aria-label), buttons and links have text (or aria-label).
 */
async function noProblems() {
  assert.deepEqual(problems, [], "the page logged errors");
  const unnamed = await page.evaluate(() =>
    [...document.querySelectorAll("input, select, textarea, button, a[href]")]
      .filter((e) => {
        if (e.getAttribute("aria-label") || e.getAttribute("aria-labelledby")) return false;
        if (e.matches("input, select, textarea")) return e.labels.length === 0;
        return e.textContent.trim() === "";
      })
      .map((e) => e.outerHTML.slice(0, 120)),
  );
  assert.deepEqual(unnamed, [], "controls without an accessible name");
}

before(async () => {
  if (skip) return;
  env = await startUiBroker();
  ({ browser, page, problems } = await openBrowser());
  conn = await amqplib.connect(`${env.broker.url}?heartbeat=0`);
  closed = new Promise((resolve) => conn.on("close", resolve));
  conn.on("error", () => {});
});

after(async () => {
  await browser?.close();
  await conn?.close().catch(() => {});
  await env?.broker.stop();
});

test("logs in with the form and shows the overview", { skip }, async () => {
  await login(page, env.ui);
  await waitForText("main h1", "Overview");
  await waitForText(".stat", "Connections");
  const who = await page.$eval("header .who", (e) => e.textContent);
  assert.match(who, /guest/);
  await noProblems();
});

test("a queue declared over AMQP appears in the list, live, with its message count", { skip }, async () => {
  await show(page, "#/queues", "Queues");
  await page.type("#queues-filter", "ui-test");
  await waitForText(".list .empty", "No queues match");
  // Declared after the page is open: the 5-s poll brings it in without a reload.
  const ch = await conn.createChannel();
  await ch.assertQueue(QUEUE, { durable: true });
  for (let i = 0; i < 3; i++) ch.sendToQueue(QUEUE, Buffer.from(`amqp ${i}`));
  await ch.close();
  await page.waitForFunction(
    (q) =>
      [...document.querySelectorAll(".list tbody tr")].some(
        (tr) => tr.querySelector("a")?.textContent === q && tr.cells[8]?.textContent === "3",
      ),
    { timeout: 30000 },
    QUEUE,
  );
  await noProblems();
});

test("keyboard: the skip link comes first, a column sorts with Enter", { skip }, async () => {
  // A fresh load (the session's credentials survive it): Tab starts from the top.
  await page.reload({ waitUntil: "domcontentloaded" });
  await page.waitForSelector(".list tbody tr");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
  const total = await page.$$eval("th button.sort", (l) =>
    l.findIndex((b) => b.textContent.startsWith("Total")),
  );
  await page.focus(`th:nth-child(${total + 1}) button.sort`);
  // The focus ring is drawn (an outline), so a keyboard user sees where they are.
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.equal(outline, "solid");
  await page.keyboard.press("Enter");
  await page.waitForFunction(
    (i) => document.querySelectorAll("th")[i]?.getAttribute("aria-sort") === "descending",
    {},
    total,
  );
  await page.keyboard.press("Enter");
  await page.waitForFunction(
    (i) => document.querySelectorAll("th")[i]?.getAttribute("aria-sort") === "ascending",
    {},
    total,
  );
  await noProblems();
});

test("an API refusal is shown on the page", { skip }, async () => {
  await clickButton("Add queue");
  await page.type('form[aria-label="Add a queue"] input[name="name"]', QUEUE);
  // The queue is durable; declaring it transient is refused by the broker.
  await page.click('form[aria-label="Add a queue"] input[name="durable"]');
  await page.click('form[aria-label="Add a queue"] button[type="submit"]');
  await waitForText('form[aria-label="Add a queue"] [role="alert"]', "inequivalent arg 'durable'");
  // Chromium logs the 400 it was answered as a console error: that one is expected, nothing else.
  const refused = problems.filter((p) => p.includes("status of 400"));
  assert.equal(refused.length, 1, problems.join("\n"));
  problems.splice(problems.indexOf(refused[0]), 1);
  await noProblems();
});

test("publishes a message from the UI and gets it back from the UI", { skip }, async () => {
  await page.click(`.list tbody a[href="#/queues/%2F/${QUEUE}"]`);
  await waitForText("main h1", QUEUE);
  const publish = 'form[aria-label="Publish a message"]';
  await page.waitForSelector(`${publish} textarea[name="payload"]`);
  await page.type(`${publish} textarea[name="payload"]`, "hello from the UI");
  await page.type(`${publish} textarea[name="headers"]`, "x-origin = browser\nx-attempt = 2");
  await page.click(`${publish} button[type="submit"]`);
  await waitForText(`${publish} [role="status"]`, "Message published and routed.");
  assert.equal((await apiGet(`/queues/%2F/${QUEUE}`)).body.messages, 4);

  const getForm = 'form[aria-label="Get messages"]';
  const count = await page.$(`${getForm} input[name="count"]`);
  await count.click({ clickCount: 3 });
  await count.type("4");
  await page.click(`${getForm} button[type="submit"]`);
  await waitForText("article.message", "hello from the UI");
  const last = await page.$$eval("article.message", (l) => l.at(-1).textContent);
  assert.match(last, /x-origin\s*browser/);
  assert.match(last, /x-attempt\s*2/);
  assert.match(last, /delivery_mode\s*2/);
  // The default ack mode requeues: looking does not take the messages away.
  assert.equal((await apiGet(`/queues/%2F/${QUEUE}`)).body.messages, 4);
  await noProblems();
});

test("adds a user with a tag", { skip }, async () => {
  await show(page, "#/admin/users", "Users");
  await page.type("#new-user-name", USER);
  await page.type("#new-user-password", "s3cret-pw");
  await page.click("#new-user-tag-monitoring");
  await clickButton("Add user");
  await waitForText("main [role='status']", `User ${USER} added`);
  await waitForText("main table td", USER);
  const u = await apiGet(`/users/${USER}`);
  assert.equal(u.status, 200);
  assert.deepEqual(u.body.tags, ["monitoring"]);
  await noProblems();
});

test("closes a connection", { skip }, async () => {
  await show(page, "#/connections", "Connections");
  const link = await page.waitForSelector(".list tbody a");
  await link.click();
  await waitForText("main h1", "Connection");
  await waitForText("main table.kv", "amqplib");
  const reason = await page.$("main .danger-zone input");
  await reason.click({ clickCount: 3 });
  await reason.type("maintenance window");
  await clickButton("Close connection");
  await clickButton("Yes, close connection");
  const err = await closed;
  assert.match(String(err?.message), /320/);
  assert.match(String(err?.message), /maintenance window/);
  await waitForText("main h1", "Connections");
  await noProblems();
});

test("deletes the queue", { skip }, async () => {
  await show(page, `#/queues/%2F/${QUEUE}`, QUEUE);
  await clickButton("Delete queue");
  await clickButton("Yes, delete queue");
  await waitForText("main h1", "Queues");
  assert.equal((await apiGet(`/queues/%2F/${QUEUE}`)).status, 404);
  await noProblems();
});

test("logs out", { skip }, async () => {
  await clickButton("Log out", "header");
  await page.waitForSelector('input[name="username"]');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await noProblems();
});
