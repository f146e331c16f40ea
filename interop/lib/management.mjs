// What the management API suites share: a Warren process with the HTTP API on (or the
// RabbitMQ named by MANAGEMENT_TARGET_URL), Debian's rabbitmqadmin pointed at it, and a poll
// for statistics that lag (RabbitMQ's API refreshes them every 5 s).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { freePort, startBroker } from "./broker.mjs";

export const ADMIN = "/usr/bin/rabbitmqadmin";
const PYTHON = "/usr/bin/python3";

/** A test's skip reason when rabbitmqadmin is not installed, else false. */
export const skipWithoutAdmin = existsSync(ADMIN)
  ? false
  : `${ADMIN} is missing (Debian's rabbitmq-server package installs it)`;

/**
 * The broker and its management API: MANAGEMENT_TARGET_URL (and PROMETHEUS_TARGET_URL) with
 * INTEROP_TARGET_URL's broker, or a fresh Warren process on explicit free ports (the defaults,
 * 15672 and 15692, may belong to a RabbitMQ on this machine), once its API answers.
 */
export async function startManagedBroker() {
  if (process.env.MANAGEMENT_TARGET_URL) {
    return {
      broker: await startBroker(),
      http: new URL(process.env.MANAGEMENT_TARGET_URL),
      metrics: process.env.PROMETHEUS_TARGET_URL,
    };
  }
  const [mp, pp] = [await freePort(), await freePort()];
  const broker = await startBroker({
    args: ["--management-port", String(mp), "--prometheus-port", String(pp)],
  });
  const http = new URL(`http://127.0.0.1:${mp}`);
  // The HTTP listeners start right after the AMQP one.
  await eventually(
    () =>
      fetch(`${http.origin}/api/overview`).then(
        () => true,
        () => false,
      ),
    "the management API to answer",
    5000,
  );
  return { broker, http, metrics: `http://127.0.0.1:${pp}` };
}

/**
 * rabbitmqadmin against the API at http: run(...args) → { status, out, err } as guest,
 * as(user, pass, ...args) as someone else, ok(...args) → stdout of a run that must succeed,
 * json(...args) → a list or show as JSON (-f raw_json). vhost: -V for every call.
 */
export function adminClient(http, vhost) {
  const as = (user, pass, ...args) => {
    const r = spawnSync(
      PYTHON,
      [
        ADMIN,
        "-H",
        http.hostname,
        "-P",
        http.port || "80",
        "-u",
        user,
        "-p",
        pass,
        ...(vhost === undefined ? [] : ["-V", vhost]),
        ...args,
      ],
      { encoding: "utf8", timeout: 30_000 },
    );
    return { status: r.status, out: r.stdout, err: r.stderr };
  };
  const run = (...args) => as("guest", "guest", ...args);
  const ok = (...args) => {
    const r = run(...args);
    assert.equal(r.status, 0, `rabbitmqadmin ${args.join(" ")} failed: ${r.err}${r.out}`);
    return r.out;
  };
  return { run, as, ok, json: (...args) => JSON.parse(ok("-f", "raw_json", ...args)) };
}

/** Polls f until it returns a truthy value (statistics lag up to 5 s on RabbitMQ). */
export async function eventually(f, what, ms = 12_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
