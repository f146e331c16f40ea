import { once } from "node:events";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { type BasicProperties, connect } from "@warren/client";
import { parseHeaders, resolveUrl } from "./common.js";

export const PUBLISH_USAGE = `usage: warren publish [--url URL] [--exchange X] [--routing-key K] [--persistent] [--confirm]
                      [--mandatory] [--content-type T] [--header k=v]... [MESSAGE...]

  Publishes each MESSAGE, or each line of stdin when no MESSAGE is given.

  --url           broker URL (env WARREN_URL or AMQP_URL, default amqp://guest:guest@localhost:5672)
  --exchange, -e  exchange (default: the default exchange "", which routes to the queue named by the key)
  --routing-key, -k  routing key (default "")
  --persistent    delivery mode 2
  --confirm       use publisher confirms; exit 1 if the broker nacks
  --mandatory     exit 1 if a message could not be routed to any queue
  --content-type  content-type property
  --header, -H    header key=value (repeatable)
`;

/** `warren publish`: resolves with the exit code. */
export async function publish(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      exchange: { type: "string", short: "e" },
      "routing-key": { type: "string", short: "k" },
      persistent: { type: "boolean" },
      confirm: { type: "boolean" },
      mandatory: { type: "boolean" },
      "content-type": { type: "string" },
      header: { type: "string", short: "H", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(PUBLISH_USAGE);
    return 0;
  }
  const headers = parseHeaders(values.header, PUBLISH_USAGE);
  const properties: BasicProperties = {
    ...(values.persistent ? { deliveryMode: 2 } : {}),
    ...(values["content-type"] !== undefined ? { contentType: values["content-type"] } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
  };
  const exchange = values.exchange ?? "";
  const routingKey = values["routing-key"] ?? "";
  const mandatory = values.mandatory ?? false;

  const conn = await connect(resolveUrl(values.url));
  try {
    const ch = await conn.createChannel();
    let returned = 0;
    ch.on("return", (m) => {
      returned++;
      process.stderr.write(
        `warren: message returned: ${m.fields.replyCode} ${m.fields.replyText} (exchange ${JSON.stringify(
          m.fields.exchange,
        )}, routing key ${JSON.stringify(m.fields.routingKey)})\n`,
      );
    });
    if (values.confirm) await ch.confirmSelect();
    const send = async (body: string): Promise<void> => {
      if (!ch.basicPublish(exchange, routingKey, body, properties, { mandatory })) await once(ch, "drain");
    };
    if (positionals.length > 0) {
      for (const m of positionals) await send(m);
    } else {
      const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
      for await (const line of lines) await send(line);
    }
    if (values.confirm) await ch.waitForConfirms();
    // The broker handles our frames in order: once close-ok is in, every publish has been
    // routed and any basic.return has arrived.
    await ch.close();
    return returned > 0 ? 1 : 0;
  } finally {
    await conn.close();
  }
}
