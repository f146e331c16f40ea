/** How results are printed: aligned columns for a person, or JSON for a script. */
export type Format = "table" | "json";

/** Control characters and newlines would break a table's rows: such strings are shown quoted. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** One value as a table cell: lists as [a, b] (as rabbitmqctl shows tags), objects as JSON. */
function cell(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return CONTROL.test(v) ? JSON.stringify(v) : v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x !== "object" || x === null)) {
    return `[${v.map(cell).join(", ")}]`;
  }
  return JSON.stringify(v);
}

/**
 * Everything a command prints on stdout. Banners ("Listing queues for vhost / ...") are for a
 * person: --quiet drops them, and JSON output never has them, so that stdout parses as a whole.
 */
export class Output {
  constructor(
    readonly format: Format,
    readonly quiet: boolean,
    /** --no-table-headers: rows only, as rabbitmqctl's flag of that name. */
    readonly headers = true,
  ) {}

  /** A line saying what the command is about to do. */
  banner(text: string): void {
    if (!this.quiet && this.format === "table") process.stdout.write(`${text}\n`);
  }

  /** A list: a header row and left-aligned columns, or a JSON array of objects keyed by column. */
  rows(columns: readonly string[], rows: readonly (readonly unknown[])[]): void {
    if (this.format === "json") {
      const objects = rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i] ?? null])));
      this.json(objects);
      return;
    }
    const text = rows.map((r) => columns.map((_, i) => cell(r[i])));
    this.aligned(this.headers ? [[...columns], ...text] : text);
  }

  /** Label and value lines (status): two aligned columns, or the JSON object given. */
  pairs(pairs: readonly (readonly [string, unknown])[], json: unknown): void {
    if (this.format === "json") this.json(json);
    else this.aligned(pairs.map(([k, v]) => [k, cell(v)]));
  }

  /** A value as JSON (2-space indented: easy to read and to diff, and JSON all the same). */
  json(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Pads every column but the last to its widest cell, two spaces apart. */
  private aligned(lines: readonly string[][]): void {
    const widths: number[] = [];
    for (const l of lines) l.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
    let out = "";
    for (const l of lines) {
      out += `${l
        .map((c, i) => (i === l.length - 1 ? c : c.padEnd(widths[i]! + 2)))
        .join("")
        .trimEnd()}\n`;
    }
    process.stdout.write(out);
  }
}
