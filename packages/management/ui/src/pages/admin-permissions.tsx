import { useState } from "preact/hooks";
import { api, get, seg } from "../api.js";
import { ErrorNote, StatusNote } from "../components/notice.js";
import { VhostSelect } from "../components/vhost-select.js";
import { useAction } from "../use-action.js";
import { usePoll } from "../use-poll.js";

interface PermissionJson {
  user: string;
  vhost: string;
  configure: string;
  write: string;
  read: string;
}

/** Who may do what where: every user's configure/write/read patterns per vhost. */
export function Permissions() {
  const { data, error, reload } = usePoll(async () => {
    const [perms, users] = await Promise.all([
      get<PermissionJson[]>("/permissions"),
      get<{ name: string }[]>("/users"),
    ]);
    return { perms, users: users.map((u) => u.name) };
  }, "permissions");
  const action = useAction();
  const setting = useAction();
  const [vhost, setVhost] = useState("/");
  const set = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const user = String(f.get("perm_user"));
    void setting.run(
      async () => {
        await api("PUT", `/permissions/${seg(vhost)}/${seg(user)}`, {
          configure: String(f.get("configure")),
          write: String(f.get("write")),
          read: String(f.get("read")),
        });
        return `Permissions of ${user} in ${vhost} set.`;
      },
      undefined,
      reload,
    );
  };
  return (
    <>
      <ErrorNote error={error} prefix="Could not load permissions" />
      <ErrorNote error={action.error} />
      <StatusNote>{action.done}</StatusNote>
      <section class="card">
        <h2>Permissions</h2>
        <table class="data">
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Virtual host</th>
              <th scope="col">Configure</th>
              <th scope="col">Write</th>
              <th scope="col">Read</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data?.perms.map((p) => (
              <tr key={`${p.user}\u0000${p.vhost}`}>
                <td>{p.user}</td>
                <td>{p.vhost}</td>
                <td>
                  <code>{p.configure}</code>
                </td>
                <td>
                  <code>{p.write}</code>
                </td>
                <td>
                  <code>{p.read}</code>
                </td>
                <td class="actions">
                  <button
                    type="button"
                    disabled={action.busy}
                    aria-label={`Clear permissions of ${p.user} in ${p.vhost}`}
                    onClick={() =>
                      void action.run(
                        () => api("DELETE", `/permissions/${seg(p.vhost)}/${seg(p.user)}`),
                        `Permissions of ${p.user} in ${p.vhost} cleared.`,
                        reload,
                      )
                    }
                  >
                    Clear
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <form class="card form" onSubmit={set} aria-labelledby="set-perm-title">
        <h2 id="set-perm-title">Set permissions</h2>
        <div class="row wrap">
          <label class="field">
            <span>User</span>
            <select name="perm_user" required>
              {data?.users.map((u) => (
                <option key={u} value={u}>
                  {u}
                </option>
              ))}
            </select>
          </label>
          <VhostSelect value={vhost} onChange={setVhost} all={false} id="perm-vhost" />
          <label class="field">
            <span>Configure regexp</span>
            <input name="configure" defaultValue=".*" spellcheck={false} />
          </label>
          <label class="field">
            <span>Write regexp</span>
            <input name="write" defaultValue=".*" spellcheck={false} />
          </label>
          <label class="field">
            <span>Read regexp</span>
            <input name="read" defaultValue=".*" spellcheck={false} />
          </label>
        </div>
        <ErrorNote error={setting.error} prefix="Not set" />
        <StatusNote>{setting.done}</StatusNote>
        <button type="submit" class="primary" disabled={setting.busy}>
          Set permissions
        </button>
      </form>
    </>
  );
}
