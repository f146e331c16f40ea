import { EventEmitter } from "node:events";
import { type BasicProperties, ChannelError, type FieldTable } from "@warren/protocol";
import { backoffDelay } from "./backoff.js";
import type { Channel } from "./channel.js";
import {
  type Body,
  type ChannelOptions,
  type ConsumeOptions,
  type ExchangeDeclareOptions,
  type MessageHandler,
  type PublishOptions,
  type QueueDeclareOptions,
  type QueueDeclareResult,
  toBody,
} from "./channel-types.js";
import type { Connection } from "./connection.js";
import { BlockedError, ClosedError, TimeoutError } from "./errors.js";
import type { Message, NackOptions, ReturnFields } from "./message.js";
import type { RecoveringConnection } from "./recovering-connection.js";
import { RecoveringConsumers } from "./recovering-consumers.js";
import { RecoveringPublisher } from "./recovering-publisher.js";
import type { BindingRecord } from "./topology.js";

/** Events of a RecoveringChannel. */
export type RecoveringChannelEvents = {
  /**
   * The server closed the channel (a ChannelError; the channel reopens by itself), a consumer
   * callback threw or rejected, or a consumer could not be subscribed again. With no
   * listener: a process warning, never an uncaught exception.
   */
  error: [err: Error];
  /** Reopened and restored (QoS, confirm mode, consumers) after a channel error or a reconnection. */
  recovered: [];
  /** The server cancelled a consumer (e.g. its queue was deleted); see `resubscribed`. */
  cancel: [consumerTag: string];
  /** A consumer cancelled by the server consumes again (under the same tag). */
  resubscribed: [consumerTag: string, queue: string];
  /** A mandatory publish could not be routed (also a ReturnedError in confirm mode). */
  return: [message: Message<ReturnFields>];
  /** Closed for good: by close(), or with the connection (`err`: why recovery gave up). */
  close: [err: Error | undefined];
};

/**
 * A channel of a RecoveringConnection: the Channel API, surviving channel errors and lost
 * connections. It keeps what it needs to start over on a new channel: its QoS, confirm mode
 * and consumers (under the same consumer tags); declarations go to the connection's
 * TopologyRecorder. Operations issued while it is down wait for it (until their timeout);
 * an operation cut off by the loss of the channel is sent again on the new one.
 *
 * In confirm mode, publish() resolves once the broker confirms the message, and the publishes
 * not yet confirmed when the channel was lost are sent again: at-least-once, so consumers
 * must expect duplicates (the `redelivered` flag does not mark them; a message id does).
 * Acknowledging a message from a lost channel does nothing: the broker has requeued it.
 */
export class RecoveringChannel extends EventEmitter<RecoveringChannelEvents> {
  private ch: Channel | undefined;
  private closing = false;
  private restoring: { conn: Connection; done: Promise<void> } | undefined;
  private readonly qos = new Map<boolean, number>();
  private confirm = false;
  private readonly consumers: RecoveringConsumers;
  private readonly publisher: RecoveringPublisher;
  private readonly waiters = new Set<() => void>();
  private channelErrors = 0;
  private everAttached = false;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  /** @internal Use RecoveringConnection.createChannel(). */
  constructor(
    readonly connection: RecoveringConnection,
    private readonly options: Required<ChannelOptions>,
  ) {
    super();
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
    this.consumers = new RecoveringConsumers({
      connection,
      live: () => (this.ch?.isOpen ? this.ch : undefined),
      report: (e) => this.report(e),
      cancelled: (tag) => this.emit("cancel", tag),
      resubscribed: (tag, queue) => this.emit("resubscribed", tag, queue),
    });
    this.publisher = new RecoveringPublisher({
      live: () => (this.ch?.isOpen ? this.ch : undefined),
      resolveQueue: (q) => connection.topology.resolveQueue(q),
      blockReason: () => connection.blockReason,
      maxQueuedBytes: options.maxQueuedBytes,
      publishTimeout: options.publishTimeout,
    });
  }

  /** True while an underlying channel is open (false while it recovers, and after close()). */
  get isOpen(): boolean {
    return !this.closing && this.ch?.isOpen === true;
  }

  /** Resolves when the channel is closed for good. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  /** Publishes not yet confirmed (confirm mode) or written. */
  get unconfirmed(): number {
    return this.publisher.size;
  }

  // ------------------------------------------------------------------ declarations (recorded)

  async exchangeDeclare(exchange: string, type = "direct", opts: ExchangeDeclareOptions = {}): Promise<void> {
    await this.run("exchange.declare", (ch) => ch.exchangeDeclare(exchange, type, opts));
    this.connection.topology.recordExchange(exchange, type, opts);
  }

  async exchangeDelete(exchange: string, opts: { ifUnused?: boolean } = {}): Promise<void> {
    await this.run("exchange.delete", (ch) => ch.exchangeDelete(exchange, opts));
    this.connection.topology.deleteExchange(exchange);
  }

  async exchangeBind(
    destination: string,
    source: string,
    routingKey = "",
    args: FieldTable = {},
  ): Promise<void> {
    await this.run("exchange.bind", (ch) => ch.exchangeBind(destination, source, routingKey, args));
    this.connection.topology.recordBinding(binding("exchange", destination, source, routingKey, args));
  }

  async exchangeUnbind(
    destination: string,
    source: string,
    routingKey = "",
    args: FieldTable = {},
  ): Promise<void> {
    await this.run("exchange.unbind", (ch) => ch.exchangeUnbind(destination, source, routingKey, args));
    this.connection.topology.deleteBinding(binding("exchange", destination, source, routingKey, args));
  }

  /**
   * Declares a queue. A server-named queue ("") keeps the name it gets now for the
   * application: after a recovery gives it a new one, this channel and its connection map the
   * old name to the new one (see the connection's 'queue-renamed' event).
   */
  async queueDeclare(queue = "", opts: QueueDeclareOptions = {}): Promise<QueueDeclareResult> {
    const topo = this.connection.topology;
    const ok = await this.run("queue.declare", (ch) => ch.queueDeclare(topo.resolveQueue(queue), opts));
    topo.recordQueue(queue, ok.queue, opts);
    return { ...ok, queue: queue === "" ? ok.queue : queue };
  }

  async queueBind(queue: string, exchange: string, routingKey = "", args: FieldTable = {}): Promise<void> {
    const topo = this.connection.topology;
    await this.run("queue.bind", (ch) => ch.queueBind(topo.resolveQueue(queue), exchange, routingKey, args));
    topo.recordBinding(binding("queue", queue, exchange, routingKey, args));
  }

  async queueUnbind(queue: string, exchange: string, routingKey = "", args: FieldTable = {}): Promise<void> {
    const topo = this.connection.topology;
    await this.run("queue.unbind", (ch) =>
      ch.queueUnbind(topo.resolveQueue(queue), exchange, routingKey, args),
    );
    topo.deleteBinding(binding("queue", queue, exchange, routingKey, args));
  }

  queuePurge(queue: string): Promise<{ messageCount: number }> {
    return this.run("queue.purge", (ch) => ch.queuePurge(this.connection.topology.resolveQueue(queue)));
  }

  /** Deletes a queue; it is no longer declared on recovery, and its consumers are not resubscribed. */
  async queueDelete(
    queue: string,
    opts: { ifUnused?: boolean; ifEmpty?: boolean } = {},
  ): Promise<{ messageCount: number }> {
    const conn = this.connection;
    conn.deleting.add(queue);
    try {
      const r = await this.run("queue.delete", (ch) =>
        ch.queueDelete(conn.topology.resolveQueue(queue), opts),
      );
      conn.topology.deleteQueue(queue);
      conn.forgetConsumersOf(queue);
      return r;
    } finally {
      conn.deleting.delete(queue);
    }
  }

  // ------------------------------------------------------------------ consuming

  /** Sets the prefetch limit; set again on every new channel. */
  async basicQos(prefetchCount: number, global = false): Promise<void> {
    await this.run("basic.qos", (ch) => ch.basicQos(prefetchCount, global));
    this.qos.set(global, prefetchCount);
  }

  /**
   * Starts a consumer; resolves with its tag (one of ours when none is given, so that it stays
   * the same on every new channel). It is subscribed again after a channel error, a reconnection
   * and, unless the connection's `resubscribeOnCancel` is false, a server cancel. Errors thrown
   * by the handler, or promises it returns that reject, are reported on 'error'.
   */
  async basicConsume(queue: string, onMessage: MessageHandler, opts: ConsumeOptions = {}): Promise<string> {
    return this.consumers.add(queue, onMessage, opts, (op) => this.run("basic.consume", op));
  }

  /** Cancels a consumer for good. */
  basicCancel(consumerTag: string): Promise<void> {
    return this.consumers.cancel(consumerTag);
  }

  /** Fetches one message, or null when the queue is empty. */
  basicGet(queue: string, opts: { noAck?: boolean } = {}): Promise<Message | null> {
    return this.run("basic.get", (ch) => ch.basicGet(this.connection.topology.resolveQueue(queue), opts));
  }

  /** Acknowledges a message; false when its channel is gone (the broker has requeued it). */
  ack(message: Message, multiple = false): boolean {
    return message.ack(multiple);
  }

  nack(message: Message, options: NackOptions = {}): boolean {
    return message.nack(options);
  }

  reject(message: Message, requeue = true): boolean {
    return message.reject(requeue);
  }

  // ------------------------------------------------------------------ publishing

  /**
   * Publishes with bounded memory: resolves once written (plain mode) or confirmed (confirm
   * mode), waiting meanwhile for the channel to come back if it is down. Rejects with
   * NackError, ReturnedError, ChannelError (a publish the broker refused), ClosedError (closed
   * for good) or TimeoutError / BlockedError after `publishTimeout`; never an unhandled
   * rejection. Confirm mode resends what was not confirmed when the channel was lost.
   * @throws TypeError for a body that is not bytes or a string, BufferFullError when more than
   *   `maxQueuedBytes` are not settled yet, ClosedError after close().
   */
  publish(
    exchange: string,
    routingKey: string,
    body: Body,
    properties: BasicProperties = {},
    options: PublishOptions = {},
  ): Promise<void> {
    if (this.closing) throw new ClosedError("channel is closed: closed by the application");
    return this.publisher.publish(exchange, routingKey, toBody(body), properties, options.mandatory === true);
  }

  /**
   * The fast path of Channel.basicPublish: written now, not kept, not sent again.
   * @throws ClosedError while the channel is down (use publish() to have messages wait).
   */
  basicPublish(
    exchange: string,
    routingKey: string,
    body: Body,
    properties: BasicProperties = {},
    options: PublishOptions = {},
  ): boolean {
    const ch = this.ch;
    if (this.closing || !ch?.isOpen)
      throw new ClosedError("channel is recovering: basicPublish() cannot wait");
    const rk = exchange === "" ? this.connection.topology.resolveQueue(routingKey) : routingKey;
    return ch.basicPublish(exchange, rk, body, properties, options);
  }

  /** Puts the channel in confirm mode, now and on every new channel. */
  async confirmSelect(): Promise<void> {
    await this.run("confirm.select", (ch) => ch.confirmSelect());
    this.confirm = true;
  }

  /** Resolves once every publish so far is settled; rejects with the first failure. */
  waitForConfirms(): Promise<void> {
    return this.publisher.wait();
  }

  /** Closes the channel for good, after its waiting publishes went out (if it is up). */
  async close(): Promise<void> {
    if (this.closing) return this.closedPromise;
    this.closing = true;
    const ch = this.ch;
    if (ch?.isOpen) await ch.close();
    this.shutdown(undefined);
  }

  // ------------------------------------------------------------------ recovery

  /**
   * @internal Opens a channel on conn and restores QoS, confirm mode and consumers, then
   * sends the publishes that wait. A consumer whose queue is missing is parked (it waits for
   * the queue) rather than stopping the others.
   */
  restore(conn: Connection): Promise<void> {
    if (this.restoring?.conn === conn) return this.restoring.done;
    const done = this.doRestore(conn).finally(() => {
      if (this.restoring?.done === done) this.restoring = undefined;
    });
    this.restoring = { conn, done };
    return done;
  }

  private async doRestore(conn: Connection): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.closing || !conn.isOpen) return;
      let ch: Channel | undefined;
      try {
        ch = await this.openOn(conn);
        if (!(await this.consumers.resubscribeAll(ch))) continue;
      } catch (e) {
        // Lost with the connection: the connection's recovery starts over. Otherwise (a
        // timeout, say) try again on this connection.
        if (this.closing || !conn.isOpen) throw e;
        this.report(e);
        if (ch?.isOpen) ch.close().catch(() => {});
        await this.connection.sleep(backoffDelay(attempt, this.connection.recoveryOptions));
        continue;
      }
      if (this.closing) return void ch.close().catch(() => {});
      const revived = this.everAttached;
      this.ch = ch;
      this.everAttached = true;
      this.publisher.attach(ch);
      for (const w of [...this.waiters]) w();
      this.consumers.resumeParked();
      if (revived) this.emit("recovered");
      return;
    }
  }

  /** A new channel on conn with this one's QoS and confirm mode. */
  private async openOn(conn: Connection): Promise<Channel> {
    // Memory bounds are the RecoveringPublisher's, across channels; so are publish deadlines
    // (see publishUntil).
    const ch = await conn.createChannel({ ...this.options, maxQueuedBytes: Infinity });
    ch.on("error", () => {}); // reported from 'close'
    ch.on("close", (err) => this.onChannelClosed(ch, err));
    ch.on("return", (m) => this.emit("return", m));
    ch.on("cancel", (tag) => this.consumers.onServerCancel(ch, tag));
    for (const [global, count] of this.qos) await ch.basicQos(count, global);
    if (this.confirm) await ch.confirmSelect();
    return ch;
  }

  private onChannelClosed(ch: Channel, err: Error | undefined): void {
    if (ch !== this.ch) return;
    this.ch = undefined;
    if (this.closing) return;
    // A lost connection: the RecoveringConnection restores us once it is back.
    if (!ch.connection.isOpen || !(err instanceof ChannelError)) return;
    this.report(err);
    const attempt = this.channelErrors++;
    void (async () => {
      // Errors in a row (each new channel failing again) back off; a quiet minute resets.
      if (attempt > 0)
        await this.connection.sleep(backoffDelay(attempt - 1, this.connection.recoveryOptions));
      await this.restore(ch.connection);
      setTimeout(() => (this.channelErrors = 0), 60_000).unref();
    })().catch(() => {}); // only fails when the connection is lost; its recovery takes over
  }

  /** @internal The connection dropped a queue: its consumers are not resubscribed. */
  forgetConsumersOf(queue: string): void {
    this.consumers.forgetQueue(queue);
  }

  /** @internal Closed for good (by close(), or the connection gave up). */
  shutdown(err: Error | undefined): void {
    this.closing = true;
    this.ch = undefined;
    this.publisher.fail(new ClosedError("channel is closed", err ? { cause: err } : undefined));
    for (const w of [...this.waiters]) w();
    this.connection.release(this);
    this.resolveClosed();
    this.emit("close", err);
  }

  /**
   * Runs op on the live channel, waiting for it while it is down; an op cut off by the loss
   * of the channel (a ClosedError) runs again on the next one. A server refusal rejects.
   */
  private async run<T>(what: string, op: (ch: Channel) => Promise<T>): Promise<T> {
    const ms = this.options.operationTimeout;
    const deadline = ms > 0 ? Date.now() + ms : 0;
    for (;;) {
      const ch = await this.live(what, deadline);
      try {
        return await op(ch);
      } catch (e) {
        if (!(e instanceof ClosedError) || this.closing || (deadline > 0 && Date.now() >= deadline)) throw e;
      }
    }
  }

  private live(what: string, deadline: number): Promise<Channel> {
    const ch = this.ch;
    if (ch?.isOpen) return Promise.resolve(ch);
    if (this.closing) return Promise.reject(new ClosedError("channel is closed"));
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        if (this.ch?.isOpen) resolve(this.ch);
        else reject(new ClosedError("channel is closed"));
      };
      const ms = this.options.operationTimeout;
      const timer = setTimeout(
        () => {
          this.waiters.delete(done);
          const reason = this.connection.blockReason;
          reject(
            reason
              ? new BlockedError(what, ms, reason)
              : new TimeoutError(`${what} timed out after ${ms} ms waiting for the channel to recover`, ms),
          );
        },
        deadline > 0 ? deadline - Date.now() : 2 ** 31 - 1,
      );
      if (deadline === 0) timer.unref();
      this.waiters.add(done);
    });
  }

  private report(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    if (this.listenerCount("error") > 0) this.emit("error", err);
    else process.emitWarning(err);
  }
}

function binding(
  kind: BindingRecord["kind"],
  destination: string,
  source: string,
  routingKey: string,
  args: FieldTable,
): BindingRecord {
  return { kind, destination, source, routingKey, arguments: args };
}
