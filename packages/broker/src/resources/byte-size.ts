/** Multipliers of the units RabbitMQ accepts in sizes (rabbitmq.conf: 1GB, 256MiB, 512MB…). */
const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/**
 * Parses a size such as "268435456", "256MiB", "1GB" or "512mb" into bytes, with RabbitMQ's
 * units (KB/MB/GB are powers of 1000, KiB/MiB/GiB and the bare K/M/G powers of 1024).
 * Throws on anything else, so that a typo in a limit fails at boot instead of meaning "none".
 */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined)
    throw new Error(`invalid size "${text}" (expected bytes, or a number with KB, MiB, GB…)`);
  return Math.floor(Number(m[1]) * unit);
}
