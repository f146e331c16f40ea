import type { FieldTable } from "@warren/protocol";
import type { UserLimits, UserStore } from "./auth/users.js";
import { makePolicy, type Policy } from "./policy/policy-store.js";
import type { VHost, VHostLimits } from "./vhost.js";

/** A policy as definitions.json and the management API carry it. */
export interface PolicyDefinition {
  vhost: string;
  name: string;
  pattern: string;
  "apply-to": string;
  definition: Record<string, unknown>;
  priority: number;
}

/** RabbitMQ's definitions.json shape (the parts Warren uses). */
export interface Definitions {
  rabbit_version?: string;
  users?: {
    name: string;
    password_hash: string;
    hashing_algorithm?: string;
    tags?: string | string[];
    limits?: UserLimits;
  }[];
  /** `limits` on a vhost is accepted as well as the vhost-limits parameter RabbitMQ 3.10 exports. */
  vhosts?: { name: string; limits?: VHostLimits }[];
  /**
   * Runtime parameters; Warren uses the "vhost-limits" component (name "limits") and
   * "operator_policy" (value: pattern, definition, priority, apply-to), as RabbitMQ exports them.
   */
  parameters?: { vhost: string; component: string; name: string; value: unknown }[];
  policies?: PolicyDefinition[];
  permissions?: { user: string; vhost: string; configure: string; write: string; read: string }[];
  /** Routing-key patterns per user, vhost and topic exchange (docs/access-control.md). */
  topic_permissions?: { user: string; vhost: string; exchange: string; write: string; read: string }[];
  exchanges?: {
    name: string;
    vhost: string;
    type: string;
    durable: boolean;
    auto_delete: boolean;
    internal: boolean;
    arguments: FieldTable;
  }[];
  queues?: { name: string; vhost: string; durable: boolean; auto_delete: boolean; arguments: FieldTable }[];
  bindings?: {
    source: string;
    vhost: string;
    destination: string;
    destination_type: "queue" | "exchange";
    routing_key: string;
    arguments: FieldTable;
  }[];
}

export interface DefinitionsTarget {
  readonly users: UserStore;
  addVhost(name: string): VHost;
  vhost(name: string): VHost | undefined;
}

const tagList = (t: string | string[] | undefined) =>
  Array.isArray(t) ? t : (t ?? "").split(",").filter((x) => x.length > 0);

/** A policy in definitions' shape. */
export function policyDefinition(p: Policy): PolicyDefinition {
  const { vhost, name, pattern, applyTo, definition, priority } = p;
  return { vhost, name, pattern, "apply-to": applyTo, definition: { ...definition }, priority };
}

/**
 * The policies and operator policies of a definitions document, checked (PolicyError with
 * RabbitMQ's text for a bad one) before anything is imported.
 */
function importedPolicies(defs: Definitions): [Policy, boolean][] {
  const spec = (p: { pattern: unknown; definition: unknown; priority?: unknown; "apply-to"?: unknown }) => ({
    pattern: p.pattern,
    definition: p.definition,
    priority: p.priority,
    applyTo: p["apply-to"],
  });
  const out: [Policy, boolean][] = (defs.policies ?? []).map((p) => [
    makePolicy(p.vhost, p.name, spec(p), false),
    false,
  ]);
  for (const p of defs.parameters ?? []) {
    if (p.component === "operator_policy")
      out.push([makePolicy(p.vhost, p.name, spec(p.value as PolicyDefinition), true), true]);
  }
  return out;
}

/**
 * Loads users, vhosts, permissions, topic permissions, policies, exchanges, queues and
 * bindings into the broker, merging with what is there: a user already present gets the new
 * password and tags and keeps the rest; a permission replaces the one for the same user and
 * vhost (or exchange); a policy the one of the same name.
 */
export function importDefinitions(target: DefinitionsTarget, defs: Definitions): void {
  const policies = importedPolicies(defs);
  for (const u of defs.users ?? []) {
    target.users.addHashed(
      u.name,
      u.password_hash,
      u.hashing_algorithm ?? "rabbit_password_hashing_sha256",
      tagList(u.tags),
    );
    if (u.limits) target.users.users.get(u.name)!.limits = { ...u.limits };
  }
  for (const v of defs.vhosts ?? []) {
    const vh = target.vhost(v.name) ?? target.addVhost(v.name);
    if (v.limits) vh.limits = { ...v.limits };
  }
  for (const p of defs.parameters ?? []) {
    if (p.component !== "vhost-limits") continue;
    const vh = target.vhost(p.vhost) ?? target.addVhost(p.vhost);
    vh.limits = { ...(p.value as VHostLimits) };
  }
  for (const [p, operator] of policies)
    (target.vhost(p.vhost) ?? target.addVhost(p.vhost)).setPolicy(p, operator);
  for (const p of defs.permissions ?? []) {
    target.users.setPermission(p.user, p.vhost, { configure: p.configure, write: p.write, read: p.read });
  }
  for (const p of defs.topic_permissions ?? []) {
    target.users.setTopicPermission(p.user, p.vhost, { exchange: p.exchange, write: p.write, read: p.read });
  }
  const owner = {};
  for (const e of defs.exchanges ?? []) {
    const vh = target.vhost(e.vhost) ?? target.addVhost(e.vhost);
    vh.declareExchange(e.name, e.type, {
      durable: e.durable,
      autoDelete: e.auto_delete,
      internal: e.internal,
      args: e.arguments ?? {},
    });
  }
  for (const q of defs.queues ?? []) {
    const vh = target.vhost(q.vhost) ?? target.addVhost(q.vhost);
    vh.declareQueue(
      q.name,
      { durable: q.durable, autoDelete: q.auto_delete, args: q.arguments ?? {} },
      owner,
    );
  }
  for (const b of defs.bindings ?? []) {
    const vh = target.vhost(b.vhost);
    // As RabbitMQ: a binding whose source or destination is missing is left out, not an error.
    if (!vh || !vh.exchanges.has(b.source)) continue;
    if (!(b.destination_type === "exchange" ? vh.exchanges : vh.queues).has(b.destination)) continue;
    if (b.destination_type === "exchange")
      vh.bindExchange(b.destination, b.source, b.routing_key, b.arguments ?? {});
    else vh.bindQueue(b.destination, b.source, b.routing_key, b.arguments ?? {}, owner);
  }
}

/** Durable definitions in RabbitMQ's format. */
export function exportDefinitions(users: UserStore, vhosts: Iterable<VHost>, version: string): Definitions {
  const defs: Required<Omit<Definitions, "rabbit_version">> & { rabbit_version: string } = {
    rabbit_version: version,
    users: [],
    vhosts: [],
    permissions: [],
    topic_permissions: [],
    parameters: [],
    policies: [],
    exchanges: [],
    queues: [],
    bindings: [],
  };
  for (const u of users.users.values()) {
    defs.users.push({
      name: u.name,
      password_hash: u.passwordHash,
      hashing_algorithm: u.hashingAlgorithm,
      tags: u.tags,
      ...(u.limits && Object.keys(u.limits).length > 0 ? { limits: u.limits } : {}),
    });
    for (const [vhost, p] of u.permissions) {
      defs.permissions.push({ user: u.name, vhost, configure: p.configure, write: p.write, read: p.read });
    }
    for (const [vhost, byExchange] of u.topicPermissions) {
      for (const p of byExchange.values()) {
        defs.topic_permissions.push({
          user: u.name,
          vhost,
          exchange: p.exchange,
          write: p.write,
          read: p.read,
        });
      }
    }
  }
  for (const vh of vhosts) {
    defs.vhosts.push({ name: vh.name });
    // As RabbitMQ 3.10 exports them: a runtime parameter, not a field of the vhost.
    if (Object.keys(vh.limits).length > 0)
      defs.parameters.push({ vhost: vh.name, component: "vhost-limits", name: "limits", value: vh.limits });
    for (const p of vh.operatorPolicies.list()) {
      const { pattern, definition, priority } = policyDefinition(p);
      const value = { pattern, definition, priority, "apply-to": p.applyTo };
      defs.parameters.push({ vhost: vh.name, component: "operator_policy", name: p.name, value });
    }
    for (const p of vh.policies.list()) defs.policies.push(policyDefinition(p));
    for (const ex of vh.exchanges.values()) {
      if (ex.name === "" || ex.name.startsWith("amq.") || !ex.durable) continue;
      defs.exchanges.push({
        name: ex.name,
        vhost: vh.name,
        type: ex.type,
        durable: ex.durable,
        auto_delete: ex.autoDelete,
        internal: ex.internal,
        arguments: ex.args,
      });
    }
    for (const q of vh.queues.values()) {
      if (!q.durable || q.exclusiveOwner !== undefined) continue;
      defs.queues.push({
        name: q.name,
        vhost: vh.name,
        durable: true,
        auto_delete: q.autoDelete,
        arguments: q.args,
      });
    }
    for (const ex of vh.exchanges.values()) {
      if (ex.name === "" || !ex.durable) continue;
      for (const b of ex.bindings.values()) {
        const d = b.destination;
        if (d.kind === "queue" ? !vh.queues.get(d.name)?.durable : !vh.exchanges.get(d.name)?.durable)
          continue;
        defs.bindings.push({
          source: ex.name,
          vhost: vh.name,
          destination: d.name,
          destination_type: d.kind,
          routing_key: b.routingKey,
          arguments: b.args,
        });
      }
    }
  }
  return defs;
}
