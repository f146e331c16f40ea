/** A point of RabbitMQ's `samples` lists (newest first). */
export interface Sample {
  sample: number;
  timestamp: number;
}

/** The data of a Chart: times (s) then one series per line. */
export type ChartData = [number[], ...(number | null)[][]];

/**
 * Chart data from sampled counters (cumulative, as /api/overview's samples are): each point
 * is the rate between a sample and the one before it, per second.
 */
export function ratesFromSamples(lists: (Sample[] | undefined)[]): ChartData {
  const base = [...(lists[0] ?? [])].reverse();
  const xs = base.slice(1).map((s) => s.timestamp / 1000);
  const ys = lists.map((l) => {
    const asc = [...(l ?? [])].reverse();
    const out: (number | null)[] = [];
    for (let i = 1; i < base.length; i++) {
      const a = asc[i - 1];
      const b = asc[i];
      out.push(
        a && b && b.timestamp > a.timestamp
          ? Math.max(0, (b.sample - a.sample) / ((b.timestamp - a.timestamp) / 1000))
          : null,
      );
    }
    return out;
  });
  return [xs, ...ys];
}

/** Chart data from sampled levels (queue depths): the samples themselves, oldest first. */
export function levelsFromSamples(lists: (Sample[] | undefined)[]): ChartData {
  const base = [...(lists[0] ?? [])].reverse();
  return [
    base.map((s) => s.timestamp / 1000),
    ...lists.map((l) => [...(l ?? [])].reverse().map((s) => s.sample)),
  ];
}

/**
 * A series kept by the browser for figures the API gives no history of (one queue's depth
 * and rates): one point per poll, the last `max` kept. Kept per key for the tab's life, so
 * going back to a queue shows what was seen before.
 */
export class History {
  private static all = new Map<string, History>();
  readonly xs: number[] = [];
  readonly ys: (number | null)[][];

  private constructor(
    lines: number,
    private readonly max: number,
  ) {
    this.ys = Array.from({ length: lines }, () => []);
  }

  static for(key: string, lines: number, max = 120): History {
    let h = History.all.get(key);
    if (!h) History.all.set(key, (h = new History(lines, max)));
    return h;
  }

  /** Adds a point at time at (ms), unless one with that time is there already. */
  add(at: number, values: number[]): void {
    const t = at / 1000;
    if (this.xs[this.xs.length - 1] === t) return;
    this.xs.push(t);
    values.forEach((v, i) => this.ys[i]?.push(v));
    if (this.xs.length > this.max) {
      this.xs.shift();
      for (const y of this.ys) y.shift();
    }
  }

  /** A copy for a chart (uPlot keeps the arrays it is given). */
  data(): ChartData {
    return [[...this.xs], ...this.ys.map((y) => [...y])];
  }
}
