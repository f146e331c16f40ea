import { parseArgs } from "node:util";
import { type ConfEntry, readConfFile } from "./conf-file.js";
import { ConfigError } from "./config-error.js";
import type { ConfKey, Setting, SettingValue } from "./setting.js";
import { SETTINGS, type SettingsTable } from "./settings.js";
import { parsers } from "./value-parsers.js";

/** Where a resolved value came from. */
export type SettingSource = "flag" | "env" | "file" | "default";

/** The resolved settings: every value, where each came from, and how to name each in a message. */
export interface ResolvedSettings {
  values: { [K in keyof SettingsTable]: SettingValue<SettingsTable[K]> };
  sources: { [K in keyof SettingsTable]: SettingSource };
  /** "--tls-cert (ssl_options.certfile)": how a message names a setting, whatever its source. */
  describe(name: keyof SettingsTable): string;
}

type AnySetting = Setting<unknown>;
type Name = keyof SettingsTable;

/** A config line matched to its setting: the value parsed, and the key's priority. */
interface FileValue {
  entry: ConfEntry;
  rank: number;
  value: unknown;
  /** For a `.*` family: the name after the prefix. */
  member?: string;
}

const table = SETTINGS as unknown as Record<Name, AnySetting>;
const names = Object.keys(SETTINGS) as Name[];

/**
 * Resolves `warren server`'s settings from its arguments, the environment and the config file
 * (`--config` / WARREN_CONFIG), with flags over environment over file over defaults. Every
 * value is parsed by its setting's parser whatever its source; anything wrong throws a
 * ConfigError naming the flag, the variable, or the file's line and key. An empty environment
 * variable counts as unset.
 */
export function resolveSettings(argv: string[], env: NodeJS.ProcessEnv): ResolvedSettings {
  const options: Record<string, { type: "string" | "boolean" }> = {};
  for (const n of names) {
    const s = table[n];
    if (s.flag) options[s.flag] = { type: s.boolean ? "boolean" : "string" };
  }
  const { values: flags } = parseArgs({ args: argv, options, strict: true });
  const fromFlag = (s: AnySetting): string | undefined => {
    const v = s.flag === undefined ? undefined : flags[s.flag];
    return v === undefined ? undefined : String(v);
  };
  const fromEnv = (s: AnySetting): string | undefined => (s.env ? env[s.env] || undefined : undefined);
  const configText = fromFlag(table.config) ?? fromEnv(table.config);
  const file = configText === undefined ? new Map<Name, FileValue[]>() : readSettingsFile(configText);

  const values = {} as Record<Name, unknown>;
  const sources = {} as Record<Name, SettingSource>;
  for (const n of names) {
    const s = table[n];
    const flag = fromFlag(s);
    const envText = flag === undefined ? fromEnv(s) : undefined;
    if (flag !== undefined) values[n] = parseOrThrow(s.parse, flag, `--${s.flag}`);
    else if (envText !== undefined) values[n] = parseOrThrow(s.parse, envText, s.env!);
    else if (file.has(n)) values[n] = fileValue(s, file.get(n)!, configText!);
    else values[n] = s.default;
    sources[n] =
      flag !== undefined ? "flag" : envText !== undefined ? "env" : file.has(n) ? "file" : "default";
  }
  return {
    values: values as ResolvedSettings["values"],
    sources: sources as ResolvedSettings["sources"],
    describe: (n) => describe(table[n]),
  };
}

function parseOrThrow<T>(parse: (text: string) => T, text: string, where: string): T {
  try {
    return parse(text);
  } catch (e) {
    throw new ConfigError(`${where}: ${(e as Error).message}`);
  }
}

/** Reads the config file: each line matched to its setting and parsed. */
function readSettingsFile(path: string): Map<Name, FileValue[]> {
  const exact = new Map<string, { name: Name; key: ConfKey<unknown>; rank: number }>();
  const families = new Map<string, { name: Name; key: ConfKey<unknown>; rank: number }>();
  for (const name of names) {
    table[name].keys?.forEach((key, rank) => {
      if (key.key.endsWith(".*")) families.set(key.key.slice(0, -2), { name, key, rank });
      else exact.set(key.key, { name, key, rank });
    });
  }
  const found = new Map<Name, FileValue[]>();
  for (const entry of readConfFile(path)) {
    const dot = entry.key.lastIndexOf(".");
    const family = dot < 0 ? undefined : families.get(entry.key.slice(0, dot));
    const match = exact.get(entry.key) ?? family;
    const where = `${path}, line ${entry.line}: ${entry.key}`;
    if (!match)
      throw new ConfigError(`${path}, line ${entry.line}: unknown key '${entry.key}'${hint(entry.key)}`);
    // A family's members say true or false; other lines are parsed as their setting's values.
    const parse = match.key.members ? parsers.bool : (match.key.parse ?? table[match.name].parse);
    const value = parseOrThrow(parse, entry.value, where);
    const list = found.get(match.name) ?? [];
    list.push({
      entry,
      rank: match.rank,
      value,
      ...(match === family ? { member: entry.key.slice(dot + 1) } : {}),
    });
    found.set(match.name, list);
  }
  return found;
}

/**
 * A setting's value from its lines: members of a family make a list; otherwise the key of
 * highest priority, its last line. A single-valued family (listeners.tcp.*) takes one name.
 */
function fileValue(s: AnySetting, lines: FileValue[], path: string): unknown {
  const best = Math.min(...lines.map((l) => l.rank));
  const ranked = lines.filter((l) => l.rank === best);
  const key = s.keys![best]!;
  if (key.members) {
    const on = new Map<string, boolean>();
    for (const l of ranked) on.set(l.member!, l.value as boolean);
    return s.parse(
      [...on]
        .filter(([, v]) => v)
        .map(([m]) => m)
        .join(","),
    );
  }
  const last = ranked[ranked.length - 1]!;
  const other = ranked.find((l) => l.member !== last.member);
  if (other)
    throw new ConfigError(
      `${path}, line ${last.entry.line}: ${last.entry.key}: Warren has one listener of this kind, and line ${other.entry.line} already sets ${other.entry.key}`,
    );
  return last.value;
}

/** Known keys with the same last word, as a suggestion ("log.level": log.default.level...). */
function hint(key: string): string {
  const last = key.slice(key.lastIndexOf(".") + 1);
  const near = names
    .flatMap((n) => table[n].keys?.map((k) => k.key) ?? [])
    .filter((k) => k.slice(k.lastIndexOf(".") + 1) === last);
  return near.length > 0 ? ` (known keys: ${near.join(", ")})` : " (see docs/configuration.md)";
}

/** "--tls-cert (ssl_options.certfile)": the flag, then the config keys (or the key alone). */
function describe(s: AnySetting): string {
  const keys = (s.keys ?? []).map((k) => k.key).join(", ");
  return s.flag ? `--${s.flag}${keys ? ` (${keys})` : ""}` : keys;
}
