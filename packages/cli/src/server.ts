import { resolve } from "node:path";
import { Broker, VERSION } from "@warren/broker";
import { brokerOptions } from "./config/broker-options.js";
import { type ResolvedSettings, resolveSettings } from "./config/resolve-settings.js";
import { type CliLogger, createLogger } from "./log/create-logger.js";

/** Something that listens and can be closed (the HTTP endpoints). */
interface Closable {
  port: number;
  close(): Promise<void>;
}

/**
 * `warren server`: resolves the settings (flags, environment, config file; a bad one throws a
 * ConfigError before anything starts), then starts the broker, the management API and the
 * Prometheus endpoint, logs the start banner, and stops them all on SIGTERM or SIGINT. A
 * failure after the logger exists is logged there and ends the process with exit code 1.
 */
export async function server(argv: string[]): Promise<void> {
  const settings = resolveSettings(argv, process.env);
  const v = settings.values;
  const options = brokerOptions(settings);
  const log = createLogger({
    level: v.logLevel,
    console: v.logConsole,
    consoleLevel: v.logConsoleLevel,
    format: v.logFormat,
    file: v.logFile,
    fileLevel: v.logFileLevel,
    fileFormat: v.logFileFormat,
  });
  const broker = new Broker({ ...options, log });
  try {
    await broker.start();
  } catch (e) {
    fail(log, e, v.logConsole);
  }
  // The HTTP endpoints live in @warren/management, outside the broker: they start after the
  // broker so that they never show a broker that is still recovering.
  // Loaded only when an endpoint is on: fastify and the API take longer to load than the broker,
  // and brokers started for tests and benchmarks run without them.
  const http = () => import("@warren/management");
  const management = await listen(broker, settings, log, "managementPort", async (port, host) =>
    (await http()).startManagement(broker, { port, ...host }),
  );
  const prometheus = await listen(broker, settings, log, "prometheusPort", async (port, host) =>
    (await http()).startPrometheus(broker, { port, dataDir: v.dataDir, ...host }),
  );
  banner(log, broker, settings, management, prometheus);
  const stop = async () => {
    await management?.close();
    await prometheus?.close();
    await broker.stop();
    log.info("stopped");
    log.flush();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

/**
 * Starts one HTTP endpoint unless its port is 0. A taken port stops the start, as in RabbitMQ,
 * with a message that says how to go on.
 */
async function listen(
  broker: Broker,
  s: ResolvedSettings,
  log: CliLogger,
  which: "managementPort" | "prometheusPort",
  start: (port: number, host: { host?: string }) => Promise<Closable>,
): Promise<Closable | undefined> {
  const port = s.values[which];
  if (port === 0) return undefined;
  const host =
    which === "prometheusPort"
      ? (s.values.prometheusHost ?? s.values.managementHost)
      : s.values.managementHost;
  try {
    return await start(port, host ? { host } : {});
  } catch (e) {
    await broker.stop();
    const what = which === "managementPort" ? "management" : "prometheus";
    const inUse = (e as { code?: string }).code === "EADDRINUSE";
    fail(
      log,
      inUse ? `${what} port ${port} is in use (set ${s.describe(which)} to another port, 0 turns it off)` : e,
      s.values.logConsole,
      inUse ? undefined : what,
    );
  }
}

/**
 * Logs why the start failed (an error's stack as the `err` field; a plain message is a refusal
 * that needs none) and exits 1. Also on standard error when the console log is off, so that
 * whoever started the process sees it.
 */
function fail(log: CliLogger, e: unknown, console: boolean, what?: string): never {
  const message = `${what ? `${what}: ` : ""}${e instanceof Error ? e.message : String(e)}`;
  log.error(`start failed: ${message}`, e instanceof Error ? { err: e } : undefined);
  log.flush();
  if (!console) process.stderr.write(`warren: ${message}\n`);
  process.exit(1);
}

/** One line with what an operator looks for first: version, listeners, data directory. */
function banner(
  log: CliLogger,
  broker: Broker,
  s: ResolvedSettings,
  management: Closable | undefined,
  prometheus: Closable | undefined,
): void {
  const listeners: Record<string, number> = { amqp: broker.port };
  if (broker.tlsPort) listeners.amqps = broker.tlsPort;
  if (management) listeners.management = management.port;
  if (prometheus) listeners.prometheus = prometheus.port;
  const dataDir = resolve(s.values.dataDir);
  const list = Object.entries(listeners)
    .map(([k, p]) => `${k} ${p}`)
    .join(", ");
  log.info(`Warren ${VERSION} started on Node.js ${process.version}: ${list}; data directory ${dataDir}`, {
    version: VERSION,
    node: process.version,
    listeners,
    data_dir: dataDir,
    ...(s.values.config ? { config_file: resolve(s.values.config) } : {}),
  });
}
