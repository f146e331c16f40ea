import { useId } from "preact/hooks";

/**
 * Arguments, headers and policy definitions typed as lines of `name = value`. A value that
 * reads as JSON (10, true, "text", [1,2], {"a":1}) is taken as that; anything else is a
 * string, so `x-queue-mode = lazy` and `x-max-length = 1000` both do what they say.
 */
export function parseArguments(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  text.split("\n").forEach((line, i) => {
    const t = line.trim();
    if (t === "" || t.startsWith("#")) return;
    const eq = t.indexOf("=");
    if (eq <= 0) throw new Error(`line ${i + 1}: write name = value`);
    const k = t.slice(0, eq).trim();
    const v = t.slice(eq + 1).trim();
    try {
      out[k] = JSON.parse(v);
    } catch {
      out[k] = v;
    }
  });
  return out;
}

/** The inverse of parseArguments, to show an object in the same form. */
export function formatArguments(o: Record<string, unknown>): string {
  return Object.entries(o)
    .map(([k, v]) => `${k} = ${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join("\n");
}

/** A labelled textarea for parseArguments, with an example under it. */
export function ArgumentsField({
  name = "arguments",
  label = "Arguments",
  example = "x-max-length = 1000",
  defaultValue = "",
}: {
  name?: string;
  label?: string;
  example?: string;
  defaultValue?: string;
}) {
  const hint = useId();
  return (
    <label class="field">
      <span>{label}</span>
      <textarea
        name={name}
        rows={3}
        spellcheck={false}
        aria-describedby={hint}
        placeholder={example}
        defaultValue={defaultValue}
      />
      <small id={hint} class="muted">
        One <code>name = value</code> per line; numbers, true/false and JSON are typed, the rest is text.
      </small>
    </label>
  );
}
