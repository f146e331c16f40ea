#!/usr/bin/env node
import { parseArgs } from "node:util";
import { Broker } from "@warren/broker";
import { startManagement, startPrometheus } from "@warren/management";
import { CONSUME_USAGE, consume } from "./commands/consume.js";
import { GET_USAGE, get } from "./commands/get.js";
import { PUBLISH_USAGE, publish } from "./commands/publish.js";
import { UsageError } from "./commands/usage-error.js";

const SERVER_USAGE = `usage: warren server [--port N] [--data-dir DIR] [--definitions FILE] [--disk-free-limit BYTES]
                     [--management-port N] [--management-host ADDR] [--prometheus-port N]

  --port         TCP port (env WARREN_PORT, default 5672)
  --data-dir     data directory (env WARREN_DATA_DIR, default ./data)
  --definitions  RabbitMQ definitions.json to load at boot (env WARREN_DEFINITIONS)
  --disk-free-limit  block publishers below this many free bytes on the data disk
                 (env WARREN_DISK_FREE_LIMIT, default 50000000)
  --management-port  RabbitMQ-compatible management HTTP API (env WARREN_MANAGEMENT_PORT,
                 default 15672; 0 turns it off)
  --management-host  address the management API binds (env WARREN_MANAGEMENT_HOST, default all)
  --prometheus-port  Prometheus /metrics (env WARREN_PROMETHEUS_PORT, default 15692; 0 turns it off)
`;

/** A port from a flag or the environment: an integer 0..65535, else a usage error. */
function portOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name}: not a port: ${value}`);
  return n;
}

async function server(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      "data-dir": { type: "string" },
      definitions: { type: "string" },
      host: { type: "string" },
      "disk-free-limit": { type: "string" },
      "management-port": { type: "string" },
      "management-host": { type: "string" },
      "prometheus-port": { type: "string" },
    },
  });
  const env = process.env;
  const port = Number(values.port ?? env.WARREN_PORT ?? 5672);
  const dataDir = values["data-dir"] ?? env.WARREN_DATA_DIR ?? "./data";
  const definitions = values.definitions ?? env.WARREN_DEFINITIONS;
  const diskFreeLimit = values["disk-free-limit"] ?? env.WARREN_DISK_FREE_LIMIT;
  const broker = new Broker({
    port,
    dataDir,
    ...(diskFreeLimit ? { diskFreeLimit: Number(diskFreeLimit) } : {}),
    ...(definitions ? { definitions } : {}),
    ...(values.host ? { host: values.host } : {}),
  });
  const managementPort = portOption(
    "management-port",
    values["management-port"] ?? env.WARREN_MANAGEMENT_PORT,
    15672,
  );
  const prometheusPort = portOption(
    "prometheus-port",
    values["prometheus-port"] ?? env.WARREN_PROMETHEUS_PORT,
    15692,
  );
  const managementHost = values["management-host"] ?? env.WARREN_MANAGEMENT_HOST;
  await broker.start();
  // The HTTP endpoints live in @warren/management, outside the broker: they start after the
  // broker so that they never show a broker that is still recovering.
  // A taken port stops the start, as in RabbitMQ, with a message that says how to go on.
  const listening = async <T>(what: string, flag: string, port: number, start: () => Promise<T>) => {
    try {
      return await start();
    } catch (e) {
      await broker.stop();
      const inUse = (e as { code?: string }).code === "EADDRINUSE";
      throw new Error(
        inUse
          ? `${what} port ${port} is in use (--${flag} N picks another, 0 turns it off)`
          : `${what}: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
  };
  const host = managementHost ? { host: managementHost } : {};
  const management =
    managementPort === 0
      ? undefined
      : await listening("management", "management-port", managementPort, () =>
          startManagement(broker, { port: managementPort, ...host }),
        );
  if (management) console.log(`warren: management API on port ${management.port}`);
  const prometheus =
    prometheusPort === 0
      ? undefined
      : await listening("prometheus", "prometheus-port", prometheusPort, () =>
          startPrometheus(broker, { port: prometheusPort, dataDir, ...host }),
        );
  if (prometheus) console.log(`warren: prometheus metrics on port ${prometheus.port}`);
  const stop = async () => {
    await management?.close();
    await prometheus?.close();
    await broker.stop();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

const USAGE = [SERVER_USAGE, PUBLISH_USAGE, CONSUME_USAGE, GET_USAGE].join("\n");

/** Client commands: each resolves with its exit code. */
const COMMANDS = new Map<string, (argv: string[]) => Promise<number>>([
  ["publish", publish],
  ["consume", consume],
  ["get", get],
]);

const [cmd, ...rest] = process.argv.slice(2);
const command = cmd === undefined ? undefined : COMMANDS.get(cmd);
if (cmd === "server" || cmd === undefined) {
  server(rest).catch((e) => {
    console.error(`warren: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  });
} else if (command) {
  command(rest).then(
    // exitCode rather than exit(): let piped stdout drain first.
    (code) => (process.exitCode = code),
    (e: unknown) => {
      if (e instanceof UsageError) {
        process.stderr.write(`warren ${cmd}: ${e.message}\n${e.usage}`);
        process.exitCode = 2;
      } else if (e instanceof TypeError && (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
        process.stderr.write(`warren ${cmd}: ${e.message}\n`);
        process.exitCode = 2;
      } else {
        process.stderr.write(`warren ${cmd}: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 1;
      }
    },
  );
} else {
  process.stdout.write(USAGE);
  process.exit(cmd === "help" || cmd === "--help" ? 0 : 2);
}
