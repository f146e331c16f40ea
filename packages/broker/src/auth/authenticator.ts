import { readTable } from "@warren/protocol";
import type { TlsPeer } from "../net/tls-peer.js";
import type { LoginFailureLog } from "./login-failures.js";
import type { User, UserStore } from "./users.js";

/** Loopback peers; "in-process" (Broker.connectInProcess) is as local as a peer gets. */
const LOOPBACK = /^(127\.|::1$|::ffff:127\.|in-process$)/;

/**
 * Who a connection.start-ok logs in as: PLAIN and AMQPLAIN check the password; EXTERNAL (TLS
 * only) takes the verified client certificate's CN as the user name, which must exist, and
 * checks no password, as RabbitMQ's rabbitmq_auth_mechanism_ssl. Loopback-only users (guest)
 * are refused from other addresses, and every refusal goes to the rate-limited failure log.
 */
export class Authenticator {
  constructor(
    private readonly users: UserStore,
    /** Users that may only connect from localhost, as RabbitMQ's loopback_users. */
    private readonly loopbackUsers: ReadonlySet<string>,
    private readonly failures: LoginFailureLog,
  ) {}

  /** The user, or undefined when the login is refused. */
  authenticate(
    mechanism: string,
    response: Buffer,
    remoteAddress: string | undefined,
    peer?: TlsPeer,
  ): User | undefined {
    const from = remoteAddress ?? "unknown";
    if (mechanism === "EXTERNAL") {
      // No verified certificate (plaintext, none sent, or verifyPeer off: RabbitMQ calls the
      // last "unsafe") or no CN: refused like a wrong password. The response is ignored.
      const name = peer?.verifiedCommonName;
      const user = name === undefined ? undefined : this.users.users.get(name);
      if (!user || this.loopbackRefused(user.name, remoteAddress)) {
        const reason = name === undefined ? "no verified client certificate" : "not allowed";
        this.failures.failed(from, name, mechanism, reason);
        return undefined;
      }
      return user;
    }
    const [name, password] = credentials(mechanism, response);
    if (name === undefined || password === undefined) {
      this.failures.failed(from, name, mechanism, "malformed or unsupported credentials");
      return undefined;
    }
    if (this.loopbackRefused(name, remoteAddress)) {
      this.failures.failed(from, name, mechanism, "user may only connect via localhost");
      return undefined;
    }
    const user = this.users.authenticate(name, password);
    if (!user) {
      const reason = this.users.users.has(name) ? "invalid credentials" : "no such user";
      this.failures.failed(from, name, mechanism, reason);
    }
    return user;
  }

  /** A password check without a mechanism or a failure log (the management API's logins). */
  login(name: string, password: string, remoteAddress: string | undefined): User | undefined {
    return this.loopbackRefused(name, remoteAddress) ? undefined : this.users.authenticate(name, password);
  }

  private loopbackRefused(name: string, remoteAddress: string | undefined): boolean {
    return this.loopbackUsers.has(name) && !LOOPBACK.test(remoteAddress ?? "");
  }
}

/** User name and password from a PLAIN or AMQPLAIN response; undefined parts when malformed. */
function credentials(mechanism: string, response: Buffer): [string | undefined, string | undefined] {
  if (mechanism === "PLAIN") {
    const parts = response.toString("utf8").split("\u0000");
    return parts.length === 3 ? [parts[1], parts[2]] : [undefined, undefined];
  }
  if (mechanism === "AMQPLAIN") {
    try {
      const t = readTable(response, 0, response.length);
      return [
        typeof t.LOGIN === "string" ? t.LOGIN : undefined,
        typeof t.PASSWORD === "string" ? t.PASSWORD : undefined,
      ];
    } catch {
      return [undefined, undefined];
    }
  }
  return [undefined, undefined];
}
