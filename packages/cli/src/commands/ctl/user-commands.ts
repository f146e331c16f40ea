import type { Command } from "commander";
import { CtlError } from "./ctl-error.js";
import { type CtlContext, ctlContext } from "./ctl-context.js";
import { ExitCode } from "./exit-codes.js";
import { type Json, ManagementClient } from "./management-client.js";
import { readInput } from "./read-input.js";

const userPath = (name: string) => ManagementClient.path("users", name);

/** What a 404 on a user's path means: rabbitmqctl's no_such_user, exit 67. */
const noSuchUser = (name: string) => ({
  notFound: `user "${name}" does not exist`,
  notFoundCode: ExitCode.NOUSER,
});

/** The user as the API shows it (tags, password_hash and hashing_algorithm are what we need). */
async function getUser(ctx: CtlContext, name: string): Promise<Json> {
  return (await ctx.client.get(userPath(name), noSuchUser(name))) as Json;
}

/** The API takes tags as "a,b" (RabbitMQ 3.10 and Warren both) and shows them as a list. */
const tagString = (tags: unknown): string => (Array.isArray(tags) ? tags.join(",") : String(tags ?? ""));

/** A password argument, or the first line of stdin when it is left out (as rabbitmqctl prompts). */
async function password(given: string | undefined): Promise<string> {
  if (given !== undefined) return given;
  return (await readInput("-", "the password")).split(/\r?\n/)[0] ?? "";
}

/** add_user, delete_user, change_password, set_user_tags. */
export function registerUserCommands(program: Command): void {
  program
    .command("add_user")
    .summary("creates a user (no tags, no permissions); the password from stdin if left out")
    .argument("<username>")
    .argument("[password]")
    .action(async (name: string, given: string | undefined, _o: unknown, cmd: Command) => {
      const ctx = ctlContext(cmd);
      ctx.out.banner(`Adding user "${name}" ...`);
      // PUT would quietly overwrite: rabbitmqctl refuses an existing user, and so do we.
      const existing = await ctx.client.request("GET", userPath(name), { accept: [404] });
      if (existing.status !== 404) throw new CtlError(`user "${name}" already exists`, ExitCode.DATAERR);
      await ctx.client.request("PUT", userPath(name), {
        body: { password: await password(given), tags: "" },
      });
    });

  program
    .command("delete_user")
    .summary("deletes a user and its permissions")
    .argument("<username>")
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const ctx = ctlContext(cmd);
      ctx.out.banner(`Deleting user "${name}" ...`);
      await ctx.client.request("DELETE", userPath(name), noSuchUser(name));
    });

  program
    .command("change_password")
    .summary("sets a user's password, keeping its tags; the password from stdin if left out")
    .argument("<username>")
    .argument("[password]")
    .action(async (name: string, given: string | undefined, _o: unknown, cmd: Command) => {
      const ctx = ctlContext(cmd);
      ctx.out.banner(`Changing password for user "${name}" ...`);
      const user = await getUser(ctx, name);
      const body = { password: await password(given), tags: tagString(user.tags) };
      await ctx.client.request("PUT", userPath(name), { body, ...noSuchUser(name) });
    });

  program
    .command("set_user_tags")
    .summary("replaces a user's tags (none clears them), keeping its password")
    .argument("<username>")
    .argument("[tags...]")
    .action(async (name: string, tags: string[], _o: unknown, cmd: Command) => {
      const ctx = ctlContext(cmd);
      ctx.out.banner(`Setting tags for user "${name}" to [${tags.join(", ")}] ...`);
      const user = await getUser(ctx, name);
      // A PUT without a password clears RabbitMQ's (and Warren refuses it): send the hash back.
      const body = {
        password_hash: user.password_hash ?? "",
        ...(user.hashing_algorithm !== undefined ? { hashing_algorithm: user.hashing_algorithm } : {}),
        tags: tagString(tags),
      };
      await ctx.client.request("PUT", userPath(name), { body, ...noSuchUser(name) });
    });
}
