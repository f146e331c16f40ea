import type { Action } from "../use-action.js";

/**
 * A button that runs one API call through a page's Action (its error and status shown by the
 * page), then calls `then` (usually the page's reload). `label` is what a screen reader hears
 * when the visible text alone ("Unbind") does not say what it acts on.
 */
export function ActionButton({
  action,
  text,
  label,
  run,
  done,
  then,
}: {
  action: Action;
  text: string;
  label: string;
  run: () => Promise<unknown>;
  done: string;
  then: () => void;
}) {
  return (
    <button
      type="button"
      disabled={action.busy}
      aria-label={label}
      onClick={() => void action.run(run, done, then)}
    >
      {text}
    </button>
  );
}
