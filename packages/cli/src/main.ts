#!/usr/bin/env node
import { UsageError } from "./commands/usage-error.js";

/** A flag node:util's parseArgs refused (unknown, or missing its value). */
function isParseArgsError(e: unknown): e is TypeError {
  return e instanceof TypeError && (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") === true;
}

const CTL_USAGE =
  "usage: warren ctl COMMAND [ARGS]   (rabbitmqctl-style, over the management API; warren ctl --help)\n";

/**
 * Client commands, each loaded when named (they pull in @warren/client, which `warren server`
 * does not need): each resolves with its exit code.
 */
const COMMANDS = new Map<string, () => Promise<(argv: string[]) => Promise<number>>>([
  ["publish", async () => (await import("./commands/publish.js")).publish],
  ["consume", async () => (await import("./commands/consume.js")).consume],
  ["get", async () => (await import("./commands/get.js")).get],
  ["ctl", async () => (await import("./commands/ctl/ctl.js")).ctl],
]);

// The server's modules (the broker, fastify, pino, the settings table) are loaded only when
// needed: loading them costs every `warren ctl` call about 0.3 s of start-up.
const serverUsage = async () => (await import("./config/server-usage.js")).serverUsage();

const [cmd, ...rest] = process.argv.slice(2);
const command = cmd === undefined ? undefined : COMMANDS.get(cmd);
if ((cmd === "server" || cmd === undefined) && (rest.includes("--help") || rest.includes("-h"))) {
  process.stdout.write(await serverUsage());
} else if (cmd === "server" || cmd === undefined) {
  const [{ server }, { ConfigError }] = await Promise.all([
    import("./server.js"),
    import("./config/config-error.js"),
  ]);
  // Failures after the logger exists are logged and exit in server(); what reaches here is a
  // bad setting or flag (exit 2, before anything started) or an unexpected error.
  server(rest).catch((e: unknown) => {
    const usage = e instanceof ConfigError || isParseArgsError(e);
    process.stderr.write(`warren: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(usage ? 2 : 1);
  });
} else if (command) {
  (await command())(rest).then(
    // exitCode rather than exit(): let piped stdout drain first.
    (code) => (process.exitCode = code),
    (e: unknown) => {
      if (e instanceof UsageError) {
        process.stderr.write(`warren ${cmd}: ${e.message}\n${e.usage}`);
        process.exitCode = 2;
      } else if (isParseArgsError(e)) {
        process.stderr.write(`warren ${cmd}: ${e.message}\n`);
        process.exitCode = 2;
      } else {
        process.stderr.write(`warren ${cmd}: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 1;
      }
    },
  );
} else {
  const [{ PUBLISH_USAGE }, { CONSUME_USAGE }, { GET_USAGE }] = await Promise.all([
    import("./commands/publish.js"),
    import("./commands/consume.js"),
    import("./commands/get.js"),
  ]);
  process.stdout.write([await serverUsage(), PUBLISH_USAGE, CONSUME_USAGE, GET_USAGE, CTL_USAGE].join("\n"));
  process.exit(cmd === "help" || cmd === "--help" ? 0 : 2);
}
