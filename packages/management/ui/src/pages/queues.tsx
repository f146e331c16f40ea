import { DeclareForm } from "../components/declare-form.js";
import { FeatureTags } from "../components/feature-tags.js";
import { ListPage } from "../components/list-page.js";
import type { Column } from "../components/table.js";
import { num, rate } from "../format.js";
import { href } from "../router.js";
import type { QueueJson } from "../types.js";

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

const QUEUE_COLUMNS: Column<QueueJson>[] = [
  {
    label: "Name",
    sort: "name",
    render: (q) => <a href={href("queues", q.vhost, q.name)}>{q.name || "(empty name)"}</a>,
  },
  { label: "Vhost", sort: "vhost", render: (q) => q.vhost },
  { label: "Type", sort: "type", render: (q) => q.type },
  { label: "Features", render: (q) => <FeatureTags o={q} /> },
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
  return (
    <ListPage<QueueJson>
      title="Queues"
      addLabel="Add queue"
      add={(onAdded) => <DeclareForm kind="queue" onAdded={onAdded} />}
      noun="queues"
      byVhost
      columns={QUEUE_COLUMNS}
      rowKey={(q) => `${q.vhost}\u0000${q.name}`}
      fields={FIELDS}
    />
  );
}
