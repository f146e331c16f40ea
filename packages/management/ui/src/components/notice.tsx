import type { ComponentChildren } from "preact";
import type { Action } from "../use-action.js";

/**
 * An error the API returned, shown where the action was taken. role="alert" makes a screen
 * reader say it at once.
 */
export function ErrorNote({ error, prefix }: { error: unknown; prefix?: string }) {
  if (!error) return null;
  const msg = error instanceof Error ? error.message : String(error);
  return (
    <p class="note error" role="alert">
      {prefix ? `${prefix}: ` : ""}
      {msg}
    </p>
  );
}

/** A quiet confirmation ("Message published"): role="status" is read without interrupting. */
export function StatusNote({ children }: { children: ComponentChildren }) {
  if (!children) return null;
  return (
    <p class="note ok" role="status">
      {children}
    </p>
  );
}

/** A page's notes: why its data did not load, and what its last action said. */
export function PageNotes({ error, what, action }: { error: unknown; what: string; action: Action }) {
  return (
    <>
      <ErrorNote error={error} prefix={`Could not load ${what}`} />
      <ErrorNote error={action.error} />
      <StatusNote>{action.done}</StatusNote>
    </>
  );
}
