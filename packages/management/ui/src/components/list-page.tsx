import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { PagedList, type PagedListProps } from "./paged-list.js";

/**
 * A page that is one server-paged list (queues, exchanges, connections, channels), with an
 * "Add …" toggle above it when `add` is given: the form it returns reloads the list on success.
 */
export function ListPage<T>({
  title,
  addLabel,
  add,
  ...list
}: {
  title: string;
  addLabel?: string;
  add?: (onAdded: () => void) => ComponentChildren;
} & Omit<PagedListProps<T>, "refresh">) {
  const [adding, setAdding] = useState(false);
  const [refresh, setRefresh] = useState(0);
  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1}>{title}</h1>
        {add ? (
          <button type="button" class="primary" aria-expanded={adding} onClick={() => setAdding(!adding)}>
            {adding ? "Close" : addLabel}
          </button>
        ) : null}
      </div>
      {adding && add ? add(() => setRefresh((r) => r + 1)) : null}
      <PagedList<T> {...list} refresh={refresh} />
    </>
  );
}
