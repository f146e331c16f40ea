import { accessSync, constants } from "node:fs";
import { isIP } from "node:net";
import { totalmem } from "node:os";
import { parseByteSize } from "@warren/broker";

/** An AMQP listener's address: a port, and the interface when one is named. */
export interface Listener {
  host?: string;
  port: number;
}

/** Log thresholds, as pino names them ("silent": nothing). */
export type LogThreshold = "debug" | "info" | "warn" | "error" | "fatal" | "silent";

/**
 * RabbitMQ's log levels (log.*.level) and what each lets through in Warren, whose lines are
 * error, warning, info or debug: "notice" shows warnings and errors (Warren has no notice
 * lines), critical and above nothing Warren writes. "warn" is accepted as pino's name.
 */
const LEVELS: Record<string, LogThreshold> = {
  debug: "debug",
  info: "info",
  notice: "warn",
  warning: "warn",
  warn: "warn",
  error: "error",
  critical: "fatal",
  alert: "fatal",
  emergency: "fatal",
  none: "silent",
};

const MAX_PORT = 65535;
/** setTimeout's longest delay, for "infinity". */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** RabbitMQ's max_message_size validator: at most 512 MiB. */
const MAX_MESSAGE_SIZE = 512 * 1024 * 1024;

function integer(text: string, min: number, max: number, what: string): number {
  const n = /^\+?\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new Error(`expected ${what}, got "${text}"`);
  return n;
}

function port(text: string): number {
  return integer(text, 0, MAX_PORT, "a port (0 to 65535)");
}

/** An integer, or RabbitMQ's "infinity" as `infinite`. */
function integerOr(infinite: number, min: number, what: string) {
  return (text: string): number => (text === "infinity" ? infinite : integer(text, min, Infinity, what));
}

/** A fraction from 0 to 1: RabbitMQ writes "0.4"; "1" and "0" are taken too. */
function fraction(text: string): number {
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 1)) throw new Error(`expected a fraction from 0 to 1 such as 0.4, got "${text}"`);
  return n;
}

/** Size with RabbitMQ's information units: 50000000, 50MB, 1GB, 512MiB, 2G (see parseByteSize). */
function size(text: string): number {
  return parseByteSize(text);
}

/** cuttlefish's bytesize (frame_max): bytes, or KB/MB/GB as powers of 1024, as RabbitMQ reads it. */
function cuttlefishBytes(text: string): number {
  const m = /^(\d+)(kb|mb|gb)?$/i.exec(text);
  if (!m) throw new Error(`expected bytes, or a number with KB, MB or GB, got "${text}"`);
  const unit = { kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[m[2]?.toLowerCase() ?? ""] ?? 1;
  return Number(m[1]) * unit;
}

/** `true` or `false` as rabbitmq.conf writes them; environment variables may say yes/no/1/0. */
function bool(text: string): boolean {
  const t = text.toLowerCase();
  if (t === "true" || t === "yes" || t === "1") return true;
  if (t === "false" || t === "no" || t === "0") return false;
  throw new Error(`expected true or false, got "${text}"`);
}

/** One of the words given. */
function oneOf<W extends string>(...words: W[]) {
  return (text: string): W => {
    if ((words as string[]).includes(text)) return text as W;
    throw new Error(`expected ${words.length > 1 ? `one of ${words.join(", ")}` : words[0]}, got "${text}"`);
  };
}

/**
 * A listener: a port (5672), or an IP address and port as cuttlefish's ip type reads them
 * (127.0.0.1:5672, ::1:5672, :::5672); [::1]:5672 is accepted too.
 */
function listener(text: string): Listener {
  if (/^\+?\d+$/.test(text)) return { port: port(text) };
  const colon = text.lastIndexOf(":");
  const host = text.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  if (colon < 0 || isIP(host) === 0)
    throw new Error(`expected a port or IP:port such as 127.0.0.1:5672, got "${text}"`);
  return { host, port: port(text.slice(colon + 1)) };
}

/** An address to bind: an IP address, or a host name that resolves to one. */
function address(text: string): string {
  if (isIP(text) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(text))
    throw new Error(`expected an IP address or host name, got "${text}"`);
  return text;
}

/** A file that exists and can be read now (RabbitMQ's file_accessible validator). */
function readableFile(text: string): string {
  try {
    accessSync(text, constants.R_OK);
  } catch {
    throw new Error(`file "${text}" does not exist or cannot be read`);
  }
  return text;
}

/** A comma-separated list ("administrator,monitoring"); "none" or "" is the empty list. */
function list(text: string): string[] {
  if (text === "none") return [];
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/**
 * The value parsers of the settings table: each takes the text of a flag, an environment
 * variable or a config file value and returns the value, or throws an Error whose message says
 * what was expected (the caller names the setting and where it came from). Values RabbitMQ
 * accepts parse to what RabbitMQ makes of them; a few more are accepted where the meaning is
 * plain (sizes with decimals, `yes` for true).
 */
export const parsers = {
  port,
  listener,
  address,
  readableFile,
  list,
  bool,
  oneOf,
  size,
  cuttlefishBytes,
  fraction,
  /** A non-empty string, taken as it is. */
  text: (text: string): string => text,
  /** disk_free_limit.relative: a multiple of the machine's memory, as RabbitMQ (e.g. 1.5). */
  memoryMultiple(text: string): number {
    const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
    if (!(n >= 0)) throw new Error(`expected a number such as 1.5, got "${text}"`);
    return Math.floor(n * totalmem());
  },
  /** The memory high watermark for --memory-high-watermark: a fraction, or else a size. */
  watermark(text: string): number {
    return /^\d+(\.\d+)?$/.test(text) && Number(text) <= 1 ? fraction(text) : size(text);
  },
  maxMessageSize(text: string): number {
    const n = size(text);
    if (n < 1 || n > MAX_MESSAGE_SIZE)
      throw new Error(`expected a size from 1 byte to 512MiB, got "${text}"`);
    return n;
  },
  /** connection_max: a count, or "infinity" (no limit). */
  connectionMax: integerOr(Infinity, 0, "a number of connections or infinity"),
  /** handshake_timeout in ms, or "infinity" (as long as a timer can wait: 24 days). */
  timeoutMs: integerOr(MAX_TIMER_MS, 1, "milliseconds or infinity"),
  positiveMs: (text: string): number => integer(text, 1, MAX_TIMER_MS, "a positive number of milliseconds"),
  heartbeat: (text: string): number => integer(text, 0, 65535, "seconds (0 turns heartbeats off)"),
  /** channel_max: 0 means no limit, which AMQP caps at 65535. */
  channelMax: (text: string): number => integer(text, 0, 65535, "a channel count (0 to 65535)") || 65535,
  /** frame_max: at least AMQP's 4096 bytes. */
  frameMax(text: string): number {
    const n = cuttlefishBytes(text);
    if (n < 4096 || n > 2 ** 32 - 1) throw new Error(`expected a frame size from 4096 bytes, got "${text}"`);
    return n;
  },
  /** ssl_options.verify: verify_peer or verify_none (or true / false). */
  verify(text: string): boolean {
    return text === "verify_peer" ? true : text === "verify_none" ? false : bool(text);
  },
  logLevel(text: string): LogThreshold {
    const level = LEVELS[text];
    if (level === undefined) throw new Error(`expected debug, info, warning, error or none, got "${text}"`);
    return level;
  },
  /** log.file: a path, or false for none. */
  logFile: (text: string): string | undefined => (text === "false" ? undefined : text),
} as const;
