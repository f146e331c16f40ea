import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { CtlError } from "./ctl-error.js";
import { ctlContext } from "./ctl-context.js";
import { ExitCode } from "./exit-codes.js";
import { readInput } from "./read-input.js";

/** export_definitions and import_definitions: GET and POST /api/definitions, all vhosts. */
export function registerDefinitionsCommands(program: Command): void {
  program
    .command("export_definitions")
    .summary("writes users, vhosts, permissions, queues, exchanges, bindings and policies as JSON")
    .argument("[file]", 'file to write, or "-" for stdout', "-")
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const { client, out } = ctlContext(cmd);
      // Stdout carries the definitions themselves then: no banner in them.
      if (file !== "-") out.banner(`Exporting definitions in JSON to a file at "${file}" ...`);
      const text = `${JSON.stringify(await client.get("/api/definitions"), null, 2)}\n`;
      if (file === "-") {
        process.stdout.write(text);
        return;
      }
      try {
        await writeFile(file, text);
      } catch (e) {
        throw new CtlError(
          `cannot write ${file}: ${(e as { code?: string }).code ?? String(e)}`,
          ExitCode.CANTCREAT,
        );
      }
    });

  program
    .command("import_definitions")
    .summary('loads a definitions JSON file (RabbitMQ\'s format), or stdin for "-"')
    .argument("<file>", 'file to read, or "-" for stdin')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const { client, out } = ctlContext(cmd);
      out.banner(
        `Importing definitions in JSON from ${file === "-" ? "standard input" : `a file at "${file}"`} ...`,
      );
      const text = await readInput(file, "definitions");
      let defs: unknown;
      try {
        defs = JSON.parse(text);
      } catch (e) {
        throw new CtlError(
          `${file === "-" ? "stdin" : file}: not JSON: ${(e as Error).message}`,
          ExitCode.DATAERR,
        );
      }
      if (typeof defs !== "object" || defs === null || Array.isArray(defs)) {
        throw new CtlError(
          `${file === "-" ? "stdin" : file}: definitions must be a JSON object`,
          ExitCode.DATAERR,
        );
      }
      await client.request("POST", "/api/definitions", { body: defs });
    });
}
