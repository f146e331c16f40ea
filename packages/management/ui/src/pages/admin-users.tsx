import { useState } from "preact/hooks";
import { api, get, seg } from "../api.js";
import { ConfirmButton } from "../components/confirm-button.js";
import { ErrorNote, PageNotes, StatusNote } from "../components/notice.js";
import { CardTable, type Column } from "../components/table.js";
import { useAction } from "../use-action.js";
import { usePoll } from "../use-poll.js";

interface UserJson {
  name: string;
  tags: string[] | string;
  password_hash: string;
  hashing_algorithm?: string;
}

/** The tags with a meaning in the management API, offered as checkboxes. */
const KNOWN_TAGS = ["administrator", "monitoring", "policymaker", "management"];

/** RabbitMQ answers tags as a list (3.9+) or as "a,b" (older): a list either way. */
const tagList = (t: string[] | string): string[] =>
  (Array.isArray(t) ? t : t.split(",")).map((x) => x.trim()).filter((x) => x !== "");

/** Tags from the form: the checked known tags and any typed in "Other tags". */
function formTags(f: FormData): string[] {
  const typed = String(f.get("other_tags") ?? "")
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "");
  return [...KNOWN_TAGS.filter((t) => f.get(`tag-${t}`) === "on"), ...typed];
}

function TagFields({ tags, idPrefix }: { tags: string[]; idPrefix: string }) {
  return (
    <fieldset class="tagset">
      <legend>Tags</legend>
      {KNOWN_TAGS.map((t) => (
        <label class="check" key={t}>
          <input
            type="checkbox"
            id={`${idPrefix}-${t}`}
            name={`tag-${t}`}
            defaultChecked={tags.includes(t)}
          />
          {t}
        </label>
      ))}
      <label class="field inline">
        <span>Other tags</span>
        <input name="other_tags" defaultValue={tags.filter((t) => !KNOWN_TAGS.includes(t)).join(", ")} />
      </label>
    </fieldset>
  );
}

/** Users: add, change tags or password, delete. */
export function Users() {
  const { data, error, reload } = usePoll(() => get<UserJson[]>("/users"), "users");
  const action = useAction();
  const adding = useAction();
  const [editing, setEditing] = useState<string | undefined>(undefined);
  const columns: Column<UserJson>[] = [
    { label: "Name", render: (u) => u.name },
    {
      label: "Tags",
      render: (u) => (
        <>
          <span class="tags">
            {tagList(u.tags).map((t) => (
              <span class="tag" key={t}>
                {t}
              </span>
            ))}
          </span>
          {editing === u.name ? (
            <EditUser
              user={u}
              onDone={() => {
                setEditing(undefined);
                reload();
              }}
            />
          ) : null}
        </>
      ),
    },
    {
      label: "Actions",
      hidden: true,
      actions: true,
      render: (u) => (
        <>
          <button
            type="button"
            aria-expanded={editing === u.name}
            aria-label={`Edit user ${u.name}`}
            onClick={() => setEditing(editing === u.name ? undefined : u.name)}
          >
            {editing === u.name ? "Close" : "Edit"}
          </button>
          <ConfirmButton
            label="Delete"
            question={`Delete user ${u.name} and close its connections?`}
            disabled={action.busy}
            onConfirm={() =>
              void action.run(() => api("DELETE", `/users/${seg(u.name)}`), `User ${u.name} deleted.`, reload)
            }
          />
        </>
      ),
    },
  ];
  const add = adding.submit(async (f, form) => {
    const name = String(f.get("new_username"));
    await api("PUT", `/users/${seg(name)}`, { password: String(f.get("new_password")), tags: formTags(f) });
    form.reset();
    return `User ${name} added. Give it permissions in a virtual host to let it connect.`;
  }, reload);
  return (
    <>
      <PageNotes error={error} what="users" action={action} />
      <CardTable title="Users" columns={columns} items={data} rowKey={(u) => u.name} caption="Users" />
      <form class="card form" onSubmit={add} aria-labelledby="add-user-title">
        <h2 id="add-user-title">Add a user</h2>
        <div class="row">
          <label class="field">
            <span>Username</span>
            <input id="new-user-name" name="new_username" required autocomplete="off" spellcheck={false} />
          </label>
          <label class="field">
            <span>Password</span>
            <input
              id="new-user-password"
              name="new_password"
              type="password"
              required
              autocomplete="new-password"
            />
          </label>
        </div>
        <TagFields tags={[]} idPrefix="new-user-tag" />
        <ErrorNote error={adding.error} prefix="Not added" />
        <StatusNote>{adding.done}</StatusNote>
        <button type="submit" class="primary" disabled={adding.busy}>
          Add user
        </button>
      </form>
    </>
  );
}

/** Changes a user's tags and, when one is typed, its password (else the hash is kept). */
function EditUser({ user, onDone }: { user: UserJson; onDone: () => void }) {
  const action = useAction();
  const submit = action.submit(async (f) => {
    const password = String(f.get("password") ?? "");
    const body: Record<string, unknown> = { tags: formTags(f) };
    if (password !== "") body.password = password;
    else {
      body.password_hash = user.password_hash;
      if (user.hashing_algorithm) body.hashing_algorithm = user.hashing_algorithm;
    }
    await api("PUT", `/users/${seg(user.name)}`, body);
  }, onDone);
  return (
    <form class="form inset" onSubmit={submit} aria-label={`Edit user ${user.name}`}>
      <TagFields tags={tagList(user.tags)} idPrefix={`edit-${user.name}`} />
      <label class="field">
        <span>New password (leave empty to keep it)</span>
        <input name="password" type="password" autocomplete="new-password" />
      </label>
      <ErrorNote error={action.error} prefix="Not saved" />
      <button type="submit" class="primary" disabled={action.busy}>
        Save
      </button>
    </form>
  );
}
