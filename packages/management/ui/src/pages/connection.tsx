import { useState } from "preact/hooks";
import { api, get, seg } from "../api.js";
import { ConfirmButton } from "../components/confirm-button.js";
import { KvTable, entries } from "../components/kv-table.js";
import { ErrorNote } from "../components/notice.js";
import { bytes, num } from "../format.js";
import { href, navigate } from "../router.js";
import type { ChannelJson, ConnectionJson } from "../types.js";
import { useAction } from "../use-action.js";
import { usePoll } from "../use-poll.js";
import { ChannelTable } from "./channels.js";
import { clientName } from "./connections.js";

/** One connection: who and what it is, its client's properties, its channels; close it. */
export function ConnectionPage({ name }: { name: string }) {
  const path = `/connections/${seg(name)}`;
  const { data, error, at } = usePoll(async () => {
    const [c, channels] = await Promise.all([
      get<ConnectionJson>(path),
      get<ChannelJson[]>(`${path}/channels`),
    ]);
    return { c, channels };
  }, path);
  const [reason, setReason] = useState("Closed via management UI");
  const action = useAction();
  const c = data?.c;
  // RabbitMQ's X-Reason header: the text the client is closed with.
  const close = () =>
    void action.run(
      () => api("DELETE", path, undefined, { "x-reason": reason }),
      "Connection closed.",
      () => navigate("connections"),
    );
  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href("connections")}>Connections</a>
      </nav>
      <div class="page-head">
        <h1 tabIndex={-1}>
          <span class="muted">Connection</span> {name}
        </h1>
      </div>
      <ErrorNote error={error} prefix="Could not refresh" />
      {c && data ? (
        <>
          <div class="grid two">
            <section class="card">
              <h2>Details</h2>
              <KvTable
                rows={[
                  ["Client", clientName(c.client_properties)],
                  ["User", c.user],
                  ["Virtual host", c.vhost],
                  ["State", c.state],
                  ["Protocol", `${c.protocol}${c.ssl ? " over TLS" : ""}`],
                  ["Authentication", c.auth_mechanism ?? ""],
                  ["From", `${c.peer_host}:${c.peer_port}`],
                  ["To", `${c.host}:${c.port}`],
                  ["Connected at", c.connected_at ? new Date(c.connected_at).toLocaleString() : ""],
                  ["Heartbeat", c.timeout ? `${c.timeout} s` : "off"],
                  ["Frame max", num(c.frame_max)],
                  ["Channel max", num(c.channel_max)],
                  ["Received", bytes(c.recv_oct)],
                  ["Sent", bytes(c.send_oct)],
                ]}
              />
            </section>
            <section class="card">
              <h2>Client properties</h2>
              <KvTable rows={entries(c.client_properties)} />
            </section>
          </div>
          <section class="card">
            <h2>Channels</h2>
            <ChannelTable channels={data.channels} at={at} />
          </section>
          <section class="card danger-zone">
            <h2>Close this connection</h2>
            <p class="muted small">
              The client is told <code>320 CONNECTION_FORCED</code> with this reason; well-behaved clients
              reconnect.
            </p>
            <div class="row">
              <label class="field grow">
                <span>Reason</span>
                <input value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
              </label>
              <ConfirmButton
                label="Close connection"
                question={`Close ${name}?`}
                disabled={action.busy}
                onConfirm={close}
              />
            </div>
            <ErrorNote error={action.error} prefix="Not closed" />
          </section>
        </>
      ) : error ? null : (
        <p class="empty">Loading…</p>
      )}
    </>
  );
}
