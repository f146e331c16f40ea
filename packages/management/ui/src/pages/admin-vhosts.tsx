import { api, get, seg } from "../api.js";
import { ConfirmButton } from "../components/confirm-button.js";
import { ErrorNote, PageNotes, StatusNote } from "../components/notice.js";
import { CardTable, type Column } from "../components/table.js";
import { forgetVhosts } from "../components/vhost-select.js";
import { num } from "../format.js";
import { useAction } from "../use-action.js";
import { usePoll } from "../use-poll.js";

interface VhostJson {
  name: string;
  messages?: number;
  messages_ready?: number;
  messages_unacknowledged?: number;
}

/** Virtual hosts: their messages; add and delete. */
export function Vhosts() {
  const { data, error, reload } = usePoll(() => get<VhostJson[]>("/vhosts"), "vhosts");
  const action = useAction();
  const adding = useAction();
  const changed = () => {
    forgetVhosts();
    reload();
  };
  const columns: Column<VhostJson>[] = [
    { label: "Name", render: (v) => v.name },
    { label: "Ready", numeric: true, render: (v) => num(v.messages_ready ?? 0) },
    { label: "Unacked", numeric: true, render: (v) => num(v.messages_unacknowledged ?? 0) },
    { label: "Total", numeric: true, render: (v) => num(v.messages ?? 0) },
    {
      label: "Actions",
      hidden: true,
      actions: true,
      render: (v) => (
        <ConfirmButton
          label="Delete"
          question={`Delete ${v.name} with all its queues, exchanges and messages?`}
          disabled={action.busy}
          onConfirm={() =>
            void action.run(
              () => api("DELETE", `/vhosts/${seg(v.name)}`),
              `Virtual host ${v.name} deleted.`,
              changed,
            )
          }
        />
      ),
    },
  ];
  const add = adding.submit(async (f, form) => {
    const name = String(f.get("vhost_name"));
    await api("PUT", `/vhosts/${seg(name)}`);
    form.reset();
    return `Virtual host ${name} added.`;
  }, changed);
  return (
    <>
      <PageNotes error={error} what="virtual hosts" action={action} />
      <CardTable
        title="Virtual hosts"
        columns={columns}
        items={data}
        rowKey={(v) => v.name}
        caption="Virtual hosts"
      />
      <form class="card form" onSubmit={add} aria-labelledby="add-vhost-title">
        <h2 id="add-vhost-title">Add a virtual host</h2>
        <div class="row">
          <label class="field">
            <span>Name</span>
            <input name="vhost_name" required autocomplete="off" spellcheck={false} />
          </label>
        </div>
        <ErrorNote error={adding.error} prefix="Not added" />
        <StatusNote>{adding.done}</StatusNote>
        <button type="submit" class="primary" disabled={adding.busy}>
          Add virtual host
        </button>
      </form>
    </>
  );
}
