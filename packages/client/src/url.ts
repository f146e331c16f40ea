import type { ConnectOptions } from "./connection.js";

/**
 * Parses an AMQP URI (https://www.rabbitmq.com/docs/uri-spec) into connect options:
 * `amqp[s]://user:pass@host:port/vhost?heartbeat=10&frame_max=131072&channel_max=2047&connection_timeout=5000`.
 *
 * User, password and vhost are percent-decoded ("%2f" is "/"). A missing or empty path means
 * the vhost "/", as pika does, rather than the empty vhost of the URI spec: nobody means the
 * empty vhost when they write `amqp://host/`.
 */
export function parseUrl(url: string): ConnectOptions {
  const u = new URL(url);
  const scheme = u.protocol.replace(/:$/, "");
  if (scheme !== "amqp" && scheme !== "amqps") throw new TypeError(`not an AMQP URL: ${url}`);
  const opts: ConnectOptions = { protocol: scheme };
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
  return opts;
}
