// Headless Chromium (Debian's `chromium` package) driven by puppeteer-core, for the management
// UI's test, its screenshots (scripts/ui-screenshots.mjs) and its benchmark (bench/ui-bench.mjs):
// a Warren process with the management port on, a browser page that records every console
// error and page error, and a login helper.
import { existsSync } from "node:fs";
import { freePort, startBroker } from "./broker.mjs";

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Why the UI cannot be driven here, or false when it can. */
export const chromiumMissing = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing (apt-get install chromium; scripts/test.mjs and .ci/run install it)`;

/**
 * A Warren process with its management API (and UI) on a free port: { broker, ui } where ui
 * is the UI's base URL. The HTTP listener starts right after the AMQP one: wait for it.
 */
export async function startUiBroker(opts = {}) {
  const mp = await freePort();
  const broker = await startBroker({
    ...opts,
    args: ["--management-port", String(mp), ...(opts.args ?? [])],
  });
  const ui = `http://127.0.0.1:${mp}/`;
  for (let i = 0; i < 200; i++) {
    if (
      await fetch(ui).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { broker, ui, port: mp };
}

/**
 * Launches Chromium and opens a page of the given size. `problems` collects console errors,
 * page errors (uncaught exceptions) and failed requests, which the UI must never produce.
 */
export async function openBrowser({ width = 1440, height = 900 } = {}) {
  const { default: puppeteer } = await import("puppeteer-core");
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars"],
  });
  const page = await browser.newPage();
  await page.setViewport({ width, height });
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
    if (process.env.UI_DEBUG) console.log("page:", m.text());
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => {
    // A poll cut short by navigating away is not a failure of the UI.
    if (r.failure()?.errorText !== "net::ERR_ABORTED")
      problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  return { browser, page, problems };
}

/** Logs in through the form (fields named username and password) and waits for the overview. */
export async function login(page, ui, user = "guest", password = "guest") {
  await page.goto(ui, { waitUntil: "domcontentloaded" });
  await page.waitForSelector('input[name="username"]');
  await page.type('input[name="username"]', user);
  await page.type('input[name="password"]', password);
  await page.click('button[type="submit"]');
  await page.waitForSelector("header.top nav");
}

/** Goes to a view by its hash (#/queues) and waits for its heading. */
export async function show(page, hash, heading) {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
  await page.waitForFunction((t) => document.querySelector("main h1")?.textContent?.includes(t), {}, heading);
}
