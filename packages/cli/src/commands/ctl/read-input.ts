import { readFile } from "node:fs/promises";
import { CtlError } from "./ctl-error.js";
import { ExitCode } from "./exit-codes.js";

/**
 * The text of a file, or of stdin for "-". A file that cannot be read is exit 66 (EX_NOINPUT);
 * an interactive stdin is a usage error rather than a silent wait.
 */
export async function readInput(file: string, what: string): Promise<string> {
  if (file !== "-") {
    try {
      return await readFile(file, "utf8");
    } catch (e) {
      throw new CtlError(
        `cannot read ${file}: ${(e as { code?: string }).code ?? String(e)}`,
        ExitCode.NOINPUT,
      );
    }
  }
  if (process.stdin.isTTY)
    throw new CtlError(`${what} expected on stdin, which is a terminal`, ExitCode.USAGE);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
