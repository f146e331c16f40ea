import { readFileSync } from "node:fs";
import { ConfigError } from "./config-error.js";

/** One `key = value` line of a config file. */
export interface ConfEntry {
  key: string;
  value: string;
  /** 1-based line number, for messages. */
  line: number;
}

/** Dot-separated segments of letters, digits, `_` and `-`, as cuttlefish's grammar allows. */
const LINE = /^([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)\s*=\s*(.*)$/;

/**
 * Reads a config file in rabbitmq.conf's syntax (cuttlefish's, as RabbitMQ 3.10.8 parses it):
 * one `key = value` per line, spaces around `=` optional, `#` starts a comment anywhere (so a
 * value cannot hold one, as in RabbitMQ), blank lines ignored, the value taken verbatim up to
 * the comment (quotes are part of it). A line that is not `key = value`, or has an empty value,
 * is refused with its number. Repeated keys are returned in order; the last one wins.
 */
export function readConfFile(path: string): ConfEntry[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  const entries: ConfEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const hash = raw.indexOf("#");
    const content = (hash < 0 ? raw : raw.slice(0, hash)).trim();
    if (content === "") return;
    const m = LINE.exec(content);
    if (!m || m[2] === "")
      throw new ConfigError(`${path}, line ${i + 1}: expected "key = value", got "${content}"`);
    entries.push({ key: m[1]!, value: m[2]!, line: i + 1 });
  });
  return entries;
}
