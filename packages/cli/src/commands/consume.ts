import { parseArgs } from "node:util";
import { type Channel, ChannelError, type Connection, connect, ReplyCode } from "@warren/client";
import { positiveInt, printBody, resolveUrl } from "./common.js";
import { UsageError } from "./usage-error.js";

export const CONSUME_USAGE = `usage: warren consume [--url URL] --queue Q [--declare] [--count N] [--no-ack] [--prefetch N]

  Prints each message body on a line until interrupted, or until N messages.

  --url         broker URL (env WARREN_URL or AMQP_URL, default amqp://guest:guest@localhost:5672)
  --queue, -q   queue to consume from
  --declare     declare the queue (durable) if it does not exist
  --count, -n   stop after N messages; exactly N are taken from the queue
  --no-ack      let the broker forget messages as it sends them (default: ack after printing)
  --prefetch    unacknowledged messages in flight (default 100)
`;

/** `warren consume`: resolves with the exit code. */
export async function consume(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: "string" },
      queue: { type: "string", short: "q" },
      declare: { type: "boolean" },
      count: { type: "string", short: "n" },
      "no-ack": { type: "boolean" },
      prefetch: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(CONSUME_USAGE);
    return 0;
  }
  const queue = values.queue;
  if (queue === undefined) throw new UsageError("--queue is required", CONSUME_USAGE);
  const count = positiveInt("count", values.count, CONSUME_USAGE);
  const prefetch = positiveInt("prefetch", values.prefetch, CONSUME_USAGE) ?? 100;

  const conn = await connect(resolveUrl(values.url));
  try {
    if (values.declare) await declareQueue(conn, queue);
    const ch = await conn.createChannel();
    return await run(conn, ch, queue, count, values["no-ack"] ?? false, prefetch);
  } finally {
    await conn.close();
  }
}

function run(
  conn: Connection,
  ch: Channel,
  queue: string,
  count: number | undefined,
  noAck: boolean,
  prefetch: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let received = 0;
    let tag: string | undefined;
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      const cancel = tag !== undefined && ch.isOpen ? ch.basicCancel(tag) : Promise.resolve();
      cancel.then(() => ch.close()).then(() => resolve(0), reject);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    conn.on("close", (err) => (err ? reject(err) : undefined));
    ch.on("close", (err) => (err ? reject(err) : undefined));

    // With --count, the window is the count itself and the acknowledgement comes once, for
    // all of them, at the end: the broker cannot send an (N+1)th message that would then
    // have to be requeued. Windows are 16-bit, so a bigger count acks a window at a time.
    const window = count === undefined ? prefetch : Math.min(count, 65535);
    const autoAck = noAck && count === undefined;
    const setup = autoAck ? Promise.resolve() : ch.basicQos(window);
    setup
      .then(() =>
        ch.basicConsume(
          queue,
          (m) => {
            if (stopping || (count !== undefined && received >= count)) return;
            received++;
            printBody(m.body);
            if (count !== undefined) {
              if (received === count || received % window === 0) m.ack(true);
              if (received === count) stop();
            } else if (!autoAck) m.ack();
          },
          { noAck: autoAck },
        ),
      )
      .then((t) => (tag = t), reject);
  });
}

/** Declares a durable queue unless one exists (whatever its flags, so as not to trip 406). */
async function declareQueue(conn: Connection, queue: string): Promise<void> {
  const probe = await conn.createChannel();
  try {
    await probe.queueDeclare(queue, { passive: true });
    await probe.close();
  } catch (e) {
    if (!(e instanceof ChannelError && e.code === ReplyCode.NOT_FOUND)) throw e;
    const ch = await conn.createChannel();
    await ch.queueDeclare(queue, { durable: true });
    await ch.close();
  }
}
