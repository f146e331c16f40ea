/**
 * Facts of a log line that a log processor filters on (peer, user, vhost, reply_code...), beside
 * the message. Keys are snake_case, as RabbitMQ's JSON log and its management API name them.
 */
export type LogFields = Record<string, unknown>;

/**
 * Where the broker's log goes (BrokerOptions.log): four levels, RabbitMQ's error, warning, info
 * and debug. The message is a sentence that reads on its own, as RabbitMQ's are; fields repeat
 * its facts for machines. The broker depends on no logging library: `warren server` passes a
 * pino-backed logger (JSON lines or pretty text), an embedding application its own.
 *
 * Nothing is logged per message: connections opening and closing, alarms, recovery, refusals.
 */
export interface Logger {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
}

/**
 * A logger writing plain lines ("warren: <message>", "warren: warning: <message>") to `write`;
 * debug lines only when asked. Fields are not printed (the message says the same), except an
 * `err` field's stack. The broker's default is `lineLogger(console.log)`; tests collect lines
 * with `lineLogger((l) => lines.push(l))` and silence the broker with `lineLogger(() => {})`.
 */
export function lineLogger(write: (line: string) => void, options: { debug?: boolean } = {}): Logger {
  const line = (prefix: string) => (msg: string, fields?: LogFields) => {
    const err = fields?.err;
    write(`warren: ${prefix}${msg}${err instanceof Error && err.stack ? `\n${err.stack}` : ""}`);
  };
  return {
    error: line("error: "),
    warn: line("warning: "),
    info: line(""),
    debug: options.debug ? line("debug: ") : () => {},
  };
}
