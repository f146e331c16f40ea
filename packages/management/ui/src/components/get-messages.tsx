import { useState } from "preact/hooks";
import { api, seg } from "../api.js";
import { num } from "../format.js";
import { useAction } from "../use-action.js";
import { KvTable, entries } from "./kv-table.js";
import { ErrorNote } from "./notice.js";

interface GotJson {
  payload: string;
  payload_bytes: number;
  payload_encoding: string;
  redelivered: boolean;
  exchange: string;
  routing_key: string;
  message_count: number;
  properties: Record<string, unknown> & { headers?: Record<string, unknown> };
}

const ACK_MODES: [string, string][] = [
  ["ack_requeue_true", "Nack, requeue (message stays)"],
  ["reject_requeue_true", "Reject, requeue (message stays)"],
  ["ack_requeue_false", "Ack (message removed)"],
  ["reject_requeue_false", "Reject, no requeue (message removed)"],
];

/**
 * Takes messages from a queue (POST /api/queues/{vh}/{q}/get) and shows each with its
 * routing, properties and headers. The default ack mode puts them back, as RabbitMQ's UI
 * does: looking at a queue should not empty it by accident.
 */
export function GetMessages({ vhost, queue }: { vhost: string; queue: string }) {
  const action = useAction();
  const [got, setGot] = useState<GotJson[] | undefined>(undefined);
  const submit = action.submit(async (f) => {
    const l = await api<GotJson[]>("POST", `/queues/${seg(vhost)}/${seg(queue)}/get`, {
      count: Number(f.get("count")),
      ackmode: String(f.get("ackmode")),
      encoding: String(f.get("encoding")),
      truncate: 50000,
    });
    setGot(l);
    return l.length === 0
      ? "The queue is empty."
      : `${l.length} message${l.length === 1 ? "" : "s"} fetched.`;
  });
  return (
    <>
      <form class="form" onSubmit={submit} aria-label="Get messages">
        <div class="row">
          <label class="field">
            <span>Messages</span>
            <input name="count" type="number" min={1} max={1000} defaultValue="1" required />
          </label>
          <label class="field">
            <span>Ack mode</span>
            <select name="ackmode">
              {ACK_MODES.map(([v, l]) => (
                <option key={v} value={v}>
                  {l}
                </option>
              ))}
            </select>
          </label>
          <label class="field">
            <span>Encoding</span>
            <select name="encoding">
              <option value="auto">Auto (text when it is UTF-8)</option>
              <option value="base64">base64</option>
            </select>
          </label>
        </div>
        <ErrorNote error={action.error} prefix="Could not get messages" />
        <p class="muted small" role="status">
          {action.done}
        </p>
        <button type="submit" disabled={action.busy}>
          Get messages
        </button>
      </form>
      {got?.map((m, i) => (
        <article class="message" key={i} aria-label={`Message ${i + 1}`}>
          <h3>
            Message {i + 1}
            <span class="muted small">
              {" "}
              · {num(m.payload_bytes)} bytes · {m.message_count} left in queue
              {m.redelivered ? " · redelivered" : ""}
            </span>
          </h3>
          <KvTable
            rows={[
              ["Exchange", m.exchange === "" ? "(default)" : m.exchange],
              ["Routing key", m.routing_key],
              ...entries(Object.fromEntries(Object.entries(m.properties).filter(([k]) => k !== "headers"))),
            ]}
          />
          {m.properties.headers ? (
            <>
              <h4>Headers</h4>
              <KvTable rows={entries(m.properties.headers)} />
            </>
          ) : null}
          <h4>Payload {m.payload_encoding === "base64" ? "(base64)" : ""}</h4>
          <pre class="payload">{m.payload}</pre>
        </article>
      ))}
    </>
  );
}
