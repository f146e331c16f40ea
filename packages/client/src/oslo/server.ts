import { EventEmitter } from "node:events";
import type { Message } from "../message.js";
import { QueueConsumer, type QueueSpec } from "./queue-consumer.js";
import type { Transport } from "./transport.js";
import { deserializeMsg, type RawMessage } from "./wire.js";

/** Events of a server or listener. */
export type ServerEvents = {
  /**
   * Something nobody else is told about: an endpoint failed on a cast or a notification, a
   * reply could not be sent, a message was not oslo's format, or consuming had to be set up
   * again and failed. Emitted only when someone listens (oslo logs these).
   */
  error: [err: Error];
};

/**
 * What RPC servers and notification listeners share (oslo's MessageHandlingServer):
 * start() declares the queues and starts consuming, stop() stops taking messages, wait()
 * resolves once the messages taken have been handled and the server's queues and channel
 * are cleaned up. A server can be started again after wait().
 */
export abstract class MessageHandlingServer extends EventEmitter<ServerEvents> {
  private consumer: QueueConsumer | undefined;
  private readonly inflight = new Set<Promise<void>>();
  private stopped: Promise<void> | undefined;
  private resolveStopped: (() => void) | undefined;

  protected constructor(readonly transport: Transport) {
    super();
  }

  /** @internal The queues to consume, computed at each start (fanout queues get a new name). */
  protected abstract queues(): QueueSpec[];

  /** Handles one delivery: ack or reject it, dispatch, reply. */
  protected abstract process(message: Message): Promise<void>;

  /** Declares the queues and consumes them; resolves once messages can arrive. */
  async start(): Promise<void> {
    if (this.consumer) return;
    this.stopped = new Promise((r) => (this.resolveStopped = r));
    const consumer = new QueueConsumer(
      this.transport,
      this.queues(),
      (m) => this.track(m),
      (e) => this.report(e),
    );
    this.consumer = consumer;
    try {
      await consumer.start();
    } catch (e) {
      this.consumer = undefined;
      this.resolveStopped?.();
      throw e;
    }
  }

  /** Stops consuming. Messages already taken are still handled; see wait(). */
  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.resolveStopped?.();
  }

  /**
   * Resolves once the server is stopped (stop() may come later), every message it took has
   * been handled, its fanout queues are deleted and its channel closed.
   */
  async wait(): Promise<void> {
    await this.stopped;
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    const c = this.consumer;
    this.consumer = undefined;
    await c?.close();
  }

  /**
   * @internal The oslo message of a delivery. One that is not (not JSON, or an envelope of another
   * version) is rejected without requeueing, as oslo's consumer does, and the error thrown.
   */
  protected decode(m: Message): RawMessage {
    try {
      return deserializeMsg(m.body);
    } catch (e) {
      m.reject(false);
      throw e;
    }
  }

  /** Emits 'error' if anyone listens. */
  protected report(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    if (this.listenerCount("error") > 0) this.emit("error", err);
  }

  private track(m: Message): void {
    const p: Promise<void> = this.process(m)
      .catch((e: unknown) => this.report(e))
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }
}
