import { href } from "../router.js";
import { Definitions } from "./admin-definitions.js";
import { Permissions } from "./admin-permissions.js";
import { Policies } from "./admin-policies.js";
import { Users } from "./admin-users.js";
import { Vhosts } from "./admin-vhosts.js";

const TABS: [string, string][] = [
  ["users", "Users"],
  ["vhosts", "Virtual hosts"],
  ["permissions", "Permissions"],
  ["policies", "Policies"],
  ["definitions", "Definitions"],
];

/** Administration (administrators only): each part is a link of its own (#/admin/users). */
export function Admin({ tab }: { tab: string }) {
  const title = TABS.find(([t]) => t === tab)?.[1] ?? "Admin";
  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1}>
          <span class="muted">Admin</span> {title}
        </h1>
      </div>
      <nav class="tabs" aria-label="Admin sections">
        <ul>
          {TABS.map(([t, label]) => (
            <li key={t}>
              <a href={href("admin", t)} aria-current={t === tab ? "page" : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {tab === "users" ? <Users /> : null}
      {tab === "vhosts" ? <Vhosts /> : null}
      {tab === "permissions" ? <Permissions /> : null}
      {tab === "policies" ? <Policies /> : null}
      {tab === "definitions" ? <Definitions /> : null}
    </>
  );
}
