import { DeclareForm } from "../components/declare-form.js";
import { FeatureTags } from "../components/feature-tags.js";
import { ListPage } from "../components/list-page.js";
import type { Column } from "../components/table.js";
import { href } from "../router.js";
import type { ExchangeJson } from "../types.js";

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
  { label: "Features", render: (x) => <FeatureTags o={x} /> },
];

/** Exchanges, paged by the server; declare an exchange. */
export function Exchanges() {
  return (
    <ListPage<ExchangeJson>
      title="Exchanges"
      addLabel="Add exchange"
      add={(onAdded) => <DeclareForm kind="exchange" onAdded={onAdded} />}
      noun="exchanges"
      byVhost
      columns={COLUMNS}
      rowKey={(x) => `${x.vhost}\u0000${x.name}`}
    />
  );
}
