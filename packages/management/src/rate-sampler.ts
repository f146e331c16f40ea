import type { BrokerAdmin, ChannelView, ConnectionView, QueueView } from "@warren/broker";
import { SampleHistory } from "./sample-history.js";

/** The broker counters that overview's message_stats and churn_rates report with a rate. */
const FIELDS = [
  "published",
  "delivered",
  "got",
  "redelivered",
  "acked",
  "confirmed",
  "unroutable",
  "returned",
  "connectionsOpened",
  "connectionsClosed",
  "channelsOpened",
  "channelsClosed",
  "messagesReady",
  "messagesUnacked",
] as const;
type Field = (typeof FIELDS)[number];

const round = (x: number) => Math.round(x * 10) / 10;

/** The global figures kept for /api/overview's samples: counters and total queue depths. */
export const HISTORY_FIELDS = ["published", "deliver_get", "acked", "confirmed", "ready", "unacked"] as const;
export type HistoryField = (typeof HISTORY_FIELDS)[number];

/** Ten minutes of history, RabbitMQ's "basic" retention for its 5-s samples. */
const HISTORY_SECONDS = 600;

/**
 * Rates of some numeric fields of keyed objects (queues, channels, connections): each sample
 * reads the fields of every object, and a rate is the difference from the previous sample over
 * the time between them. Objects that are gone drop out at the next sample.
 */
class KeyedRates<T, F extends keyof T & string> {
  private prev = new Map<string, number[]>();
  private rates = new Map<string, Record<F, number>>();
  private readonly zero: Record<F, number>;

  constructor(
    private readonly fields: readonly F[],
    private readonly key: (x: T) => string,
  ) {
    this.zero = Object.fromEntries(fields.map((f) => [f, 0])) as Record<F, number>;
  }

  sample(items: readonly T[], secs: number): void {
    const next = new Map<string, number[]>();
    const rates = new Map<string, Record<F, number>>();
    for (const x of items) {
      const k = this.key(x);
      const values = this.fields.map((f) => Number(x[f]));
      next.set(k, values);
      const p = this.prev.get(k);
      if (!p) continue;
      const r = { ...this.zero };
      this.fields.forEach((f, i) => (r[f] = round((values[i]! - p[i]!) / secs)));
      rates.set(k, r);
    }
    this.prev = next;
    this.rates = rates;
  }

  /** One object's rates (zeros before its first full interval). */
  get(key: string): Record<F, number> {
    return this.rates.get(key) ?? this.zero;
  }
}

const QUEUE_FIELDS = ["published", "delivered", "acked", "ready", "unacked"] as const;
/** Per-queue rates (messages per second over the last interval). */
export type QueueRates = Record<(typeof QUEUE_FIELDS)[number], number>;
/** Per-channel rates: publish, deliver_get and ack. */
export type ChannelRates = Record<"published" | "delivered" | "acked", number>;
/** Per-connection rates: bytes received and sent per second. */
export type ConnectionRates = Record<"recvOct" | "sendOct", number>;

const queueKey = (vhost: string, name: string) => `${vhost}\u0000${name}`;

/**
 * Message rates, as RabbitMQ's "basic" rates mode computes them: every interval (5 s,
 * RabbitMQ's collect_statistics_interval) the broker's counters and each queue's, channel's
 * and connection's counters are sampled, and a rate is the difference over the last interval.
 * The broker keeps no clock or history for this: only the management package pays, once per
 * interval (a walk over the objects, a few milliseconds for 10,000 queues).
 */
export class RateSampler {
  private prev: Record<Field, number>;
  private prevAt: number;
  private readonly current: Record<Field, number>;
  private readonly queues = new KeyedRates<QueueView, (typeof QUEUE_FIELDS)[number]>(QUEUE_FIELDS, (q) =>
    queueKey(q.vhost, q.name),
  );
  private readonly channels = new KeyedRates<ChannelView, keyof ChannelRates>(
    ["published", "delivered", "acked"],
    (c) => c.name,
  );
  private readonly connections = new KeyedRates<ConnectionView, keyof ConnectionRates>(
    ["recvOct", "sendOct"],
    (c) => c.name,
  );
  private timer: NodeJS.Timeout | undefined;
  /** The last ten minutes of global counters and depths, one entry per interval. */
  readonly history: SampleHistory<HistoryField>;

  constructor(
    private readonly broker: BrokerAdmin,
    private readonly intervalMs = 5000,
  ) {
    this.prev = this.read();
    this.prevAt = Date.now();
    this.current = Object.fromEntries(FIELDS.map((f) => [f, 0])) as Record<Field, number>;
    this.sampleObjects(1);
    this.history = new SampleHistory(HISTORY_FIELDS, Math.ceil((HISTORY_SECONDS * 1000) / intervalMs) + 1);
  }

  private read(): Record<Field, number> {
    const c = this.broker.counters;
    const t = this.broker.objectTotals();
    const all = { ...c, messagesReady: t.messagesReady, messagesUnacked: t.messagesUnacked };
    return Object.fromEntries(FIELDS.map((f) => [f, all[f]])) as Record<Field, number>;
  }

  private sampleObjects(secs: number): void {
    this.queues.sample(this.broker.listQueues(), secs);
    this.channels.sample(this.broker.listChannels(), secs);
    this.connections.sample(this.broker.listConnections(), secs);
  }

  start(): void {
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Takes a sample now (the timer does this; tests may too). */
  sample(): void {
    const now = Date.now();
    const secs = Math.max((now - this.prevAt) / 1000, 0.001);
    const next = this.read();
    for (const f of FIELDS) this.current[f] = round((next[f] - this.prev[f]) / secs);
    this.prev = next;
    this.prevAt = now;
    this.sampleObjects(secs);
    this.history.push(now, (f) =>
      f === "ready"
        ? next.messagesReady
        : f === "unacked"
          ? next.messagesUnacked
          : f === "deliver_get"
            ? next.delivered + next.got
            : next[f],
    );
  }

  /** Per second, over the last interval, of one broker counter or total. */
  rate(f: Field): number {
    return this.current[f];
  }

  /** A queue's rates over the last interval (zeros before its first full interval). */
  queue(vhost: string, name: string): QueueRates {
    return this.queues.get(queueKey(vhost, name));
  }

  /** A channel's rates, by its name. */
  channel(name: string): ChannelRates {
    return this.channels.get(name);
  }

  /** A connection's byte rates, by its name. */
  connection(name: string): ConnectionRates {
    return this.connections.get(name);
  }
}
