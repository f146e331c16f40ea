import { api, get, seg } from "../api.js";
import { ConfirmButton } from "../components/confirm-button.js";
import { ErrorNote, StatusNote } from "../components/notice.js";
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
  const add = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const name = String(new FormData(form).get("vhost_name"));
    void adding.run(
      async () => {
        await api("PUT", `/vhosts/${seg(name)}`);
        form.reset();
        return `Virtual host ${name} added.`;
      },
      undefined,
      changed,
    );
  };
  return (
    <>
      <ErrorNote error={error} prefix="Could not load virtual hosts" />
      <ErrorNote error={action.error} />
      <StatusNote>{action.done}</StatusNote>
      <section class="card">
        <h2>Virtual hosts</h2>
        <table class="data">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col" class="num">
                Ready
              </th>
              <th scope="col" class="num">
                Unacked
              </th>
              <th scope="col" class="num">
                Total
              </th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data?.map((v) => (
              <tr key={v.name}>
                <td>{v.name}</td>
                <td class="num">{num(v.messages_ready ?? 0)}</td>
                <td class="num">{num(v.messages_unacknowledged ?? 0)}</td>
                <td class="num">{num(v.messages ?? 0)}</td>
                <td class="actions">
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
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
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
