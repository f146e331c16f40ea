import {
  type ApplyTo,
  appliesToQueueType,
  checkApplyTo,
  checkDefinition,
  checkPriority,
  compilePattern,
  type PolicySettings,
  policySettings,
} from "./policy-definition.js";

/** A policy (or operator policy) of one vhost, checked and compiled. */
export interface Policy {
  readonly vhost: string;
  readonly name: string;
  readonly pattern: string;
  readonly applyTo: ApplyTo;
  readonly priority: number;
  /** As given, keys sorted (RabbitMQ's JSON shape). */
  readonly definition: Readonly<Record<string, unknown>>;
  readonly regex: RegExp;
  /** The keys Warren acts on, parsed once. */
  readonly settings: PolicySettings;
}

/** A policy as an operator writes it (the management API's body, definitions.json). */
export interface PolicySpec {
  pattern: unknown;
  definition: unknown;
  priority?: unknown;
  applyTo?: unknown;
}

/**
 * Checks a policy as RabbitMQ does (priority, pattern, apply-to, then the definition) and
 * compiles it; throws PolicyError with RabbitMQ's text.
 */
export function makePolicy(vhost: string, name: string, spec: PolicySpec, operator: boolean): Policy {
  const priority = checkPriority(spec.priority);
  const regex = compilePattern(spec.pattern);
  const applyTo = checkApplyTo(spec.applyTo);
  const definition = checkDefinition(spec.definition, operator);
  return {
    vhost,
    name,
    pattern: spec.pattern as string,
    applyTo,
    priority,
    definition,
    regex,
    settings: policySettings(definition),
  };
}

const nameOrder = (a: Policy, b: Policy): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** What a policy is matched against: a queue (of a type) or an exchange. */
export type PolicyTarget = { kind: "queue"; type: "classic" | "quorum" } | { kind: "exchange" };

/**
 * The policies of one vhost. Matching is done when something changes (a policy is set or
 * cleared, a queue or exchange declared), never per message: the highest priority wins, and
 * between equal priorities the name that sorts first (RabbitMQ leaves ties unspecified).
 */
export class PolicyStore {
  private readonly byName = new Map<string, Policy>();
  /** Highest priority first, then by name. */
  private ordered: Policy[] = [];

  get size(): number {
    return this.byName.size;
  }

  get(name: string): Policy | undefined {
    return this.byName.get(name);
  }

  /** Adds or replaces a policy; whether one of that name existed. */
  set(p: Policy): boolean {
    const existed = this.byName.has(p.name);
    this.byName.set(p.name, p);
    this.reorder();
    return existed;
  }

  /** Removes a policy; whether it existed. */
  delete(name: string): boolean {
    if (!this.byName.delete(name)) return false;
    this.reorder();
    return true;
  }

  /** Every policy, lowest priority first (the order RabbitMQ's API lists them in). */
  list(): Policy[] {
    return [...this.byName.values()].sort((a, b) => a.priority - b.priority || nameOrder(a, b));
  }

  /** The policy in effect on an object of this name, or undefined. */
  match(name: string, target: PolicyTarget): Policy | undefined {
    for (const p of this.ordered) {
      if (p.applyTo !== "all" && p.applyTo !== (target.kind === "queue" ? "queues" : "exchanges")) continue;
      if (target.kind === "queue" && !appliesToQueueType(p.definition, target.type)) continue;
      if (p.regex.test(name)) return p;
    }
    return undefined;
  }

  private reorder(): void {
    this.ordered = [...this.byName.values()].sort((a, b) => b.priority - a.priority || nameOrder(a, b));
  }
}
