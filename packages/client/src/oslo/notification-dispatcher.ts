import { PRIORITIES, type Priority } from "./notifier.js";
import { type Context, isObject, type RawMessage } from "./wire.js";

/** What an endpoint callback returns: handled (acknowledge) or requeue (try again later). */
export const NotificationResult = { HANDLED: "handled", REQUEUE: "requeue" } as const;
export type NotificationResult = (typeof NotificationResult)[keyof typeof NotificationResult];

/** The notification's message_id and timestamp, as oslo passes them. */
export interface NotificationMetadata {
  message_id: unknown;
  timestamp: unknown;
}

/** A listener endpoint method, named after the priority it receives. */
export type NotificationCallback = (
  ctxt: Context,
  publisherId: unknown,
  eventType: unknown,
  payload: unknown,
  metadata: NotificationMetadata,
) => unknown;

/**
 * A notification listener endpoint: methods named after priorities (`info`, `warn`, `error`,
 * …) that take `(ctxt, publisherId, eventType, payload, metadata)`, and optionally a
 * `filterRule` choosing which notifications it gets. A method that throws, or returns
 * NotificationResult.REQUEUE, asks for the notification to be requeued.
 */
export type NotificationEndpoint = object & {
  filterRule?: NotificationFilter;
} & { [P in Priority]?: NotificationCallback };

/** A pattern: a RegExp or its source; it must match at the start of the value, as Python's re.match. */
export type Pattern = string | RegExp;

/** What a NotificationFilter looks at; every field is optional. */
export interface NotificationFilterFields {
  context?: Record<string, Pattern>;
  publisherId?: Pattern;
  eventType?: Pattern;
  metadata?: Record<string, Pattern>;
  payload?: Record<string, Pattern>;
}

/**
 * oslo's NotificationFilter: an endpoint with `filterRule` only receives notifications whose
 * publisher_id, event_type and the given context, metadata and payload keys match the
 * patterns (from the start of the value; values that are not strings never match).
 *
 * @example
 *   filterRule = new NotificationFilter({ eventType: "^compute\\.instance\\..*", payload: { state: "^active$" } });
 */
export class NotificationFilter {
  private readonly publisherId: RegExp | undefined;
  private readonly eventType: RegExp | undefined;
  private readonly context: Map<string, RegExp>;
  private readonly metadata: Map<string, RegExp>;
  private readonly payload: Map<string, RegExp>;

  constructor(fields: NotificationFilterFields = {}) {
    this.publisherId = anchored(fields.publisherId);
    this.eventType = anchored(fields.eventType);
    this.context = regexMap(fields.context);
    this.metadata = regexMap(fields.metadata);
    this.payload = regexMap(fields.payload);
  }

  match(
    ctxt: Context,
    publisherId: unknown,
    eventType: unknown,
    metadata: NotificationMetadata,
    payload: unknown,
  ): boolean {
    return (
      matches(publisherId, this.publisherId) &&
      matches(eventType, this.eventType) &&
      matchesAll(ctxt, this.context) &&
      matchesAll(metadata, this.metadata) &&
      matchesAll(payload, this.payload)
    );
  }
}

/**
 * Hands notifications to the endpoint methods of their priority (oslo's
 * NotificationDispatcher), in endpoint order, skipping endpoints whose filter does not match.
 */
export class NotificationDispatcher {
  private readonly callbacks = new Map<
    Priority,
    { filter: NotificationFilter | undefined; fn: NotificationCallback; endpoint: object }[]
  >();

  constructor(endpoints: readonly NotificationEndpoint[]) {
    for (const endpoint of endpoints) {
      for (const p of PRIORITIES) {
        const fn = (endpoint as Record<string, unknown>)[p];
        if (typeof fn !== "function") continue;
        let list = this.callbacks.get(p);
        if (!list) this.callbacks.set(p, (list = []));
        list.push({ filter: endpoint.filterRule, fn: fn as NotificationCallback, endpoint });
      }
    }
  }

  /** The priorities some endpoint has a method for: the queues to listen on. */
  get supportedPriorities(): Priority[] {
    return PRIORITIES.filter((p) => this.callbacks.has(p));
  }

  /**
   * Dispatches one notification; resolves with REQUEUE if a callback asked for it or threw
   * (the error goes to onError), else HANDLED. An unknown priority is reported and handled.
   */
  async dispatch(
    message: RawMessage,
    ctxt: Context,
    onError: (e: unknown) => void,
  ): Promise<NotificationResult> {
    const priority = String(message.priority ?? "").toLowerCase() as Priority;
    if (!PRIORITIES.includes(priority)) {
      onError(new Error(`Unknown priority "${priority}"`));
      return NotificationResult.HANDLED;
    }
    const metadata: NotificationMetadata = {
      message_id: message.message_id ?? null,
      timestamp: message.timestamp ?? null,
    };
    const { publisher_id: publisherId = null, event_type: eventType = null, payload = null } = message;
    for (const { filter, fn, endpoint } of this.callbacks.get(priority) ?? []) {
      if (filter && !filter.match(ctxt, publisherId, eventType, metadata, payload)) continue;
      let ret: unknown;
      try {
        ret = await fn.call(endpoint, ctxt, publisherId, eventType, payload, metadata);
      } catch (e) {
        onError(e);
        return NotificationResult.REQUEUE;
      }
      if (ret === NotificationResult.REQUEUE) return NotificationResult.REQUEUE;
    }
    return NotificationResult.HANDLED;
  }
}

/** A sticky RegExp: exec at lastIndex 0 matches only at the start, as re.match. */
function anchored(p: Pattern | undefined): RegExp | undefined {
  if (p === undefined) return undefined;
  const src = typeof p === "string" ? p : p.source;
  const flags = typeof p === "string" ? "" : p.flags.replace(/[gy]/g, "");
  return new RegExp(src, `${flags}y`);
}

function regexMap(m: Record<string, Pattern> | undefined): Map<string, RegExp> {
  return new Map(Object.entries(m ?? {}).map(([k, v]) => [k, anchored(v)!]));
}

function matches(value: unknown, re: RegExp | undefined): boolean {
  if (!re) return true;
  if (typeof value !== "string") return false;
  re.lastIndex = 0;
  return re.test(value);
}

function matchesAll(data: unknown, res: Map<string, RegExp>): boolean {
  if (res.size === 0) return true;
  if (!isObject(data)) return false;
  for (const [k, re] of res) {
    if (!(k in data) || !matches(data[k], re)) return false;
  }
  return true;
}
