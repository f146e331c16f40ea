import type { ComponentChildren } from "preact";

/** A column of a Table. */
export interface Column<T> {
  label: string;
  /** The field the API sorts by (dotted path); a column without one cannot sort. */
  sort?: string;
  /** Right-aligned, tabular figures. */
  numeric?: boolean;
  /** A longer description, shown as the header's tooltip. */
  title?: string;
  /** The header is for screen readers only (a column of buttons). */
  hidden?: boolean;
  /** A column of buttons, kept to the right. */
  actions?: boolean;
  render: (item: T, at: number) => ComponentChildren;
}

/** The sort a Table shows in its headers, and what a click on a header asks for. */
export interface TableSort {
  key: string | undefined;
  reverse: boolean;
  onSort: (key: string) => void;
}

interface Props<T> {
  columns: Column<T>[];
  items: T[] | undefined;
  rowKey: (item: T) => string;
  /** What the table lists, for screen readers. */
  caption: string;
  /** When the items arrived (for rates computed between two answers). */
  at?: number;
  compact?: boolean;
  sort?: TableSort;
}

/**
 * A data table: column headers (buttons with aria-sort where the column sorts), one row per
 * item, rows keyed so that a refresh updates cells in place and keeps the focus.
 */
export function Table<T>({ columns, items, rowKey, caption, at = 0, compact, sort }: Props<T>) {
  const cls = (c: Column<T>) => (c.numeric ? "num" : c.actions ? "actions" : undefined);
  return (
    <table class={compact ? "data compact" : "data"}>
      <caption class="sr-only">{caption}</caption>
      <thead>
        <tr>
          {columns.map((c) => (
            <th
              key={c.label}
              scope="col"
              class={cls(c)}
              title={c.title}
              aria-sort={
                sort?.key && c.sort === sort.key ? (sort.reverse ? "descending" : "ascending") : undefined
              }
            >
              {c.hidden ? (
                <span class="sr-only">{c.label}</span>
              ) : c.sort && sort ? (
                <button type="button" class="sort" onClick={() => sort.onSort(c.sort!)}>
                  {c.label}
                  <span aria-hidden="true" class="arrow">
                    {sort.key === c.sort ? (sort.reverse ? "▼" : "▲") : ""}
                  </span>
                </button>
              ) : (
                c.label
              )}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {items?.map((item) => (
          <tr key={rowKey(item)}>
            {columns.map((c) => (
              <td key={c.label} class={cls(c)}>
                {c.render(item, at)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A card with a heading and a Table, or `empty` when there is nothing to list. */
export function CardTable<T>({ title, empty, ...table }: Props<T> & { title: string; empty?: string }) {
  return (
    <section class="card">
      <h2>{title}</h2>
      {empty && table.items?.length === 0 ? <p class="muted">{empty}</p> : <Table {...table} />}
    </section>
  );
}
