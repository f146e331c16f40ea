import type { BasicProperties } from "@warren/protocol";
import type { Channel } from "./channel.js";
import { BlockedError, BufferFullError, ClosedError, TimeoutError } from "./errors.js";

/** A publish() not yet settled: unsent (the channel is down), or sent and awaiting its outcome. */
interface Pending {
  readonly seq: number;
  readonly exchange: string;
  readonly routingKey: string;
  readonly body: Buffer;
  readonly properties: BasicProperties;
  readonly mandatory: boolean;
  /** Date.now() after which it rejects with a TimeoutError; 0: never. */
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly promise: Promise<void>;
  /** The channel it was last written to; undefined while it waits to be (re)sent. */
  sentOn: Channel | undefined;
}

/** What the publisher needs from its RecoveringChannel. */
export interface PublisherHost {
  /** The live underlying channel, if any. */
  live(): Channel | undefined;
  /** The current name of a queue (server-named queues are renamed by recovery). */
  resolveQueue(name: string): string;
  /** The reason of the broker's connection.blocked, "" when not blocked. */
  blockReason(): string;
  readonly maxQueuedBytes: number;
  readonly publishTimeout: number;
}

const noop = (): void => {};

/**
 * The publishes of a RecoveringChannel, kept until they are confirmed (confirm mode) or
 * written (plain mode). When the channel or the connection is lost, those not yet confirmed
 * are sent again, in their original order, on the channel that replaces it: at-least-once
 * delivery, so a message the broker had taken just before the loss arrives twice. A publish
 * the broker refused (nack, return, a channel error it caused) is not sent again; it rejects.
 */
export class RecoveringPublisher {
  /** In publish order (a Map iterates in insertion order). */
  private readonly pending = new Map<number, Pending>();
  private next = 1;
  private bytes = 0;
  /** Entries waiting to be (re)sent: while there are any, new ones queue behind them. */
  private unsent = 0;
  private ticker: NodeJS.Timeout | undefined;

  constructor(private readonly host: PublisherHost) {}

  /** Publishes not yet settled. */
  get size(): number {
    return this.pending.size;
  }

  publish(
    exchange: string,
    routingKey: string,
    body: Buffer,
    properties: BasicProperties,
    mandatory: boolean,
  ): Promise<void> {
    if (this.bytes + body.length > this.host.maxQueuedBytes && this.pending.size > 0) {
      throw new BufferFullError(
        `${this.pending.size} publishes (${this.bytes} bytes) are not settled yet: await publish() before publishing more`,
      );
    }
    let settle!: { resolve: () => void; reject: (e: Error) => void };
    const promise = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    promise.catch(noop);
    const timeout = this.host.publishTimeout;
    const seq = this.next++;
    const p: Pending = {
      seq,
      exchange,
      routingKey,
      body,
      properties,
      mandatory,
      deadline: timeout > 0 ? Date.now() + timeout : 0,
      resolve: () => this.settled(seq, p) && settle.resolve(),
      reject: (e) => this.settled(seq, p) && settle.reject(e),
      promise,
      sentOn: undefined,
    };
    this.pending.set(seq, p);
    this.bytes += body.length;
    this.unsent++;
    if (timeout > 0) this.watch();
    // Only when nothing older waits to be sent, so that order holds.
    const ch = this.host.live();
    if (ch && this.unsent === 1) this.send(ch, p);
    return promise;
  }

  /** A (new) channel is live: sends what waits, oldest first. */
  attach(ch: Channel): void {
    for (const p of this.pending.values()) {
      if (p.sentOn === undefined || !p.sentOn.isOpen) this.send(ch, p);
      if (ch !== this.host.live()) return; // it died while we wrote
    }
  }

  /** Resolves when every publish so far is settled; rejects with the first failure. */
  wait(): Promise<void> {
    return Promise.all([...this.pending.values()].map((p) => p.promise)).then(noop);
  }

  /** The channel is closed for good. */
  fail(err: Error): void {
    for (const p of [...this.pending.values()]) p.reject(err);
    this.stop();
  }

  private send(ch: Channel, p: Pending): void {
    const rk = p.exchange === "" ? this.host.resolveQueue(p.routingKey) : p.routingKey;
    let written: Promise<void>;
    try {
      // With the deadline of the original publish(): the channel rejects it in time if it
      // waits there for room or a confirm, and never sends it late.
      written = ch.publishUntil(p.deadline, p.exchange, rk, p.body, p.properties, { mandatory: p.mandatory });
    } catch (e) {
      if (e instanceof ClosedError) {
        // Closed under us: sent again on the next channel.
        if (p.sentOn !== undefined) {
          p.sentOn = undefined;
          this.unsent++;
        }
        return;
      }
      p.reject(e as Error);
      return;
    }
    if (p.sentOn === undefined) this.unsent--;
    p.sentOn = ch;
    written.then(p.resolve, (e: Error) => {
      // The channel died before the broker confirmed it (or before it was written): send it
      // again once a channel is back. Anything else is the broker's answer to this publish.
      if (e instanceof ClosedError) {
        if (p.sentOn !== ch || this.pending.get(p.seq) !== p) return;
        p.sentOn = undefined;
        this.unsent++;
        const live = this.host.live();
        if (live && live !== ch) this.attach(live);
      } else p.reject(e);
    });
  }

  /** Removes p; false if it was settled already (a late confirm after its timeout). */
  private settled(seq: number, p: Pending): boolean {
    if (this.pending.get(seq) !== p) return false;
    this.pending.delete(seq);
    this.bytes -= p.body.length;
    if (p.sentOn === undefined) this.unsent--;
    return true;
  }

  private watch(): void {
    if (this.ticker) return;
    const tick = Math.max(10, Math.min(1000, Math.floor(this.host.publishTimeout / 10)));
    this.ticker = setInterval(() => this.sweep(), tick);
    this.ticker.unref();
  }

  private sweep(): void {
    const now = Date.now();
    // Deadlines ascend with the publish order (one timeout for all): stop at the first to come.
    // Entries handed to a channel are its to time out (see send()); those waiting for a
    // channel are ours. (Deleting the entry being visited is safe while iterating a Map.)
    for (const p of this.pending.values()) {
      if (p.deadline === 0 || p.deadline > now) break;
      if (p.sentOn?.isOpen) continue;
      const ms = this.host.publishTimeout;
      const reason = this.host.blockReason();
      p.reject(
        reason
          ? new BlockedError("publish", ms, reason)
          : new TimeoutError(`publish timed out after ${ms} ms`, ms),
      );
    }
    if (this.pending.size === 0) this.stop();
  }

  private stop(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }
}
