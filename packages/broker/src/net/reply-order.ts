import { ConnectionError, type MethodInit, ReplyCode } from "@warren/protocol";
import type { MessageStore } from "../store/message-store.js";
import type { ChannelOutput } from "./channel-output.js";

/**
 * The order of a channel's replies. A reply that changed durable definitions waits until the
 * store has synced them, as RabbitMQ answers only once its metadata store has committed: a
 * declare-ok must not be followed by a crash that forgets the declaration. Later replies and
 * server methods (a basic.cancel caused by a queue.delete) queue behind it, so everything
 * goes out in request order.
 */
export class ReplyOrder {
  /** Replies (and methods after them) waiting for a durable reply ahead of them. */
  private readonly held: { m: MethodInit; ready: boolean }[] = [];
  /** Set while a client method is handled (beginMethod .. endMethod). */
  private inMethod = false;
  /** Server methods caused by the method being handled, sent after its reply. */
  private deferred: MethodInit[] | undefined;

  constructor(
    private readonly out: ChannelOutput,
    private readonly store: MessageStore,
  ) {}

  /** Sends a reply or a server-initiated method, after any reply still held. */
  send(m: MethodInit): void {
    if (this.held.length > 0) {
      this.held.push({ m, ready: true });
      return;
    }
    this.out.writeMethod(m);
    this.out.scheduleFlush();
  }

  /**
   * The reply to a method that changed durable definitions (changed: whether it did). The
   * broker hands the new definitions to the store in a microtask queued during the change;
   * the sync is requested in one queued after it, so it covers them.
   */
  sendDurable(m: MethodInit, changed: boolean): void {
    const store = this.store;
    if (!changed || !store.durable) return this.send(m);
    const entry = { m, ready: false };
    this.held.push(entry);
    queueMicrotask(() =>
      store.sync((err) => {
        if (!this.out.open) return;
        if (err) {
          this.held.length = 0;
          this.out.fail(
            new ConnectionError(ReplyCode.INTERNAL_ERROR, `cannot save definitions: ${err.message}`),
          );
          return;
        }
        entry.ready = true;
        while (this.held.length > 0 && this.held[0]!.ready) this.out.writeMethod(this.held.shift()!.m);
        this.out.scheduleFlush();
      }),
    );
  }

  /** A client method is being handled: server methods it causes wait for its reply. */
  beginMethod(): void {
    this.inMethod = true;
  }

  /** The method was handled; failed: the channel is closing, and nothing deferred goes out. */
  endMethod(failed: boolean): void {
    this.inMethod = false;
    const deferred = this.deferred;
    this.deferred = undefined;
    if (deferred && !failed) for (const m of deferred) this.send(m);
  }

  /**
   * A server-initiated method (the basic.cancel of a consumer whose queue a queue.delete
   * removed): after the reply of the method being handled, as RabbitMQ orders them, for a
   * client that closes its channel when its consumer is cancelled would otherwise never see
   * the reply.
   */
  sendServerMethod(m: MethodInit): void {
    if (this.inMethod) (this.deferred ??= []).push(m);
    else this.send(m);
  }

  /** The channel closed: nothing held goes out. */
  clear(): void {
    this.held.length = 0;
  }
}
