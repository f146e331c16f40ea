#!/usr/bin/env node
// GET /api/queues over many queues through the real HTTP listener (issue 8/'s target: 10,000
// queues under 200 ms). In-process broker, no AMQP traffic; prints one line per round.
//
//   npm run build && node bench/management-bench.mjs [--queues 10000] [--rounds 6]
import { parseArgs } from "node:util";
import { Broker, BrokerAdmin, lineLogger } from "../packages/broker/dist/index.js";
import { startManagement } from "../packages/management/dist/index.js";

const { values } = parseArgs({ options: { queues: { type: "string" }, rounds: { type: "string" } } });
const queues = Number(values.queues ?? 10_000);
const rounds = Number(values.rounds ?? 6);

const broker = new Broker({ port: 0, log: lineLogger(() => {}) });
await broker.start();
// Half of the queues carry an argument, so argument conversion is part of the cost.
const admin = new BrokerAdmin(broker);
for (let i = 0; i < queues; i++) {
  admin.declareQueue("/", `q-${i}`, { durable: false, args: i % 2 ? { "x-max-length": 10 } : {} });
}
const mgmt = await startManagement(broker, { port: 0, host: "127.0.0.1" });
const headers = { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}` };
const get = async (path) => {
  const t0 = performance.now();
  const body = await (await fetch(`http://127.0.0.1:${mgmt.port}${path}`, { headers })).text();
  return [performance.now() - t0, body.length];
};
for (let r = 0; r < rounds; r++) {
  const [all, bytes] = await get("/api/queues");
  const [paged] = await get("/api/queues?page=1&page_size=100&name=q-99");
  console.log(
    `GET /api/queues (${queues} queues, ${(bytes / 1e6).toFixed(1)} MB): ${all.toFixed(0)} ms; ` +
      `paged + name filter: ${paged.toFixed(0)} ms`,
  );
}
await mgmt.close();
await broker.stop();
