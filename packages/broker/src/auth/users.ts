import { checkPassword, hashPassword } from "./password.js";

export interface Permission {
  configure: string;
  write: string;
  read: string;
}

export interface User {
  name: string;
  passwordHash: string;
  hashingAlgorithm: string;
  tags: string[];
  /** Permissions by vhost name. */
  permissions: Map<string, Permission>;
  /** RabbitMQ's user limits (definitions `users[].limits`); absent or negative: none. */
  limits?: UserLimits;
}

/** Per-user limits, as RabbitMQ's `rabbitmqctl set_user_limits`. */
export interface UserLimits {
  "max-connections"?: number;
  "max-channels"?: number;
}

/** Users and their vhost permissions. */
export class UserStore {
  readonly users = new Map<string, User>();

  add(name: string, password: string, tags: string[] = []): User {
    return this.addHashed(name, hashPassword(password), "rabbit_password_hashing_sha256", tags);
  }

  addHashed(name: string, passwordHash: string, hashingAlgorithm: string, tags: string[]): User {
    const u: User = { name, passwordHash, hashingAlgorithm, tags, permissions: new Map() };
    this.users.set(name, u);
    return u;
  }

  setPermission(user: string, vhost: string, p: Permission): void {
    this.users.get(user)?.permissions.set(vhost, p);
  }

  /** The user when the password matches, else undefined. */
  authenticate(name: string, password: string): User | undefined {
    const u = this.users.get(name);
    if (!u || !checkPassword(password, u.passwordHash, u.hashingAlgorithm)) return undefined;
    return u;
  }
}
