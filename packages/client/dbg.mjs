import { Broker } from "@warren/broker";
import { connect, RecoveringConnection } from "@warren/client";
const alarmed = new Broker({ port: 0, memoryHighWatermark: 1024 * 1024, log: (m) => console.log("LOG", m) });
const url = `amqp://guest:guest@127.0.0.1:${await alarmed.start()}`;
for (const kind of ["Channel", "RecoveringChannel"]) {
  const plain = kind === "Channel" ? await connect(url, { publishTimeout: 300 }) : undefined;
  const rc = plain ? undefined : await RecoveringConnection.connect(url, { publishTimeout: 300 });
  const c = plain ?? rc;
  c.on("blocked", r => console.log(kind, "blocked", r));
  c.on("unblocked", () => console.log(kind, "unblocked"));
  const ch = await c.createChannel();
  const { queue } = await ch.queueDeclare("", { exclusive: true });
  console.log(kind, "declared");
  await ch.publish("", queue, "first");
  console.log(kind, "published first");
  await new Promise(r => setTimeout(r, 500));
  const t = Date.now();
  await ch.publish("", queue, "held").catch(e => console.log("rejected", e.name, e.message, Date.now() - t));
  alarmed.setMemoryHighWatermark("64GiB");
  await new Promise(r => setTimeout(r, 500));
  await ch.publish("", queue, "after");
  console.log(kind, "after published");
  await c.close();
  console.log(kind, "closed");
  alarmed.setMemoryHighWatermark(1024*1024);
  await new Promise(r => setTimeout(r, 300));
}
await alarmed.stop();
