import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { CtlError } from "./ctl-error.js";
import { registerDefinitionsCommands } from "./definitions-commands.js";
import { ExitCode } from "./exit-codes.js";
import { registerListCommands } from "./list-commands.js";
import { registerPolicyCommands } from "./policy-commands.js";
import { registerQueueCommands } from "./queue-commands.js";
import { registerStatusCommand } from "./status.js";
import { registerUserCommands } from "./user-commands.js";
import { registerVhostCommands } from "./vhost-commands.js";

/** A positive number of seconds or a port, for commander's option parsers. */
const numberIn = (what: string, min: number, max: number, integer: boolean) => (text: string) => {
  const n = Number(text);
  if (text.trim() === "" || !(n >= min && n <= max) || (integer && !Number.isInteger(n))) {
    throw new InvalidArgumentError(`not ${what}`);
  }
  return n;
};

const EXIT_CODES_HELP = `
Exit codes (docs/ctl.md):
  0 done; 64 usage error; 65 no such object, or the server refused the request; 66 cannot read
  the input file; 67 no such user; 69 cannot reach the API (or it answered 5xx); 70 unexpected
  answer; 73 cannot write the output file; 75 timeout; 77 login refused or not allowed.`;

/**
 * The `warren ctl` program. Global options are recognised before and after the command name
 * (commander's default), as rabbitmqctl's are: `ctl -p vh list_queues` = `ctl list_queues -p vh`.
 */
function buildProgram(): Command {
  const program = new Command("warren ctl")
    .description(
      "rabbitmqctl-style administration over the RabbitMQ management HTTP API (Warren or RabbitMQ)",
    )
    .addHelpText("after", EXIT_CODES_HELP)
    .addOption(
      new Option("--url <url>", "management API, http[s]://[user:pass@]host:port").env("WARREN_CTL_URL"),
    )
    .addOption(
      new Option("--host <host>", "API host (when no --url)").env("WARREN_CTL_HOST").default("localhost"),
    )
    .addOption(
      new Option("--port <port>", "API port (when no --url)")
        .env("WARREN_CTL_PORT")
        .default(15672)
        .argParser(numberIn("a port", 1, 65535, true)),
    )
    .addOption(new Option("--username <name>", "user (default guest)").env("WARREN_CTL_USERNAME"))
    .addOption(new Option("--password <password>", "password (default guest)").env("WARREN_CTL_PASSWORD"))
    .addOption(new Option("-p, --vhost <vhost>", "virtual host").env("WARREN_CTL_VHOST").default("/"))
    .addOption(
      new Option("-t, --timeout <seconds>", "seconds to wait for each answer")
        .default(60)
        .argParser(numberIn("a number of seconds", 0.001, 86400, false)),
    )
    .addOption(
      new Option("--format <format>", "table for people, json for scripts")
        .choices(["table", "json"])
        .default("table"),
    )
    // rabbitmqctl's name for the same flag.
    .addOption(new Option("--formatter <format>").choices(["table", "json"]).hideHelp())
    .option("-q, --quiet", 'no banners ("Listing queues ...")')
    .option("--no-table-headers", "table rows without the header row")
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError("(warren ctl help [command] for usage)")
    // Throw instead of process.exit: ctl() turns the error into exit code 64.
    .exitOverride();
  registerStatusCommand(program);
  registerListCommands(program);
  registerUserCommands(program);
  registerVhostCommands(program);
  registerPolicyCommands(program);
  registerQueueCommands(program);
  registerDefinitionsCommands(program);
  return program;
}

/** `warren ctl`: resolves with the exit code (docs/ctl.md lists them); never rejects. */
export async function ctl(argv: string[]): Promise<number> {
  // `warren ctl list_queues | head`: a reader that stops early is not worth a stack trace.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    process.exit(ExitCode.OK);
  });
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
    return ExitCode.OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has printed the message or the help already.
      return e.code === "commander.helpDisplayed" || e.code === "commander.version"
        ? ExitCode.OK
        : ExitCode.USAGE;
    }
    if (e instanceof CtlError) {
      process.stderr.write(`Error: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`Error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return ExitCode.SOFTWARE;
  }
}
