import { randomUUID } from "node:crypto";
import type { Transport } from "./transport.js";
import { addUniqueId, type Context, packContext, type RawMessage } from "./wire.js";

/** Notification priorities, as listener endpoint method names (oslo's PRIORITIES). */
export const PRIORITIES = ["audit", "debug", "info", "warn", "error", "critical", "sample"] as const;

/** A notification priority. */
export type Priority = (typeof PRIORITIES)[number];

/**
 * How notifications are sent: "messagingv2" (the 2.0 envelope, the default here; oslo's
 * default is no driver at all), "messaging" (format 1.0, the bare message, for old
 * consumers) or "noop" (nothing is sent).
 */
export type NotifierDriver = "messagingv2" | "messaging" | "noop";

/** Options of a Notifier. */
export interface NotifierOptions {
  /** The notifications' publisher_id, e.g. "compute.host1". */
  publisherId?: string | undefined;
  /** Default "messagingv2". */
  driver?: NotifierDriver;
  /** Topics each notification goes to, as `<topic>.<priority>`. Default ["notifications"]. */
  topics?: readonly string[];
  /** Connection retries: undefined (or -1) forever, 0 none, N at most N. */
  retry?: number | undefined;
}

/**
 * The context keys a notification carries (oslo's _sanitize_context): those of
 * oslo.context's RequestContext that are safe to broadcast; others (tokens, …) are dropped.
 */
const SAFE_CONTEXT_KEYS = new Set([
  "user_id",
  "project_id",
  "domain_id",
  "user_domain_id",
  "project_domain_id",
  "is_admin",
  "request_id",
  "roles",
  "user_name",
  "project_name",
  "domain_name",
  "user_domain_name",
  "project_domain_name",
  "service_user_id",
  "service_user_domain_id",
  "service_user_domain_name",
  "service_project_id",
  "service_project_name",
  "service_project_domain_id",
  "service_project_domain_name",
  "service_roles",
  "global_request_id",
  "system_scope",
  "user",
  "domain",
  "user_domain",
  "project_domain",
]);

/**
 * Sends notifications (oslo's Notifier) to `<topic>.<priority>` on the control exchange,
 * e.g. `notifications.info`: a message with message_id, publisher_id, event_type, priority
 * ("INFO", "WARN", …), payload and timestamp, plus the sanitized context. The queue
 * `<topic>.<priority>` is declared before sending, so that notifications wait there for
 * a listener.
 *
 * @example
 *   const notifier = new Notifier(transport, { publisherId: "compute.host1" });
 *   await notifier.info({ user_id: "alice" }, "compute.instance.create.end", { id: 42 });
 */
export class Notifier {
  readonly publisherId: string | undefined;
  readonly driver: NotifierDriver;
  readonly topics: readonly string[];
  readonly retry: number | undefined;

  constructor(
    readonly transport: Transport,
    options: NotifierOptions = {},
  ) {
    this.publisherId = options.publisherId;
    this.driver = options.driver ?? "messagingv2";
    this.topics = options.topics ?? ["notifications"];
    this.retry = options.retry;
    if (!["messagingv2", "messaging", "noop"].includes(this.driver)) {
      throw new TypeError(`unknown notification driver: ${String(this.driver)}`);
    }
  }

  /** A notifier with another publisher_id or retry, sharing this one's transport and topics. */
  prepare(options: { publisherId?: string | undefined; retry?: number | undefined }): Notifier {
    return new Notifier(this.transport, {
      publisherId: "publisherId" in options ? options.publisherId : this.publisherId,
      driver: this.driver,
      topics: this.topics,
      retry: "retry" in options ? options.retry : this.retry,
    });
  }

  /** False with the "noop" driver. */
  isEnabled(): boolean {
    return this.driver !== "noop";
  }

  audit(ctxt: Context, eventType: string, payload: unknown): Promise<void> {
    return this.notify(ctxt, eventType, payload, "AUDIT");
  }

  debug(ctxt: Context, eventType: string, payload: unknown): Promise<void> {
    return this.notify(ctxt, eventType, payload, "DEBUG");
  }

  info(ctxt: Context, eventType: string, payload: unknown): Promise<void> {
    return this.notify(ctxt, eventType, payload, "INFO");
  }

  warn(ctxt: Context, eventType: string, payload: unknown): Promise<void> {
    return this.notify(ctxt, eventType, payload, "WARN");
  }

  /** The same as warn(), as in oslo. */
  warning(ctxt: Context, eventType: string, payload: unknown): Promise<void> {
    return this.notify(ctxt, eventType, payload, "WARN");
  }

  error(ctxt: Context, eventType: string, payload: unknown): Promise<void> {
    return this.notify(ctxt, eventType, payload, "ERROR");
  }

  critical(ctxt: Context, eventType: string, payload: unknown): Promise<void> {
    return this.notify(ctxt, eventType, payload, "CRITICAL");
  }

  sample(ctxt: Context, eventType: string, payload: unknown): Promise<void> {
    return this.notify(ctxt, eventType, payload, "SAMPLE");
  }

  /**
   * Sends one notification to every topic. Unlike oslo, which logs a failed send and carries
   * on, the promise rejects with the error.
   */
  private async notify(ctxt: Context, eventType: string, payload: unknown, priority: string): Promise<void> {
    if (this.driver === "noop") return;
    const safe: Context = {};
    for (const [k, v] of Object.entries(ctxt)) if (SAFE_CONTEXT_KEYS.has(k)) safe[k] = v;
    const base = {
      message_id: randomUUID(),
      publisher_id: this.publisherId ?? null,
      event_type: eventType,
      priority,
      payload: payload ?? null,
      timestamp: pythonUtcNow(),
    };
    const exchange = this.transport.exchangeFor(undefined);
    const p = this.transport.publisher;
    await Promise.all(
      this.topics.map((topic) => {
        const msg: RawMessage = { ...base };
        addUniqueId(msg);
        packContext(msg, safe);
        const routingKey = `${topic}.${priority.toLowerCase()}`;
        return p.notifySend(exchange, routingKey, msg, this.retry, this.driver === "messagingv2");
      }),
    );
  }
}

/** The current UTC time as Python's str(datetime.utcnow()): "2024-05-01 12:34:56.789000". */
function pythonUtcNow(): string {
  const iso = new Date().toISOString(); // 2024-05-01T12:34:56.789Z
  const ms = iso.slice(20, 23);
  const base = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  return ms === "000" ? base : `${base}.${ms}000`;
}
