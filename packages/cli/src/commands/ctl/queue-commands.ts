import type { Command } from "commander";
import { CtlError } from "./ctl-error.js";
import { ctlContext } from "./ctl-context.js";
import { ExitCode } from "./exit-codes.js";
import { ManagementClient } from "./management-client.js";

const { path } = ManagementClient;

/** purge_queue, delete_queue, close_connection. */
export function registerQueueCommands(program: Command): void {
  program
    .command("purge_queue")
    .summary("removes the ready messages of a queue in the vhost (-p)")
    .argument("<queue>")
    .action(async (queue: string, _o: unknown, cmd: Command) => {
      const { client, out, vhost } = ctlContext(cmd);
      out.banner(`Purging queue '${queue}' in vhost '${vhost}' ...`);
      await client.request("DELETE", path("queues", vhost, queue, "contents"), {
        notFound: `queue '${queue}' in vhost '${vhost}' not found`,
      });
    });

  program
    .command("delete_queue")
    .summary("deletes a queue in the vhost (-p)")
    .argument("<queue>")
    .option("-e, --if-empty", "only if it has no messages")
    .option("-u, --if-unused", "only if it has no consumers")
    .action(async (queue: string, opts: { ifEmpty?: boolean; ifUnused?: boolean }, cmd: Command) => {
      const { client, out, vhost } = ctlContext(cmd);
      out.banner(`Deleting queue '${queue}' on vhost '${vhost}' ...`);
      const flags = [opts.ifEmpty ? "if-empty=true" : "", opts.ifUnused ? "if-unused=true" : ""];
      const q = flags.some((f) => f) ? `?${flags.filter((f) => f).join("&")}` : "";
      // A queue that is not empty or in use is the API's 400 with the broker's text: exit 65.
      await client.request("DELETE", path("queues", vhost, queue) + q, {
        notFound: `queue '${queue}' in vhost '${vhost}' not found`,
      });
    });

  program
    .command("close_connection")
    .summary("closes a client connection (its name from list_connections name) with 320 CONNECTION_FORCED")
    .argument("<connection>", "the connection's name, such as '127.0.0.1:50000 -> 127.0.0.1:5672'")
    .argument("[explanation]", "the reason the client is told")
    .action(async (name: string, reason: string | undefined, _o: unknown, cmd: Command) => {
      const { client, out } = ctlContext(cmd);
      out.banner(`Closing connection "${name}"${reason !== undefined ? `, reason: ${reason}` : ""} ...`);
      // The reason travels in a header (X-Reason, as for RabbitMQ), which only takes Latin-1.
      if (reason !== undefined && !/^[\x20-\x7e]*$/.test(reason)) {
        throw new CtlError("the explanation must be printable ASCII", ExitCode.USAGE);
      }
      await client.request("DELETE", path("connections", name), {
        ...(reason ? { headers: { "x-reason": reason } } : {}),
        notFound: `connection "${name}" not found`,
      });
    });
}
