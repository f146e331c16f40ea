import { EventEmitter } from "node:events";
import {
  type BasicProperties,
  ChannelError,
  ContentAssembler,
  decodeMethod,
  type FieldTable,
  FrameType,
  type Method,
  type MethodInit,
  type MethodName,
  ReplyCode,
  unexpectedFrame,
} from "@warren/protocol";
import { ClosedError } from "./closed-error.js";
import { ConfirmTracker } from "./confirm-tracker.js";
import { type Connection, replyTextBody } from "./connection.js";
import { type DeliveryFields, Message, type ReturnFields } from "./message.js";

/** Events of a Channel. */
export type ChannelEvents = {
  /**
   * The server closed the channel (a ChannelError with the reply code), or a consumer
   * callback threw. Emitted only when someone listens: the same error also rejects every
   * operation in flight, and a callback error with no listener is rethrown as uncaught.
   */
  error: [err: Error];
  /** The channel is closed; `err` says why, undefined after a clean close(). */
  close: [err: Error | undefined];
  /** A mandatory publish could not be routed (basic.return). */
  return: [message: Message<ReturnFields>];
  /** Output has drained after publish() returned false. */
  drain: [];
  /** The server cancelled a consumer (its queue was deleted, …). */
  cancel: [consumerTag: string];
  /** The server paused (false) or resumed (true) our publishes (channel.flow). */
  flow: [active: boolean];
};

/** Options of publish(). */
export interface PublishOptions {
  /** Return the message (a 'return' event) when no queue takes it. */
  mandatory?: boolean;
}

/** Options of exchangeDeclare(); all false by default, as in the spec. */
export interface ExchangeDeclareOptions {
  /** Only check that the exchange exists (404 otherwise). */
  passive?: boolean;
  durable?: boolean;
  autoDelete?: boolean;
  internal?: boolean;
  arguments?: FieldTable;
}

/** Options of queueDeclare(); all false by default, as in the spec. */
export interface QueueDeclareOptions {
  /** Only check that the queue exists (404 otherwise). */
  passive?: boolean;
  durable?: boolean;
  exclusive?: boolean;
  autoDelete?: boolean;
  /** x-arguments: x-message-ttl, x-dead-letter-exchange, x-max-length, x-queue-type, … */
  arguments?: FieldTable;
}

/** queue.declare-ok. */
export interface QueueDeclareResult {
  queue: string;
  messageCount: number;
  consumerCount: number;
}

/** Options of basicConsume(). */
export interface ConsumeOptions {
  /** Default: the server picks one. */
  consumerTag?: string;
  /** The broker considers messages acknowledged as soon as it sends them. */
  noAck?: boolean;
  exclusive?: boolean;
  noLocal?: boolean;
  /** Consumer priority (x-priority). */
  priority?: number;
  arguments?: FieldTable;
  /** Called when the server cancels this consumer (e.g. its queue was deleted). */
  onCancel?: (consumerTag: string) => void;
}

/**
 * Receives each delivery, synchronously from the socket's data handler: no promise or
 * queue per message. A returned promise is only watched for rejection.
 */
export type MessageHandler = (message: Message) => void | Promise<void>;

interface ConsumerEntry {
  readonly onMessage: MessageHandler;
  readonly onCancel: ((tag: string) => void) | undefined;
}

/** A synchronous request awaiting its reply; replies come back in request order. */
interface Rpc {
  readonly replies: readonly MethodName[];
  /** Runs in the frame handler, before any later frame is looked at. */
  readonly handle: (m: Method) => unknown;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
}

const DELIVER = 0;
const GET = 1;
const RETURN = 2;

/** What the method of a message being assembled said (the frames are the assembler's). */
interface Incoming {
  readonly kind: typeof DELIVER | typeof GET | typeof RETURN;
  readonly fields: DeliveryFields | ReturnFields;
  readonly rpc: Rpc | undefined;
}

type State = "opening" | "open" | "closing" | "closed";

/**
 * An AMQP channel. Synchronous methods (declarations, qos, consume, get, …) return
 * promises; they may be issued without awaiting each other, since the broker answers them in
 * order. publish(), ack(), nack() and reject() are fire-and-forget and throw a ClosedError
 * on a closed channel.
 *
 * When the server closes the channel (a soft error such as 404 NOT_FOUND or 406
 * PRECONDITION_FAILED), every pending operation rejects with a ChannelError carrying the
 * reply code; the connection and its other channels carry on.
 */
export class Channel extends EventEmitter<ChannelEvents> {
  private state: State = "opening";
  private readonly rpcs: Rpc[] = [];
  private readonly consumers = new Map<string, ConsumerEntry>();
  private incoming: Incoming | undefined;
  /** Messages are copied out of socket chunks: an application may keep them for long. */
  private readonly content = new ContentAssembler("own");
  private confirms: ConfirmTracker | undefined;
  private closeReason: Error | undefined;
  /** The server's channel.close when it crossed our own. */
  private crossedClose: Error | undefined;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  /** @internal Use Connection.createChannel(). */
  constructor(
    readonly connection: Connection,
    readonly id: number,
  ) {
    super();
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
  }

  /** True until the channel is closing or closed. */
  get isOpen(): boolean {
    return this.state === "open";
  }

  /** Why the channel closed (undefined while open or after a clean close). */
  get error(): Error | undefined {
    return this.closeReason;
  }

  /** Resolves when the channel is closed, for whatever reason. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  /** @internal */
  async open(): Promise<void> {
    await this.rpc({ name: "channel.open" }, ["channel.open-ok"]);
    this.state = "open";
  }

  /** Closes the channel (channel.close, then close-ok). Unacked deliveries are requeued. */
  close(): Promise<void> {
    if (this.state !== "open") return this.closedPromise;
    this.state = "closing";
    this.connection.sendMethod(this.id, {
      name: "channel.close",
      replyCode: ReplyCode.REPLY_SUCCESS,
      replyText: "Goodbye",
      classId: 0,
      methodId: 0,
    });
    return this.closedPromise;
  }

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
   * delivery can be processed, however the frames are chunked.
   */
  basicConsume(queue: string, onMessage: MessageHandler, opts: ConsumeOptions = {}): Promise<string> {
    const args =
      opts.priority === undefined
        ? (opts.arguments ?? {})
        : { ...opts.arguments, "x-priority": opts.priority };
    const entry: ConsumerEntry = { onMessage, onCancel: opts.onCancel };
    return this.rpc(
      {
        name: "basic.consume",
        queue,
        consumerTag: opts.consumerTag ?? "",
        noLocal: opts.noLocal ?? false,
        noAck: opts.noAck ?? false,
        exclusive: opts.exclusive ?? false,
        arguments: args,
      },
      ["basic.consume-ok"],
      (ok) => {
        this.consumers.set(ok.consumerTag, entry);
        return ok.consumerTag;
      },
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
    return this.rpc({ name: "basic.get", queue, noAck: opts.noAck ?? false }, [
      "basic.get-ok",
      "basic.get-empty",
    ]) as unknown as Promise<Message | null>;
  }

  /** Redelivers this channel's unacknowledged messages (requeued by default). */
  async basicRecover(requeue = true): Promise<void> {
    await this.rpc({ name: "basic.recover", requeue }, ["basic.recover-ok"]);
  }

  /** Acknowledges a delivery (and every earlier one with `multiple`). */
  ack(message: Message | number, multiple = false): void {
    this.send({ name: "basic.ack", deliveryTag: tagOf(message), multiple });
  }

  /** Acknowledges every outstanding delivery on the channel. */
  ackAll(): void {
    this.send({ name: "basic.ack", deliveryTag: 0, multiple: true });
  }

  /** Rejects a delivery (and every earlier one with `multiple`); requeued by default. */
  nack(message: Message | number, multiple = false, requeue = true): void {
    this.send({ name: "basic.nack", deliveryTag: tagOf(message), multiple, requeue });
  }

  /** Rejects every outstanding delivery on the channel; requeued by default. */
  nackAll(requeue = true): void {
    this.send({ name: "basic.nack", deliveryTag: 0, multiple: true, requeue });
  }

  /** Rejects one delivery; requeued by default. */
  reject(message: Message | number, requeue = true): void {
    this.send({ name: "basic.reject", deliveryTag: tagOf(message), requeue });
  }

  // ------------------------------------------------------------------ publishing

  /**
   * Publishes a message. Nothing is awaited: the frames are written with the rest of this
   * event-loop turn's output.
   *
   * @returns false when the connection's output buffer is over its high-water mark or the
   *   server blocked the connection: wait for the 'drain' event before publishing more.
   */
  publish(
    exchange: string,
    routingKey: string,
    body: Buffer | string,
    properties: BasicProperties = {},
    options: PublishOptions = {},
  ): boolean {
    if (this.state !== "open") throw this.closedError();
    const buf = typeof body === "string" ? Buffer.from(body) : body;
    this.connection.sendPublish(this.id, exchange, routingKey, options.mandatory === true, properties, buf);
    this.confirms?.add();
    return this.connection.writable;
  }

  /**
   * Publishes in confirm mode and resolves when the broker acks this message; rejects if it
   * nacks it or the channel closes first. Call confirmSelect() first.
   */
  publishConfirm(
    exchange: string,
    routingKey: string,
    body: Buffer | string,
    properties: BasicProperties = {},
    options: PublishOptions = {},
  ): Promise<void> {
    if (this.state !== "open") return Promise.reject(this.closedError());
    const confirms = this.confirms;
    if (!confirms)
      return Promise.reject(new Error("channel is not in confirm mode: call confirmSelect() first"));
    const buf = typeof body === "string" ? Buffer.from(body) : body;
    this.connection.sendPublish(this.id, exchange, routingKey, options.mandatory === true, properties, buf);
    return new Promise((resolve, reject) => confirms.add({ resolve, reject }));
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

  /** Resolves once every publish so far is acked; rejects if any of them was nacked. */
  waitForConfirms(): Promise<void> {
    if (!this.confirms) return Promise.reject(new Error("channel is not in confirm mode"));
    return this.confirms.wait();
  }

  /** Publishes not yet confirmed (confirm mode). */
  get unconfirmed(): number {
    return this.confirms?.outstanding ?? 0;
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

  // ------------------------------------------------------------------ frames in

  /** @internal One frame for this channel. */
  onFrame(type: number, buf: Buffer, start: number, end: number): void {
    if (type === FrameType.METHOD) {
      this.content.expectMethod();
      this.onMethod(decodeMethod(buf, start, end));
      return;
    }
    let body: Buffer | undefined;
    if (type === FrameType.HEADER) body = this.content.header(buf, start, end);
    else if (type === FrameType.BODY) body = this.content.bodyFrame(buf, start, end);
    else throw unexpectedFrame(`frame type ${type} on channel ${this.id}`);
    if (body) this.complete(this.incoming!, this.content.takeProperties(), body);
  }

  private onMethod(m: Method): void {
    switch (m.name) {
      case "basic.deliver":
        this.incoming = this.begin(DELIVER, m.name, undefined, {
          deliveryTag: m.deliveryTag,
          redelivered: m.redelivered,
          exchange: m.exchange,
          routingKey: m.routingKey,
          consumerTag: m.consumerTag,
        });
        return;
      case "basic.get-ok":
        this.incoming = this.begin(GET, m.name, this.takeRpc(m.name), {
          deliveryTag: m.deliveryTag,
          redelivered: m.redelivered,
          exchange: m.exchange,
          routingKey: m.routingKey,
          consumerTag: "",
          messageCount: m.messageCount,
        });
        return;
      case "basic.get-empty":
        this.takeRpc(m.name).resolve(null);
        return;
      case "basic.return":
        this.incoming = this.begin(RETURN, m.name, undefined, {
          replyCode: m.replyCode,
          replyText: m.replyText,
          exchange: m.exchange,
          routingKey: m.routingKey,
        });
        return;
      case "basic.ack":
        this.confirms?.ack(m.deliveryTag, m.multiple);
        return;
      case "basic.nack":
        this.confirms?.nack(m.deliveryTag, m.multiple);
        return;
      case "basic.cancel":
        return this.onServerCancel(m.consumerTag, m.nowait);
      case "channel.close":
        return this.onServerClose(m.replyCode, m.replyText, m.classId, m.methodId);
      case "channel.close-ok":
        if (this.state !== "closing")
          throw unexpectedFrame(`unexpected channel.close-ok on channel ${this.id}`);
        this.finish(this.crossedClose, false);
        return;
      case "channel.flow":
        this.connection.sendMethod(this.id, { name: "channel.flow-ok", active: m.active });
        this.emit("flow", m.active);
        return;
      default: {
        const r = this.takeRpc(m.name);
        r.resolve(r.handle(m));
      }
    }
  }

  private takeRpc(name: MethodName): Rpc {
    const r = this.rpcs[0];
    if (!r || !r.replies.includes(name)) throw unexpectedFrame(`unexpected ${name} on channel ${this.id}`);
    this.rpcs.shift();
    return r;
  }

  /** A method with content: the assembler takes its header and body frames next. */
  private begin(
    kind: Incoming["kind"],
    method: MethodName,
    rpc: Rpc | undefined,
    fields: DeliveryFields | ReturnFields,
  ): Incoming {
    this.content.begin(method);
    return { kind, fields, rpc };
  }

  private complete(inc: Incoming, raw: Buffer, body: Buffer): void {
    this.incoming = undefined;
    if (inc.kind === DELIVER) {
      const fields = inc.fields as DeliveryFields;
      const c = this.consumers.get(fields.consumerTag);
      if (c) this.dispatch(c.onMessage, new Message(body, raw, fields, this));
    } else if (inc.kind === GET) {
      inc.rpc!.resolve(new Message(body, raw, inc.fields as DeliveryFields, this));
    } else {
      this.emit("return", new Message(body, raw, inc.fields as ReturnFields, undefined));
    }
  }

  private dispatch(handler: MessageHandler, msg: Message): void {
    try {
      const r = handler(msg);
      if (r !== undefined && typeof (r as Promise<void>).then === "function") {
        (r as Promise<void>).then(undefined, (e: unknown) => this.callbackError(e));
      }
    } catch (e) {
      this.callbackError(e);
    }
  }

  /** A consumer callback failed: the frame parser must not see it, the application must. */
  private callbackError(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    if (this.listenerCount("error") > 0) this.emit("error", err);
    else
      process.nextTick(() => {
        throw err;
      });
  }

  private onServerCancel(consumerTag: string, nowait: boolean): void {
    const c = this.consumers.get(consumerTag);
    this.consumers.delete(consumerTag);
    if (!nowait) this.connection.sendMethod(this.id, { name: "basic.cancel-ok", consumerTag });
    if (c?.onCancel) {
      try {
        c.onCancel(consumerTag);
      } catch (e) {
        this.callbackError(e);
      }
    }
    this.emit("cancel", consumerTag);
  }

  private onServerClose(code: number, text: string, classId: number, methodId: number): void {
    const err = new ChannelError(code, replyTextBody(code, text), classId, methodId);
    this.connection.sendMethod(this.id, { name: "channel.close-ok" });
    // Our own channel.close crossed this one: the server answers it with close-ok too, so the
    // channel number stays reserved until then.
    if (this.state === "closing") this.crossedClose = err;
    else this.finish(err, true);
  }

  // ------------------------------------------------------------------ plumbing

  private rpc<N extends MethodName, T = Extract<Method, { name: N }>>(
    m: MethodInit,
    replies: readonly N[],
    handle?: (reply: Extract<Method, { name: N }>) => T,
  ): Promise<T> {
    if (this.state !== "open" && !(this.state === "opening" && m.name === "channel.open")) {
      return Promise.reject(this.closedError());
    }
    return new Promise<T>((resolve, reject) => {
      this.rpcs.push({
        replies,
        handle: (handle ?? identity) as (m: Method) => unknown,
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      this.connection.sendMethod(this.id, m);
    });
  }

  private send(m: MethodInit): void {
    if (this.state !== "open") throw this.closedError();
    this.connection.sendMethod(this.id, m);
  }

  private closedError(): Error {
    const cause = this.closeReason ?? this.connection.closedError();
    return new ClosedError(`channel ${this.id} is closed`, { cause });
  }

  /** @internal The connection is gone. */
  terminate(err: Error): void {
    this.finish(err, false);
  }

  /** Ends the channel once: rejects what is pending, frees the number, emits events. */
  private finish(err: Error | undefined, emitError: boolean): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.closeReason = err;
    this.connection.releaseChannel(this);
    const pendingErr = err ?? new ClosedError(`channel ${this.id} closed`);
    const rpcs = this.rpcs.splice(0);
    for (const r of rpcs) r.reject(pendingErr);
    this.incoming?.rpc?.reject(pendingErr);
    this.incoming = undefined;
    this.content.reset();
    this.confirms?.fail(pendingErr);
    this.consumers.clear();
    this.resolveClosed();
    if (emitError && err && this.listenerCount("error") > 0) this.emit("error", err);
    this.emit("close", err);
  }
}

function identity<T>(v: T): T {
  return v;
}

function tagOf(m: Message | number): number {
  return typeof m === "number" ? m : m.fields.deliveryTag;
}
