import type { Message } from "../message.js";
import { MessageDeliveryFailure } from "./errors.js";
import { QueueConsumer } from "./queue-consumer.js";
import type { Transport } from "./transport.js";
import { deserializeMsg, MsgIdCache, type RawMessage, uuidHex } from "./wire.js";

/** What a waiting call is told. */
export interface ReplyHandler {
  /** A reply message for the call (a heartbeat, a result, a failure, or the ending marker). */
  onReply(data: RawMessage): void;
  /** The transport was cleaned up: no reply will come. */
  onAbort(err: Error): void;
}

/**
 * The transport's reply queue and its consumer (oslo's ReplyWaiter): `reply_<uuid>`, not
 * durable, not exclusive, expiring after rabbit_transient_queues_ttl unused (so that replies
 * survive a reconnection), consumed with acks. Replies are handed to the call waiting for
 * their `_msg_id`; repeats (by `_unique_id`) and replies nobody waits for are dropped.
 */
export class ReplyWaiter {
  readonly replyQ = `reply_${uuidHex()}`;
  private readonly waiters = new Map<string, ReplyHandler>();
  private readonly seen = new MsgIdCache();
  private readonly consumer: QueueConsumer;

  constructor(transport: Transport) {
    this.consumer = new QueueConsumer(
      transport,
      [
        {
          queue: this.replyQ,
          exchange: undefined,
          routingKey: "",
          durable: false,
          autoDelete: false,
          arguments: { "x-expires": transport.conf.rabbitTransientQueuesTtl * 1000 },
        },
      ],
      (m) => this.onMessage(m),
      () => undefined,
    );
  }

  /** Declares and consumes the reply queue, the first time. */
  start(retry?: number): Promise<void> {
    return this.consumer.start(retry);
  }

  listen(msgId: string, handler: ReplyHandler): void {
    this.waiters.set(msgId, handler);
  }

  unlisten(msgId: string): void {
    this.waiters.delete(msgId);
  }

  /** Stops consuming; calls still waiting fail. */
  stop(): void {
    void this.consumer.stop();
    const err = new MessageDeliveryFailure("the transport was cleaned up while waiting for a reply");
    for (const h of this.waiters.values()) h.onAbort(err);
    this.waiters.clear();
  }

  private onMessage(m: Message): void {
    m.ack();
    let data: RawMessage;
    try {
      data = deserializeMsg(m.body);
    } catch {
      return;
    }
    const msgId = data._msg_id;
    delete data._msg_id;
    const uniqueId = typeof data._unique_id === "string" ? data._unique_id : undefined;
    delete data._unique_id;
    if (this.seen.has(uniqueId)) return;
    this.seen.add(uniqueId);
    if (typeof msgId === "string") this.waiters.get(msgId)?.onReply(data);
  }
}
