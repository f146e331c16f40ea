import { randomBytes } from "node:crypto";
import { checkPassword, DEFAULT_HASHING, hashPassword } from "./password.js";
import {
  CompiledPermission,
  CompiledTopicPermission,
  type Permission,
  type TopicPermission,
} from "./permissions.js";

/** Hashed against for names that do not exist; no password matches it in practice. */
const UNKNOWN_USER_HASH = hashPassword(randomBytes(16).toString("hex"));

/**
 * A user. The object stays the same while the user exists (updates change it in place), so
 * open connections see permission changes on their next check.
 */
export interface User {
  name: string;
  passwordHash: string;
  hashingAlgorithm: string;
  tags: string[];
  /** Permissions by vhost name; a vhost absent here is one the user may not open. */
  permissions: Map<string, CompiledPermission>;
  /** Topic permissions by vhost name, then exchange name. */
  topicPermissions: Map<string, Map<string, CompiledTopicPermission>>;
  /** RabbitMQ's user limits (definitions `users[].limits`); absent or negative: none. */
  limits?: UserLimits;
}

/** Per-user limits, as RabbitMQ's `rabbitmqctl set_user_limits`. */
export interface UserLimits {
  "max-connections"?: number;
  "max-channels"?: number;
}

/** Users, their vhost permissions and their topic permissions. */
export class UserStore {
  readonly users = new Map<string, User>();

  add(name: string, password: string, tags: string[] = []): User {
    return this.addHashed(name, hashPassword(password), DEFAULT_HASHING, tags);
  }

  /** Creates the user, or updates its password and tags keeping its permissions. */
  addHashed(name: string, passwordHash: string, hashingAlgorithm: string, tags: string[]): User {
    const existing = this.users.get(name);
    if (existing) {
      existing.passwordHash = passwordHash;
      existing.hashingAlgorithm = hashingAlgorithm;
      existing.tags = tags;
      return existing;
    }
    const u: User = {
      name,
      passwordHash,
      hashingAlgorithm,
      tags,
      permissions: new Map(),
      topicPermissions: new Map(),
    };
    this.users.set(name, u);
    return u;
  }

  /** Sets (replaces) the user's permissions in vhost; false when there is no such user. */
  setPermission(user: string, vhost: string, p: Permission): boolean {
    const u = this.users.get(user);
    u?.permissions.set(vhost, new CompiledPermission(p.configure, p.write, p.read));
    return u !== undefined;
  }

  /** Removes the user's permissions in vhost (and with them access to it). */
  clearPermission(user: string, vhost: string): void {
    this.users.get(user)?.permissions.delete(vhost);
  }

  /** Sets (replaces) the user's topic permission on one exchange of vhost. */
  setTopicPermission(user: string, vhost: string, p: TopicPermission): boolean {
    const u = this.users.get(user);
    if (!u) return false;
    let byExchange = u.topicPermissions.get(vhost);
    if (!byExchange) u.topicPermissions.set(vhost, (byExchange = new Map()));
    byExchange.set(p.exchange, new CompiledTopicPermission(p.exchange, p.write, p.read, user, vhost));
    return true;
  }

  /** Removes the user's topic permissions in vhost: on one exchange, or all of them. */
  clearTopicPermission(user: string, vhost: string, exchange?: string): void {
    const byExchange = this.users.get(user)?.topicPermissions.get(vhost);
    if (!byExchange) return;
    if (exchange === undefined) byExchange.clear();
    else byExchange.delete(exchange);
  }

  /** Removes the user; the broker closes its connections. */
  delete(name: string): User | undefined {
    const u = this.users.get(name);
    this.users.delete(name);
    return u;
  }

  /**
   * The user when the password matches, else undefined. An unknown name costs a hash too, so
   * that the time of a refusal does not tell whether the user exists.
   */
  authenticate(name: string, password: string): User | undefined {
    const u = this.users.get(name);
    if (!u) {
      checkPassword(password, UNKNOWN_USER_HASH);
      return undefined;
    }
    return checkPassword(password, u.passwordHash, u.hashingAlgorithm) ? u : undefined;
  }
}
