import { useState } from "preact/hooks";
import { api, seg } from "../api.js";
import { ArgumentsField, parseArguments } from "../components/arguments-field.js";
import { ErrorNote, StatusNote } from "../components/notice.js";
import { type Column, PagedList } from "../components/paged-list.js";
import { VhostSelect, storedVhost } from "../components/vhost-select.js";
import { href } from "../router.js";
import type { ExchangeJson } from "../types.js";
import { useAction } from "../use-action.js";

export const EXCHANGE_TYPES = ["direct", "fanout", "topic", "headers"];

/** Short marks of an exchange's features. */
export function ExchangeFeatures({ x }: { x: ExchangeJson }) {
  const marks: [string, string][] = [];
  if (x.durable) marks.push(["D", "durable"]);
  if (x.auto_delete) marks.push(["AD", "auto-delete"]);
  if (x.internal) marks.push(["I", "internal"]);
  for (const k of Object.keys(x.arguments ?? {})) marks.push([k, `${k}: ${JSON.stringify(x.arguments[k])}`]);
  return (
    <span class="tags">
      {marks.map(([m, t]) => (
        <abbr key={m} class="tag" title={t}>
          {m}
        </abbr>
      ))}
    </span>
  );
}

const COLUMNS: Column<ExchangeJson>[] = [
  {
    label: "Name",
    sort: "name",
    render: (x) => (
      <a href={href("exchanges", x.vhost, x.name === "" ? "amq.default" : x.name)}>
        {x.name || "(AMQP default)"}
      </a>
    ),
  },
  { label: "Vhost", sort: "vhost", render: (x) => x.vhost },
  { label: "Type", sort: "type", render: (x) => x.type },
  { label: "Features", render: (x) => <ExchangeFeatures x={x} /> },
];

/** Exchanges, paged by the server; declare an exchange. */
export function Exchanges() {
  const [adding, setAdding] = useState(false);
  const [refresh, setRefresh] = useState(0);
  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1}>Exchanges</h1>
        <button type="button" class="primary" aria-expanded={adding} onClick={() => setAdding(!adding)}>
          {adding ? "Close" : "Add exchange"}
        </button>
      </div>
      {adding ? <AddExchange onAdded={() => setRefresh(refresh + 1)} /> : null}
      <PagedList<ExchangeJson>
        noun="exchanges"
        byVhost
        columns={COLUMNS}
        rowKey={(x) => `${x.vhost}\u0000${x.name}`}
        refresh={refresh}
      />
    </>
  );
}

function AddExchange({ onAdded }: { onAdded: () => void }) {
  const [vhost, setVhost] = useState(storedVhost() || "/");
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const name = String(f.get("name"));
    void action.run(
      async () => {
        await api("PUT", `/exchanges/${seg(vhost)}/${seg(name)}`, {
          type: String(f.get("type")),
          durable: f.get("durable") === "on",
          auto_delete: f.get("auto_delete") === "on",
          internal: f.get("internal") === "on",
          arguments: parseArguments(String(f.get("arguments") ?? "")),
        });
        return `Exchange ${name} declared.`;
      },
      undefined,
      onAdded,
    );
  };
  return (
    <form class="card form" onSubmit={submit} aria-label="Add an exchange">
      <h2>Add an exchange</h2>
      <div class="row">
        <VhostSelect value={vhost} onChange={setVhost} all={false} id="add-exchange-vhost" />
        <label class="field">
          <span>Name</span>
          <input name="name" required autocomplete="off" spellcheck={false} />
        </label>
        <label class="field">
          <span>Type</span>
          <select name="type">
            {EXCHANGE_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div class="row">
        <label class="check">
          <input type="checkbox" name="durable" defaultChecked />
          Durable
        </label>
        <label class="check">
          <input type="checkbox" name="auto_delete" />
          Auto-delete
        </label>
        <label class="check">
          <input type="checkbox" name="internal" />
          Internal
        </label>
      </div>
      <ArgumentsField example="alternate-exchange = unrouted" />
      <ErrorNote error={action.error} prefix="Not declared" />
      <StatusNote>{action.done}</StatusNote>
      <button type="submit" class="primary" disabled={action.busy}>
        Add exchange
      </button>
    </form>
  );
}
