import { type Command, Option } from "commander";
import { CtlError } from "./ctl-error.js";
import { ctlContext } from "./ctl-context.js";
import { ExitCode } from "./exit-codes.js";
import { ManagementClient } from "./management-client.js";

const policyPath = (vhost: string, name: string) => ManagementClient.path("policies", vhost, name);

/** The definition argument: a JSON object ({"max-length": 10}), else a usage error. */
function definitionOf(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CtlError(`definition is not JSON: ${(e as Error).message}`, ExitCode.USAGE);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new CtlError("definition must be a JSON object", ExitCode.USAGE);
  }
  return v as Record<string, unknown>;
}

/** An integer (negative too, as RabbitMQ allows), else a usage error. */
function priorityOf(text: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isInteger(n)) {
    throw new CtlError(`--priority wants an integer, got ${text}`, ExitCode.USAGE);
  }
  return n;
}

/**
 * set_policy and clear_policy: PUT and DELETE /api/policies/{vh}/{name}, the requests
 * rabbitmqadmin makes. The server validates the definition's keys (a 400, exit 65).
 */
export function registerPolicyCommands(program: Command): void {
  program
    .command("set_policy")
    .summary("sets a policy in the vhost (-p): name, pattern, JSON definition")
    .argument("<name>")
    .argument("<pattern>", "regular expression of the queue or exchange names it applies to")
    .argument("<definition>", "a JSON object such as '{\"max-length\":1000}'")
    .addOption(new Option("--priority <n>", "higher wins when several policies match").default("0"))
    .addOption(
      new Option("--apply-to <kind>", "what the policy applies to")
        .choices(["queues", "exchanges", "all"])
        .default("all"),
    )
    .action(
      async (
        name: string,
        pattern: string,
        definition: string,
        opts: { priority: string; applyTo: string },
        cmd: Command,
      ) => {
        const { client, out, vhost } = ctlContext(cmd);
        const body = {
          pattern,
          definition: definitionOf(definition),
          priority: priorityOf(opts.priority),
          "apply-to": opts.applyTo,
        };
        out.banner(
          `Setting policy "${name}" for pattern "${pattern}" to "${definition}" with priority "${body.priority}" for vhost "${vhost}" ...`,
        );
        await client.request("PUT", policyPath(vhost, name), { body });
      },
    );

  program
    .command("clear_policy")
    .summary("removes a policy from the vhost (-p)")
    .argument("<name>")
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { client, out, vhost } = ctlContext(cmd);
      out.banner(`Clearing policy "${name}" on vhost "${vhost}" ...`);
      await client.request("DELETE", policyPath(vhost, name), {
        notFound: `policy "${name}" not found in vhost "${vhost}"`,
      });
    });
}
