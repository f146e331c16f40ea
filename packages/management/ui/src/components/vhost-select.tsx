import { useEffect, useState } from "preact/hooks";
import { get } from "../api.js";

const KEY = "warren.vhost";

/** The vhost the lists show ("" for all), kept for the tab's session across pages. */
export function storedVhost(): string {
  return sessionStorage.getItem(KEY) ?? "";
}

let cache: { names: string[]; at: number } | undefined;

/** Vhost names, fetched at most every 30 s across all selectors on screen. */
export function useVhosts(): string[] {
  const [names, setNames] = useState<string[]>(cache?.names ?? []);
  useEffect(() => {
    if (cache && Date.now() - cache.at < 30_000) return;
    let live = true;
    get<{ name: string }[]>("/vhosts?columns=name").then(
      (l) => {
        cache = { names: l.map((v) => v.name), at: Date.now() };
        if (live) setNames(cache.names);
      },
      () => {},
    );
    return () => {
      live = false;
    };
  }, []);
  return names;
}

/** Drops the cached vhost names (after adding or deleting one). */
export function forgetVhosts(): void {
  cache = undefined;
}

/** A labelled vhost selector; `all` adds "All vhosts" (value ""). */
export function VhostSelect({
  value,
  onChange,
  all = true,
  id = "vhost",
  label = "Virtual host",
}: {
  value: string;
  onChange: (v: string) => void;
  all?: boolean;
  id?: string;
  label?: string;
}) {
  const names = useVhosts();
  return (
    <label class="field inline" for={id}>
      <span>{label}</span>
      <select
        id={id}
        value={value}
        onChange={(e) => {
          const v = e.currentTarget.value;
          if (all) sessionStorage.setItem(KEY, v);
          onChange(v);
        }}
      >
        {all ? <option value="">All vhosts</option> : null}
        {names.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
        {value && !names.includes(value) ? <option value={value}>{value}</option> : null}
      </select>
    </label>
  );
}
