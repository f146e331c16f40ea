import { ReplyCode } from "@warren/protocol";
import type { Logger } from "../logger.js";
import type { Connection } from "./connection.js";

/**
 * The log lines of a connection's life, worded as RabbitMQ 3.10.8 words them: "accepting AMQP
 * connection" when its first bytes arrive (a TCP health check that sends nothing logs nothing,
 * as in RabbitMQ), "user 'u' authenticated and granted access to vhost 'v'" at connection.open,
 * and one "closing AMQP connection" line with the reason. Fields: connection (RabbitMQ's name,
 * "peer -> local"), peer, user, vhost, reason and reply_code. A few lines per connection and
 * nothing per message.
 *
 * Levels as RabbitMQ's: info for a normal close (and a refused login, whose failure has its own
 * rate-limited line), warning for a client that vanished, a handshake timeout or a forced close
 * (320), error for a connection error the broker raised.
 */
export class ConnectionLog {
  /** Connections whose "accepting" line was written: only those get a closing line. */
  private readonly accepted = new WeakSet<Connection>();

  constructor(private readonly log: Logger) {}

  /** A connection was accepted: its "accepting" line waits for its first bytes. */
  watch(c: Connection): void {
    c.socket.once("data", () => {
      this.accepted.add(c);
      this.log.info(`accepting AMQP connection (${c.name})`, { connection: c.name, peer: peer(c) });
    });
  }

  /** c's connection.open to vhost was admitted: open-ok follows. */
  opened(c: Connection, vhost: string): void {
    const user = c.user?.name;
    this.log.info(
      `connection (${c.name}): user '${user}' authenticated and granted access to vhost '${vhost}'`,
      { connection: c.name, peer: peer(c), user, vhost },
    );
  }

  /** c is gone (torn down): one line with why. */
  closed(c: Connection): void {
    if (!this.accepted.has(c)) return;
    const user = c.user?.name;
    const vhost = c.vhost?.name;
    const r = c.closeReason;
    const reason = !r
      ? "client unexpectedly closed TCP connection"
      : r.by === "client"
        ? `client closed the connection${r.text ? ` (${r.text})` : ""}`
        : r.text;
    const level = !r
      ? "warn"
      : r.by === "client" || r.code === ReplyCode.ACCESS_REFUSED
        ? "info"
        : r.code === 0 || r.code === ReplyCode.CONNECTION_FORCED
          ? "warn"
          : "error";
    const who =
      (vhost === undefined ? "" : `, vhost: '${vhost}'`) + (user === undefined ? "" : `, user: '${user}'`);
    this.log[level](`closing AMQP connection (${c.name}${who}): ${reason}`, {
      connection: c.name,
      peer: peer(c),
      ...(user === undefined ? {} : { user }),
      ...(vhost === undefined ? {} : { vhost }),
      reason,
      ...(r && r.code !== 0 ? { reply_code: r.code } : {}),
    });
  }
}

function peer(c: Connection): string {
  return c.peerHost.includes(":") ? `[${c.peerHost}]:${c.peerPort}` : `${c.peerHost}:${c.peerPort}`;
}
