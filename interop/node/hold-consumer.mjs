// Child process for redelivery.test.mjs (not a test itself): consumes a queue with manual ack and
// prefetch 10, never acks, prints one line per delivery ("<body> <redelivered>") and then just
// waits to be killed.
import amqp from "amqplib";

const [url, queue] = process.argv.slice(2);
const conn = await amqp.connect(url);
const ch = await conn.createChannel();
await ch.prefetch(10);
await ch.consume(queue, (m) => process.stdout.write(`${m.content} ${m.fields.redelivered}\n`), {
  noAck: false,
});
setInterval(() => {}, 60_000);
