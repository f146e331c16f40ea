import type { BasicProperties, FieldTable } from "@warren/protocol";
import { ChannelBase, type ConsumerEntry } from "./channel-base.js";
import {
  type Body,
  type ConsumeOptions,
  type ExchangeDeclareOptions,
  type MessageHandler,
  type PublishOptions,
  type QueueDeclareOptions,
  type QueueDeclareResult,
  toBody,
} from "./channel-types.js";
import { ConfirmTracker } from "./confirm-tracker.js";
import { Message } from "./message.js";
import type { Outgoing } from "./publish-queue.js";

const RESOLVED: Promise<void> = Promise.resolve();
const noop = (): void => {};

/**
 * An AMQP channel. Method calls (declarations, qos, consume, get, …) return promises; they
 * may be issued without awaiting each other, since the broker answers them in order, and
 * time out after `operationTimeout`.
 *
 * Two ways to publish: publish() returns a promise and keeps memory bounded (it waits for
 * room in the connection's output, and in confirm mode for room in the window of unconfirmed
 * publishes, then resolves when written, or confirmed in confirm mode); basicPublish() is
 * fire-and-forget and returns false when the caller should wait for 'drain'.
 *
 * When the server closes the channel (a soft error such as 404 NOT_FOUND or 406
 * PRECONDITION_FAILED), the operation it refused rejects with a ChannelError carrying the
 * reply code, and the others in flight with a ClosedError whose cause is that error; the
 * connection and its other channels carry on.
 */
export class Channel extends ChannelBase {
  // ------------------------------------------------------------------ exchanges and queues

  /** Declares an exchange ("direct", "fanout", "topic", "headers", or a plugin type). */
  async exchangeDeclare(exchange: string, type = "direct", opts: ExchangeDeclareOptions = {}): Promise<void> {
    await this.rpc(
      {
        name: "exchange.declare",
        exchange,
        type,
        passive: opts.passive ?? false,
        durable: opts.durable ?? false,
        autoDelete: opts.autoDelete ?? false,
        internal: opts.internal ?? false,
        arguments: opts.arguments ?? {},
      },
      ["exchange.declare-ok"],
    );
  }

  /** Deletes an exchange; with ifUnused, only if it has no bindings (406 otherwise). */
  async exchangeDelete(exchange: string, opts: { ifUnused?: boolean } = {}): Promise<void> {
    await this.rpc({ name: "exchange.delete", exchange, ifUnused: opts.ifUnused ?? false }, [
      "exchange.delete-ok",
    ]);
  }

  /** Binds exchange `destination` to `source` (a RabbitMQ extension). */
  async exchangeBind(
    destination: string,
    source: string,
    routingKey = "",
    args: FieldTable = {},
  ): Promise<void> {
    await this.rpc({ name: "exchange.bind", destination, source, routingKey, arguments: args }, [
      "exchange.bind-ok",
    ]);
  }

  async exchangeUnbind(
    destination: string,
    source: string,
    routingKey = "",
    args: FieldTable = {},
  ): Promise<void> {
    await this.rpc({ name: "exchange.unbind", destination, source, routingKey, arguments: args }, [
      "exchange.unbind-ok",
    ]);
  }

  /** Declares a queue; "" lets the server name it (see the result's `queue`). */
  async queueDeclare(queue = "", opts: QueueDeclareOptions = {}): Promise<QueueDeclareResult> {
    const ok = await this.rpc(
      {
        name: "queue.declare",
        queue,
        passive: opts.passive ?? false,
        durable: opts.durable ?? false,
        exclusive: opts.exclusive ?? false,
        autoDelete: opts.autoDelete ?? false,
        arguments: opts.arguments ?? {},
      },
      ["queue.declare-ok"],
    );
    return { queue: ok.queue, messageCount: ok.messageCount, consumerCount: ok.consumerCount };
  }

  async queueBind(queue: string, exchange: string, routingKey = "", args: FieldTable = {}): Promise<void> {
    await this.rpc({ name: "queue.bind", queue, exchange, routingKey, arguments: args }, ["queue.bind-ok"]);
  }

  async queueUnbind(queue: string, exchange: string, routingKey = "", args: FieldTable = {}): Promise<void> {
    await this.rpc({ name: "queue.unbind", queue, exchange, routingKey, arguments: args }, [
      "queue.unbind-ok",
    ]);
  }

  /** Removes the queue's ready messages; resolves with how many. */
  async queuePurge(queue: string): Promise<{ messageCount: number }> {
    const ok = await this.rpc({ name: "queue.purge", queue }, ["queue.purge-ok"]);
    return { messageCount: ok.messageCount };
  }

  /** Deletes a queue; resolves with the number of messages it held. */
  async queueDelete(
    queue: string,
    opts: { ifUnused?: boolean; ifEmpty?: boolean } = {},
  ): Promise<{ messageCount: number }> {
    const ok = await this.rpc(
      { name: "queue.delete", queue, ifUnused: opts.ifUnused ?? false, ifEmpty: opts.ifEmpty ?? false },
      ["queue.delete-ok"],
    );
    return { messageCount: ok.messageCount };
  }

  // ------------------------------------------------------------------ consuming

  /**
   * Limits unacknowledged deliveries: per consumer (RabbitMQ's reading of global=false) or
   * shared by the channel's consumers (global=true).
   */
  async basicQos(prefetchCount: number, global = false): Promise<void> {
    await this.rpc({ name: "basic.qos", prefetchSize: 0, prefetchCount, global }, ["basic.qos-ok"]);
  }

  /**
   * Starts a consumer; resolves with its consumer tag. onMessage is registered before any
   * delivery can be processed, however the frames are chunked. Deliveries stop when the
   * channel starts closing.
   */
  basicConsume(queue: string, onMessage: MessageHandler, opts: ConsumeOptions = {}): Promise<string> {
    const args =
      opts.priority === undefined
        ? (opts.arguments ?? {})
        : { ...opts.arguments, "x-priority": opts.priority };
    const noAck = opts.noAck ?? false;
    const entry: ConsumerEntry = { onMessage, onCancel: opts.onCancel, noAck };
    return this.rpc(
      {
        name: "basic.consume",
        queue,
        consumerTag: opts.consumerTag ?? "",
        noLocal: opts.noLocal ?? false,
        noAck,
        exclusive: opts.exclusive ?? false,
        arguments: args,
      },
      ["basic.consume-ok"],
      (ok) => {
        this.consumers.set(ok.consumerTag, entry);
        return ok.consumerTag;
      },
      // Timed out, then answered: the consumer exists on the server; cancel it.
      (tag) => void this.basicCancel(tag as string).catch(noop),
    );
  }

  /** Cancels a consumer. Deliveries already on the wire still reach its handler. */
  basicCancel(consumerTag: string): Promise<void> {
    return this.rpc({ name: "basic.cancel", consumerTag }, ["basic.cancel-ok"], () => {
      this.consumers.delete(consumerTag);
    });
  }

  /** Fetches one message, or null when the queue is empty. */
  basicGet(queue: string, opts: { noAck?: boolean } = {}): Promise<Message | null> {
    const noAck = opts.noAck ?? false;
    return this.rpc(
      { name: "basic.get", queue, noAck },
      ["basic.get-ok", "basic.get-empty"],
      undefined,
      // Timed out, then answered: give the message back.
      (m) => void (m instanceof Message && !noAck && m.reject(true)),
    ) as unknown as Promise<Message | null>;
  }

  /** Redelivers this channel's unacknowledged messages (requeued by default). */
  async basicRecover(requeue = true): Promise<void> {
    await this.rpc({ name: "basic.recover", requeue }, ["basic.recover-ok"]);
  }

  // ------------------------------------------------------------------ publishing

  /**
   * Publishes a message with bounded memory. Resolves once the message is in the
   * connection's output within its high-water mark (plain mode), or once the broker confirmed
   * it (confirm mode); until there is room it waits, in order, without encoding the message.
   * Rejects with NackError, ReturnedError (a mandatory publish that came back, confirm mode),
   * ChannelError, ClosedError or TimeoutError / BlockedError after `publishTimeout`. The
   * promise never counts as an unhandled rejection, so it may be ignored.
   *
   * @throws ClosedError when the channel is closed, TypeError for a body that is not bytes or
   *   a string, BufferFullError when more than `maxQueuedBytes` are already waiting.
   */
  publish(
    exchange: string,
    routingKey: string,
    body: Body,
    properties: BasicProperties = {},
    options: PublishOptions = {},
  ): Promise<void> {
    return this.send(undefined, exchange, routingKey, body, properties, options);
  }

  /**
   * @internal publish() with its own deadline (Date.now() after which it rejects with a
   * TimeoutError; 0: never) instead of `publishTimeout` from now: a RecoveringChannel keeps
   * the deadline of the original publish() across channels.
   */
  publishUntil(
    deadline: number,
    exchange: string,
    routingKey: string,
    body: Body,
    properties: BasicProperties,
    options: PublishOptions,
  ): Promise<void> {
    return this.send(deadline, exchange, routingKey, body, properties, options);
  }

  private send(
    deadline: number | undefined,
    exchange: string,
    routingKey: string,
    body: Body,
    properties: BasicProperties,
    options: PublishOptions,
  ): Promise<void> {
    if (this.state !== "open") throw this.closedError();
    const buf = toBody(body);
    const mandatory = options.mandatory === true;
    if (!this.confirms && this.queue.length === 0 && this.hasRoom()) {
      // Plain mode with room: no promise to make.
      this.connection.sendPublish(this.id, exchange, routingKey, mandatory, properties, buf);
      return RESOLVED;
    }
    let settle!: Pick<Outgoing, "resolve" | "reject">;
    const p = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    const timeout = this.options.publishTimeout;
    const o: Outgoing = {
      exchange,
      routingKey,
      mandatory,
      body: buf,
      properties,
      deadline: deadline ?? (timeout > 0 ? Date.now() + timeout : 0),
      resolve: settle.resolve,
      reject: settle.reject,
    };
    // Outside the promise's executor, so that BufferFullError is thrown, not a rejection.
    if (this.queue.length === 0 && this.hasRoom()) this.write(o);
    else this.queue.push(o);
    if (o.deadline > 0) this.watch();
    p.catch(noop);
    return p;
  }

  /**
   * The fast path: publishes now, whatever is buffered, and returns at once.
   * @returns false when the connection's output buffer is over its high-water mark or the
   *   server blocked the connection: wait for the 'drain' event before publishing more.
   * @throws ClosedError on a closed channel, TypeError for a body that is not bytes or a string.
   */
  basicPublish(
    exchange: string,
    routingKey: string,
    body: Body,
    properties: BasicProperties = {},
    options: PublishOptions = {},
  ): boolean {
    if (this.state !== "open") throw this.closedError();
    const buf = toBody(body);
    this.connection.sendPublish(this.id, exchange, routingKey, options.mandatory === true, properties, buf);
    this.confirms?.add();
    return this.connection.writable;
  }

  /** publish(), on a channel that must be in confirm mode (rejects otherwise). */
  publishConfirm(
    exchange: string,
    routingKey: string,
    body: Body,
    properties: BasicProperties = {},
    options: PublishOptions = {},
  ): Promise<void> {
    if (!this.confirms && this.state === "open")
      return Promise.reject(new Error("channel is not in confirm mode: call confirmSelect() first"));
    return this.publish(exchange, routingKey, body, properties, options);
  }

  /**
   * Puts the channel in confirm mode: the broker acks (or nacks) every later publish.
   * Publishes issued right after this call, before it resolves, are tracked too.
   */
  async confirmSelect(): Promise<void> {
    const p = this.rpc({ name: "confirm.select", nowait: false }, ["confirm.select-ok"]);
    // Count from now: the broker numbers the publishes that follow confirm.select on the wire.
    this.confirms ??= new ConfirmTracker();
    await p;
  }

  /** True once confirmSelect() was called. */
  get confirmMode(): boolean {
    return this.confirms !== undefined;
  }

  /** Resolves once every publish so far is acked; rejects (NackError) if any was nacked. */
  waitForConfirms(): Promise<void> {
    if (!this.confirms) return Promise.reject(new Error("channel is not in confirm mode"));
    return this.confirms.wait();
  }

  /** Publishes not yet confirmed (confirm mode). */
  get unconfirmed(): number {
    return this.confirms?.outstanding ?? 0;
  }

  /** publish() calls waiting for room in the window. */
  get waitingPublishes(): number {
    return this.queue.length;
  }

  async txSelect(): Promise<void> {
    await this.rpc({ name: "tx.select" }, ["tx.select-ok"]);
  }

  async txCommit(): Promise<void> {
    await this.rpc({ name: "tx.commit" }, ["tx.commit-ok"]);
  }

  async txRollback(): Promise<void> {
    await this.rpc({ name: "tx.rollback" }, ["tx.rollback-ok"]);
  }
}
