/** The fields of a Target; every one is optional, what is required depends on the use. */
export interface TargetFields {
  /** A scope for topics; default: the transport's control exchange ("openstack"). */
  exchange?: string | undefined;
  /** The set of interfaces a server exposes; required to send and to serve. */
  topic?: string | undefined;
  /** The RPC interface (set of methods); undefined is the null namespace. */
  namespace?: string | undefined;
  /** "major.minor": what a client needs, or what an endpoint implements. */
  version?: string | undefined;
  /** One server of the topic: a client sends to it alone; a server listens as it. */
  server?: string | undefined;
  /** A cast to every server of the topic. */
  fanout?: boolean | undefined;
  /** Namespaces an endpoint accepts besides `namespace` (for renaming during upgrades). */
  legacyNamespaces?: readonly string[] | undefined;
}

/**
 * Where a message goes or what a server or endpoint accepts, as oslo.messaging's Target:
 * a client sends to `topic` (one server of it, the one named `server`, or all of them with
 * `fanout`) on `exchange`; a server listens on `topic` as `server`; an endpoint's target
 * gives the `namespace` and `version` of the methods it implements.
 *
 * @example
 *   const target = new Target({ topic: "compute", version: "2.0" });
 *   const one = target.with({ server: "host-1" });
 */
export class Target implements TargetFields {
  readonly exchange: string | undefined;
  readonly topic: string | undefined;
  readonly namespace: string | undefined;
  readonly version: string | undefined;
  readonly server: string | undefined;
  readonly fanout: boolean | undefined;
  readonly legacyNamespaces: readonly string[];

  constructor(fields: TargetFields = {}) {
    this.exchange = fields.exchange;
    this.topic = fields.topic;
    this.namespace = fields.namespace;
    this.version = fields.version;
    this.server = fields.server;
    this.fanout = fields.fanout;
    this.legacyNamespaces = fields.legacyNamespaces ?? [];
  }

  /** The namespaces an endpoint with this target serves: its own, then the legacy ones. */
  get acceptedNamespaces(): readonly (string | undefined)[] {
    return [this.namespace, ...this.legacyNamespaces];
  }

  /** A copy with some fields replaced (oslo's `target(**kwargs)`). */
  with(overrides: TargetFields): Target {
    return new Target({ ...this.fields(), ...overrides });
  }

  /** As oslo prints targets: `<Target topic=compute, server=host-1>`. */
  toString(): string {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(this.fields())) {
      if (k !== "legacyNamespaces" && v) parts.push(`${k}=${String(v)}`);
    }
    return `<Target ${parts.join(", ")}>`;
  }

  private fields(): TargetFields {
    return {
      exchange: this.exchange,
      topic: this.topic,
      namespace: this.namespace,
      version: this.version,
      server: this.server,
      fanout: this.fanout,
      legacyNamespaces: this.legacyNamespaces,
    };
  }
}

/**
 * oslo's version_is_compatible: can an implementation at `impVersion` serve a request for
 * `version`? Same major, and a minor (then revision) no higher than implemented. An
 * undefined implemented version accepts everything; an undefined request matches nothing.
 */
export function versionIsCompatible(impVersion: string | undefined, version: string | undefined): boolean {
  if (impVersion === undefined) return true;
  if (version === undefined) return false;
  const [major, minor, rev = 0] = parseVersion(version);
  const [impMajor, impMinor, impRev = 0] = parseVersion(impVersion);
  if (major !== impMajor) return false;
  if (minor! > impMinor!) return false;
  return !(minor === impMinor && rev > impRev);
}

/** "2.1" → [2, 1]; throws a TypeError on anything without integer major and minor parts. */
export function parseVersion(version: string): number[] {
  const parts = version.split(".").map((p) => (/^\s*[+-]?\d+\s*$/.test(p) ? Number(p) : NaN));
  if (parts.length < 2 || parts.slice(0, 3).some((n) => Number.isNaN(n))) {
    throw new TypeError(`Version must contain a major and minor integer. Got ${version}`);
  }
  return parts;
}
