import type { ComponentChildren } from "preact";
import { text } from "../format.js";

/** Rows of name and value (a queue's arguments, a message's properties, client properties). */
export function KvTable({
  rows,
  caption,
  empty = "None",
}: {
  rows: [string, ComponentChildren | unknown][];
  caption?: string;
  empty?: string;
}) {
  if (rows.length === 0) return <p class="muted">{empty}</p>;
  return (
    <table class="kv">
      {caption ? <caption>{caption}</caption> : null}
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td>{isChild(v) ? v : text(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Strings and numbers print as they are; objects (JSON values) are shown as JSON text. */
function isChild(v: unknown): v is ComponentChildren {
  return (
    typeof v === "string" ||
    typeof v === "number" ||
    (typeof v === "object" && v !== null && "type" in v && "props" in v)
  );
}

/** An object's entries as KvTable rows, nested objects flattened with dotted names. */
export function entries(o: Record<string, unknown> | undefined | null, prefix = ""): [string, unknown][] {
  if (!o) return [];
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(o)) {
    if (v !== null && typeof v === "object" && !Array.isArray(v))
      out.push(...entries(v as Record<string, unknown>, `${prefix}${k}.`));
    else out.push([`${prefix}${k}`, v]);
  }
  return out;
}
