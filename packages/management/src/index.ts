/**
 * The public API of @warren/management: RabbitMQ's management HTTP API (and the web UI on the
 * same port) and Prometheus endpoint for a Warren broker. A package of its own so that the
 * broker core has no HTTP in it and a broker embedded in a test process does not load it:
 *
 * ```ts
 * const broker = new Broker({ port: 5672 });
 * await broker.start();
 * const mgmt = await startManagement(broker, { port: 15672 });
 * const prom = await startPrometheus(broker, { port: 15692 });
 * ```
 *
 * @packageDocumentation
 */

/** Starts the management API; buildManagementApp builds it without listening (tests). */
export { buildManagementApp, startManagement } from "./management-server.js";
export type { ManagementOptions, ManagementServer } from "./management-server.js";
/** Starts the Prometheus /metrics endpoint; renderMetrics gives its text. */
export { renderMetrics, startPrometheus } from "./prometheus.js";
export type { MetricsView, PrometheusOptions, PrometheusServer } from "./prometheus.js";
