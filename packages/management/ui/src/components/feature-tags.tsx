/** What a queue or an exchange was declared with. */
export interface Declared {
  durable: boolean;
  auto_delete: boolean;
  exclusive?: boolean;
  internal?: boolean;
  arguments: Record<string, unknown>;
}

/**
 * Short marks of a queue's or an exchange's features (D, AD, Excl, I, and each argument
 * without its "x-"), each with its meaning as a tooltip and for screen readers.
 */
export function FeatureTags({ o }: { o: Declared }) {
  const marks: [string, string][] = [];
  if (o.durable) marks.push(["D", "durable"]);
  if (o.auto_delete) marks.push(["AD", "auto-delete"]);
  if (o.exclusive) marks.push(["Excl", "exclusive"]);
  if (o.internal) marks.push(["I", "internal"]);
  for (const [k, v] of Object.entries(o.arguments ?? {}))
    marks.push([k.replace(/^x-/, ""), `${k}: ${JSON.stringify(v)}`]);
  return (
    <span class="tags">
      {marks.map(([m, t]) => (
        <abbr key={m} class="tag" title={t}>
          {m}
        </abbr>
      ))}
    </span>
  );
}
