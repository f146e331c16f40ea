import { totalmem } from "node:os";
import { constrainedMemory } from "node:process";
import { parseByteSize } from "./byte-size.js";

/** A memory high watermark: a fraction of the memory available, or an absolute size. */
export type MemoryWatermark = { fraction: number } | { bytes: number };

/**
 * Parses `--memory-high-watermark`: a number up to 1 is a fraction of the memory available
 * (RabbitMQ's vm_memory_high_watermark.relative, default 0.4); anything larger, or with a
 * unit, is an absolute size (vm_memory_high_watermark.absolute: 268435456, 256MiB, 1GB).
 */
export function parseMemoryWatermark(text: string): MemoryWatermark {
  const n = Number(text);
  if (text.trim() !== "" && Number.isFinite(n) && n >= 0 && n <= 1) return { fraction: n };
  return { bytes: parseByteSize(text) };
}

/**
 * The memory a fraction refers to: the machine's, or the cgroup's limit when a container sets
 * one lower (a fraction of the host's memory would let the container be OOM-killed first).
 */
export function availableMemory(): number {
  const total = totalmem();
  const limit = constrainedMemory?.() ?? 0;
  return limit > 0 && limit < total ? limit : total;
}

/** The watermark in bytes. */
export function watermarkBytes(w: MemoryWatermark): number {
  return "bytes" in w ? w.bytes : Math.floor(w.fraction * availableMemory());
}
