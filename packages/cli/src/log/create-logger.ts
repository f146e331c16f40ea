import type { Logger, LogFields } from "@warren/broker";
import { pino } from "pino";
import { createRequire } from "node:module";
import type { LogThreshold } from "../config/value-parsers.js";

/** Where `warren server` logs, and how (from the log.* settings). */
export interface LogOutputs {
  /** Every output's floor (log.default.level, --log-level). */
  level: LogThreshold;
  /** Log to standard output (log.console). */
  console: boolean;
  consoleLevel: LogThreshold | undefined;
  /** Console format; auto: plaintext on a terminal, JSON lines otherwise. */
  format: "auto" | "plaintext" | "json";
  /** A file to log to as well (log.file), appended to. */
  file: string | undefined;
  fileLevel: LogThreshold | undefined;
  fileFormat: "plaintext" | "json";
}

/** RabbitMQ's names for pino's levels in JSON lines ("warning", as RabbitMQ's JSON log says). */
const RABBIT_LABELS: Record<string, string> = { warn: "warning", fatal: "critical" };

/** A broker Logger that can be flushed before the process exits. */
export type CliLogger = Logger & { flush(): void };

/**
 * The logger of `warren server`, on pino: fast, writes JSON lines natively, and is the logger
 * fastify (the management API's framework) is built for. One pino instance per output, each
 * with its own level and format: JSON lines ({"level":"info","time":"<ISO>",...fields,"msg":...},
 * RabbitMQ's level names) for machines, or pino-pretty's one line per record, coloured on a
 * terminal, for people. Writes are synchronous, as console.log's are on Linux: nothing is lost
 * when the process exits, and the broker logs a few lines per connection, never per message.
 */
export function createLogger(o: LogOutputs): CliLogger {
  const outputs: pino.Logger[] = [];
  if (o.console) {
    const format = o.format === "auto" ? (process.stdout.isTTY ? "plaintext" : "json") : o.format;
    outputs.push(output(1, format, stricter(o.level, o.consoleLevel), process.stdout.isTTY === true));
  }
  if (o.file) outputs.push(output(o.file, o.fileFormat, stricter(o.level, o.fileLevel), false));
  const at =
    (level: "error" | "warn" | "info" | "debug") =>
    (msg: string, fields?: LogFields): void => {
      for (const out of outputs) {
        if (fields) out[level](fields, msg);
        else out[level](msg);
      }
    };
  return {
    error: at("error"),
    warn: at("warn"),
    info: at("info"),
    debug: at("debug"),
    flush: () => {
      for (const out of outputs) out.flush();
    },
  };
}

function output(
  dest: 1 | string,
  format: "plaintext" | "json",
  level: LogThreshold,
  color: boolean,
): pino.Logger {
  const options: pino.LoggerOptions = { level, base: null, timestamp: pino.stdTimeFunctions.isoTime };
  if (format === "json") {
    const stream = pino.destination({ dest, sync: true, mkdir: true });
    return pino(
      { ...options, formatters: { level: (label) => ({ level: RABBIT_LABELS[label] ?? label }) } },
      stream,
    );
  }
  // pino-pretty is loaded only for text output (a terminal): JSON-logging brokers start faster.
  const pretty = createRequire(import.meta.url)("pino-pretty") as typeof import("pino-pretty");
  const stream = pretty({
    destination: dest,
    mkdir: true,
    sync: true,
    colorize: color,
    translateTime: "SYS:yyyy-mm-dd HH:MM:ss.l",
    // The message says what the fields say: show it alone, and an error's stack below it.
    hideObject: true,
    messageFormat: (record, key) => {
      const stack = (record.err as { stack?: unknown } | undefined)?.stack;
      return `${String(record[key])}${typeof stack === "string" ? `\n${stack}` : ""}`;
    },
  });
  return pino(options, stream);
}

/** The stricter of two thresholds (the output's level within the default's). */
function stricter(a: LogThreshold, b: LogThreshold | undefined): LogThreshold {
  if (b === undefined) return a;
  const rank = (l: LogThreshold) => (l === "silent" ? Infinity : pino.levels.values[l]!);
  return rank(b) > rank(a) ? b : a;
}
