// The log lines of a connection's life, for each way a connection ends: level, message and
// fields as docs/logging.md lists them (wording and levels as RabbitMQ 3.10.8's log).
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, test } from "node:test";
import amqplib from "amqplib";
import { PROTOCOL_HEADER } from "@warren/protocol";
import { Broker } from "../broker.js";
import type { LogFields, Logger } from "../logger.js";

interface Entry extends LogFields {
  level: string;
  msg: string;
}

const entries: Entry[] = [];
const record =
  (level: string) =>
  (msg: string, fields?: LogFields): void => {
    entries.push({ ...fields, level, msg });
  };
const log: Logger = {
  error: record("error"),
  warn: record("warn"),
  info: record("info"),
  debug: record("debug"),
};

let broker: Broker;
let port: number;

before(async () => {
  broker = new Broker({ port: 0, host: "127.0.0.1", handshakeTimeoutMs: 300, authFailureDelayMs: 0, log });
  port = await broker.start();
});
after(() => broker.stop());

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What find returns once it returns something (within a second). */
async function eventually<T>(find: () => T | undefined): Promise<T | undefined> {
  for (let i = 0; i < 100 && find() === undefined; i++) await wait(10);
  return find();
}

/** The lines of the connection from this local port, once its closing line is written. */
async function linesOf(localPort: number): Promise<Entry[]> {
  const peer = `127.0.0.1:${localPort}`;
  const mine = () => entries.filter((e) => e.peer === peer);
  for (let i = 0; i < 100 && !mine().some((e) => e.msg.startsWith("closing")); i++) await wait(10);
  return mine();
}

/** A raw socket that sends `bytes` (if any) and stays open until the broker closes it, or `ms`. */
async function rawClient(bytes: Buffer | undefined, ms = 1000): Promise<number> {
  const s = net.connect(port, "127.0.0.1");
  await new Promise((r) => s.once("connect", r));
  const local = s.localPort!;
  s.on("error", () => {});
  s.resume();
  if (bytes) s.write(bytes);
  await Promise.race([new Promise((r) => s.once("close", r)), wait(ms)]);
  s.destroy();
  return local;
}

test("a client's connection.close: accepting, opened, closing at info with its reply code", async () => {
  const c = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}`);
  const local = (c.connection as unknown as { stream: net.Socket }).stream.localPort!;
  await c.close();
  const [accepted, opened, closed, ...more] = await linesOf(local);
  const name = `127.0.0.1:${local} -> 127.0.0.1:${port}`;
  assert.deepEqual(more, []);
  assert.deepEqual(accepted, {
    level: "info",
    msg: `accepting AMQP connection (${name})`,
    connection: name,
    peer: `127.0.0.1:${local}`,
  });
  assert.equal(
    opened?.msg,
    `connection (${name}): user 'guest' authenticated and granted access to vhost '/'`,
  );
  assert.deepEqual([opened?.level, opened?.user, opened?.vhost], ["info", "guest", "/"]);
  assert.equal(closed?.level, "info");
  assert.match(
    closed!.msg,
    new RegExp(`^closing AMQP connection \\(${name}, vhost: '/', user: 'guest'\\): client closed`),
  );
  assert.deepEqual([closed?.user, closed?.vhost, closed?.reply_code], ["guest", "/", 200]);
});

test("a client that vanishes: a warning, 'client unexpectedly closed TCP connection'", async () => {
  // No heartbeat: amqplib's heartbeat timer outlives a destroyed socket and would keep this
  // test process alive.
  const c = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}?heartbeat=0`);
  c.on("error", () => {});
  const stream = (c.connection as unknown as { stream: net.Socket }).stream;
  const local = stream.localPort!;
  stream.destroy();
  const closed = (await linesOf(local)).at(-1)!;
  assert.equal(closed.level, "warn");
  assert.equal(closed.reason, "client unexpectedly closed TCP connection");
  assert.equal(closed.reply_code, undefined);
});

test("a connection error raised by the broker: error level, the reply text and code", async () => {
  const mark = entries.length;
  await assert.rejects(amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}/no-such-vhost`));
  const closed = (await eventually(() => entries.slice(mark).find((e) => e.msg.startsWith("closing"))))!;
  assert.equal(closed.level, "error");
  assert.equal(closed.reply_code, 530);
  assert.match(String(closed.reason), /vhost no-such-vhost not found/);
  assert.equal(closed.user, "guest");
  assert.equal(closed.vhost, undefined, "never opened");
});

test("a broker-forced close (320) is a warning", async () => {
  const c = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}`);
  c.on("error", () => {});
  const local = (c.connection as unknown as { stream: net.Socket }).stream.localPort!;
  for (const conn of broker.connections) if (conn.peerPort === local) conn.shutdown();
  const closed = (await linesOf(local)).at(-1)!;
  assert.deepEqual([closed.level, closed.reply_code], ["warn", 320]);
  assert.match(String(closed.reason), /^CONNECTION_FORCED/);
});

test("handshake trouble: refused login (info), handshake timeout and bad header (warnings)", async () => {
  const login = await amqplib.connect(`amqp://guest:wrong@127.0.0.1:${port}`).then(
    () => assert.fail("logged in"),
    () => entries.filter((e) => e.msg.startsWith("login failed")).length,
  );
  assert.ok(login >= 1, "the failure has its own line");
  const refused = await eventually(() => entries.find((e) => e.reason === "login refused"));
  assert.equal(refused?.level, "info");

  const slow = await rawClient(PROTOCOL_HEADER);
  assert.deepEqual(
    (await linesOf(slow)).map((e) => [e.level, e.reason]),
    [
      ["info", undefined],
      ["warn", "handshake timeout"],
    ],
  );
  const http = await rawClient(Buffer.from("GET / HTTP/1.1\r\n\r\n"));
  assert.deepEqual((await linesOf(http)).at(-1)?.reason, "bad protocol header");
});

test("a TCP connection that sends nothing logs nothing, as in RabbitMQ", async () => {
  const local = await rawClient(undefined, 100);
  await wait(100);
  assert.deepEqual(
    entries.filter((e) => e.peer === `127.0.0.1:${local}`),
    [],
  );
});
