import type { Message } from "../message.js";
import type { Consumer } from "./consumer.js";
import type { Queue } from "./queue.js";

// The types a queue shares with its vhost and its consumers' channels.

/** A delivered message waiting for its ack, as the queue needs it back on requeue. */
export interface Delivered {
  readonly queue: Queue;
  readonly msg: Message;
  /** Deliveries before this one. */
  readonly count: number;
  readonly seq: number;
  /** Expiry time in ms since the epoch, 0 = never. */
  readonly exp: number;
  /** The consumer it went to; undefined for basic.get. */
  readonly consumer: Consumer | undefined;
}

/** Who owns an exclusive queue (a connection); only identity matters here. */
export type QueueOwner = object;

export type DeadLetterReason = "rejected" | "expired" | "maxlen" | "delivery_limit";

/** What a queue asks of its vhost. */
export interface QueueHooks {
  /** Auto-delete queue lost its last consumer, or x-expires ran out. */
  remove(q: Queue): void;
  /** A message leaves the queue for reason; the vhost dead-letters it if configured. */
  deadLetter(q: Queue, msg: Message, reason: DeadLetterReason): void;
}

/** The policies in effect on a queue, as management views report them. */
export interface AppliedPolicy {
  /** The policy's name; undefined when none applies. */
  readonly name: string | undefined;
  readonly operatorName: string | undefined;
  /** The policy's definition with the operator policy's merged in (effective_policy_definition). */
  readonly definition: Readonly<Record<string, unknown>>;
}

export const NO_POLICY: AppliedPolicy = { name: undefined, operatorName: undefined, definition: {} };
