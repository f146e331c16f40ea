import { NoSuchMethod, UnsupportedVersion } from "./errors.js";
import { Target, type TargetFields, versionIsCompatible } from "./target.js";
import { type Context, isObject, type RawMessage } from "./wire.js";

/**
 * An RPC endpoint: an object whose methods take `(ctxt, kwargs)` and return a value or a
 * promise of one (JSON-serializable). Its optional `target` gives the namespace and version
 * its methods implement (default: the null namespace, version 1.0).
 *
 * @example
 *   class Calculator {
 *     target = new Target({ namespace: "calc", version: "1.2" });
 *     add(_ctxt: Context, { a, b }: { a: number; b: number }) { return a + b; }
 *   }
 */
export type Endpoint = object & { target?: Target | TargetFields };

/** The endpoint methods RPC may call: public methods (no leading "_"), as oslo's default policy. */
export type AccessPolicy = (endpoint: object, method: string) => boolean;

/** oslo's DefaultRPCAccessPolicy: methods whose name starts with "_" are private. */
export const defaultAccessPolicy: AccessPolicy = (_endpoint, method) => !method.startsWith("_");

type Method = (ctxt: Context, kwargs: Record<string, unknown>) => unknown;

const DEFAULT_TARGET = new Target();

/**
 * Finds the endpoint method for a request, as oslo's RPCDispatcher: the first endpoint whose
 * target accepts the request's namespace at a compatible version and has the method. If a
 * compatible endpoint exists but none has the method: NoSuchMethod; if none is compatible:
 * UnsupportedVersion.
 */
export class RPCDispatcher {
  private readonly endpoints: readonly { endpoint: object; target: Target }[];

  constructor(
    endpoints: readonly Endpoint[],
    private readonly accessPolicy: AccessPolicy = defaultAccessPolicy,
  ) {
    this.endpoints = endpoints.map((endpoint) => {
      const t = endpoint.target;
      if (t !== undefined && !isObject(t)) {
        throw new TypeError(
          "'target' is a reserved Endpoint attribute used for namespace and version filtering. " +
            "It must be a Target.",
        );
      }
      return { endpoint, target: t === undefined ? DEFAULT_TARGET : t instanceof Target ? t : new Target(t) };
    });
  }

  /** Runs the method the message names with its args; resolves with its return value. */
  async dispatch(message: RawMessage, ctxt: Context): Promise<unknown> {
    const method = String(message.method);
    const args = message.args ?? {};
    if (!isObject(args)) throw new TypeError("RPC message args must be a JSON object");
    const namespace = typeof message.namespace === "string" ? message.namespace : undefined;
    const version = typeof message.version === "string" ? message.version : "1.0";
    let foundCompatible = false;
    for (const { endpoint, target } of this.endpoints) {
      if (!target.acceptedNamespaces.includes(namespace)) continue;
      if (!versionIsCompatible(target.version ?? "1.0", version)) continue;
      const fn = findMethod(endpoint, method);
      if (fn && this.accessPolicy(endpoint, method)) return await fn.call(endpoint, ctxt, args);
      foundCompatible = true;
    }
    if (foundCompatible) throw new NoSuchMethod(method);
    throw new UnsupportedVersion(version, method);
  }
}

/**
 * The function property `name` of the endpoint or its prototypes, short of Object.prototype
 * (toString, hasOwnProperty, … are no RPC methods), and never the constructor or target.
 */
function findMethod(endpoint: object, name: string): Method | undefined {
  if (name === "constructor" || name === "target") return undefined;
  for (
    let o: object | null = endpoint;
    o && o !== Object.prototype;
    o = Object.getPrototypeOf(o) as object | null
  ) {
    const d = Object.getOwnPropertyDescriptor(o, name);
    if (d) return typeof d.value === "function" ? (d.value as Method) : undefined;
  }
  return undefined;
}
