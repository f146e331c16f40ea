import { useCallback, useEffect, useRef, useState } from "preact/hooks";

/** How often views refresh: RabbitMQ's statistics interval, so every poll sees new rates. */
export const POLL_MS = 5000;

/** What usePoll gives a view: the latest data, the latest error, and a way to refresh now. */
export interface Polled<T> {
  data: T | undefined;
  error: Error | undefined;
  /** When the data last arrived (ms), for rates computed between two polls. */
  at: number;
  reload: () => void;
}

/**
 * Loads data now and every POLL_MS while the view is shown (not while the tab is hidden),
 * one request at a time. A change of `key` (the view's parameters) loads at once and drops
 * answers to older requests, so a slow answer never overwrites a newer one.
 */
export function usePoll<T>(load: () => Promise<T>, key: string): Polled<T> {
  const [state, setState] = useState<{ data: T | undefined; error: Error | undefined; at: number }>({
    data: undefined,
    error: undefined,
    at: 0,
  });
  const generation = useRef(0);
  const timer = useRef<number | undefined>(undefined);
  const loadRef = useRef(load);
  loadRef.current = load;

  const run = useCallback(() => {
    const gen = ++generation.current;
    clearTimeout(timer.current);
    const again = () => {
      if (gen === generation.current) timer.current = window.setTimeout(run, POLL_MS);
    };
    if (document.hidden) return again();
    loadRef.current().then(
      (data) => {
        if (gen !== generation.current) return;
        setState({ data, error: undefined, at: Date.now() });
        again();
      },
      (error: unknown) => {
        if (gen !== generation.current) return;
        setState((s) => ({ ...s, error: error instanceof Error ? error : new Error(String(error)) }));
        again();
      },
    );
  }, []);

  useEffect(() => {
    run();
    return () => {
      generation.current++;
      clearTimeout(timer.current);
    };
  }, [key, run]);

  return { ...state, reload: run };
}
