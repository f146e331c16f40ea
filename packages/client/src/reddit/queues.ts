import { type BindingSink, MessageQueue, type MessageQueueOptions } from "./message-queue.js";

/** A binding of reddit's DSL: the queue and the routing key it is bound with. */
export type QueueBinding = readonly [queue: string, routingKey: string];

/**
 * The queue container of reddit's DSL (Queues in r2/lib/amqp.py): names its MessageQueues
 * after their keys and keeps one set of bindings that all of them add to. The connection
 * manager declares every queue in it and every binding, from the config's exchange.
 *
 * @example
 *   const queues = new Queues({
 *     vote_comment_q: new MessageQueue({ bindToSelf: true }),
 *     newcomments_q: new MessageQueue(),
 *   });
 *   queues.get("vote_comment_q").bind("vote_comment_q_test");
 *   queues.get("newcomments_q").bind("new_link", "link_text_edited");
 */
export class Queues<Q extends Record<string, MessageQueue> = Record<string, MessageQueue>>
  implements Iterable<MessageQueue>, BindingSink
{
  private readonly byName = new Map<string, MessageQueue>();
  /** Every binding once, keyed by queue and key, in the order first bound. */
  private readonly all = new Map<string, QueueBinding>();
  private changes = 0;

  constructor(queues: Q) {
    this.declare(queues);
  }

  /**
   * Adds queues, named after their keys (bind-to-self queues get their self binding now).
   * Returns this container, typed with the new names too.
   * @throws TypeError for an empty name, a name already in the container, or a MessageQueue
   *   already declared somewhere.
   */
  declare<R extends Record<string, MessageQueue>>(queues: R): Queues<Q & R> {
    for (const [name, queue] of Object.entries(queues)) {
      if (!(queue instanceof MessageQueue))
        throw new TypeError(`${JSON.stringify(name)} is not a MessageQueue`);
      // An empty name would have the server pick one, and the bindings would name "".
      if (name === "") throw new TypeError("a queue of the DSL needs a name");
      if (this.byName.has(name)) throw new TypeError(`queue ${JSON.stringify(name)} is already declared`);
      queue.attach(name, this);
      this.byName.set(name, queue);
      this.changes++;
    }
    return this as unknown as Queues<Q & R>;
  }

  /** The queue declared under this name. */
  get<K extends keyof Q & string>(name: K): Q[K] {
    const q = this.byName.get(name);
    if (!q) throw new TypeError(`no queue ${JSON.stringify(name)} in this container`);
    return q as Q[K];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get size(): number {
    return this.byName.size;
  }

  /** The queues, in declaration order. */
  [Symbol.iterator](): Iterator<MessageQueue> {
    return this.byName.values();
  }

  /** Every binding, once each, in the order first bound. */
  get bindings(): QueueBinding[] {
    return [...this.all.values()];
  }

  /**
   * @internal Grows whenever a queue or binding is added: the connection manager compares it
   * to what it declared on its connection, so a late bind() is declared on the next use.
   */
  get revision(): number {
    return this.changes;
  }

  /** @internal */
  addBinding(queue: string, routingKey: string): void {
    const id = bindingId(queue, routingKey);
    if (this.all.has(id)) return;
    this.all.set(id, [queue, routingKey]);
    this.changes++;
  }

  /** @internal */
  bindingKeysOf(queue: string): readonly string[] {
    const out: string[] = [];
    for (const [q, key] of this.all.values()) if (q === queue) out.push(key);
    return out;
  }

  /** Like the seed's print(queues): each queue's flags, and the bindings. */
  toJSON(): { queues: Record<string, Required<MessageQueueOptions>>; bindings: QueueBinding[] } {
    const queues: Record<string, Required<MessageQueueOptions>> = {};
    for (const [name, q] of this.byName) {
      queues[name] = {
        durable: q.durable,
        exclusive: q.exclusive,
        autoDelete: q.autoDelete,
        bindToSelf: q.bindToSelf,
      };
    }
    return { queues, bindings: this.bindings };
  }
}

/** @internal One string per binding (queue names cannot hold NUL). */
export function bindingId(queue: string, routingKey: string): string {
  return `${queue}\u0000${routingKey}`;
}
