import { parseArgs } from "node:util";
import { connect } from "@warren/client";
import { printBody, resolveUrl } from "./common.js";
import { UsageError } from "./usage-error.js";

export const GET_USAGE = `usage: warren get [--url URL] --queue Q [--requeue]

  Takes one message from the queue and prints its body; exits 1 if the queue is empty.

  --url         broker URL (env WARREN_URL or AMQP_URL, default amqp://guest:guest@localhost:5672)
  --queue, -q   queue to take from
  --requeue     put the message back (it is then marked redelivered)
`;

/** `warren get`: resolves with the exit code. */
export async function get(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: "string" },
      queue: { type: "string", short: "q" },
      requeue: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(GET_USAGE);
    return 0;
  }
  if (values.queue === undefined) throw new UsageError("--queue is required", GET_USAGE);
  const conn = await connect(resolveUrl(values.url));
  try {
    const ch = await conn.createChannel();
    const m = await ch.basicGet(values.queue);
    if (!m) return 1;
    printBody(m.body);
    if (values.requeue) m.nack({ requeue: true });
    else m.ack();
    await ch.close();
    return 0;
  } finally {
    await conn.close();
  }
}
