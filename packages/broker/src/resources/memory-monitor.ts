import { getHeapStatistics } from "node:v8";
import { collectGarbage } from "./collect-garbage.js";
import { residentSample } from "./released-memory.js";

/** How often resident memory is sampled. RabbitMQ checks every 2.5 s; a Node broker reading
 * at full speed can take in hundreds of MB in that time, and one sample costs microseconds. */
const INTERVAL_MS = 100;
/**
 * The share of V8's heap limit at which the alarm goes on whatever the watermark says. Bodies
 * live outside the heap (Buffers), but every queued message also costs a few hundred heap
 * bytes; past V8's limit the process dies with "heap out of memory" instead of blocking.
 */
const HEAP_GUARD = 0.85;

/** At most one forced collection per this many milliseconds (a full GC costs ms per 100 MB). */
const GC_EVERY_MS = 1000;

function baselineBytes(): number {
  const m = process.memoryUsage();
  return Math.max(0, m.rss - m.heapTotal - m.external);
}

/**
 * The memory alarm's sensor: resident memory (process.memoryUsage.rss(), which reads one
 * number from the kernel without walking the heap) against the high watermark, plus a guard
 * on V8's heap. It reports changes only: onChange(true) when memory goes above, onChange(false)
 * when it comes back below, as RabbitMQ's vm_memory_monitor (no hysteresis).
 */
export class MemoryMonitor {
  private timer: NodeJS.Timeout | undefined;
  private on = false;
  private readonly heapLimit = getHeapStatistics().heap_size_limit;
  /** The reading that raised the alarm, for the log: "rss" or "heap". */
  cause = "";

  constructor(
    private limit: number,
    private readonly onChange: (on: boolean) => void,
  ) {}

  private liveBytes(): number {
    const m = process.memoryUsage();
    return m.heapTotal + m.external + this.baseline;
  }

  /** V8's heap limit in bytes (node --max-old-space-size raises it). */
  get heapSizeLimit(): number {
    return this.heapLimit;
  }

  /** The watermark in bytes. */
  get watermark(): number {
    return this.limit;
  }

  start(): void {
    this.check();
    this.timer = setInterval(() => this.check(), INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Changes the watermark at run time (rabbitmqctl set_vm_memory_high_watermark). */
  setWatermark(bytes: number): void {
    this.limit = bytes;
    this.check();
  }

  private lastGc = 0;
  private gcPauseMs = GC_EVERY_MS;
  /** RSS that is neither heap nor buffers (code, stacks, native state), measured at start. */
  private readonly baseline = baselineBytes();

  /**
   * Samples memory now; exposed so that tests and the broker need not wait for the timer.
   *
   * Memory freed by the JS side is not always given back to the kernel: glibc keeps freed
   * message buffers in its arenas for reuse, so after queues drain the RSS can stay above the
   * watermark for good and the alarm would never clear. Above the watermark the monitor
   * therefore also counts what is live (heap + buffers + the baseline) and takes the smaller:
   * memory the allocator holds free is reused by the next messages before the RSS grows.
   */
  check(): void {
    let rss = process.memoryUsage.rss();
    residentSample(rss);
    if (rss > this.limit) {
      let live = this.liveBytes();
      if (live > this.limit && Date.now() - this.lastGc >= this.gcPauseMs) {
        // Garbage counts in live too: delivered and acked messages stay until V8 collects, and
        // a broker whose publishers are blocked does too little for V8 to decide to collect.
        // A full GC of a big heap is slow: the pause after one is 20 times what it took, so
        // forced collections never cost more than 5% of the time.
        const t0 = performance.now();
        collectGarbage();
        const took = performance.now() - t0;
        this.lastGc = Date.now();
        this.gcPauseMs = Math.max(GC_EVERY_MS, 20 * took);
        live = this.liveBytes();
      }
      rss = Math.min(rss, live);
    }
    let cause = rss > this.limit ? "rss" : "";
    // The heap statistics cost more than the RSS; read them only when RSS is at least near
    // the heap guard, since the heap is part of the RSS.
    if (
      !cause &&
      rss > this.heapLimit * HEAP_GUARD &&
      getHeapStatistics().used_heap_size > this.heapLimit * HEAP_GUARD
    )
      cause = "heap";
    const on = cause !== "";
    if (on === this.on) return;
    this.on = on;
    this.cause = cause;
    this.onChange(on);
  }
}
