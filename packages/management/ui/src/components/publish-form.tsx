import { api, seg } from "../api.js";
import { pathName } from "../types.js";
import { useAction } from "../use-action.js";
import { ArgumentsField, parseArguments } from "./arguments-field.js";
import { ErrorNote, StatusNote } from "./notice.js";

/** The basic properties offered as fields (the rest can go in as headers). */
const PROPS: [string, string][] = [
  ["content_type", "Content type"],
  ["correlation_id", "Correlation id"],
  ["message_id", "Message id"],
  ["reply_to", "Reply to"],
  ["expiration", "Expiration (ms)"],
  ["type", "Type"],
  ["app_id", "App id"],
  ["priority", "Priority"],
];

/**
 * Publishes one message through an exchange (POST /api/exchanges/{vh}/{x}/publish). From a
 * queue page the exchange is the default one and the routing key the queue's name. Says
 * whether the message was routed: an unroutable message is dropped, and the operator should
 * know.
 */
export function PublishForm({
  vhost,
  exchange,
  routingKey = "",
}: {
  vhost: string;
  exchange: string;
  routingKey?: string;
}) {
  const action = useAction();
  const submit = action.submit(async (f) => {
    const properties: Record<string, unknown> = { delivery_mode: f.get("persistent") === "on" ? 2 : 1 };
    for (const [k] of PROPS) {
      const v = String(f.get(k) ?? "").trim();
      if (v !== "") properties[k] = k === "priority" ? Number(v) : v;
    }
    const headers = parseArguments(String(f.get("headers") ?? ""));
    if (Object.keys(headers).length > 0) properties.headers = headers;
    const r = await api<{ routed: boolean }>(
      "POST",
      `/exchanges/${seg(vhost)}/${seg(pathName(exchange))}/publish`,
      {
        routing_key: String(f.get("routing_key")),
        payload: String(f.get("payload")),
        payload_encoding: String(f.get("payload_encoding")),
        properties,
      },
    );
    if (!r.routed) throw new Error("The message was published but not routed to any queue (it was dropped).");
    return "Message published and routed.";
  });
  return (
    <form class="form" onSubmit={submit} aria-label="Publish a message">
      <div class="row">
        <label class="field grow">
          <span>Routing key</span>
          <input name="routing_key" defaultValue={routingKey} spellcheck={false} autocomplete="off" />
        </label>
        <label class="check">
          <input type="checkbox" name="persistent" defaultChecked />
          Persistent (delivery mode 2)
        </label>
      </div>
      <label class="field">
        <span>Payload</span>
        <textarea name="payload" rows={4} spellcheck={false} />
      </label>
      <label class="field inline">
        <span>Payload encoding</span>
        <select name="payload_encoding">
          <option value="string">string</option>
          <option value="base64">base64</option>
        </select>
      </label>
      <ArgumentsField name="headers" label="Headers" example="x-retry = 3" />
      <details>
        <summary>Properties</summary>
        <div class="row wrap">
          {PROPS.map(([k, label]) => (
            <label class="field" key={k}>
              <span>{label}</span>
              <input
                name={k}
                inputMode={k === "priority" || k === "expiration" ? "numeric" : undefined}
                autocomplete="off"
              />
            </label>
          ))}
        </div>
      </details>
      <ErrorNote error={action.error} prefix="Not published" />
      <StatusNote>{action.done}</StatusNote>
      <button type="submit" class="primary" disabled={action.busy}>
        Publish message
      </button>
    </form>
  );
}
