#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Broker, parseByteSize, type TlsOptions } from "@warren/broker";
import { startManagement, startPrometheus } from "@warren/management";
import { CONSUME_USAGE, consume } from "./commands/consume.js";
import { ctl } from "./commands/ctl/ctl.js";
import { GET_USAGE, get } from "./commands/get.js";
import { PUBLISH_USAGE, publish } from "./commands/publish.js";
import { UsageError } from "./commands/usage-error.js";

const SERVER_USAGE = `usage: warren server [--port N] [--data-dir DIR] [--definitions FILE] [--disk-free-limit BYTES]
                    [--tls-cert FILE --tls-key FILE [--tls-ca FILE] [--tls-port N]
                     [--tls-verify-peer [--tls-fail-if-no-peer-cert]]]
                     [--memory-high-watermark 0.4|SIZE] [--max-message-size SIZE] [--max-connections N]
                     [--handshake-timeout MS]
                     [--management-port N] [--management-host ADDR] [--prometheus-port N]

  --port         TCP port (env WARREN_PORT, default 5672)
  --data-dir     data directory (env WARREN_DATA_DIR, default ./data)
  --definitions  RabbitMQ definitions.json to load at boot (env WARREN_DEFINITIONS)
  --disk-free-limit  block publishers below this many free bytes on the data disk
                 (env WARREN_DISK_FREE_LIMIT, default 50000000)
  --tls-cert, --tls-key  PEM certificate chain and key: with both, an amqps listener
                 (env WARREN_TLS_CERT, WARREN_TLS_KEY; see docs/tls.md)
  --tls-ca       PEM CA certificates client certificates must chain to (env WARREN_TLS_CA)
  --tls-port     amqps port (env WARREN_TLS_PORT, default 5671)
  --tls-verify-peer  ask for client certificates, refuse untrusted ones; needed for
                 EXTERNAL logins (env WARREN_TLS_VERIFY_PEER=true; RabbitMQ's verify_peer)
  --tls-fail-if-no-peer-cert  also refuse clients without a certificate
                 (env WARREN_TLS_FAIL_IF_NO_PEER_CERT=true)
  --memory-high-watermark  block publishers above this resident memory: a fraction of the
                 memory available, or a size such as 268435456, 256MiB, 1GB
                 (env WARREN_MEMORY_HIGH_WATERMARK, default 0.4)
  --max-message-size  largest message body accepted, bytes or a size such as 16MiB
                 (env WARREN_MAX_MESSAGE_SIZE, default 134217728 = 128 MiB)
  --max-connections  connections accepted at once, all vhosts together
                 (env WARREN_MAX_CONNECTIONS, default no limit)
  --handshake-timeout  milliseconds a client gets from TCP connect to connection.open-ok,
                 however slowly its bytes arrive (env WARREN_HANDSHAKE_TIMEOUT, default 10000)
  --management-port  RabbitMQ-compatible management HTTP API (env WARREN_MANAGEMENT_PORT,
                 default 15672; 0 turns it off)
  --management-host  address the management API binds (env WARREN_MANAGEMENT_HOST, default all)
  --prometheus-port  Prometheus /metrics (env WARREN_PROMETHEUS_PORT, default 15692; 0 turns it off)
`;

/** An environment flag: "true", "1" or "yes" (any case) is set; anything else is not. */
function envFlag(v: string | undefined): boolean {
  return v !== undefined && /^(true|1|yes)$/i.test(v.trim());
}

/** The TLS options from flags and environment, or undefined when no certificate is configured. */
function tlsOptions(values: Record<string, string | boolean | undefined>): TlsOptions | undefined {
  const env = process.env;
  const str = (name: string, envName: string): string | undefined => {
    const v = values[name];
    return typeof v === "string" ? v : env[envName] || undefined;
  };
  const certFile = str("tls-cert", "WARREN_TLS_CERT");
  const keyFile = str("tls-key", "WARREN_TLS_KEY");
  const caFile = str("tls-ca", "WARREN_TLS_CA");
  const port = str("tls-port", "WARREN_TLS_PORT");
  const verifyPeer = values["tls-verify-peer"] === true || envFlag(env.WARREN_TLS_VERIFY_PEER);
  const failIfNoPeerCert =
    values["tls-fail-if-no-peer-cert"] === true || envFlag(env.WARREN_TLS_FAIL_IF_NO_PEER_CERT);
  if (!certFile && !keyFile) {
    // Half a TLS configuration is a mistake worth a refusal, not a silent plaintext-only broker.
    if (caFile || port || verifyPeer || failIfNoPeerCert)
      throw new Error("TLS options given without --tls-cert and --tls-key");
    return undefined;
  }
  if (!certFile || !keyFile) throw new Error("TLS needs both --tls-cert and --tls-key");
  // The broker checks these too, but in its option names; say it in the flags' here.
  if (failIfNoPeerCert && !verifyPeer) throw new Error("--tls-fail-if-no-peer-cert needs --tls-verify-peer");
  if (verifyPeer && !caFile) throw new Error("--tls-verify-peer needs --tls-ca");
  const portNumber = port === undefined ? undefined : Number(port);
  if (portNumber !== undefined && !(Number.isInteger(portNumber) && portNumber >= 0 && portNumber < 65536))
    throw new Error(`bad --tls-port: ${port}`);
  return {
    cert: readFileSync(certFile),
    key: readFileSync(keyFile),
    ...(caFile ? { ca: readFileSync(caFile) } : {}),
    ...(portNumber !== undefined ? { port: portNumber } : {}),
    verifyPeer,
    failIfNoPeerCert,
  };
}

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
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "tls-ca": { type: "string" },
      "tls-port": { type: "string" },
      "tls-verify-peer": { type: "boolean" },
      "tls-fail-if-no-peer-cert": { type: "boolean" },
      "memory-high-watermark": { type: "string" },
      "max-message-size": { type: "string" },
      "max-connections": { type: "string" },
      "handshake-timeout": { type: "string" },
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
  const tls = tlsOptions(values);
  const watermark = values["memory-high-watermark"] ?? env.WARREN_MEMORY_HIGH_WATERMARK;
  const maxMessageSize = values["max-message-size"] ?? env.WARREN_MAX_MESSAGE_SIZE;
  const maxConnections = values["max-connections"] ?? env.WARREN_MAX_CONNECTIONS;
  const handshakeTimeout = values["handshake-timeout"] ?? env.WARREN_HANDSHAKE_TIMEOUT;
  const broker = new Broker({
    port,
    dataDir,
    ...(diskFreeLimit ? { diskFreeLimit: Number(diskFreeLimit) } : {}),
    ...(watermark ? { memoryHighWatermark: watermark } : {}),
    ...(maxMessageSize ? { maxMessageSize: parseByteSize(maxMessageSize) } : {}),
    ...(handshakeTimeout
      ? { handshakeTimeoutMs: positiveInteger("handshake-timeout", handshakeTimeout) }
      : {}),
    ...(maxConnections ? { maxConnections: positiveInteger("max-connections", maxConnections) } : {}),
    ...(definitions ? { definitions } : {}),
    ...(values.host ? { host: values.host } : {}),
    ...(tls ? { tls } : {}),
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

function positiveInteger(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive integer, got "${text}"`);
  return n;
}

const CTL_USAGE =
  "usage: warren ctl COMMAND [ARGS]   (rabbitmqctl-style, over the management API; warren ctl --help)\n";

const USAGE = [SERVER_USAGE, PUBLISH_USAGE, CONSUME_USAGE, GET_USAGE, CTL_USAGE].join("\n");

/** Client commands: each resolves with its exit code. */
const COMMANDS = new Map<string, (argv: string[]) => Promise<number>>([
  ["publish", publish],
  ["consume", consume],
  ["get", get],
  ["ctl", ctl],
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
