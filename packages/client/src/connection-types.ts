import type { Duplex } from "node:stream";
import type tls from "node:tls";
import { type FieldTable, replyCodeName } from "@warren/protocol";
import type { ChannelOptions } from "./channel-types.js";

/** The client library's version, sent in client-properties. */
export const CLIENT_VERSION = "0.1.0";

/**
 * Where and how to connect. Every field has a default; see also parseUrl. The ChannelOptions
 * (timeouts, publish window) are the defaults of every channel of the connection.
 */
export interface ConnectOptions extends ChannelOptions {
  /**
   * "amqps" connects with TLS. "memory" (what parseUrl makes of memory:// URLs) connects to
   * the broker named `hostname` embedded in this process, see docs/memory-transport.md.
   * Default "amqp".
   */
  protocol?: "amqp" | "amqps" | "memory";
  /** Default "localhost". */
  hostname?: string;
  /** Default 5672 (5671 for amqps). */
  port?: number;
  /** Default "guest". */
  username?: string;
  /** Default "guest". */
  password?: string;
  /** Default "/". */
  vhost?: string;
  /**
   * Requested heartbeat interval in seconds. Unset: take the server's. 0: no heartbeats.
   * Otherwise the lower of this and the server's (or this one if the server proposes 0).
   */
  heartbeat?: number;
  /** Largest frame we accept, in bytes. Default 131072; the lower of ours and the server's wins. */
  frameMax?: number;
  /** Highest channel number. Default 2047; the lower of ours and the server's wins. */
  channelMax?: number;
  /** Milliseconds for TCP connect plus the AMQP handshake. Default 10000. */
  connectionTimeout?: number;
  /** Shown by the broker's management tools (client property connection_name). */
  connectionName?: string;
  /** Extra client properties, merged over the defaults. */
  clientProperties?: FieldTable;
  /**
   * TLS options for amqps, passed to Node's tls.connect: `ca` (PEM of the CA that signed the
   * server's certificate, when it is not a public one), `cert` and `key` (a client certificate,
   * for brokers that verify peers and for EXTERNAL), `servername` (SNI and the name the server
   * certificate must match; default: the hostname unless it is an IP address) and
   * `rejectUnauthorized` (default true; false accepts any server certificate, for tests only).
   * Host and port come from the fields above.
   */
  tls?: tls.ConnectionOptions;
  /**
   * SASL mechanism: "PLAIN" (username and password, the default) or "EXTERNAL" (the broker
   * takes the user name from the TLS client certificate, given in `tls.cert` / `tls.key`;
   * username and password are not sent). URL: `?auth_mechanism=external`.
   */
  authMechanism?: "PLAIN" | "EXTERNAL";
  /**
   * TCP keep-alive: true, or the idle milliseconds before the first probe (true: 60000).
   * Default off: heartbeats already detect a dead peer; keep-alive also keeps idle NAT and
   * firewall entries from expiring when heartbeats are off.
   */
  keepAlive?: boolean | number;
  /**
   * Opens the byte stream the connection speaks AMQP over, instead of a TCP (or TLS)
   * connection to hostname and port (which are then not used): e.g.
   * `() => broker.connectInProcess()` for a Warren broker embedded in this process. Called
   * once per connection attempt (again on each reconnect); the stream must be connected
   * already. memory:// URLs set it (see docs/memory-transport.md).
   */
  transport?: () => Duplex | Promise<Duplex>;
}

/** Events of a Connection. */
export type ConnectionEvents = {
  /**
   * The connection failed: a server connection.close (ConnectionError with the reply code),
   * a protocol error, or the socket was lost (ClosedError). Emitted only when someone listens,
   * so that an unobserved failure does not crash the process (it becomes a process warning
   * instead); 'close' always follows.
   */
  error: [err: Error];
  /** The connection is closed; `err` is undefined after a clean close(). */
  close: [err: Error | undefined];
  /** The server stopped reading from us (resource alarm); publishes should pause. */
  blocked: [reason: string];
  /** The server reads from us again. */
  unblocked: [];
  /** Buffered output has drained below the high-water mark after publish() returned false. */
  drain: [];
};

/** @internal Strips the "NAME - " prefix RabbitMQ puts in reply texts, since AmqpError adds it back. */
export function replyTextBody(code: number, text: string): string {
  const prefix = `${replyCodeName(code)} - `;
  return text.startsWith(prefix) ? text.slice(prefix.length) : text;
}
