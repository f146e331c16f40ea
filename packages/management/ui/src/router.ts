import { useEffect, useState } from "preact/hooks";

/**
 * Hash routing (#/queues/%2F/orders): the server serves one page at /, so every view is a
 * real link that can be opened in a new tab, bookmarked, and reached with the back button.
 */

/** The decoded path segments of the current hash: "#/queues/%2F/q" → ["queues", "/", "q"]. */
export function currentRoute(): string[] {
  const h = location.hash.replace(/^#\/?/, "");
  return h === "" ? [] : h.split("/").map((s) => decodeURIComponent(s));
}

/** The link to a view: href("queues", "/", "q") → "#/queues/%2F/q". */
export function href(...segments: string[]): string {
  return `#/${segments.map((s) => encodeURIComponent(s)).join("/")}`;
}

export function navigate(...segments: string[]): void {
  location.hash = href(...segments);
}

/** The current route, re-rendering on every hash change. */
export function useRoute(): string[] {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}
