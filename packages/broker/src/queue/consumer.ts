import type { FieldTable } from "@warren/protocol";
import type { Message } from "../message.js";
import type { Queue } from "./queue.js";

/**
 * What a queue needs from the channel a consumer lives on. The queue knows only this
 * interface, so queue code never depends on the network layer.
 */
export interface ConsumerOwner {
  /** Room for one more delivery (prefetch, socket backpressure)? */
  canDeliver(c: Consumer): boolean;
  /**
   * Sends msg. count is the number of earlier deliveries of it from this queue; seq and exp
   * (expiry time, 0 = none) come back to the queue if the message is requeued. Returns
   * whether the delivery awaits an ack (false: a no-ack consumer, the message is gone).
   */
  deliver(c: Consumer, q: Queue, msg: Message, count: number, seq: number, exp: number): boolean;
  /** The queue went away under the consumer. */
  cancelledByServer(c: Consumer): void;
}

export class Consumer {
  /** Deliveries not yet acked; counted by the queue. */
  unacked = 0;

  constructor(
    readonly tag: string,
    readonly owner: ConsumerOwner,
    readonly queue: Queue,
    readonly noAck: boolean,
    readonly exclusive: boolean,
    /** Per-consumer prefetch (basic.qos global=false), 0 = unlimited. */
    readonly prefetch: number,
    readonly args: FieldTable,
    /** x-priority: higher-priority consumers are served first. */
    readonly priority: number,
  ) {}
}

/**
 * Consumers leaving together (a channel or connection closing), grouped by queue so that each
 * queue drops them in one pass: removing 50,000 consumers one by one is quadratic.
 */
export class ConsumerRemoval {
  private readonly byQueue = new Map<Queue, Set<Consumer>>();

  add(c: Consumer): void {
    let s = this.byQueue.get(c.queue);
    if (!s) this.byQueue.set(c.queue, (s = new Set()));
    s.add(c);
  }

  /** Removes every added consumer from its queue. */
  run(): void {
    for (const [q, s] of this.byQueue) {
      if (s.size === 1) for (const c of s) q.removeConsumer(c);
      else q.removeConsumers(s);
    }
    this.byQueue.clear();
  }
}
