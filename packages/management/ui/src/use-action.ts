import { useState } from "preact/hooks";

/** State of a button or form that calls the API: busy while it runs, then done or failed. */
export interface Action {
  busy: boolean;
  error: unknown;
  /** What the last success said, for a StatusNote. */
  done: string;
  /** Runs f; on success shows `message` (or what f returns) and calls `then`. */
  run: (f: () => Promise<unknown>, message?: string, then?: () => void) => Promise<boolean>;
}

/** One API action at a time per form, with its error and success message kept for display. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState("");
  const run: Action["run"] = async (f, message, then) => {
    setBusy(true);
    setError(undefined);
    setDone("");
    try {
      const r = await f();
      setDone(typeof r === "string" ? r : (message ?? ""));
      then?.();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, done, run };
}
