/** One point of a sampled series in RabbitMQ's shape: newest first in a `samples` list. */
export interface Sample {
  sample: number;
  timestamp: number;
}

/**
 * The last few minutes of a few global figures (counters and queue depths), one entry per
 * sampling interval, for /api/overview's `samples` (`?msg_rates_age=600&msg_rates_incr=5`,
 * `lengths_age`/`lengths_incr`), so a dashboard opened now can draw the recent past. A fixed
 * ring: `capacity` entries of a handful of numbers, whatever the load.
 */
export class SampleHistory<F extends string> {
  private readonly times: number[] = [];
  private readonly values = new Map<F, number[]>();
  private next = 0;

  constructor(
    fields: readonly F[],
    private readonly capacity: number,
  ) {
    for (const f of fields) this.values.set(f, []);
  }

  /** Records one sample of every field at time t (ms since the epoch). */
  push(t: number, read: (f: F) => number): void {
    const i = this.next;
    this.times[i] = t;
    for (const [f, l] of this.values) l[i] = read(f);
    this.next = (i + 1) % this.capacity;
  }

  /**
   * The samples of a field no older than ageS seconds, newest first, at least incrS seconds
   * apart (RabbitMQ's `*_age` and `*_incr` query parameters).
   */
  samples(field: F, ageS: number, incrS: number, now = Date.now()): Sample[] {
    const l = this.values.get(field);
    const out: Sample[] = [];
    if (!l) return out;
    const n = this.times.length;
    const oldest = now - ageS * 1000;
    let last = Infinity;
    for (let k = 1; k <= n; k++) {
      const i = (this.next - k + n) % n;
      const t = this.times[i]!;
      if (t < oldest) break;
      // 100 ms of slack: timers drift, and a 5-s series asked for every 5 s keeps every point.
      if (last - t < incrS * 1000 - 100) continue;
      out.push({ sample: l[i]!, timestamp: t });
      last = t;
    }
    return out;
  }
}
