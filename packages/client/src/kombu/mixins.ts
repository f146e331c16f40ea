import { ChannelError } from "@warren/protocol";
import { TimeoutError } from "../errors.js";
import type { Message } from "../message.js";
import { type BrokerConnection, isRecoverable, type RetryPolicy } from "./broker-connection.js";
import { Consumer, type ConsumerOptions } from "./consumer.js";
import { Producer, type ProducerOptions } from "./producer.js";

/** Makes a Consumer on the worker's connection (kombu passes a partial of Consumer). */
export type ConsumerFactory = (options: ConsumerOptions) => Consumer;

/** Options of ConsumerMixin.run(). */
export interface RunOptions {
  /** Reject with TimeoutError after this many seconds without an event. Default: wait forever. */
  timeout?: number;
  /** Seconds between shouldStop / onIteration checks while idle. Default 1, as in kombu. */
  safetyInterval?: number;
}

/** Options of ConsumerMixin.consume(). */
export interface ConsumeLoopOptions extends RunOptions {
  /** Return after this many events (deliveries). Default: no limit. */
  limit?: number;
}

/**
 * kombu.mixins.ConsumerMixin: a long-running consumer program. Extend it, give it a
 * BrokerConnection and define getConsumers(); run() then connects (on a clone of the
 * connection, retrying with onConnectionError as errback), starts the consumers, waits for
 * events with drainEvents(), and, when the connection is lost, tears everything down and starts
 * again (at most once a second), until stop() or shouldStop.
 *
 * @example
 *   class Worker extends ConsumerMixin {
 *     getConsumers(Consumer: ConsumerFactory) {
 *       return [Consumer({ queues: [tasks], callbacks: [(body, m) => { handle(body); m.ack(); }] })];
 *     }
 *   }
 *   const worker = new Worker(new BrokerConnection(url));
 *   const done = worker.run();
 *   // later: worker.stop(); await done;
 */
export abstract class ConsumerMixin {
  /** Retries of each (re)connection before run() gives up; undefined retries forever. */
  connectMaxRetries: number | undefined = undefined;
  /** When set, run() returns after the current iteration (within safetyInterval). */
  shouldStop = false;
  /** The clone run() is connected through, while it runs. */
  protected active: BrokerConnection | undefined;
  private wake: (() => void) | undefined;
  private lastStart = 0;

  constructor(readonly connection: BrokerConnection) {}

  /** The consumers to run, made with the factory (bound to the worker's connection). */
  abstract getConsumers(Consumer: ConsumerFactory, connection: BrokerConnection): Consumer[];

  /** Called before each wait for a (re)connection, with the error and the seconds to wait. */
  onConnectionError(err: Error, interval: number): void {
    process.emitWarning(`Broker connection error, trying again in ${interval} seconds: ${err.message}`);
  }

  /** Called each time the connection is (re-)established, before the consumers start. */
  onConnectionRevived(): void {}

  /** Called once the consumers consume. */
  onConsumeReady(_connection: BrokerConnection, _consumers: readonly Consumer[]): void {}

  /** Called after the consumers were cancelled, before the connection closes. */
  onConsumeEnd(_connection: BrokerConnection): void {}

  /** Called for every iteration of the loop (each event, and each idle safetyInterval). */
  onIteration(): void {}

  /** A body that could not be decoded: reported, then acknowledged, as kombu does. */
  onDecodeError(message: Message, err: Error): void {
    this.connection.report(err);
    message.ack();
  }

  /** Asks run() to return, at once. */
  stop(): void {
    this.shouldStop = true;
    this.wake?.();
  }

  /**
   * Consumes until stopped. Connection errors and channel errors (a 406 on declare, say)
   * end the current connection: they go to the connection's 'error' listeners (else a process
   * warning) and run() starts over. Other errors, and the TimeoutError of `timeout`, reject.
   */
  async run(opts: RunOptions = {}): Promise<void> {
    while (!this.shouldStop) {
      // kombu's restart limit: a token bucket of one start per second.
      const wait = this.lastStart + 1000 - Date.now();
      if (wait > 0) await this.sleep(wait);
      if (this.shouldStop) break;
      this.lastStart = Date.now();
      try {
        await this.consume(opts);
      } catch (e) {
        if (!(isRecoverable(e) || e instanceof ChannelError)) throw e;
        this.connection.report(e);
      }
    }
  }

  /**
   * One connection's worth of run(): connect, start the consumers, drain events until stopped,
   * `limit` events, or an error; then cancel the consumers and close the connection.
   */
  async consume(opts: ConsumeLoopOptions = {}): Promise<void> {
    const conn = this.connection.clone();
    this.active = conn;
    // Callback and consumer errors reach the application's connection; losses are reported by
    // run(), which starts over.
    conn.on("error", (e) => {
      if (!isRecoverable(e)) this.connection.report(e);
    });
    const consumers: Consumer[] = [];
    try {
      await conn.ensureConnection(this.connectPolicy(conn));
      this.onConnectionRevived();
      const factory: ConsumerFactory = (options) =>
        new Consumer(conn, { onDecodeError: (err, m) => this.onDecodeError(m, err), ...options });
      consumers.push(...this.getConsumers(factory, conn));
      for (const c of consumers) await c.consume();
      this.onConsumeReady(conn, consumers);
      await this.drain(conn, opts);
    } finally {
      for (const c of consumers) await c.cancel().catch(() => {});
      this.onConsumeEnd(conn);
      this.active = undefined;
      await conn.close().catch(() => {});
    }
  }

  private async drain(conn: BrokerConnection, opts: ConsumeLoopOptions): Promise<void> {
    const safety = opts.safetyInterval ?? 1;
    let idle = 0;
    for (let i = 0; opts.limit === undefined || i < opts.limit; i++) {
      if (this.shouldStop) return;
      this.onIteration();
      try {
        await Promise.race([conn.drainEvents({ timeout: safety }), this.stopped()]);
        idle = 0;
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
        idle += safety;
        if (opts.timeout !== undefined && idle >= opts.timeout) throw e;
        i--; // an idle interval is not an event
      }
    }
  }

  private connectPolicy(conn: BrokerConnection): RetryPolicy {
    const { maxRetries: _, ...policy } = conn.retryPolicy;
    return {
      ...policy,
      ...(this.connectMaxRetries !== undefined ? { maxRetries: this.connectMaxRetries } : {}),
      errback: (err, interval) => this.onConnectionError(err, interval),
    };
  }

  /** Resolves when stop() is called. */
  private stopped(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private async sleep(ms: number): Promise<void> {
    await Promise.race([new Promise((r) => setTimeout(r, ms)), this.stopped()]);
  }
}

/**
 * kombu.mixins.ConsumerProducerMixin: a ConsumerMixin with `producer`, publishing on a
 * connection of its own (so that a blocked publisher cannot stall the consumers), opened on
 * first use and closed when consuming ends.
 */
export abstract class ConsumerProducerMixin extends ConsumerMixin {
  private producerConn: BrokerConnection | undefined;

  /** A Producer on the producer connection. */
  producer(options: ProducerOptions = {}): Producer {
    this.producerConn ??= this.connection.clone();
    return new Producer(this.producerConn, options);
  }

  override onConsumeEnd(_connection: BrokerConnection): void {
    this.producerConn?.close().catch((e: unknown) => this.connection.report(e));
    this.producerConn = undefined;
  }
}
