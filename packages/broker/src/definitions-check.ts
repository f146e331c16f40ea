import type { Definitions } from "./definitions.js";

/** A definitions document RabbitMQ would refuse; reason is its JSON reason (string or term). */
export class DefinitionsError extends Error {
  constructor(readonly reason: string | string[]) {
    super(Array.isArray(reason) ? reason.join(" ") : reason);
  }
}

const BOOLEAN_FIELDS = ["durable", "auto_delete", "internal"] as const;

/**
 * Checks what RabbitMQ 3.10.8 checks before importing definitions through its API: every vhost
 * and user an item names exists or is defined in the same document (`["no_such_vhost", name]`,
 * `["no_such_user", name]`), and exchange and queue flags are booleans (RabbitMQ answers
 * `function_clause`). Nothing has been imported when it throws.
 */
export function checkDefinitions(
  defs: Definitions,
  vhostExists: (v: string) => boolean,
  userExists: (u: string) => boolean,
): void {
  const vhosts = new Set((defs.vhosts ?? []).map((v) => v.name));
  const users = new Set((defs.users ?? []).map((u) => u.name));
  const vhost = (v: string) => {
    if (!vhosts.has(v) && !vhostExists(v)) throw new DefinitionsError(["no_such_vhost", v]);
  };
  for (const p of [...(defs.permissions ?? []), ...(defs.topic_permissions ?? [])]) {
    if (!users.has(p.user) && !userExists(p.user)) throw new DefinitionsError(["no_such_user", p.user]);
    vhost(p.vhost);
  }
  for (const list of [defs.exchanges, defs.queues, defs.bindings, defs.policies, defs.parameters]) {
    for (const item of list ?? []) vhost(item.vhost);
  }
  for (const item of [...(defs.exchanges ?? []), ...(defs.queues ?? [])]) {
    for (const f of BOOLEAN_FIELDS) {
      const v = (item as Record<string, unknown>)[f];
      if (v !== undefined && typeof v !== "boolean") throw new DefinitionsError("function_clause");
    }
  }
}
