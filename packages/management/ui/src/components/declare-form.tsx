import { useState } from "preact/hooks";
import { api, seg } from "../api.js";
import { useAction } from "../use-action.js";
import { ArgumentsField, parseArguments } from "./arguments-field.js";
import { ErrorNote, StatusNote } from "./notice.js";
import { storedVhost, VhostSelect } from "./vhost-select.js";

const QUEUE_TYPES = ["classic", "quorum", "stream"];
const EXCHANGE_TYPES = ["direct", "fanout", "topic", "headers"];

/**
 * Declares a queue (PUT /api/queues/{vh}/{name}; its type as x-queue-type) or an exchange
 * (PUT /api/exchanges/{vh}/{name}, with internal): vhost, name, type, durable, auto-delete,
 * arguments. The broker's refusal (an inequivalent declaration) is shown under the form.
 */
export function DeclareForm({ kind, onAdded }: { kind: "queue" | "exchange"; onAdded: () => void }) {
  const [vhost, setVhost] = useState(storedVhost() || "/");
  const action = useAction();
  const title = `Add ${kind === "queue" ? "a queue" : "an exchange"}`;
  const submit = action.submit(async (f) => {
    const name = String(f.get("name"));
    const type = String(f.get("type"));
    const on = (k: string) => f.get(k) === "on";
    const args = parseArguments(String(f.get("arguments") ?? ""));
    const common = { durable: on("durable"), auto_delete: on("auto_delete") };
    const body =
      kind === "queue"
        ? { ...common, arguments: type === "classic" ? args : { ...args, "x-queue-type": type } }
        : { ...common, type, internal: on("internal"), arguments: args };
    await api("PUT", `/${kind}s/${seg(vhost)}/${seg(name)}`, body);
    return `${kind === "queue" ? "Queue" : "Exchange"} ${name} declared.`;
  }, onAdded);
  return (
    <form class="card form" onSubmit={submit} aria-label={title}>
      <h2>{title}</h2>
      <div class="row">
        <VhostSelect value={vhost} onChange={setVhost} all={false} id={`add-${kind}-vhost`} />
        <label class="field">
          <span>Name</span>
          <input name="name" required autocomplete="off" spellcheck={false} />
        </label>
        <label class="field">
          <span>Type</span>
          <select name="type">
            {(kind === "queue" ? QUEUE_TYPES : EXCHANGE_TYPES).map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
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
        {kind === "exchange" ? (
          <label class="check">
            <input type="checkbox" name="internal" />
            Internal
          </label>
        ) : null}
      </div>
      <ArgumentsField example={kind === "queue" ? "x-max-length = 1000" : "alternate-exchange = unrouted"} />
      <ErrorNote error={action.error} prefix="Not declared" />
      <StatusNote>{action.done}</StatusNote>
      <button type="submit" class="primary" disabled={action.busy}>
        {kind === "queue" ? "Add queue" : "Add exchange"}
      </button>
    </form>
  );
}
