import type { Exchange } from "../exchange/exchange.js";
import type { Queue } from "../queue/queue.js";
import type { QueueArgs } from "../queue/queue-args.js";
import { type AppliedPolicy, NO_POLICY } from "../queue/queue-types.js";
import type { PolicySettings } from "./policy-definition.js";
import type { Policy, PolicyStore } from "./policy-store.js";

/*
 * How policies become a queue's or an exchange's settings, as RabbitMQ 3.10.8 resolves them
 * (rabbit_amqqueue_process:process_args_policy, rabbit_quorum_queue:ra_machine_config,
 * rabbit_policy:get_arg). Run when a policy or the object changes, never per message.
 */

const lower = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);

/** A policy's settings with an operator policy's limits: the lower value wins. */
function withOperator(p: Policy | undefined, op: Policy | undefined): PolicySettings | undefined {
  if (!op) return p?.settings;
  const s = p?.settings;
  const o = op.settings;
  return {
    ...(s ?? o),
    messageTtl: lower(s?.messageTtl, o.messageTtl),
    expires: lower(s?.expires, o.expires),
    maxLength: lower(s?.maxLength, o.maxLength),
    maxLengthBytes: lower(s?.maxLengthBytes, o.maxLengthBytes),
    deliveryLimit: lower(s?.deliveryLimit, o.deliveryLimit),
  };
}

/** effective_policy_definition: the policy's definition, operator values merged the same way. */
function mergedDefinition(p: Policy | undefined, op: Policy | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...p?.definition };
  for (const [k, v] of Object.entries(op?.definition ?? {}))
    out[k] = typeof out[k] === "number" ? Math.min(out[k] as number, v as number) : v;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * A queue's settings under a policy. Classic queues: for message-ttl, expires, max-length and
 * max-length-bytes the lower of argument and policy wins; for overflow and the dead-letter
 * keys the argument. Quorum queues: the lower for the limits, message-ttl and delivery-limit,
 * the policy for overflow and expires, the argument for the dead-letter keys.
 */
export function effectiveQueueArgs(q: Queue, s: PolicySettings | undefined): QueueArgs {
  const d = q.declared;
  if (!s) return d;
  const quorum = d.queueType === "quorum";
  let overflow = d.overflow;
  if (s.overflow !== undefined && (quorum || q.args["x-overflow"] === undefined)) overflow = s.overflow;
  // RabbitMQ 3.10's quorum queues have no reject-publish-dlx: they fall back to drop-head.
  if (quorum && overflow === "reject-publish-dlx") overflow = "drop-head";
  return {
    ...d,
    messageTtl: lower(d.messageTtl, s.messageTtl),
    expires: quorum ? (s.expires ?? d.expires) : lower(d.expires, s.expires),
    maxLength: lower(d.maxLength, s.maxLength),
    maxLengthBytes: lower(d.maxLengthBytes, s.maxLengthBytes),
    overflow,
    deadLetterExchange: d.deadLetterExchange ?? s.deadLetterExchange,
    deadLetterRoutingKey: d.deadLetterRoutingKey ?? s.deadLetterRoutingKey,
    deliveryLimit: quorum ? lower(d.deliveryLimit, s.deliveryLimit) : d.deliveryLimit,
  };
}

/**
 * Matches a queue against its vhost's policies and puts the result in effect when it
 * changed (RabbitMQ leaves a queue alone when a policy change does not touch it).
 */
export function applyQueuePolicy(q: Queue, policies: PolicyStore, operator: PolicyStore): void {
  if (policies.size === 0 && operator.size === 0 && q.policy === NO_POLICY) return;
  const target = { kind: "queue", type: q.declared.queueType } as const;
  const p = policies.match(q.name, target);
  const op = operator.size > 0 ? operator.match(q.name, target) : undefined;
  const applied: AppliedPolicy =
    p || op ? { name: p?.name, operatorName: op?.name, definition: mergedDefinition(p, op) } : NO_POLICY;
  const cur = q.policy;
  if (
    applied.name === cur.name &&
    applied.operatorName === cur.operatorName &&
    JSON.stringify(applied.definition) === JSON.stringify(cur.definition)
  )
    return;
  q.reconfigure(effectiveQueueArgs(q, withOperator(p, op)), applied);
}

/** Matches an exchange against its vhost's policies: the policy's alternate exchange, unless an argument names one. */
export function applyExchangePolicy(ex: Exchange, policies: PolicyStore): void {
  if (policies.size === 0 && ex.policy === undefined) return;
  const p = policies.match(ex.name, { kind: "exchange" });
  const ae = ex.args["alternate-exchange"];
  ex.policy = p?.name;
  ex.alternate = typeof ae === "string" ? ae : p?.settings.alternateExchange;
}
