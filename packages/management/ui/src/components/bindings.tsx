import { api, seg } from "../api.js";
import { text } from "../format.js";
import { href } from "../router.js";
import { type BindingJson, pathName } from "../types.js";
import { useAction } from "../use-action.js";
import { ActionButton } from "./action-button.js";
import { ArgumentsField, parseArguments } from "./arguments-field.js";
import { ErrorNote, StatusNote } from "./notice.js";
import { type Column, Table } from "./table.js";

/** The API path of one binding (its properties key names it among equal ends). */
function bindingPath(b: BindingJson): string {
  const kind = b.destination_type === "queue" ? "q" : "e";
  return `/bindings/${seg(b.vhost)}/e/${seg(pathName(b.source))}/${kind}/${seg(b.destination)}/${seg(b.properties_key)}`;
}

/** A link to either end of a binding. */
function End({ vhost, name, kind }: { vhost: string; name: string; kind: "queue" | "exchange" }) {
  if (kind === "exchange" && name === "") return <span class="muted">(default exchange)</span>;
  return <a href={href(kind === "queue" ? "queues" : "exchanges", vhost, name)}>{name}</a>;
}

/**
 * A table of bindings with an Unbind button on each (none on the default exchange's implicit
 * bindings, which cannot be removed). `show` picks the far end: the source on a queue's page,
 * the destination on an exchange's.
 */
export function BindingTable({
  bindings,
  show,
  onChange,
  caption,
}: {
  bindings: BindingJson[];
  show: "source" | "destination";
  onChange: () => void;
  caption: string;
}) {
  const action = useAction();
  if (bindings.length === 0) return <p class="muted">No bindings.</p>;
  const columns: Column<BindingJson>[] = [
    {
      label: show === "source" ? "From exchange" : "To",
      render: (b) =>
        show === "source" ? (
          <End vhost={b.vhost} name={b.source} kind="exchange" />
        ) : (
          <>
            <span class="tag">{b.destination_type}</span>{" "}
            <End vhost={b.vhost} name={b.destination} kind={b.destination_type} />
          </>
        ),
    },
    { label: "Routing key", render: (b) => <code>{b.routing_key}</code> },
    { label: "Arguments", render: (b) => (Object.keys(b.arguments).length ? text(b.arguments) : "") },
    {
      label: "Actions",
      hidden: true,
      actions: true,
      render: (b) =>
        b.source === "" ? null : (
          <ActionButton
            action={action}
            text="Unbind"
            label={`Unbind ${b.source} → ${b.destination} (${b.routing_key || "empty key"})`}
            run={() => api("DELETE", bindingPath(b))}
            done="Unbound."
            then={onChange}
          />
        ),
    },
  ];
  return (
    <>
      <ErrorNote error={action.error} prefix="Not unbound" />
      <Table
        columns={columns}
        items={bindings}
        rowKey={(b) =>
          `${b.source}\u0000${b.destination_type}\u0000${b.destination}\u0000${b.properties_key}`
        }
        caption={caption}
      />
    </>
  );
}

/**
 * Adds a binding. On a queue's page the source exchange is typed and the destination is the
 * queue; on an exchange's page the source is the exchange and the destination (a queue or an
 * exchange) is typed.
 */
export function AddBinding({
  vhost,
  source,
  queue,
  onAdded,
}: {
  vhost: string;
  source?: string;
  queue?: string;
  onAdded: () => void;
}) {
  const action = useAction();
  const submit = action.submit(async (f) => {
    const from = source ?? String(f.get("source"));
    const kind = queue !== undefined ? "q" : String(f.get("destination_type"));
    const to = queue ?? String(f.get("destination"));
    await api("POST", `/bindings/${seg(vhost)}/e/${seg(pathName(from))}/${kind}/${seg(to)}`, {
      routing_key: String(f.get("routing_key")),
      arguments: parseArguments(String(f.get("binding_arguments") ?? "")),
    });
    return `Bound ${from} → ${to}.`;
  }, onAdded);
  return (
    <form class="form" onSubmit={submit} aria-label="Add a binding">
      <div class="row">
        {source === undefined ? (
          <label class="field">
            <span>From exchange</span>
            <input name="source" required spellcheck={false} autocomplete="off" />
          </label>
        ) : null}
        {queue === undefined ? (
          <>
            <label class="field">
              <span>To</span>
              <select name="destination_type">
                <option value="q">Queue</option>
                <option value="e">Exchange</option>
              </select>
            </label>
            <label class="field">
              <span>Destination name</span>
              <input name="destination" required spellcheck={false} autocomplete="off" />
            </label>
          </>
        ) : null}
        <label class="field">
          <span>Routing key</span>
          <input name="routing_key" spellcheck={false} autocomplete="off" />
        </label>
      </div>
      <ArgumentsField name="binding_arguments" label="Arguments" example="x-match = any" />
      <ErrorNote error={action.error} prefix="Not bound" />
      <StatusNote>{action.done}</StatusNote>
      <button type="submit" disabled={action.busy}>
        Bind
      </button>
    </form>
  );
}
