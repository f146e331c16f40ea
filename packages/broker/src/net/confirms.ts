import type { BrokerCounters } from "../stats.js";
import type { MessageStore } from "../store/message-store.js";
import { PublishResult } from "../vhost.js";
import type { ChannelOutput } from "./channel-output.js";

/**
 * Publisher confirms of one channel. Each publish gets the next sequence number; its confirm
 * is an ack, or a nack when a queue refused it or the store failed. A persistent message in a
 * durable queue is confirmed only once the store has synced it: syncs are requested once per
 * flush of the connection, not per message, and acks go out coalesced with `multiple`.
 */
export class PublisherConfirms {
  private publishSeq = 0;
  /** Highest publish sequence number whose confirm may be sent. */
  private confirmedUpTo = 0;
  private confirmSent = 0;
  /** Publish sequence numbers up to which confirms wait on a store sync (requested or not). */
  private unsyncedUpTo = 0;
  /** Highest sequence number a store sync has been requested for. */
  private syncRequestedUpTo = 0;
  /** Highest sequence number whose sync completed. */
  private syncedUpTo = 0;
  /** Publishes a queue refused (reject-publish): nacked when their turn comes. */
  private readonly pendingNacks: number[] = [];
  /** The sequence number each requested sync covers, in request order. */
  private readonly syncQueue: number[] = [];

  constructor(
    private readonly out: ChannelOutput,
    private readonly store: MessageStore,
    private readonly counters: BrokerCounters,
  ) {}

  /** A publish was routed with this result. */
  published(result: PublishResult): void {
    const seq = ++this.publishSeq;
    if (result & PublishResult.REJECTED) this.pendingNacks.push(seq);
    if (result & PublishResult.PERSISTED || this.unsyncedUpTo > this.syncedUpTo) {
      // Waits for the store; so does every later confirm, to keep them in order.
      this.unsyncedUpTo = seq;
      this.out.scheduleFlush();
    } else this.settle(seq, undefined);
  }

  /** Called by the connection just before it writes its buffer out: coalesces confirms. */
  flush(): void {
    if (this.unsyncedUpTo > this.syncRequestedUpTo) {
      this.syncRequestedUpTo = this.unsyncedUpTo;
      this.syncQueue.push(this.unsyncedUpTo);
      this.store.sync(this.onSynced);
    }
    const upTo = this.confirmedUpTo;
    if (upTo > this.confirmSent && this.out.open) {
      this.out.writeMethod({ name: "basic.ack", deliveryTag: upTo, multiple: upTo - this.confirmSent > 1 });
      this.counters.confirmed += upTo - this.confirmSent;
      this.confirmSent = upTo;
    }
  }

  private readonly onSynced = (err?: Error): void => {
    const upTo = this.syncQueue.shift()!;
    this.syncedUpTo = upTo;
    this.settle(upTo, err);
  };

  /**
   * Every publish up to upTo is settled: nack the refused ones (or all of them when the store
   * failed), ack the rest. Writes happen in sequence order, acks coalesced with multiple.
   */
  private settle(upTo: number, err: Error | undefined): void {
    if (!this.out.open) return;
    if (err) {
      this.flush();
      if (upTo > this.confirmSent) {
        const multiple = upTo - this.confirmSent > 1;
        this.out.writeMethod({ name: "basic.nack", deliveryTag: upTo, multiple, requeue: false });
        this.confirmSent = this.confirmedUpTo = upTo;
      }
      this.pendingNacks.length = 0;
    } else {
      while (this.pendingNacks.length > 0 && this.pendingNacks[0]! <= upTo) {
        const seq = this.pendingNacks.shift()!;
        this.confirmedUpTo = Math.max(this.confirmedUpTo, seq - 1);
        this.flush();
        this.out.writeMethod({ name: "basic.nack", deliveryTag: seq, multiple: false, requeue: false });
        this.confirmSent = seq;
      }
      if (upTo > this.confirmedUpTo) this.confirmedUpTo = upTo;
    }
    this.out.scheduleFlush();
  }
}
