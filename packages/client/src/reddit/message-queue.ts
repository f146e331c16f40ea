/** Options of a MessageQueue; reddit's defaults: durable, not exclusive, not auto-deleted. */
export interface MessageQueueOptions {
  /** Survives a broker restart. Default true. */
  durable?: boolean;
  /** Owned by the connection that declares it. Default false. */
  exclusive?: boolean;
  /** Deleted when its last consumer goes. Default false. */
  autoDelete?: boolean;
  /** Also bound with the queue's own name as routing key. Default false. */
  bindToSelf?: boolean;
}

/** @internal Where a declared queue records its bindings: the set its Queues container shares. */
export interface BindingSink {
  addBinding(queue: string, routingKey: string): void;
  bindingKeysOf(queue: string): readonly string[];
}

/**
 * One queue of reddit's queue-declaration DSL (MessageQueue in reddit's r2/lib/amqp.py).
 * It gets its name when a Queues container declares it; `bind()` then adds bindings from
 * the config's exchange to it, as Python's `queue << keys` does.
 *
 * @example
 *   const queues = new Queues({ newcomments_q: new MessageQueue() });
 *   queues.get("newcomments_q").bind("new_link", "link_text_edited");
 */
export class MessageQueue {
  readonly durable: boolean;
  readonly exclusive: boolean;
  readonly autoDelete: boolean;
  readonly bindToSelf: boolean;
  private declared: { name: string; sink: BindingSink } | undefined;

  constructor(opts: MessageQueueOptions = {}) {
    this.durable = opts.durable ?? true;
    this.exclusive = opts.exclusive ?? false;
    this.autoDelete = opts.autoDelete ?? false;
    this.bindToSelf = opts.bindToSelf ?? false;
  }

  /** The name the Queues container gave it. */
  get name(): string {
    return this.owner().name;
  }

  /** The routing keys bound to this queue so far, in the order they were first bound. */
  get routingKeys(): readonly string[] {
    const d = this.owner();
    return d.sink.bindingKeysOf(d.name);
  }

  /**
   * Binds routing keys to this queue, like Python's `queue << ("a", "b")`. A key bound
   * twice is one binding. Unlike the seed's `tup()` on Python 3, where `queue << "key"`
   * iterates the string and binds "k", "e" and "y", each argument is one whole key.
   * Returns the queue, so calls chain.
   */
  bind(...routingKeys: string[]): this {
    const d = this.owner();
    for (const key of routingKeys) {
      if (typeof key !== "string") throw new TypeError(`routing keys are strings, got ${typeof key}`);
      d.sink.addBinding(d.name, key);
    }
    return this;
  }

  /** @internal Called by Queues.declare(). */
  attach(name: string, sink: BindingSink): void {
    if (this.declared) {
      throw new TypeError(`this MessageQueue is already declared as ${JSON.stringify(this.declared.name)}`);
    }
    this.declared = { name, sink };
    if (this.bindToSelf) sink.addBinding(name, name);
  }

  private owner(): { name: string; sink: BindingSink } {
    if (!this.declared) throw new TypeError("declare the MessageQueue in a Queues container first");
    return this.declared;
  }
}
