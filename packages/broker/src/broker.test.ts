// In-process broker tests for what no client library will do on demand: heartbeats, the
// handshake timeout, malformed and out-of-order frames, and garbage input. A tiny raw client
// built on the protocol package drives the broker over real TCP.
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Duplex } from "node:stream";
import { after, before, test } from "node:test";
import {
  decodeMethod,
  FrameReader,
  FrameType,
  type Method,
  type MethodInit,
  PROTOCOL_HEADER,
  writeMethodFrame,
  writeMethodWithContent,
  Writer,
} from "@warren/protocol";
import { Broker } from "./broker.js";
import { lineLogger } from "./logger.js";
import type { Definitions } from "./definitions.js";

interface Frame {
  type: number;
  channel: number;
  method?: Method;
}

/** A raw AMQP peer: writes frames, records what comes back, notices the socket closing. */
class RawPeer {
  readonly frames: Frame[] = [];
  closed = false;
  badBytes = false;
  private waiters: (() => void)[] = [];
  private readonly reader = new FrameReader(0);

  private constructor(readonly socket: Duplex) {
    socket.on("data", (chunk: Buffer) => {
      try {
        this.reader.push(chunk, (type, channel, buf, start, end) => {
          const method = type === FrameType.METHOD ? { method: decodeMethod(buf, start, end) } : {};
          this.frames.push({ type, channel, ...method });
        });
      } catch {
        // The broker answered a bad protocol header with its own header, which is not a frame.
        this.badBytes = true;
      }
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", (e) => this.errors.push(e));
  }

  readonly errors: Error[] = [];

  static connect(port: number, allowHalfOpen = false): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: "127.0.0.1", allowHalfOpen }, () => resolve(new RawPeer(s)));
      s.once("error", reject);
    });
  }

  /** A peer over Broker.connectInProcess() instead of TCP. */
  static inProcess(b: Broker): RawPeer {
    return new RawPeer(b.connectInProcess());
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(channel: number, m: MethodInit): void {
    const w = new Writer();
    writeMethodFrame(w, channel, m);
    this.socket.write(w.toBuffer());
  }

  raw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Resolves when pred holds, or rejects after ms. */
  async until(pred: () => boolean, ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting");
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  method(name: string): Method | undefined {
    return this.frames.find((f) => f.method?.name === name)?.method;
  }

  /** Runs the handshake up to connection.open-ok with the given heartbeat. */
  async open(heartbeat = 0, frameMax = 131072): Promise<void> {
    this.raw(PROTOCOL_HEADER);
    await this.until(() => !!this.method("connection.start"));
    this.send(0, {
      name: "connection.start-ok",
      clientProperties: {},
      mechanism: "PLAIN",
      response: "\u0000guest\u0000guest",
      locale: "en_US",
    });
    await this.until(() => !!this.method("connection.tune"));
    this.send(0, { name: "connection.tune-ok", channelMax: 2047, frameMax, heartbeat });
    this.send(0, { name: "connection.open", virtualHost: "/" });
    await this.until(() => !!this.method("connection.open-ok"));
  }

  async openChannel(ch = 1): Promise<void> {
    this.send(ch, { name: "channel.open" });
    await this.until(() => this.frames.some((f) => f.channel === ch && f.method?.name === "channel.open-ok"));
  }

  close(): void {
    this.socket.destroy();
  }
}

let broker: Broker;
let port: number;

before(async () => {
  broker = new Broker({ port: 0, handshakeTimeoutMs: 400, log: lineLogger(() => {}) });
  port = await broker.start();
});

after(async () => {
  await broker.stop();
});

test("heartbeats: the broker sends them at half the interval and drops a peer silent for two", async () => {
  const p = await RawPeer.connect(port);
  await p.open(1);
  const t0 = Date.now();
  await p.until(() => p.frames.some((f) => f.type === FrameType.HEARTBEAT), 1500);
  assert.ok(Date.now() - t0 < 1500, "a heartbeat within the interval");
  await p.until(() => p.closed, 4000);
  const silentFor = Date.now() - t0;
  assert.ok(silentFor >= 1500, `dropped after ${silentFor} ms, not before two intervals`);
});

test("a peer that sends heartbeats is kept", async () => {
  const p = await RawPeer.connect(port);
  await p.open(1);
  const hb = Buffer.from([8, 0, 0, 0, 0, 0, 0, 0xce]);
  const timer = setInterval(() => p.raw(hb), 300);
  await new Promise((r) => setTimeout(r, 2600));
  clearInterval(timer);
  assert.equal(p.closed, false);
  p.close();
});

test("a handshake that does not complete in time is dropped", async () => {
  const p = await RawPeer.connect(port);
  p.raw(PROTOCOL_HEADER);
  await p.until(() => !!p.method("connection.start"));
  await p.until(() => p.closed, 2000);
});

test("a frame larger than the negotiated frame_max closes the connection with 501", async () => {
  const p = await RawPeer.connect(port);
  await p.open(0, 4096);
  await p.openChannel();
  const big = Buffer.alloc(5000 + 8);
  big[0] = FrameType.BODY;
  big.writeUInt16BE(1, 1);
  big.writeUInt32BE(5000, 3);
  big[5007] = 0xce;
  p.raw(big);
  await p.until(() => !!p.method("connection.close"));
  const close = p.method("connection.close") as Extract<Method, { name: "connection.close" }>;
  assert.equal(close.replyCode, 501);
  assert.match(close.replyText, /^FRAME_ERROR - /);
  p.close();
});

test("a bad frame-end byte closes the connection with 501", async () => {
  const p = await RawPeer.connect(port);
  await p.open();
  p.raw(Buffer.from([8, 0, 0, 0, 0, 0, 0, 0x00]));
  await p.until(() => !!p.method("connection.close"));
  assert.equal((p.method("connection.close") as { replyCode: number }).replyCode, 501);
  p.close();
});

test("a body frame with no publish before it closes the connection with 505", async () => {
  const p = await RawPeer.connect(port);
  await p.open();
  await p.openChannel();
  p.raw(Buffer.from([3, 0, 1, 0, 0, 0, 1, 0x41, 0xce]));
  await p.until(() => !!p.method("connection.close"));
  assert.equal((p.method("connection.close") as { replyCode: number }).replyCode, 505);
  p.close();
});

test("a method where a content header was due closes the connection with 505", async () => {
  const p = await RawPeer.connect(port);
  await p.open();
  await p.openChannel();
  p.send(1, { name: "basic.publish", exchange: "", routingKey: "x" });
  p.send(1, { name: "basic.qos", prefetchCount: 1 });
  await p.until(() => !!p.method("connection.close"));
  assert.equal((p.method("connection.close") as { replyCode: number }).replyCode, 505);
  p.close();
});

test("an unknown method closes the connection with 503", async () => {
  const p = await RawPeer.connect(port);
  await p.open();
  p.raw(Buffer.from([1, 0, 1, 0, 0, 0, 4, 0, 99, 0, 1, 0xce]));
  await p.until(() => !!p.method("connection.close"));
  assert.equal((p.method("connection.close") as { replyCode: number }).replyCode, 503);
  p.close();
});

test("garbage on many connections leaves the broker serving others", async () => {
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 40; i++) {
    const p = await RawPeer.connect(port);
    if (i % 2 === 0) await p.open();
    const junk = Buffer.alloc(1 + Math.floor(rnd() * 300));
    for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(rnd() * 256);
    if (i % 4 === 0) junk[0] = 1; // often a method frame type, to reach deeper decoding
    p.raw(junk);
    await new Promise((r) => setTimeout(r, 5));
    p.close();
  }
  const ok = await RawPeer.connect(port);
  await ok.open();
  await ok.openChannel();
  ok.send(1, { name: "queue.declare", queue: "after-garbage" });
  await ok.until(() => !!ok.method("queue.declare-ok"));
  ok.close();
});

test("definitions export round-trips through import", async () => {
  const defs = {
    users: [
      { name: "u1", password_hash: "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR", tags: ["management"] },
    ],
    vhosts: [{ name: "/" }, { name: "v1" }],
    permissions: [{ user: "u1", vhost: "v1", configure: ".*", write: ".*", read: ".*" }],
    topic_permissions: [{ user: "u1", vhost: "v1", exchange: "ex1", write: "^a\\.", read: "" }],
    exchanges: [
      {
        name: "ex1",
        vhost: "v1",
        type: "topic",
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: {},
      },
    ],
    queues: [
      { name: "q1", vhost: "v1", durable: true, auto_delete: false, arguments: { "x-max-length": 10 } },
    ],
    bindings: [
      {
        source: "ex1",
        vhost: "v1",
        destination: "q1",
        destination_type: "queue" as const,
        routing_key: "a.#",
        arguments: {},
      },
    ],
  };
  const b = new Broker({ port: 0, definitions: defs, log: lineLogger(() => {}) });
  await b.start();
  const out = b.exportDefinitions();
  await b.stop();
  assert.deepEqual(
    out.users?.map((u) => [u.name, u.password_hash]),
    [["u1", defs.users[0]!.password_hash]],
  );
  assert.deepEqual(out.vhosts?.map((v) => v.name).sort(), ["/", "v1"]);
  assert.deepEqual(
    out.permissions,
    defs.permissions.map((p) => ({ ...p })),
  );
  assert.deepEqual(out.topic_permissions, defs.topic_permissions);
  assert.deepEqual(out.exchanges, defs.exchanges);
  assert.deepEqual(out.queues, defs.queues);
  assert.deepEqual(out.bindings, defs.bindings);
  // And the export imports into a fresh broker to the same export.
  const b2 = new Broker({ port: 0, definitions: out, log: lineLogger(() => {}) });
  await b2.start();
  assert.deepEqual(b2.exportDefinitions(), out);
  await b2.stop();
});

test("durable declarations and bindings are answered only once definitions.json holds them", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-defs-sync-"));
  const b = new Broker({ port: 0, dataDir: dir, log: lineLogger(() => {}) });
  const p = await RawPeer.connect(await b.start());
  try {
    await p.open();
    await p.openChannel();
    const saved = () =>
      JSON.parse(fs.readFileSync(path.join(dir, "definitions.json"), "utf8")) as Definitions;
    const reply = async (name: string) => {
      const n = p.frames.filter((f) => f.method?.name === name).length;
      await p.until(() => p.frames.filter((f) => f.method?.name === name).length > n);
    };
    const declared = reply("exchange.declare-ok");
    p.send(1, {
      name: "exchange.declare",
      exchange: "sync.ex",
      type: "topic",
      passive: false,
      durable: true,
      autoDelete: false,
      internal: false,
      nowait: false,
      arguments: {},
    });
    await declared;
    assert.ok(saved().exchanges?.some((e) => e.name === "sync.ex"));
    const queued = reply("queue.declare-ok");
    p.send(1, {
      name: "queue.declare",
      queue: "sync.q",
      passive: false,
      durable: true,
      exclusive: false,
      autoDelete: false,
      nowait: false,
      arguments: {},
    });
    await queued;
    assert.ok(saved().queues?.some((q) => q.name === "sync.q"));
    const bound = reply("queue.bind-ok");
    p.send(1, {
      name: "queue.bind",
      queue: "sync.q",
      exchange: "sync.ex",
      routingKey: "a.#",
      nowait: false,
      arguments: {},
    });
    await bound;
    assert.ok(saved().bindings?.some((x) => x.source === "sync.ex" && x.destination === "sync.q"));
    const deleted = reply("queue.delete-ok");
    p.send(1, { name: "queue.delete", queue: "sync.q", ifUnused: false, ifEmpty: false, nowait: false });
    await deleted;
    assert.ok(!saved().queues?.some((q) => q.name === "sync.q"));
  } finally {
    p.close();
    await b.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("after connection.close-ok the broker lets the client close the socket (late frames meet no reset)", async () => {
  // A half-open peer: it still writes after the broker's close-ok and FIN, as client libraries
  // do with frames they had queued (amqplib's acks); those must be dropped, not answered by RST.
  const p = await RawPeer.connect(port, true);
  await p.open();
  await p.openChannel();
  p.send(0, { name: "connection.close", replyCode: 200, replyText: "bye", classId: 0, methodId: 0 });
  await p.until(() => !!p.method("connection.close-ok"));
  await new Promise((r) => setTimeout(r, 50));
  for (let i = 0; i < 3; i++) {
    p.send(1, { name: "basic.ack", deliveryTag: 1, multiple: false });
    await new Promise((r) => setTimeout(r, 30));
  }
  assert.deepEqual(
    p.errors.map((e) => e.message),
    [],
  );
  assert.ok(!p.closed, "the broker did not close its side of the socket itself");
  p.socket.end();
  await p.until(() => p.closed);
});

test("an in-process peer's chunks are never reused by the broker's writer", async () => {
  // Over TCP the writer reuses an output buffer once its socket write completes (the kernel
  // has a copy). An in-process peer is handed the buffer itself, and a client may keep views
  // of it (message bodies), so the writer must never refill one: every chunk the peer got must
  // still hold what it held on arrival, after 2 MB of deliveries in full 64 KiB+ flushes.
  const p = RawPeer.inProcess(broker);
  const held: { chunk: Buffer; copy: Buffer }[] = [];
  let bytes = 0;
  p.socket.on("data", (chunk: Buffer) => {
    held.push({ chunk, copy: Buffer.from(chunk) });
    bytes += chunk.length;
  });
  await p.open();
  await p.openChannel();
  p.send(1, { name: "queue.declare", queue: "in-process-chunks", autoDelete: true });
  await p.until(() => !!p.method("queue.declare-ok"));
  const w = new Writer();
  const count = 2000;
  for (let i = 0; i < count; i++) {
    const body = Buffer.alloc(1024, i % 251);
    writeMethodWithContent(
      w,
      1,
      { name: "basic.publish", routingKey: "in-process-chunks" },
      Buffer.from([0, 0]),
      body,
      131072,
    );
  }
  p.raw(w.toBuffer());
  const before = bytes;
  p.send(1, { name: "basic.consume", queue: "in-process-chunks", noAck: true });
  await p.until(() => bytes - before >= count * 1024, 10000);
  const changed = held.filter((h) => !h.chunk.equals(h.copy)).length;
  assert.equal(changed, 0, `${changed} of ${held.length} chunks were overwritten after delivery`);
  p.close();
});
