import type { ExitCodeValue } from "./exit-codes.js";

/** A failure `warren ctl` reports on stderr as "Error: message" and exits with `exitCode`. */
export class CtlError extends Error {
  override name = "CtlError";

  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
  ) {
    super(message);
  }
}
