/** Bad command-line usage: main prints the message and the command's usage, and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";

  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}
