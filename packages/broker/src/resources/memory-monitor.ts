import { getHeapStatistics } from "node:v8";

/** How often resident memory is sampled. RabbitMQ checks every 2.5 s; a Node broker reading
 * at full speed can take in hundreds of MB in that time, and one sample costs microseconds. */
const INTERVAL_MS = 100;
/**
 * The share of V8's heap limit at which the alarm goes on whatever the watermark says. Bodies
 * live outside the heap (Buffers), but every queued message also costs a few hundred heap
 * bytes; past V8's limit the process dies with "heap out of memory" instead of blocking.
 */
const HEAP_GUARD = 0.85;

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

  /** Samples memory now; exposed so that tests and the broker need not wait for the timer. */
  check(): void {
    const rss = process.memoryUsage.rss();
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
