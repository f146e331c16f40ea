import type { BrokerCounters } from "@warren/broker";

/** The broker counters that overview's message_stats reports with a rate. */
const FIELDS = ["published", "delivered", "got", "redelivered", "acked", "confirmed", "unroutable"] as const;
type Field = (typeof FIELDS)[number];

/**
 * Global message rates for /api/overview, as RabbitMQ's "basic" rates mode computes them: the
 * broker's counters are sampled every interval (5 s, RabbitMQ's collect_statistics_interval)
 * and a rate is the difference over the last interval. The broker itself keeps no clock for
 * this; only the management package pays, once per interval.
 */
export class RateSampler {
  private prev: Record<Field, number>;
  private prevAt: number;
  private readonly current: Record<Field, number>;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly counters: BrokerCounters,
    private readonly intervalMs = 5000,
  ) {
    this.prev = this.read();
    this.prevAt = Date.now();
    this.current = Object.fromEntries(FIELDS.map((f) => [f, 0])) as Record<Field, number>;
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
    const next = this.read();
    const secs = Math.max((now - this.prevAt) / 1000, 0.001);
    for (const f of FIELDS) this.current[f] = Math.round(((next[f] - this.prev[f]) / secs) * 10) / 10;
    this.prev = next;
    this.prevAt = now;
  }

  /** Messages per second of one counter over the last interval. */
  rate(f: Field): number {
    return this.current[f];
  }
}
