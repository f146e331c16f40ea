import { useState } from "preact/hooks";
import { api, seg } from "../api.js";
import { ErrorNote, StatusNote } from "../components/notice.js";
import { type Column, PagedList } from "../components/paged-list.js";
import { VhostSelect, storedVhost } from "../components/vhost-select.js";
import { num, rate } from "../format.js";
import { href } from "../router.js";
import type { QueueJson } from "../types.js";
import { useAction } from "../use-action.js";
import { ArgumentsField, parseArguments } from "../components/arguments-field.js";

/** The fields the list shows: the API leaves the rest out (10,000 queues stay small). */
const FIELDS = [
  "name",
  "vhost",
  "type",
  "state",
  "policy",
  "durable",
  "auto_delete",
  "exclusive",
  "arguments",
  "consumers",
  "messages",
  "messages_ready",
  "messages_unacknowledged",
  "message_stats.publish_details",
  "message_stats.deliver_get_details",
  "message_stats.ack_details",
].join(",");

/** Short marks of a queue's features, each with its meaning for tooltips and screen readers. */
export function Features({
  q,
}: {
  q: Pick<QueueJson, "durable" | "auto_delete" | "exclusive" | "arguments">;
}) {
  const marks: [string, string][] = [];
  if (q.durable) marks.push(["D", "durable"]);
  if (q.auto_delete) marks.push(["AD", "auto-delete"]);
  if (q.exclusive) marks.push(["Excl", "exclusive"]);
  for (const k of Object.keys(q.arguments ?? {}))
    marks.push([k.replace(/^x-/, ""), `${k}: ${JSON.stringify(q.arguments[k])}`]);
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

export const QUEUE_COLUMNS: Column<QueueJson>[] = [
  {
    label: "Name",
    sort: "name",
    render: (q) => <a href={href("queues", q.vhost, q.name)}>{q.name || "(empty name)"}</a>,
  },
  { label: "Vhost", sort: "vhost", render: (q) => q.vhost },
  { label: "Type", sort: "type", render: (q) => q.type },
  { label: "Features", render: (q) => <Features q={q} /> },
  {
    label: "State",
    sort: "state",
    render: (q) => <span class={`pill ${q.state === "running" ? "ok" : ""}`}>{q.state}</span>,
  },
  { label: "Policy", sort: "policy", render: (q) => q.policy ?? "" },
  { label: "Ready", sort: "messages_ready", numeric: true, render: (q) => num(q.messages_ready) },
  {
    label: "Unacked",
    sort: "messages_unacknowledged",
    numeric: true,
    render: (q) => num(q.messages_unacknowledged),
  },
  { label: "Total", sort: "messages", numeric: true, render: (q) => num(q.messages) },
  { label: "Consumers", sort: "consumers", numeric: true, render: (q) => num(q.consumers) },
  {
    label: "In/s",
    title: "Messages published to the queue per second",
    sort: "message_stats.publish_details.rate",
    numeric: true,
    render: (q) => rate(q.message_stats?.publish_details?.rate ?? 0),
  },
  {
    label: "Out/s",
    title: "Messages delivered or fetched per second",
    sort: "message_stats.deliver_get_details.rate",
    numeric: true,
    render: (q) => rate(q.message_stats?.deliver_get_details?.rate ?? 0),
  },
  {
    label: "Ack/s",
    title: "Messages acknowledged per second",
    sort: "message_stats.ack_details.rate",
    numeric: true,
    render: (q) => rate(q.message_stats?.ack_details?.rate ?? 0),
  },
];

/** The queues of every vhost or one, paged by the server; declare a queue. */
export function Queues() {
  const [adding, setAdding] = useState(false);
  const [refresh, setRefresh] = useState(0);
  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1}>Queues</h1>
        <button type="button" class="primary" aria-expanded={adding} onClick={() => setAdding(!adding)}>
          {adding ? "Close" : "Add queue"}
        </button>
      </div>
      {adding ? <AddQueue onAdded={() => setRefresh(refresh + 1)} /> : null}
      <PagedList<QueueJson>
        noun="queues"
        byVhost
        columns={QUEUE_COLUMNS}
        rowKey={(q) => `${q.vhost}\u0000${q.name}`}
        fields={FIELDS}
        refresh={refresh}
      />
    </>
  );
}

function AddQueue({ onAdded }: { onAdded: () => void }) {
  const [vhost, setVhost] = useState(storedVhost() || "/");
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const name = String(f.get("name"));
    void action.run(
      async () => {
        const args = parseArguments(String(f.get("arguments") ?? ""));
        const type = String(f.get("type"));
        if (type !== "classic") args["x-queue-type"] = type;
        await api("PUT", `/queues/${seg(vhost)}/${seg(name)}`, {
          durable: f.get("durable") === "on",
          auto_delete: f.get("auto_delete") === "on",
          arguments: args,
        });
        return `Queue ${name} declared.`;
      },
      undefined,
      onAdded,
    );
  };
  return (
    <form class="card form" onSubmit={submit} aria-label="Add a queue">
      <h2>Add a queue</h2>
      <div class="row">
        <VhostSelect value={vhost} onChange={setVhost} all={false} id="add-queue-vhost" />
        <label class="field">
          <span>Name</span>
          <input name="name" required autocomplete="off" spellcheck={false} />
        </label>
        <label class="field">
          <span>Type</span>
          <select name="type">
            <option value="classic">classic</option>
            <option value="quorum">quorum</option>
            <option value="stream">stream</option>
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
      </div>
      <ArgumentsField />
      <ErrorNote error={action.error} prefix="Not declared" />
      <StatusNote>{action.done}</StatusNote>
      <button type="submit" class="primary" disabled={action.busy}>
        Add queue
      </button>
    </form>
  );
}
