import { ListPage } from "../components/list-page.js";
import type { Column } from "../components/table.js";
import { counterRate } from "../counter-rates.js";
import { bytes, num } from "../format.js";
import { href } from "../router.js";
import type { ConnectionJson } from "../types.js";

/** "RabbitMQ .NET 6.5.0" from a connection's client properties, or "". */
export function clientName(p: Record<string, unknown>): string {
  const name = p.connection_name ?? p.product ?? "";
  const parts = [String(p.product ?? ""), String(p.version ?? "")].filter((s) => s !== "");
  return p.connection_name ? `${String(name)} (${parts.join(" ")})` : parts.join(" ");
}

/** Bytes per second of a connection counter, between this poll and the last. */
const bps = (c: ConnectionJson, field: "recv_oct" | "send_oct", at: number) => {
  const r = counterRate(c, c.name, field, c[field], at);
  return r === undefined ? "–" : `${bytes(r)}/s`;
};

const COLUMNS: Column<ConnectionJson>[] = [
  { label: "Name", sort: "name", render: (c) => <a href={href("connections", c.name)}>{c.name}</a> },
  { label: "User", sort: "user", render: (c) => c.user },
  { label: "Vhost", sort: "vhost", render: (c) => c.vhost },
  { label: "Client", render: (c) => clientName(c.client_properties) },
  {
    label: "State",
    sort: "state",
    render: (c) => <span class={`pill ${c.state === "running" ? "ok" : "warn"}`}>{c.state}</span>,
  },
  { label: "TLS", sort: "ssl", render: (c) => (c.ssl ? "yes" : "no") },
  { label: "Channels", sort: "channels", numeric: true, render: (c) => num(c.channels) },
  {
    label: "From client",
    title: "Bytes received per second",
    sort: "recv_oct",
    numeric: true,
    render: (c, at) => bps(c, "recv_oct", at),
  },
  {
    label: "To client",
    title: "Bytes sent per second",
    sort: "send_oct",
    numeric: true,
    render: (c, at) => bps(c, "send_oct", at),
  },
];

/** Open AMQP connections, paged by the server. */
export function Connections() {
  return (
    <ListPage<ConnectionJson>
      title="Connections"
      noun="connections"
      columns={COLUMNS}
      rowKey={(c) => c.name}
    />
  );
}
