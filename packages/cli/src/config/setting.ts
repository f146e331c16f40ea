/** A config file key of a setting, with its own parser when it reads differently from the flag. */
export interface ConfKey<T> {
  /**
   * The rabbitmq.conf key. A key ending in `.*` is a family: `listeners.tcp.*` takes one line
   * under any name (listeners.tcp.default = 5672); with `members`, every
   * `default_user_tags.<name> = true` line adds <name> to the list.
   */
  key: string;
  parse?: (text: string) => T;
  /** For a `.*` family: the names whose value is true make a comma-separated list for parse. */
  members?: boolean;
}

/**
 * One setting of `warren server`: where it may come from (a flag, an environment variable,
 * config file keys), how its text is parsed, and its default. The table of these
 * (SETTINGS) drives flag parsing, the environment, the config file and the usage text.
 */
export interface Setting<T, D extends T | undefined = T | undefined> {
  /** `--flag` without its dashes. */
  flag?: string;
  /** The flag takes no value (it means true). */
  boolean?: boolean;
  /** The flag's value in the usage text (PORT, FILE...). */
  arg?: string;
  env?: string;
  /** Config file keys, the first present winning (RabbitMQ's rule for .relative/.absolute). */
  keys?: readonly ConfKey<T>[];
  parse: (text: string) => T;
  default: D;
  /** The default as the usage text shows it, when not the value itself. */
  shownDefault?: string;
  /** One line for the usage text and docs/configuration.md. */
  help: string;
}

/** The value a setting resolves to: its parser's type, or undefined too when it has no default. */
export type SettingValue<S> =
  S extends Setting<infer T, infer D> ? (D extends undefined ? T | undefined : T) : never;

/** A setting as declared: `keys` may name config keys as plain strings. */
type Declared<T> = Omit<Setting<T>, "keys" | "default"> & { keys?: readonly (string | ConfKey<T>)[] };

/** Declares a setting with a default: its value is never undefined. */
export function setting<T>(s: Declared<T> & { default: NoInfer<T> }): Setting<T, T>;
/** Declares a setting without a default: its value is undefined when nothing sets it. */
export function setting<T>(s: Declared<T>): Setting<T, undefined>;
export function setting<T>(s: Declared<T> & { default?: T }): Setting<T> {
  const { keys, ...rest } = s;
  return {
    ...rest,
    default: s.default,
    ...(keys ? { keys: keys.map((k) => (typeof k === "string" ? { key: k } : k)) } : {}),
  };
}
