import { ListPage } from "../components/list-page.js";
import { type Column, Table } from "../components/table.js";
import { counterRate } from "../counter-rates.js";
import { num, rate } from "../format.js";
import { href } from "../router.js";
import type { ChannelJson } from "../types.js";

/** Messages per second of a channel counter, between this poll and the last. */
const perSecond = (ch: ChannelJson, field: "publish" | "deliver_get" | "ack", at: number) => {
  const r = counterRate(ch, ch.name, field, ch.message_stats?.[field] ?? 0, at);
  return r === undefined ? "–" : rate(r);
};

const mode = (ch: ChannelJson) =>
  [ch.confirm ? "confirm" : "", ch.transactional ? "tx" : ""].filter(Boolean).join(", ");

const COLUMNS: Column<ChannelJson>[] = [
  {
    label: "Channel",
    sort: "name",
    render: (ch) => <a href={href("connections", ch.connection_details.name)}>{ch.name}</a>,
  },
  { label: "User", sort: "user", render: (ch) => ch.user },
  { label: "Vhost", sort: "vhost", render: (ch) => ch.vhost },
  { label: "Mode", render: mode },
  { label: "State", sort: "state", render: (ch) => <span class="pill ok">{ch.state}</span> },
  { label: "Prefetch", sort: "prefetch_count", numeric: true, render: (ch) => num(ch.prefetch_count) },
  {
    label: "Unacked",
    sort: "messages_unacknowledged",
    numeric: true,
    render: (ch) => num(ch.messages_unacknowledged),
  },
  { label: "Consumers", sort: "consumer_count", numeric: true, render: (ch) => num(ch.consumer_count) },
  { label: "Publish/s", numeric: true, render: (ch, at) => perSecond(ch, "publish", at) },
  { label: "Deliver/s", numeric: true, render: (ch, at) => perSecond(ch, "deliver_get", at) },
  { label: "Ack/s", numeric: true, render: (ch, at) => perSecond(ch, "ack", at) },
];

/** On a connection's page: its channels by number, without the user and vhost it shows. */
const OWN_COLUMNS: Column<ChannelJson>[] = [
  { label: "Channel", render: (ch) => `#${ch.number}` },
  ...COLUMNS.filter((c) => !["Channel", "User", "Vhost"].includes(c.label)),
];

/** Open channels of every connection, paged by the server. */
export function Channels() {
  return (
    <ListPage<ChannelJson> title="Channels" noun="channels" columns={COLUMNS} rowKey={(ch) => ch.name} />
  );
}

/** The channels of one connection (its page), unpaged: a connection has few. */
export function ChannelTable({ channels, at }: { channels: ChannelJson[]; at: number }) {
  if (channels.length === 0) return <p class="muted">No channels.</p>;
  return <Table columns={OWN_COLUMNS} items={channels} rowKey={(ch) => ch.name} at={at} caption="Channels" />;
}
