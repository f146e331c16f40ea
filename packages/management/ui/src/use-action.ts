import { useState } from "preact/hooks";

/** State of a button or form that calls the API: busy while it runs, then done or failed. */
export interface Action {
  busy: boolean;
  error: unknown;
  /** What the last success said, for a StatusNote. */
  done: string;
  /** Runs f; on success shows `message` (or what f returns) and calls `then`. */
  run: (f: () => Promise<unknown>, message?: string, then?: () => void) => Promise<boolean>;
  /**
   * A form's onSubmit: runs f with the form's data (and the form, to reset it) as run does,
   * with what f returns as the success message.
   */
  submit: (
    f: (data: FormData, form: HTMLFormElement) => Promise<unknown>,
    then?: () => void,
  ) => (e: Event) => void;
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
  const submit: Action["submit"] = (f, then) => (e) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    void run(() => f(new FormData(form), form), undefined, then);
  };
  return { busy, error, done, run, submit };
}
