import { InvalidTransportURL } from "./errors.js";

/** One broker of a transport URL. */
export interface TransportHost {
  hostname: string | undefined;
  port: number | undefined;
  username: string | undefined;
  password: string | undefined;
}

/**
 * A parsed oslo.messaging transport URL:
 * `rabbit://user:pass@host:port[,user2:pass2@host2:port2]/virtual_host?option=value`.
 */
export interface TransportURL {
  /** The scheme: "rabbit" (or its alias "kombu"). */
  transport: string;
  /** The path after the first "/", percent-decoded; undefined without a path. */
  virtualHost: string | undefined;
  hosts: TransportHost[];
  /** Driver options given in the query (repeated names joined with ","). */
  query: Record<string, string>;
}

const URL_RE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#.*)?$/;

/**
 * Parses a transport URL as oslo's TransportURL.parse does: hosts separated by commas, each
 * with optional credentials and port (IPv6 literals in brackets), the virtual host from the
 * path, driver options from the query.
 *
 * @throws InvalidTransportURL when there is no scheme or a port is not a number
 */
export function parseTransportUrl(url: string): TransportURL {
  const m = URL_RE.exec(url);
  if (!m) throw new InvalidTransportURL(url, "No scheme specified");
  const [, scheme, netloc = "", path = "", search] = m;
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(search ?? "")) {
    query[k] = k in query ? `${query[k]},${v}` : v;
  }
  const hosts: TransportHost[] = [];
  for (const part of netloc.split(",")) {
    if (!part) continue;
    let hostname: string | undefined = part;
    let username: string | undefined;
    let password: string | undefined;
    let portText: string | undefined;
    const at = part.lastIndexOf("@");
    if (at >= 0) {
      const creds = part.slice(0, at);
      hostname = part.slice(at + 1);
      const colon = creds.indexOf(":");
      username = decodeURIComponent(colon >= 0 ? creds.slice(0, colon) : creds);
      if (colon >= 0) password = decodeURIComponent(creds.slice(colon + 1));
    }
    if (hostname.startsWith("[")) {
      const end = hostname.indexOf("]");
      if (end < 0) throw new InvalidTransportURL(url, "Invalid IPv6 URL");
      const rest = hostname.slice(end + 1);
      if (rest.startsWith(":")) portText = rest.slice(1);
      hostname = hostname.slice(1, end);
    } else if (hostname.includes(":")) {
      const colon = hostname.indexOf(":");
      portText = hostname.slice(colon + 1);
      hostname = hostname.slice(0, colon);
    }
    let port: number | undefined;
    if (portText) {
      if (!/^\d+$/.test(portText) || Number(portText) > 65535) {
        throw new InvalidTransportURL(url, `bad port ${JSON.stringify(portText)}`);
      }
      port = Number(portText);
    }
    hosts.push({ hostname: hostname || undefined, port, username, password });
  }
  return {
    transport: scheme!.toLowerCase(),
    virtualHost: path.startsWith("/") ? decodeURIComponent(path.slice(1)) : undefined,
    hosts,
    query,
  };
}
