/** The three permissions RabbitMQ checks on resources (rabbit_types:permission_atom). */
export const Access = { CONFIGURE: 0, WRITE: 1, READ: 2 } as const;
/** One of Access.CONFIGURE, WRITE, READ. */
export type Access = (typeof Access)[keyof typeof Access];

/** A user's configure / write / read regular expressions in one vhost, as in definitions. */
export interface Permission {
  configure: string;
  write: string;
  read: string;
}

/** A user's topic permission on one topic exchange of a vhost: regexes for routing keys. */
export interface TopicPermission {
  exchange: string;
  write: string;
  read: string;
}

/**
 * A pattern as RabbitMQ applies it (rabbit_auth_backend_internal): an empty string means "^$"
 * (nothing but the empty name), and the match is unanchored (re:run). A pattern JavaScript
 * cannot compile matches nothing, so a bad definition denies rather than allows.
 */
export function compilePattern(pattern: string): RegExp {
  try {
    return new RegExp(pattern === "" ? "^$" : pattern);
  } catch {
    return /(?!)/;
  }
}

/** Permission with its regexes compiled once, when it is set, never per check. */
export class CompiledPermission implements Permission {
  /** Indexed by Access. */
  readonly patterns: readonly [RegExp, RegExp, RegExp];

  constructor(
    readonly configure: string,
    readonly write: string,
    readonly read: string,
  ) {
    this.patterns = [compilePattern(configure), compilePattern(write), compilePattern(read)];
  }

  allows(access: Access, name: string): boolean {
    return this.patterns[access].test(name);
  }
}

/**
 * A topic permission compiled for one user and vhost. RabbitMQ expands the variables
 * {username} and {vhost} in the pattern (literally, not escaped) before matching the routing
 * key; both are fixed for a user's permission in a vhost, so the expansion happens here once.
 */
export class CompiledTopicPermission implements TopicPermission {
  private readonly writeRe: RegExp;
  private readonly readRe: RegExp;

  constructor(
    readonly exchange: string,
    readonly write: string,
    readonly read: string,
    user: string,
    vhost: string,
  ) {
    const expand = (p: string) => p.replaceAll("{username}", user).replaceAll("{vhost}", vhost);
    this.writeRe = compilePattern(expand(write));
    this.readRe = compilePattern(expand(read));
  }

  /** access: WRITE (publish routing keys) or READ (binding keys). */
  allows(access: Access, routingKey: string): boolean {
    return (access === Access.WRITE ? this.writeRe : this.readRe).test(routingKey);
  }
}
