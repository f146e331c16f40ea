/**
 * A bad setting: an unknown key, a value that does not parse, a file that cannot be read. Its
 * message names where the setting came from (`--flag`, `ENV_VAR`, or the config file's line),
 * and `warren server` stops with it (exit code 2) before anything starts.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
}
