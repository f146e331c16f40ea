import type { BrokerAdmin, BrokerCounters, QueueView } from "@warren/broker";
import { SampleHistory } from "./sample-history.js";

/** The broker counters that overview's message_stats reports with a rate. */
const FIELDS = [
  "published",
  "delivered",
  "got",
  "redelivered",
  "acked",
  "confirmed",
  "unroutable",
  "returned",
] as const;
type Field = (typeof FIELDS)[number];

/** Per-queue figures sampled for rates: counters and depths. */
const QUEUE_FIELDS = ["published", "delivered", "acked", "ready", "unacked"] as const;
type QueueField = (typeof QUEUE_FIELDS)[number];
type QueueSample = Record<QueueField, number>;

/** Per-queue rates (messages per second over the last interval), by QUEUE_FIELDS. */
export type QueueRates = Record<QueueField, number>;

const ZERO: QueueRates = { published: 0, delivered: 0, acked: 0, ready: 0, unacked: 0 };

const round = (x: number) => Math.round(x * 10) / 10;

/** The global figures kept for /api/overview's samples: counters and total queue depths. */
export const HISTORY_FIELDS = ["published", "deliver_get", "acked", "confirmed", "ready", "unacked"] as const;
export type HistoryField = (typeof HISTORY_FIELDS)[number];

/** Ten minutes of history, RabbitMQ's "basic" retention for its 5-s samples. */
const HISTORY_SECONDS = 600;

/**
 * Message rates, as RabbitMQ's "basic" rates mode computes them: every interval (5 s,
 * RabbitMQ's collect_statistics_interval) the broker's counters, and each queue's counters and
 * depths, are sampled, and a rate is the difference over the last interval. The broker keeps
 * no clock or history for this: only the management package pays, once per interval (a walk
 * over the queues, a few milliseconds for 10,000).
 */
export class RateSampler {
  private readonly counters: BrokerCounters;
  private prev: Record<Field, number>;
  private prevAt: number;
  private readonly current: Record<Field, number>;
  private queuePrev = new Map<string, QueueSample>();
  private queueRates = new Map<string, QueueRates>();
  private timer: NodeJS.Timeout | undefined;
  /** The last ten minutes of global counters and depths, one entry per interval. */
  readonly history: SampleHistory<HistoryField>;

  constructor(
    private readonly broker: BrokerAdmin,
    private readonly intervalMs = 5000,
  ) {
    this.counters = broker.counters;
    this.prev = this.read();
    this.prevAt = Date.now();
    this.current = Object.fromEntries(FIELDS.map((f) => [f, 0])) as Record<Field, number>;
    for (const q of broker.listQueues()) this.queuePrev.set(key(q), pick(q));
    this.history = new SampleHistory(HISTORY_FIELDS, Math.ceil((HISTORY_SECONDS * 1000) / intervalMs) + 1);
  }

  private read(): Record<Field, number> {
    const c = this.counters;
    return Object.fromEntries(FIELDS.map((f) => [f, c[f]])) as Record<Field, number>;
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
    // Rebuilt each time, so deleted queues drop out.
    const prevQueues = this.queuePrev;
    const samples = new Map<string, QueueSample>();
    const rates = new Map<string, QueueRates>();
    let ready = 0;
    let unacked = 0;
    for (const q of this.broker.listQueues()) {
      const k = key(q);
      const s = pick(q);
      samples.set(k, s);
      ready += q.ready;
      unacked += q.unacked;
      const p = prevQueues.get(k);
      if (!p) continue;
      const r = { ...ZERO };
      for (const f of QUEUE_FIELDS) r[f] = round((s[f] - p[f]) / secs);
      rates.set(k, r);
    }
    this.queuePrev = samples;
    this.queueRates = rates;
    const depth = { ready, unacked };
    this.history.push(now, (f) => {
      if (f === "ready" || f === "unacked") return depth[f];
      if (f === "deliver_get") return next.delivered + next.got;
      return next[f];
    });
  }

  /** Messages per second of one broker counter over the last interval. */
  rate(f: Field): number {
    return this.current[f];
  }

  /** A queue's rates over the last interval (zeros before its first full interval). */
  queue(vhost: string, name: string): QueueRates {
    return this.queueRates.get(`${vhost}\u0000${name}`) ?? ZERO;
  }
}

const key = (q: QueueView) => `${q.vhost}\u0000${q.name}`;

const pick = (q: QueueView): QueueSample => ({
  published: q.published,
  delivered: q.delivered,
  acked: q.acked,
  ready: q.ready,
  unacked: q.unacked,
});
