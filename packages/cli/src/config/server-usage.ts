import type { Setting } from "./setting.js";
import { SETTINGS } from "./settings.js";

const COLUMN = 30;
const WIDTH = 100;

/** A setting's default as the usage text shows it. */
function shown(s: Setting<unknown>): string | undefined {
  if (s.shownDefault !== undefined) return s.shownDefault;
  if (s.default === undefined || s.default === false) return undefined;
  return Array.isArray(s.default) ? s.default.join(",") : String(s.default);
}

/**
 * The usage text of `warren server`, written from the settings table: each flag with its help,
 * default, environment variable and config file keys. Settings that only the config file sets
 * are listed by key at the end.
 */
export function serverUsage(): string {
  const all = Object.values(SETTINGS) as Setting<unknown>[];
  const lines = [
    "usage: warren server [options]",
    "",
    "Each setting comes from its flag, else its environment variable, else the config file",
    "(--config, rabbitmq.conf syntax), else its default. See docs/configuration.md.",
    "",
  ];
  for (const s of all) {
    if (!s.flag) continue;
    const name = `  --${s.flag}${s.arg ? ` ${s.arg}` : ""}`;
    const def = shown(s);
    if (name.length < COLUMN) lines.push(`${name.padEnd(COLUMN)}${s.help}`);
    else lines.push(name, `${" ".repeat(COLUMN)}${s.help}`);
    const keys = s.keys && `conf ${s.keys.map((k) => k.key).join(", ")}`;
    const where = [def !== undefined && `default ${def}`, s.env && `env ${s.env}`, keys].filter(Boolean);
    // Within 100 columns: the config keys get a line of their own when they do not fit.
    if (keys && COLUMN + where.join("; ").length > WIDTH) where.pop();
    lines.push(`${" ".repeat(COLUMN)}${where.join("; ")}`);
    if (keys && !where.includes(keys)) lines.push(`${" ".repeat(COLUMN)}${keys}`);
  }
  lines.push("", "Config file only:");
  for (const s of all) {
    if (s.flag || !s.keys) continue;
    const def = shown(s);
    lines.push(
      `  ${s.keys.map((k) => k.key).join(", ")}: ${s.help}${def !== undefined ? ` (default ${def})` : ""}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
