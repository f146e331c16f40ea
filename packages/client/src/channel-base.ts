import { EventEmitter } from "node:events";
import {
  AmqpError,
  ChannelError,
  ContentAssembler,
  decodeMethod,
  FrameType,
  METHOD_IDS,
  type Method,
  type MethodInit,
  type MethodName,
  ReplyCode,
  unexpectedFrame,
} from "@warren/protocol";
import type { ChannelEvents, ChannelOptions, MessageHandler } from "./channel-types.js";
import type { ConfirmTracker } from "./confirm-tracker.js";
import type { Connection } from "./connection.js";
import { replyTextBody } from "./connection-types.js";
import { BlockedError, ClosedError, TimeoutError } from "./errors.js";
import { type DeliveryFields, Message, type NackOptions, type ReturnFields } from "./message.js";
import { type Outgoing, PublishQueue } from "./publish-queue.js";

/** @internal A consumer's callbacks. */
export interface ConsumerEntry {
  readonly onMessage: MessageHandler;
  readonly onCancel: ((tag: string) => void) | undefined;
  readonly noAck: boolean;
}

/** A synchronous request awaiting its reply; replies come back in request order. */
interface Rpc {
  readonly request: MethodName;
  readonly replies: readonly MethodName[];
  /** Runs in the frame handler, before any later frame is looked at. */
  readonly handle: (m: Method) => unknown;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  /** Date.now() after which it rejects with a TimeoutError; 0: never. */
  readonly deadline: number;
  /** Timed out: its reply, when it comes, is still handled, then passed to onAbandoned. */
  abandoned: boolean;
  readonly onAbandoned: ((value: unknown) => void) | undefined;
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
 * The machinery under Channel: frames in, method calls and their replies, deliveries,
 * publisher confirms, the queue of publishes waiting for room, timeouts, and the one place
 * where a channel ends. Channel adds the AMQP operations on top.
 */
export class ChannelBase extends EventEmitter<ChannelEvents> {
  protected state: State = "opening";
  protected readonly consumers = new Map<string, ConsumerEntry>();
  protected confirms: ConfirmTracker | undefined;
  protected readonly queue: PublishQueue;
  private readonly rpcs: Rpc[] = [];
  private incoming: Incoming | undefined;
  /** Messages are copied out of socket chunks: an application may keep them for long. */
  private readonly content = new ContentAssembler("own");
  private closeReason: Error | undefined;
  /** The server's channel.close when it crossed our own. */
  private crossedClose: Error | undefined;
  /** close() was called while publishes were waiting: channel.close follows the last of them. */
  private closeAfterQueue = false;
  private ticker: NodeJS.Timeout | undefined;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  /** @internal Use Connection.createChannel(). */
  constructor(
    readonly connection: Connection,
    readonly id: number,
    protected readonly options: Required<ChannelOptions>,
  ) {
    super();
    this.queue = new PublishQueue(options.maxQueuedBytes);
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

  /**
   * Closes the channel (channel.close, then close-ok), after the publishes still waiting for
   * room have gone out. Deliveries stop reaching consumers now; unacked ones are requeued.
   */
  close(): Promise<void> {
    if (this.state !== "open") return this.closedPromise;
    this.state = "closing";
    if (this.queue.length > 0) this.closeAfterQueue = true;
    else this.sendClose();
    return this.closedPromise;
  }

  private sendClose(): void {
    this.closeAfterQueue = false;
    this.connection.sendMethod(this.id, {
      name: "channel.close",
      replyCode: ReplyCode.REPLY_SUCCESS,
      replyText: "Goodbye",
      classId: 0,
      methodId: 0,
    });
  }

  // ------------------------------------------------------------------ acknowledgements

  /**
   * Acknowledges a delivery (and every earlier one with `multiple`).
   * @returns false when the channel is closed or closing: the broker requeues the channel's
   *   unacknowledged deliveries when it closes, so there is nothing left to acknowledge.
   */
  ack(message: Message | number, multiple = false): boolean {
    return this.settle({ name: "basic.ack", deliveryTag: tagOf(message), multiple });
  }

  /** Acknowledges every outstanding delivery on the channel. */
  ackAll(): boolean {
    return this.settle({ name: "basic.ack", deliveryTag: 0, multiple: true });
  }

  /**
   * Rejects a delivery, requeued unless `requeue: false` (and every earlier one with
   * `multiple`). The positional form nack(message, multiple, requeue) still works.
   * @returns false when the channel is closed or closing (see ack()).
   */
  nack(message: Message | number, options?: NackOptions): boolean;
  /** @deprecated Use nack(message, { multiple, requeue }). */
  nack(message: Message | number, multiple: boolean, requeue?: boolean): boolean;
  nack(message: Message | number, options: NackOptions | boolean = {}, requeue = true): boolean {
    const o = typeof options === "boolean" ? { multiple: options, requeue } : options;
    return this.settle({
      name: "basic.nack",
      deliveryTag: tagOf(message),
      multiple: o.multiple ?? false,
      requeue: o.requeue ?? true,
    });
  }

  /** Rejects every outstanding delivery on the channel; requeued by default. */
  nackAll(requeue = true): boolean {
    return this.settle({ name: "basic.nack", deliveryTag: 0, multiple: true, requeue });
  }

  /** Rejects one delivery; requeued by default. Returns false when the channel is closed. */
  reject(message: Message | number, requeue = true): boolean {
    return this.settle({ name: "basic.reject", deliveryTag: tagOf(message), requeue });
  }

  /** basic.ack / nack / reject: nothing to do on a channel that is closing or closed. */
  private settle(m: MethodInit): boolean {
    if (this.state !== "open") return false;
    this.connection.sendMethod(this.id, m);
    return true;
  }

  // ------------------------------------------------------------------ publishing

  /** Room for one more publish(): the connection takes output, and the window is not full. */
  protected hasRoom(): boolean {
    return (
      this.connection.writable && (!this.confirms || this.confirms.outstanding < this.options.publishWindow)
    );
  }

  protected write(o: Outgoing): void {
    this.connection.sendPublish(this.id, o.exchange, o.routingKey, o.mandatory, o.properties, o.body);
    if (this.confirms) this.confirms.add(o);
    else o.resolve();
  }

  /** Sends waiting publishes while there is room; then the channel.close that waited for them. */
  private pump(): void {
    const q = this.queue;
    while (q.length > 0 && this.hasRoom()) this.write(q.shift()!);
    if (this.closeAfterQueue && q.length === 0) this.sendClose();
  }

  /** @internal The connection's output drained (or the server unblocked it). */
  onDrain(): void {
    if (this.queue.length > 0) this.pump();
    this.emit("drain");
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
      case "basic.get-empty": {
        const r = this.takeRpc(m.name);
        if (!r.abandoned) r.resolve(null);
        return;
      }
      case "basic.return":
        this.incoming = this.begin(RETURN, m.name, undefined, {
          replyCode: m.replyCode,
          replyText: m.replyText,
          exchange: m.exchange,
          routingKey: m.routingKey,
        });
        return;
      case "basic.ack":
      case "basic.nack":
        if (!this.confirms) return;
        if (m.name === "basic.ack") this.confirms.ack(m.deliveryTag, m.multiple);
        else this.confirms.nack(m.deliveryTag, m.multiple);
        if (this.queue.length > 0) this.pump();
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
        const v = r.handle(m);
        if (r.abandoned) r.onAbandoned?.(v);
        else r.resolve(v);
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
      // Once close() is called, deliveries still on the wire are dropped: the broker requeues
      // them when the channel closes, and a handler could not acknowledge them anyway.
      if (c && this.state === "open") {
        const msg = new Message(body, raw, fields, this);
        if (c.noAck) msg.markSettled();
        this.dispatch(c.onMessage, msg);
      }
    } else if (inc.kind === GET) {
      const r = inc.rpc!;
      const msg = new Message(body, raw, inc.fields as DeliveryFields, this);
      if (r.abandoned) r.onAbandoned?.(msg);
      else r.resolve(msg);
    } else {
      const msg = new Message(body, raw, inc.fields as ReturnFields, undefined);
      this.confirms?.returned(msg);
      this.emit("return", msg);
    }
  }

  private dispatch(handler: MessageHandler, msg: Message): void {
    try {
      const r = handler(msg);
      if (r !== undefined && r !== null && typeof (r as Promise<unknown>).then === "function") {
        (r as Promise<unknown>).then(undefined, (e: unknown) => this.callbackError(e));
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

  /** @internal Sends a method and resolves with its reply (through `handle`). */
  protected rpc<N extends MethodName, T = Extract<Method, { name: N }>>(
    m: MethodInit,
    replies: readonly N[],
    handle?: (reply: Extract<Method, { name: N }>) => T,
    onAbandoned?: (value: unknown) => void,
  ): Promise<T> {
    if (this.state !== "open" && !(this.state === "opening" && m.name === "channel.open")) {
      return Promise.reject(this.closedError());
    }
    const timeout = this.options.operationTimeout;
    return new Promise<T>((resolve, reject) => {
      this.rpcs.push({
        request: m.name,
        replies,
        handle: (handle ?? identity) as (m: Method) => unknown,
        resolve: resolve as (v: unknown) => void,
        reject,
        deadline: timeout > 0 ? Date.now() + timeout : 0,
        abandoned: false,
        onAbandoned,
      });
      if (timeout > 0) this.watch();
      this.connection.sendMethod(this.id, m);
    });
  }

  protected closedError(): Error {
    const why = this.closeReason;
    if (why) return new ClosedError(`channel ${this.id} is closed`, { cause: why });
    return new ClosedError(`channel ${this.id} is closed: closed by the application`);
  }

  private timeoutError(what: string, ms: number): TimeoutError {
    const c = this.connection;
    return c.blocked
      ? new BlockedError(what, ms, c.blockReason)
      : new TimeoutError(`${what} timed out after ${ms} ms`, ms);
  }

  /** Checks deadlines every tenth of the shortest timeout while something has one. */
  protected watch(): void {
    if (this.ticker) return;
    const o = this.options;
    const shortest = Math.min(o.operationTimeout || Infinity, o.publishTimeout || Infinity);
    const tick = Math.max(10, Math.min(1000, Math.floor(shortest / 10)));
    this.ticker = setInterval(() => this.sweep(), tick);
    this.ticker.unref();
  }

  private sweep(): void {
    const now = Date.now();
    let waiting = false;
    for (const r of this.rpcs) {
      if (r.abandoned || r.deadline === 0) continue;
      if (r.deadline > now) waiting = true;
      else {
        r.abandoned = true;
        r.reject(this.timeoutError(r.request, this.options.operationTimeout));
      }
    }
    const pubMs = this.options.publishTimeout;
    this.queue.expire(now, () => this.timeoutError("publish", pubMs));
    this.confirms?.expire(now, () => this.timeoutError("publish confirm", pubMs));
    if (this.closeAfterQueue && this.queue.length === 0) this.sendClose();
    if (!waiting && this.queue.length === 0 && !this.confirms?.hasDeadlines) this.stopTicker();
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /**
   * @internal The connection is gone. What was in flight was not refused, it was cut off:
   * a ClosedError, whose cause is the connection's error (e.g. 320 CONNECTION_FORCED).
   */
  terminate(err: Error): void {
    this.finish(
      err instanceof ClosedError ? err : new ClosedError(`connection closed: ${err.message}`, { cause: err }),
      false,
    );
  }

  /**
   * Ends the channel once: rejects what is pending, frees the number, emits events. A server
   * error goes to the operation it refused (the oldest pending call, if the server names its
   * method; the pending confirms, if it refused a basic.publish); everything else in flight
   * gets a ClosedError caused by it. A server error nobody received or listens for becomes a
   * process warning: never silent, never a crash.
   */
  private finish(err: Error | undefined, fromServer: boolean): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.closeReason = err;
    this.stopTicker();
    this.connection.releaseChannel(this);
    const pendingErr = err ?? new ClosedError(`channel ${this.id} closed`);
    const innocent =
      fromServer && err
        ? new ClosedError(`channel ${this.id} was closed by the server: ${err.message}`, { cause: err })
        : pendingErr;
    let received = false;
    const rpcs = this.rpcs.splice(0);
    for (const [i, r] of rpcs.entries()) {
      if (r.abandoned) continue;
      const culprit = fromServer && i === 0 && refused(err, r.request);
      received ||= culprit;
      r.reject(culprit ? pendingErr : innocent);
    }
    const inc = this.incoming?.rpc;
    if (inc && !inc.abandoned) inc.reject(innocent);
    this.incoming = undefined;
    this.content.reset();
    const byPublish = fromServer && refused(err, "basic.publish");
    if (this.confirms) {
      received ||= byPublish && this.confirms.outstanding > 0;
      this.confirms.fail(byPublish ? pendingErr : innocent);
    }
    this.queue.fail(innocent);
    this.closeAfterQueue = false;
    this.consumers.clear();
    this.resolveClosed();
    if (fromServer && err) {
      if (this.listenerCount("error") > 0) this.emit("error", err);
      else if (!received) process.emitWarning(err);
    }
    this.emit("close", err);
  }
}

/** Did the server's error name this method as the one it refused? */
function refused(err: Error | undefined, method: MethodName): boolean {
  if (!(err instanceof AmqpError)) return false;
  const [classId, methodId] = METHOD_IDS[method];
  return err.classId === classId && err.methodId === methodId;
}

function identity<T>(v: T): T {
  return v;
}

function tagOf(m: Message | number): number {
  return typeof m === "number" ? m : m.fields.deliveryTag;
}
