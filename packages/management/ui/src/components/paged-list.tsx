import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, get, query } from "../api.js";
import { num } from "../format.js";
import { usePoll } from "../use-poll.js";
import { ErrorNote } from "./notice.js";
import { type Column, Table } from "./table.js";
import { storedVhost, VhostSelect } from "./vhost-select.js";

export type { Column } from "./table.js";

/** RabbitMQ's paged answer. */
interface Page<T> {
  filtered_count: number;
  item_count: number;
  items: T[];
  page: number;
  page_count: number;
  page_size: number;
  total_count: number;
}

/** What a PagedList is told. */
export interface PagedListProps<T> {
  /** "queues": the API path under /api and the word for the items. */
  noun: string;
  /** Lists per vhost (/api/queues/{vh}) with a vhost selector. */
  byVhost?: boolean;
  /** The API path for a vhost ("" = all): default /{noun}[/{vhost}]. */
  path?: (vhost: string) => string;
  columns: Column<T>[];
  rowKey: (item: T) => string;
  /** Only these fields are asked for (the API's `columns`), to keep answers small. */
  fields?: string;
  /** Changing it reloads the list at once (after the page added or deleted something). */
  refresh?: number;
  /** Extra controls in the toolbar (an "Add queue" toggle). */
  tools?: ComponentChildren;
}

const PAGE_SIZES = [25, 50, 100, 200, 500];

/**
 * A list the server pages, filters and sorts (the API's page, page_size, name, use_regex, sort,
 * sort_reverse), so that it stays fast whatever the number of objects: the browser never holds
 * more than one page. Polled every 5 s; the filter waits for a pause in typing.
 */
export function PagedList<T>({
  noun,
  byVhost,
  path,
  columns,
  rowKey,
  fields,
  refresh,
  tools,
}: PagedListProps<T>) {
  const [vhost, setVhost] = useState(byVhost ? storedVhost() : "");
  const [typed, setTyped] = useState("");
  const [name, setName] = useState("");
  const [regex, setRegex] = useState(false);
  const [sort, setSort] = useState<string | undefined>(undefined);
  const [reverse, setReverse] = useState(false);
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(100);

  useEffect(() => {
    const t = setTimeout(() => {
      setName(typed);
      setPage(1);
    }, 300);
    return () => clearTimeout(t);
  }, [typed]);

  const base = path ? path(vhost) : `/${noun}${vhost ? `/${encodeURIComponent(vhost)}` : ""}`;
  const url =
    base +
    query({
      page,
      page_size: pageSize,
      name,
      use_regex: regex && name ? "true" : undefined,
      sort,
      sort_reverse: sort && reverse ? "true" : undefined,
      columns: fields,
    });
  const polled = usePoll(() => get<Page<T>>(url), `${url} ${refresh ?? 0}`);
  const { data, error, at } = polled;

  // A page that no longer exists (objects deleted, filter narrowed): back to the last one.
  useEffect(() => {
    if (error instanceof ApiError && error.error === "page_out_of_range" && page > 1) setPage(1);
  }, [error, page]);

  const sortBy = (key: string) => {
    if (sort === key) setReverse(!reverse);
    else {
      setSort(key);
      // Figures read best largest first; names A to Z.
      setReverse(columns.find((c) => c.sort === key)?.numeric ?? false);
    }
    setPage(1);
  };
  const first = data ? (data.page - 1) * data.page_size + 1 : 0;
  const last = data ? first + data.item_count - 1 : 0;
  const id = `${noun}-filter`;
  const sortLabel = sort
    ? `, sorted by ${columns.find((c) => c.sort === sort)?.label ?? sort}${reverse ? ", descending" : ""}`
    : "";

  return (
    <section class="list" aria-label={`${noun} list`}>
      <div class="toolbar">
        {byVhost ? (
          <VhostSelect
            value={vhost}
            onChange={(v) => {
              setVhost(v);
              setPage(1);
            }}
          />
        ) : null}
        <label class="field inline grow" for={id}>
          <span>Filter</span>
          <input
            id={id}
            type="search"
            placeholder={regex ? "regular expression, e.g. ^orders\\." : "part of the name"}
            value={typed}
            onInput={(e) => setTyped(e.currentTarget.value)}
            spellcheck={false}
            autocomplete="off"
          />
        </label>
        <label class="check">
          <input type="checkbox" checked={regex} onChange={(e) => setRegex(e.currentTarget.checked)} />
          Regex
        </label>
        {tools}
      </div>
      <ErrorNote error={error} prefix={`Could not load ${noun}`} />
      <div class="table-wrap">
        <Table
          columns={columns}
          items={data?.items}
          rowKey={rowKey}
          at={at}
          caption={`${noun}${sortLabel}, page ${data?.page ?? page} of ${Math.max(data?.page_count ?? 1, 1)}`}
          sort={{ key: sort, reverse, onSort: sortBy }}
        />
        {data && data.item_count === 0 ? (
          <p class="empty">{name ? `No ${noun} match “${name}”.` : `No ${noun} yet.`}</p>
        ) : null}
        {!data && !error ? <p class="empty">Loading…</p> : null}
      </div>
      <nav class="pager" aria-label={`${noun} pages`}>
        <span aria-live="polite">
          {data && data.item_count > 0 ? `${num(first)}–${num(last)} of ${num(data.filtered_count)}` : ""}
          {data && data.filtered_count !== data.total_count
            ? ` (filtered from ${num(data.total_count)})`
            : ""}
        </span>
        <span class="spacer" />
        <label class="field inline" for={`${noun}-page-size`}>
          <span>Per page</span>
          <select
            id={`${noun}-page-size`}
            value={pageSize}
            onChange={(e) => {
              setPageSize(Number(e.currentTarget.value));
              setPage(1);
            }}
          >
            {PAGE_SIZES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="button" disabled={page <= 1} onClick={() => setPage(1)} aria-label="First page">
          «
        </button>
        <button
          type="button"
          disabled={page <= 1}
          onClick={() => setPage(page - 1)}
          aria-label="Previous page"
        >
          ‹ Prev
        </button>
        <span>
          Page {data?.page ?? page} of {Math.max(data?.page_count ?? 1, 1)}
        </span>
        <button
          type="button"
          disabled={!data || page >= data.page_count}
          onClick={() => setPage(page + 1)}
          aria-label="Next page"
        >
          Next ›
        </button>
        <button
          type="button"
          disabled={!data || page >= data.page_count}
          onClick={() => data && setPage(data.page_count)}
          aria-label="Last page"
        >
          »
        </button>
      </nav>
    </section>
  );
}
