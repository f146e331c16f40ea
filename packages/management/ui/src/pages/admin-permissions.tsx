import { useState } from "preact/hooks";
import { api, get, seg } from "../api.js";
import { ActionButton } from "../components/action-button.js";
import { ErrorNote, PageNotes, StatusNote } from "../components/notice.js";
import { CardTable, type Column } from "../components/table.js";
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
  const columns: Column<PermissionJson>[] = [
    { label: "User", render: (p) => p.user },
    { label: "Virtual host", render: (p) => p.vhost },
    { label: "Configure", render: (p) => <code>{p.configure}</code> },
    { label: "Write", render: (p) => <code>{p.write}</code> },
    { label: "Read", render: (p) => <code>{p.read}</code> },
    {
      label: "Actions",
      hidden: true,
      actions: true,
      render: (p) => (
        <ActionButton
          action={action}
          text="Clear"
          label={`Clear permissions of ${p.user} in ${p.vhost}`}
          run={() => api("DELETE", `/permissions/${seg(p.vhost)}/${seg(p.user)}`)}
          done={`Permissions of ${p.user} in ${p.vhost} cleared.`}
          then={reload}
        />
      ),
    },
  ];
  const set = setting.submit(async (f) => {
    const user = String(f.get("perm_user"));
    await api("PUT", `/permissions/${seg(vhost)}/${seg(user)}`, {
      configure: String(f.get("configure")),
      write: String(f.get("write")),
      read: String(f.get("read")),
    });
    return `Permissions of ${user} in ${vhost} set.`;
  }, reload);
  return (
    <>
      <PageNotes error={error} what="permissions" action={action} />
      <CardTable
        title="Permissions"
        columns={columns}
        items={data?.perms}
        rowKey={(p) => `${p.user}\u0000${p.vhost}`}
        caption="Permissions"
      />
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
