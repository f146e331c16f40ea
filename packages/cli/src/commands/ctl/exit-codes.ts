/**
 * Exit codes of `warren ctl`, from BSD sysexits(3) as rabbitmqctl uses them
 * (RabbitMQ.CLI.Core.ExitCodes): 64 for a wrong command line, 65 for data the server does not
 * have or refuses (rabbitmqctl's `not_found` and `no_such_vhost`), 67 for a missing user, 69
 * when the node cannot be reached, 75 for a timeout. rabbitmqctl has no HTTP login to refuse;
 * a refused one here is sysexits' "permission denied", 77. docs/ctl.md lists them for scripts.
 */
export const ExitCode = {
  /** Done. */
  OK: 0,
  /** EX_USAGE: unknown command or option, wrong number of arguments, an unparsable value. */
  USAGE: 64,
  /** EX_DATAERR: the object does not exist (404), the server refused the request (400, 409), or a definitions file is not JSON. */
  DATAERR: 65,
  /** EX_NOINPUT: the definitions file to import cannot be read. */
  NOINPUT: 66,
  /** EX_NOUSER: the user named does not exist (delete_user, change_password, set_user_tags). */
  NOUSER: 67,
  /** EX_UNAVAILABLE: nothing answers at the address, or the server answered 5xx. */
  UNAVAILABLE: 69,
  /** EX_SOFTWARE: an answer that is not the management API's (not JSON, an unexpected status). */
  SOFTWARE: 70,
  /** EX_CANTCREAT: the export file cannot be written. */
  CANTCREAT: 73,
  /** EX_TEMPFAIL: no answer within --timeout. */
  TEMPFAIL: 75,
  /** EX_NOPERM: login refused or the user may not do this (401, 403). */
  NOPERM: 77,
} as const;

/** One of the exit codes above. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
