import { useMemo } from "preact/hooks";
import { api, get, seg } from "../api.js";
import { AddBinding, BindingTable } from "../components/bindings.js";
import { Chart } from "../components/chart.js";
import { ConfirmButton } from "../components/confirm-button.js";
import { FeatureTags } from "../components/feature-tags.js";
import { GetMessages } from "../components/get-messages.js";
import { KvTable, entries } from "../components/kv-table.js";
import { ErrorNote, StatusNote } from "../components/notice.js";
import { PublishForm } from "../components/publish-form.js";
import { type Column, Table } from "../components/table.js";
import { bytes, num, rate } from "../format.js";
import { href, navigate } from "../router.js";
import { History } from "../series.js";
import type { BindingJson, ConsumerJson, QueueJson } from "../types.js";
import { useAction } from "../use-action.js";
import { usePoll } from "../use-poll.js";
import { DEPTH_LINES, RATE_LINES } from "./overview.js";

/** One queue: figures and charts, consumers, bindings, get and publish, purge and delete. */
export function QueuePage({ vhost, name }: { vhost: string; name: string }) {
  const path = `/queues/${seg(vhost)}/${seg(name)}`;
  const { data, error, at, reload } = usePoll(async () => {
    const [q, bindings] = await Promise.all([get<QueueJson>(path), get<BindingJson[]>(`${path}/bindings`)]);
    return { q, bindings };
  }, path);
  const action = useAction();
  const q = data?.q;
  const history = History.for(`queue ${vhost} ${name}`, 5);
  const ms = q?.message_stats;
  if (q) {
    history.add(at, [
      q.messages_ready,
      q.messages_unacknowledged,
      ms?.publish_details?.rate ?? 0,
      ms?.deliver_get_details?.rate ?? 0,
      ms?.ack_details?.rate ?? 0,
    ]);
  }
  const series = useMemo(() => {
    const [xs, ready, unacked, pub, del, ack] = history.data();
    return { depth: [xs, ready!, unacked!] as const, rates: [xs, pub!, del!, ack!] as const };
  }, [at]);

  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href("queues")}>Queues</a> <span aria-hidden="true">/</span> <span>{vhost}</span>
      </nav>
      <div class="page-head">
        <h1 tabIndex={-1}>
          <span class="muted">Queue</span> {name}
        </h1>
        <div class="actions">
          <ConfirmButton
            label="Purge"
            question={`Remove all ${num(q?.messages_ready ?? 0)} ready messages?`}
            disabled={!q || action.busy}
            onConfirm={() =>
              void action.run(() => api("DELETE", `${path}/contents`), "Queue purged.", reload)
            }
          />
          <ConfirmButton
            label="Delete queue"
            question={`Delete queue ${name}${q?.messages ? ` and its ${num(q.messages)} messages` : ""}?`}
            disabled={!q || action.busy}
            onConfirm={() =>
              void action.run(
                () => api("DELETE", path),
                undefined,
                () => navigate("queues"),
              )
            }
          />
        </div>
      </div>
      <ErrorNote error={action.error} />
      <StatusNote>{action.done}</StatusNote>
      <ErrorNote error={error} prefix="Could not refresh" />
      {q ? (
        <>
          <ul class="stats" aria-label="Queue figures">
            <li class="stat">
              <span class="stat-value">{num(q.messages_ready)}</span>
              <span class="stat-label">Ready</span>
            </li>
            <li class="stat">
              <span class="stat-value">{num(q.messages_unacknowledged)}</span>
              <span class="stat-label">Unacked</span>
            </li>
            <li class="stat">
              <span class="stat-value">{num(q.messages)}</span>
              <span class="stat-label">Total</span>
            </li>
            <li class="stat">
              <span class="stat-value">{num(q.consumers)}</span>
              <span class="stat-label">Consumers</span>
            </li>
            <li class="stat">
              <span class="stat-value">{rate(ms?.publish_details?.rate ?? 0)}</span>
              <span class="stat-label">In / s</span>
            </li>
            <li class="stat">
              <span class="stat-value">{rate(ms?.deliver_get_details?.rate ?? 0)}</span>
              <span class="stat-label">Out / s</span>
            </li>
          </ul>
          <div class="grid two">
            <section class="card">
              <h2>Depth</h2>
              <Chart
                title="Messages in the queue"
                lines={DEPTH_LINES}
                data={[...series.depth]}
                unit="count"
              />
            </section>
            <section class="card">
              <h2>Rates</h2>
              <Chart
                title="Queue message rates"
                lines={RATE_LINES.slice(0, 3)}
                data={[...series.rates]}
                unit="rate"
              />
            </section>
          </div>
          <div class="grid two">
            <section class="card">
              <h2>Details</h2>
              <KvTable
                rows={[
                  ["Virtual host", q.vhost],
                  ["Type", q.type],
                  ["State", q.state],
                  ["Features", <FeatureTags o={q} />],
                  ["Policy", q.policy ?? "none"],
                  ["Ready bytes", bytes(q.message_bytes ?? 0)],
                  ["Exclusive owner", q.owner_pid_details?.name ?? "none"],
                  ...entries(q.arguments).map(([k, v]) => [`Argument ${k}`, v] as [string, unknown]),
                ]}
              />
            </section>
            <section class="card">
              <h2>Consumers</h2>
              <Consumers q={q} />
            </section>
          </div>
          <section class="card">
            <h2>Bindings</h2>
            <BindingTable
              bindings={data.bindings}
              show="source"
              onChange={reload}
              caption={`Bindings of queue ${name}`}
            />
            <h3>Add a binding to this queue</h3>
            <AddBinding vhost={vhost} queue={name} onAdded={reload} />
          </section>
          <div class="grid two">
            <section class="card">
              <h2>Publish a message</h2>
              <p class="muted small">
                Published through the default exchange with the queue's name as routing key.
              </p>
              <PublishForm vhost={vhost} exchange="" routingKey={name} />
            </section>
            <section class="card">
              <h2>Get messages</h2>
              <GetMessages vhost={vhost} queue={name} />
            </section>
          </div>
        </>
      ) : error ? null : (
        <p class="empty">Loading…</p>
      )}
    </>
  );
}

const CONSUMER_COLUMNS: Column<ConsumerJson>[] = [
  { label: "Tag", render: (c) => <code>{c.consumer_tag}</code> },
  {
    label: "Channel",
    render: (c) => (
      <a href={href("connections", c.channel_details.connection_name)}>{c.channel_details.name}</a>
    ),
  },
  { label: "Ack", render: (c) => (c.ack_required ? "manual" : "auto") },
  { label: "Prefetch", numeric: true, render: (c) => c.prefetch_count },
];

function Consumers({ q }: { q: QueueJson }) {
  const l = q.consumer_details ?? [];
  if (l.length === 0) return <p class="muted">No consumers.</p>;
  return (
    <Table
      compact
      columns={CONSUMER_COLUMNS}
      items={l}
      rowKey={(c) => c.consumer_tag + c.channel_details.name}
      caption={`Consumers of queue ${q.name}`}
    />
  );
}
