import { useState } from "preact/hooks";
import { api, get, seg } from "../api.js";
import { ArgumentsField, parseArguments } from "../components/arguments-field.js";
import { ErrorNote, StatusNote } from "../components/notice.js";
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
  const add = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const name = String(f.get("policy_name"));
    void adding.run(
      async () => {
        const definition = parseArguments(String(f.get("definition") ?? ""));
        if (Object.keys(definition).length === 0)
          throw new Error("A policy needs at least one definition line.");
        await api("PUT", `/policies/${seg(vhost)}/${seg(name)}`, {
          pattern: String(f.get("pattern")),
          definition,
          priority: Number(f.get("priority") || 0),
          "apply-to": String(f.get("apply_to")),
        });
        return `Policy ${name} set.`;
      },
      undefined,
      reload,
    );
  };
  return (
    <>
      <ErrorNote error={error} prefix="Could not load policies" />
      <ErrorNote error={action.error} />
      <StatusNote>{action.done}</StatusNote>
      <section class="card">
        <h2>Policies</h2>
        {data && data.length === 0 ? <p class="muted">No policies.</p> : null}
        {data && data.length > 0 ? (
          <table class="data">
            <thead>
              <tr>
                <th scope="col">Virtual host</th>
                <th scope="col">Name</th>
                <th scope="col">Pattern</th>
                <th scope="col">Apply to</th>
                <th scope="col">Definition</th>
                <th scope="col" class="num">
                  Priority
                </th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.map((p) => (
                <tr key={`${p.vhost}\u0000${p.name}`}>
                  <td>{p.vhost}</td>
                  <td>{p.name}</td>
                  <td>
                    <code>{p.pattern}</code>
                  </td>
                  <td>{p["apply-to"]}</td>
                  <td>
                    {Object.entries(p.definition).map(([k, v]) => (
                      <div key={k}>
                        <code>
                          {k}: {text(v)}
                        </code>
                      </div>
                    ))}
                  </td>
                  <td class="num">{p.priority}</td>
                  <td class="actions">
                    <button
                      type="button"
                      disabled={action.busy}
                      aria-label={`Delete policy ${p.name} in ${p.vhost}`}
                      onClick={() =>
                        void action.run(
                          () => api("DELETE", `/policies/${seg(p.vhost)}/${seg(p.name)}`),
                          `Policy ${p.name} deleted.`,
                          reload,
                        )
                      }
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
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
