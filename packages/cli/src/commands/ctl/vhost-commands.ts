import type { Command } from "commander";
import { ctlContext } from "./ctl-context.js";
import { ManagementClient } from "./management-client.js";

const { path } = ManagementClient;

/** add_vhost, delete_vhost, set_permissions, clear_permissions. */
export function registerVhostCommands(program: Command): void {
  program
    .command("add_vhost")
    .summary("creates a virtual host (an existing one is left as it is)")
    .argument("<vhost>")
    .action(async (vhost: string, _o: unknown, cmd: Command) => {
      const { client, out } = ctlContext(cmd);
      out.banner(`Adding vhost "${vhost}" ...`);
      await client.request("PUT", path("vhosts", vhost));
    });

  program
    .command("delete_vhost")
    .summary("deletes a virtual host and everything in it")
    .argument("<vhost>")
    .action(async (vhost: string, _o: unknown, cmd: Command) => {
      const { client, out } = ctlContext(cmd);
      out.banner(`Deleting vhost "${vhost}" ...`);
      await client.request("DELETE", path("vhosts", vhost), { notFound: `vhost "${vhost}" does not exist` });
    });

  program
    .command("set_permissions")
    .summary("sets a user's configure, write and read patterns in the vhost (-p)")
    .argument("<username>")
    .argument("<conf>", "regular expression of the resources the user may configure")
    .argument("<write>", "regular expression of the resources the user may write to")
    .argument("<read>", "regular expression of the resources the user may read from")
    .action(
      async (user: string, configure: string, write: string, read: string, _o: unknown, cmd: Command) => {
        const { client, out, vhost } = ctlContext(cmd);
        out.banner(`Setting permissions for user "${user}" in vhost "${vhost}" ...`);
        // An unknown user or vhost is the API's 400 vhost_or_user_not_found: exit 65.
        await client.request("PUT", path("permissions", vhost, user), { body: { configure, write, read } });
      },
    );

  program
    .command("clear_permissions")
    .summary("removes a user's permissions in the vhost (-p)")
    .argument("<username>")
    .action(async (user: string, _o: unknown, cmd: Command) => {
      const { client, out, vhost } = ctlContext(cmd);
      out.banner(`Clearing permissions for user "${user}" in vhost "${vhost}" ...`);
      await client.request("DELETE", path("permissions", vhost, user), {
        notFound: `user "${user}" has no permissions in vhost "${vhost}"`,
      });
    });
}
