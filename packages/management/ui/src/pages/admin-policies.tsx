import { useState } from "preact/hooks";
import { api, get, seg } from "../api.js";
import { ArgumentsField, parseArguments } from "../components/arguments-field.js";
import { ActionButton } from "../components/action-button.js";
import { ErrorNote, PageNotes, StatusNote } from "../components/notice.js";
import { CardTable, type Column } from "../components/table.js";
import { VhostSelect } from "../components/vhost-select.js";
import { text } from "../format.js";
import { useAction } from "../use-action.js";
import { usePoll } from "../use-poll.js";

interface PolicyJson {
  vhost: string;
  name: string;
  pattern: string;
  "apply-to": string;
  definition: Record<string, unknown>;
  priority: number;
}

/**
 * Policies in RabbitMQ's shapes: GET /api/policies, PUT /api/policies/{vh}/{name} with
 * {pattern, definition, priority, apply-to}, DELETE to remove one.
 */
export function Policies() {
  const { data, error, reload } = usePoll(() => get<PolicyJson[]>("/policies"), "policies");
  const action = useAction();
  const adding = useAction();
  const [vhost, setVhost] = useState("/");
  const columns: Column<PolicyJson>[] = [
    { label: "Virtual host", render: (p) => p.vhost },
    { label: "Name", render: (p) => p.name },
    { label: "Pattern", render: (p) => <code>{p.pattern}</code> },
    { label: "Apply to", render: (p) => p["apply-to"] },
    {
      label: "Definition",
      render: (p) =>
        Object.entries(p.definition).map(([k, v]) => (
          <div key={k}>
            <code>
              {k}: {text(v)}
            </code>
          </div>
        )),
    },
    { label: "Priority", numeric: true, render: (p) => p.priority },
    {
      label: "Actions",
      hidden: true,
      actions: true,
      render: (p) => (
        <ActionButton
          action={action}
          text="Delete"
          label={`Delete policy ${p.name} in ${p.vhost}`}
          run={() => api("DELETE", `/policies/${seg(p.vhost)}/${seg(p.name)}`)}
          done={`Policy ${p.name} deleted.`}
          then={reload}
        />
      ),
    },
  ];
  const add = adding.submit(async (f) => {
    const name = String(f.get("policy_name"));
    const definition = parseArguments(String(f.get("definition") ?? ""));
    if (Object.keys(definition).length === 0) throw new Error("A policy needs at least one definition line.");
    await api("PUT", `/policies/${seg(vhost)}/${seg(name)}`, {
      pattern: String(f.get("pattern")),
      definition,
      priority: Number(f.get("priority") || 0),
      "apply-to": String(f.get("apply_to")),
    });
    return `Policy ${name} set.`;
  }, reload);
  return (
    <>
      <PageNotes error={error} what="policies" action={action} />
      <CardTable
        title="Policies"
        empty="No policies."
        columns={columns}
        items={data}
        rowKey={(p) => `${p.vhost}\u0000${p.name}`}
        caption="Policies"
      />
      <form class="card form" onSubmit={add} aria-labelledby="add-policy-title">
        <h2 id="add-policy-title">Add or update a policy</h2>
        <div class="row wrap">
          <VhostSelect value={vhost} onChange={setVhost} all={false} id="policy-vhost" />
          <label class="field">
            <span>Name</span>
            <input name="policy_name" required autocomplete="off" spellcheck={false} />
          </label>
          <label class="field">
            <span>Pattern (regexp on names)</span>
            <input name="pattern" required defaultValue="^" spellcheck={false} />
          </label>
          <label class="field">
            <span>Apply to</span>
            <select name="apply_to">
              <option value="all">Exchanges and queues</option>
              <option value="queues">Queues</option>
              <option value="exchanges">Exchanges</option>
            </select>
          </label>
          <label class="field">
            <span>Priority</span>
            <input name="priority" type="number" defaultValue="0" />
          </label>
        </div>
        <ArgumentsField name="definition" label="Definition" example="max-length = 10000" />
        <ErrorNote error={adding.error} prefix="Not set" />
        <StatusNote>{adding.done}</StatusNote>
        <button type="submit" class="primary" disabled={adding.busy}>
          Save policy
        </button>
      </form>
    </>
  );
}
