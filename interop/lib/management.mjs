// The management API the management interop tests talk to: a Warren process started with its
// management API (and Prometheus endpoint) on free ports, or, when MANAGEMENT_TARGET_URL is set
// (for example http://localhost:15672, a RabbitMQ 3.10.8 with the management plugin), that API,
// with INTEROP_TARGET_URL naming its AMQP port and PROMETHEUS_TARGET_URL its metrics.
import { freePort, startBroker } from "./broker.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @param {{ prometheus?: boolean }} [opts] start Warren's Prometheus endpoint too (default true)
 * @returns {Promise<{ broker: Awaited<ReturnType<typeof startBroker>>, http: URL, metrics: string|undefined }>}
 */
export async function startManagementTarget({ prometheus = true } = {}) {
  if (process.env.MANAGEMENT_TARGET_URL) {
    return {
      broker: await startBroker(),
      http: new URL(process.env.MANAGEMENT_TARGET_URL),
      metrics: process.env.PROMETHEUS_TARGET_URL,
    };
  }
  // Explicit free ports: the defaults (15672, 15692) may belong to a RabbitMQ on this machine.
  const mp = await freePort();
  const pp = prometheus ? await freePort() : 0;
  const broker = await startBroker({
    args: ["--management-port", String(mp), "--prometheus-port", String(pp)],
  });
  const http = new URL(`http://127.0.0.1:${mp}`);
  // The HTTP listeners start right after the AMQP one.
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`${http.origin}/api/overview`).then(
      () => true,
      () => false,
    );
    if (up) break;
    await sleep(50);
  }
  return { broker, http, metrics: prometheus ? `http://127.0.0.1:${pp}` : undefined };
}

/** Polls f until it returns a truthy value, which it returns: RabbitMQ's statistics lag up to 5 s. */
export async function eventually(f, what, ms = 12_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}
