import { readFileSync } from "node:fs";
import type tls from "node:tls";
import type { ConnectOptions } from "./connection-types.js";
import { memoryBrokerName, memoryTransport } from "./memory-transport.js";

/**
 * Parses an AMQP URI (https://www.rabbitmq.com/docs/uri-spec) into connect options:
 * `amqp[s]://user:pass@host:port/vhost?heartbeat=10&frame_max=131072&channel_max=2047&connection_timeout=5000`.
 *
 * Also the TLS and SASL query parameters of RabbitMQ's URI query-parameter guide:
 * `auth_mechanism=external` (or `plain`); for amqps, `cacertfile`, `certfile`, `keyfile`
 * (PEM files, read here, synchronously), `verify=verify_none` (accept any server certificate)
 * or `verify_peer` (the default), and `server_name_indication` (SNI host name).
 *
 * User, password and vhost are percent-decoded ("%2f" is "/"). A missing or empty path means
 * the vhost "/", as pika does, rather than the empty vhost of the URI spec: nobody means the
 * empty vhost when they write `amqp://host/`.
 *
 * `memory://[name][/vhost]` is a Warren broker embedded in this process, one per name (none
 * and "localhost" are the same broker), started on first use; see docs/memory-transport.md.
 * It takes the same query parameters; user, password and port are refused.
 */
export function parseUrl(url: string): ConnectOptions {
  const u = new URL(url);
  const scheme = u.protocol.replace(/:$/, "");
  if (scheme !== "amqp" && scheme !== "amqps" && scheme !== "memory")
    throw new TypeError(`not an AMQP URL: ${url}`);
  const opts: ConnectOptions = { protocol: scheme };
  if (scheme === "memory" && (u.port || u.username || u.password))
    throw new TypeError(`a memory:// URL names a broker and a vhost, no port or credentials: ${url}`);
  // WHATWG URL keeps IPv6 literals bracketed; net.connect wants them bare.
  if (u.hostname) opts.hostname = u.hostname.replace(/^\[(.*)\]$/, "$1");
  if (u.port) opts.port = Number(u.port);
  if (u.username) opts.username = decodeURIComponent(u.username);
  if (u.password) opts.password = decodeURIComponent(u.password);
  const path = u.pathname.replace(/^\//, "");
  opts.vhost = path ? decodeURIComponent(path) : "/";
  const q = u.searchParams;
  const num = (name: string): number | undefined => {
    const v = q.get(name);
    if (v === null) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new TypeError(`bad ${name} in AMQP URL: ${v}`);
    return n;
  };
  const heartbeat = num("heartbeat");
  if (heartbeat !== undefined) opts.heartbeat = heartbeat;
  const frameMax = num("frame_max");
  if (frameMax !== undefined) opts.frameMax = frameMax;
  const channelMax = num("channel_max");
  if (channelMax !== undefined) opts.channelMax = channelMax;
  const timeout = num("connection_timeout");
  if (timeout !== undefined) opts.connectionTimeout = timeout;
  const mech = q.get("auth_mechanism");
  if (mech !== null) {
    const m = mech.toUpperCase();
    if (m !== "PLAIN" && m !== "EXTERNAL")
      throw new TypeError(`unsupported auth_mechanism in AMQP URL: ${mech}`);
    opts.authMechanism = m;
  }
  const t: tls.ConnectionOptions = {};
  const file = (name: string): Buffer | undefined => {
    const path = q.get(name);
    return path === null ? undefined : readFileSync(path);
  };
  const ca = file("cacertfile");
  if (ca) t.ca = ca;
  const cert = file("certfile");
  if (cert) t.cert = cert;
  const key = file("keyfile");
  if (key) t.key = key;
  const verify = q.get("verify");
  if (verify !== null) {
    if (verify !== "verify_none" && verify !== "verify_peer")
      throw new TypeError(`bad verify in AMQP URL: ${verify}`);
    t.rejectUnauthorized = verify === "verify_peer";
  }
  const sni = q.get("server_name_indication");
  if (sni !== null) t.servername = sni;
  if (Object.keys(t).length > 0) opts.tls = t;
  if (scheme === "memory") {
    opts.hostname = memoryBrokerName(u.hostname);
    opts.transport = memoryTransport(opts.hostname, opts.vhost ?? "/");
  }
  return opts;
}
