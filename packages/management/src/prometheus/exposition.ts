/*
 * Prometheus's text exposition format (version 0.0.4), written straight into an array of
 * lines: a scrape of 10,000 queues is some 150,000 lines, so no per-sample objects.
 */

/** A metric's kind as the exposition format names it. */
export type MetricType = "counter" | "gauge" | "untyped";

/** The Content-Type of a scrape. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A label value escaped as the format asks (backslash, double quote, newline). */
export function labelValue(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Appends a family's TYPE and HELP lines. */
export function header(out: string[], name: string, type: MetricType, help: string): void {
  out.push(`# TYPE ${name} ${type}`, `# HELP ${name} ${help}`);
}

/** Appends one sample; labels is "" or a rendered "{k=\"v\",...}". */
export function sample(out: string[], name: string, labels: string, value: number): void {
  out.push(`${name}${labels} ${Number.isNaN(value) ? "NaN" : value}`);
}
