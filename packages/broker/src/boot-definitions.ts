import { readFileSync } from "node:fs";
import { DEFAULT_HASHING, isHashingAlgorithm } from "./auth/password.js";
import type { Permission } from "./auth/permissions.js";
import { type Definitions, type DefinitionsTarget, importDefinitions } from "./definitions.js";
import type { Logger } from "./logger.js";

/**
 * What a broker starting on an empty data directory without definitions to load creates
 * (RabbitMQ's default_vhost, default_user, default_pass, default_user_tags and
 * default_permissions): by default vhost "/" and guest/guest, administrator, all permissions.
 */
export interface BootDefaults {
  vhost?: string;
  user?: string;
  password?: string;
  tags?: string[];
  permissions?: Permission;
}

/**
 * Definitions at boot: what the store saved last time (`stored`), then the definitions file
 * on top; with neither, the defaults. As in RabbitMQ, the default user is never created when
 * definitions are loaded at boot, nor on a restart (it may have been deleted on purpose).
 */
export function loadBootDefinitions(
  target: DefinitionsTarget,
  stored: string | undefined,
  defs: string | Definitions | undefined,
  defaults: BootDefaults,
  log: Logger,
): void {
  if (stored) importDefinitions(target, JSON.parse(stored) as Definitions);
  if (defs) {
    const parsed: Definitions = typeof defs === "string" ? JSON.parse(readFileSync(defs, "utf8")) : defs;
    importDefinitions(target, parsed);
    // Loaded anyway (the rest of the file is good), but such a user can never log in.
    for (const u of parsed.users ?? []) {
      const algorithm = u.hashing_algorithm ?? DEFAULT_HASHING;
      if (!isHashingAlgorithm(algorithm))
        log.warn(`user '${u.name}' has unknown hashing algorithm '${algorithm}' and cannot log in`, {
          user: u.name,
        });
    }
  }
  if (stored || defs) return;
  const vhost = defaults.vhost ?? "/";
  const user = defaults.user ?? "guest";
  target.addVhost(vhost);
  target.users.add(user, defaults.password ?? "guest", defaults.tags ?? ["administrator"]);
  target.users.setPermission(
    user,
    vhost,
    defaults.permissions ?? { configure: ".*", write: ".*", read: ".*" },
  );
}
