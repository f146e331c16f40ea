import type { Message } from "../message.js";
import { InvalidTarget } from "./errors.js";
import {
  NotificationDispatcher,
  type NotificationEndpoint,
  NotificationResult,
} from "./notification-dispatcher.js";
import type { QueueSpec } from "./queue-consumer.js";
import { MessageHandlingServer } from "./server.js";
import { Target, type TargetFields } from "./target.js";
import type { Transport } from "./transport.js";
import { MsgIdCache, unpackContext } from "./wire.js";

/** Options of a notification listener. */
export interface NotificationListenerOptions {
  /**
   * A pool name: listeners of the same pool share one queue of that name (each notification
   * goes to one of them); without a pool, every listener consumes the `<topic>.<priority>`
   * queues. Default: none.
   */
  pool?: string | undefined;
  /** Requeue a notification an endpoint asked to requeue (or failed on); otherwise it is acked. Default false, as oslo. */
  allowRequeue?: boolean;
}

/**
 * Receives notifications (oslo's NotificationServer) from `<topic>.<priority>` for each
 * target and each priority its endpoints have a method for, and acknowledges each one once
 * the endpoints have handled it.
 *
 * @example
 *   const listener = getNotificationListener(transport, [{ topic: "notifications" }], [{
 *     info(ctxt, publisherId, eventType, payload) { console.log(eventType, payload); },
 *   }]);
 *   await listener.start();
 */
export class NotificationListener extends MessageHandlingServer {
  readonly targets: readonly Target[];
  private readonly dispatcher: NotificationDispatcher;
  private readonly seen = new MsgIdCache();

  constructor(
    transport: Transport,
    targets: readonly (Target | TargetFields)[],
    endpoints: readonly NotificationEndpoint[],
    private readonly options: NotificationListenerOptions = {},
  ) {
    super(transport);
    this.targets = targets.map((t) => (t instanceof Target ? t : new Target(t)));
    for (const t of this.targets) {
      if (!t.topic) throw new InvalidTarget("A target must have topic specified", t);
    }
    this.dispatcher = new NotificationDispatcher(endpoints);
  }

  /** @internal */
  protected queues(): QueueSpec[] {
    const c = this.transport.conf;
    const specs: QueueSpec[] = [];
    for (const t of this.targets) {
      const exchange = this.transport.publisher.topicExchange(this.transport.exchangeFor(t.exchange));
      for (const p of this.dispatcher.supportedPriorities) {
        const routingKey = `${t.topic}.${p}`;
        specs.push({
          queue: this.options.pool ?? routingKey,
          exchange,
          routingKey,
          durable: c.amqpDurableQueues,
          autoDelete: c.amqpAutoDelete,
          arguments: {},
        });
      }
    }
    return specs;
  }

  protected async process(m: Message): Promise<void> {
    const data = this.decode(m);
    const { ctxt, uniqueId } = unpackContext(data);
    if (this.seen.has(uniqueId)) {
      m.ack();
      return;
    }
    const result = await this.dispatcher.dispatch(data, ctxt, (e) => this.report(e));
    if (result === NotificationResult.REQUEUE && this.options.allowRequeue) {
      m.reject(true);
      return;
    }
    m.ack();
    this.seen.add(uniqueId);
  }
}

/**
 * A notification listener (oslo's get_notification_listener).
 *
 * @param targets topics (and optionally exchanges) to listen on
 * @param endpoints objects with a method per priority they want
 */
export function getNotificationListener(
  transport: Transport,
  targets: readonly (Target | TargetFields)[],
  endpoints: readonly NotificationEndpoint[],
  options: NotificationListenerOptions = {},
): NotificationListener {
  return new NotificationListener(transport, targets, endpoints, options);
}
