/** Number formatting for tables and cards: grouped integers, short rates, binary sizes. */

const int = new Intl.NumberFormat("en-US");
const dec = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

/** 12345 → "12,345"; undefined → "–". */
export function num(n: number | undefined | null): string {
  return n === undefined || n === null ? "–" : int.format(n);
}

/** A rate in messages per second: "0", "3.5", "12,000". */
export function rate(n: number | undefined | null): string {
  return n === undefined || n === null ? "–" : dec.format(n);
}

/** 1536 → "1.5 KiB". */
export function bytes(n: number | undefined | null): string {
  if (n === undefined || n === null) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : dec.format(v)} ${units[i]}`;
}

/** 93784000 ms → "1d 2h 3m". */
export function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

/** A value of any JSON type as short text (arguments, client properties). */
export function text(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}
