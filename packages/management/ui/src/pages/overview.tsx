import { useMemo } from "preact/hooks";
import { get } from "../api.js";
import { Chart, type Line } from "../components/chart.js";
import { ErrorNote } from "../components/notice.js";
import { type Column, Table } from "../components/table.js";
import { bytes, duration, num, rate } from "../format.js";
import { href } from "../router.js";
import { levelsFromSamples, ratesFromSamples, type Sample } from "../series.js";
import { usePoll } from "../use-poll.js";

interface Details {
  rate?: number;
  samples?: Sample[];
}

interface OverviewJson {
  product_name: string;
  product_version: string;
  rabbitmq_version: string;
  erlang_full_version?: string;
  cluster_name: string;
  node: string;
  object_totals: Partial<Record<"connections" | "channels" | "queues" | "consumers" | "exchanges", number>>;
  queue_totals: {
    messages?: number;
    messages_ready?: number;
    messages_unacknowledged?: number;
    messages_ready_details?: Details;
    messages_unacknowledged_details?: Details;
  };
  message_stats: Record<string, number | Details | undefined>;
  listeners: { protocol: string; ip_address: string; port: number }[];
}

interface NodeJson {
  name: string;
  uptime: number;
  mem_used: number;
  mem_limit?: number;
  mem_alarm?: boolean;
  disk_free?: number;
  disk_free_limit?: number;
  disk_free_alarm?: boolean;
}

/** The rates charted, with their colours: the same names and colours on the queue page. */
export const RATE_LINES: Line[] = [
  { label: "Published", color: "#2563eb" },
  { label: "Delivered", color: "#16a34a" },
  { label: "Acked", color: "#9333ea" },
  { label: "Confirmed", color: "#ea580c" },
];
export const DEPTH_LINES: Line[] = [
  { label: "Ready", color: "#0891b2" },
  { label: "Unacked", color: "#d97706" },
];

type Listener = OverviewJson["listeners"][number];
const LISTENER_COLUMNS: Column<Listener>[] = [
  { label: "Protocol", render: (l) => l.protocol },
  { label: "Address", render: (l) => l.ip_address },
  { label: "Port", numeric: true, render: (l) => l.port },
];

/** Ten minutes of samples, every 5 s, as the API keeps them. */
const HISTORY = "?lengths_age=600&lengths_incr=5&msg_rates_age=600&msg_rates_incr=5";

const detail = (o: OverviewJson, k: string) => o.message_stats[`${k}_details`] as Details | undefined;

/** Totals, live charts, memory and disk against their alarms, listeners and versions. */
export function Overview() {
  const { data, error } = usePoll(async () => {
    const [o, nodes] = await Promise.all([
      get<OverviewJson>(`/overview${HISTORY}`),
      get<NodeJson[]>("/nodes"),
    ]);
    return { o, node: nodes[0] };
  }, "overview");
  const o = data?.o;
  const rates = useMemo(
    () =>
      o
        ? ratesFromSamples(["publish", "deliver_get", "ack", "confirm"].map((k) => detail(o, k)?.samples))
        : undefined,
    [o],
  );
  const depths = useMemo(
    () =>
      o
        ? levelsFromSamples([
            o.queue_totals.messages_ready_details?.samples,
            o.queue_totals.messages_unacknowledged_details?.samples,
          ])
        : undefined,
    [o],
  );
  const now = (k: string) => (o ? detail(o, k)?.rate : undefined);
  const t = o?.object_totals ?? {};
  const q = o?.queue_totals ?? {};
  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1}>Overview</h1>
        {o ? (
          <p class="muted">
            {o.cluster_name} · {o.node}
          </p>
        ) : null}
      </div>
      <ErrorNote error={error} prefix="Could not refresh" />
      <ul class="stats" aria-label="Totals">
        <Stat label="Connections" value={t.connections} link="connections" />
        <Stat label="Channels" value={t.channels} link="channels" />
        <Stat label="Exchanges" value={t.exchanges} link="exchanges" />
        <Stat label="Queues" value={t.queues} link="queues" />
        <Stat label="Consumers" value={t.consumers} />
        <Stat label="Ready" value={q.messages_ready ?? (o ? 0 : undefined)} />
        <Stat label="Unacked" value={q.messages_unacknowledged ?? (o ? 0 : undefined)} />
        <Stat label="Total messages" value={q.messages ?? (o ? 0 : undefined)} />
      </ul>
      <div class="grid two">
        <section class="card">
          <h2>Message rates</h2>
          <p class="muted small">
            Now: published {rate(now("publish"))}/s, delivered {rate(now("deliver_get"))}/s, acked{" "}
            {rate(now("ack"))}/s
          </p>
          {rates ? (
            <Chart title="Message rates, last 10 minutes" lines={RATE_LINES} data={rates} unit="rate" />
          ) : null}
        </section>
        <section class="card">
          <h2>Queued messages</h2>
          <p class="muted small">
            Now: {num(q.messages_ready ?? 0)} ready, {num(q.messages_unacknowledged ?? 0)} unacked
          </p>
          {depths ? (
            <Chart title="Queued messages, last 10 minutes" lines={DEPTH_LINES} data={depths} unit="count" />
          ) : null}
        </section>
      </div>
      <div class="grid three">
        <section class="card">
          <h2>Resources</h2>
          {data?.node ? <Resources n={data.node} /> : <p class="muted">Loading…</p>}
        </section>
        <section class="card">
          <h2>Listeners</h2>
          <Table
            compact
            columns={LISTENER_COLUMNS}
            items={o?.listeners}
            rowKey={(l) => `${l.protocol}${l.port}`}
            caption="Listeners"
          />
        </section>
        <section class="card">
          <h2>Version</h2>
          {o ? (
            <dl class="facts">
              <dt>Broker</dt>
              <dd>
                {o.product_name} {o.product_version}
              </dd>
              <dt>API compatible with</dt>
              <dd>RabbitMQ {o.rabbitmq_version}</dd>
              <dt>Runtime</dt>
              <dd>{o.erlang_full_version}</dd>
              <dt>Uptime</dt>
              <dd>{data?.node ? duration(data.node.uptime) : "–"}</dd>
            </dl>
          ) : null}
        </section>
      </div>
    </>
  );
}

function Stat({ label, value, link }: { label: string; value: number | undefined; link?: string }) {
  const body = (
    <>
      <span class="stat-value">{num(value)}</span>
      <span class="stat-label">{label}</span>
    </>
  );
  return <li class="stat">{link ? <a href={href(link)}>{body}</a> : body}</li>;
}

/** Memory against its high watermark and free disk against its limit, with the alarms. */
function Resources({ n }: { n: NodeJson }) {
  const memShare = n.mem_limit ? n.mem_used / n.mem_limit : 0;
  return (
    <div class="resources">
      <div class="resource">
        <div class="resource-head">
          <span>Memory</span>
          <Alarm on={n.mem_alarm} />
        </div>
        <div
          class={`bar ${n.mem_alarm ? "bad" : memShare > 0.8 ? "warn" : ""}`}
          role="meter"
          aria-label="Memory used"
          aria-valuemin={0}
          aria-valuemax={n.mem_limit ?? 0}
          aria-valuenow={n.mem_used}
          aria-valuetext={`${bytes(n.mem_used)} of ${bytes(n.mem_limit)}`}
        >
          <span style={{ width: `${Math.min(100, memShare * 100)}%` }} />
        </div>
        <p class="small muted">
          {bytes(n.mem_used)} used · alarm at {bytes(n.mem_limit)}
        </p>
      </div>
      <div class="resource">
        <div class="resource-head">
          <span>Disk</span>
          <Alarm on={n.disk_free_alarm} />
        </div>
        {n.disk_free !== undefined ? (
          <p class="small">
            <strong>{bytes(n.disk_free)}</strong> free · alarm below {bytes(n.disk_free_limit)}
          </p>
        ) : (
          <p class="small muted">No data directory: messages are kept in memory only.</p>
        )}
      </div>
    </div>
  );
}

function Alarm({ on }: { on: boolean | undefined }) {
  return on ? <span class="pill bad">Alarm: publishers blocked</span> : <span class="pill ok">OK</span>;
}
