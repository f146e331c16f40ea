import assert from "node:assert/strict";
import net from "node:net";
import { describe, it } from "node:test";
import {
  decodeMethod,
  FrameReader,
  FrameType,
  type Method,
  type MethodInit,
  PROTOCOL_HEADER,
  Writer,
  writeMethodFrame,
} from "@warren/protocol";
import { BlockedError, ClosedError, TimeoutError } from "./errors.js";
import { connect } from "./connection.js";

/*
 * Behaviour the real broker does not provoke on demand (resource alarms, a server gone
 * silent, a wrong protocol version), checked against a scripted server.
 */

interface Peer {
  send(channel: number, m: MethodInit): void;
  /** The next method frame from the client. */
  next(): Promise<{ channel: number; method: Method }>;
  heartbeatsReceived: number;
  socket: net.Socket;
}

/** Listens on a free port; runs script for the first client; resolves with the port. */
async function scriptedServer(
  script: (peer: Peer) => Promise<void>,
  opts: { heartbeat?: number; rawReply?: Buffer } = {},
): Promise<{ port: number; done: Promise<void>; close: () => void }> {
  let finish!: (e?: unknown) => void;
  const done = new Promise<void>((resolve, reject) => (finish = (e) => (e ? reject(e) : resolve())));
  const server = net.createServer((socket) => {
    const reader = new FrameReader(0);
    const methods: { channel: number; method: Method }[] = [];
    const waiters: ((m: { channel: number; method: Method }) => void)[] = [];
    let header = true;
    const peer: Peer = {
      socket,
      heartbeatsReceived: 0,
      send(channel, m) {
        const w = new Writer(256);
        writeMethodFrame(w, channel, m);
        socket.write(w.toBuffer());
      },
      next: () =>
        new Promise((resolve) => {
          const m = methods.shift();
          if (m) resolve(m);
          else waiters.push(resolve);
        }),
    };
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      if (header) {
        header = false;
        assert.deepEqual(chunk.subarray(0, 8), PROTOCOL_HEADER);
        if (opts.rawReply) {
          socket.end(opts.rawReply);
          finish();
          return;
        }
        chunk = chunk.subarray(8);
        peer.send(0, {
          name: "connection.start",
          versionMajor: 0,
          versionMinor: 9,
          serverProperties: { product: "scripted" },
          mechanisms: "PLAIN",
          locales: "en_US",
        });
      }
      reader.push(chunk, (type, channel, buf, start, end) => {
        if (type === FrameType.HEARTBEAT) {
          peer.heartbeatsReceived++;
          return;
        }
        if (type !== FrameType.METHOD) return;
        const m = { channel, method: decodeMethod(buf, start, end) };
        const w = waiters.shift();
        if (w) w(m);
        else methods.push(m);
      });
    });
    script(peer).then(() => finish(), finish);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  return { port, done, close: () => server.close() };
}

/** The server side of start-ok / tune / tune-ok / open / open-ok. */
async function handshake(peer: Peer, heartbeat = 0): Promise<void> {
  assert.equal((await peer.next()).method.name, "connection.start-ok");
  peer.send(0, { name: "connection.tune", channelMax: 16, frameMax: 8192, heartbeat });
  assert.equal((await peer.next()).method.name, "connection.tune-ok");
  assert.equal((await peer.next()).method.name, "connection.open");
  peer.send(0, { name: "connection.open-ok" });
}

describe("Connection against a scripted server", () => {
  it("reports connection.blocked / unblocked and holds publishers back meanwhile", async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const srv = await scriptedServer(async (peer) => {
      await handshake(peer);
      const open = await peer.next();
      assert.equal(open.method.name, "channel.open");
      peer.send(open.channel, { name: "channel.open-ok" });
      peer.send(0, { name: "connection.blocked", reason: "low on memory" });
      await released;
      peer.send(0, { name: "connection.unblocked" });
      assert.equal((await peer.next()).method.name, "basic.publish");
      const close = await peer.next();
      assert.equal(close.method.name, "connection.close");
      peer.send(0, { name: "connection.close-ok" });
    });
    const conn = await connect({ hostname: "127.0.0.1", port: srv.port });
    assert.equal(conn.channelMax, 16);
    assert.equal(conn.frameMax, 8192);
    const ch = await conn.createChannel();
    const reason = await new Promise<string>((r) => conn.once("blocked", r));
    assert.equal(reason, "low on memory");
    assert.equal(conn.blocked, true);
    assert.equal(ch.basicPublish("", "q", "held"), false);
    const drained = new Promise<void>((r) => ch.once("drain", r));
    const unblocked = new Promise<void>((r) => conn.once("unblocked", r));
    release();
    await unblocked;
    await drained;
    assert.equal(conn.blocked, false);
    await conn.close();
    await srv.done;
    srv.close();
  });

  it("times out a method call never answered; its late reply does not derail the channel", async () => {
    const srv = await scriptedServer(async (peer) => {
      await handshake(peer);
      const open = await peer.next();
      peer.send(open.channel, { name: "channel.open-ok" });
      const first = await peer.next();
      assert.equal(first.method.name, "queue.declare");
      await new Promise((r) => setTimeout(r, 300));
      peer.send(first.channel, {
        name: "queue.declare-ok",
        queue: "late",
        messageCount: 0,
        consumerCount: 0,
      });
      const second = await peer.next();
      peer.send(second.channel, {
        name: "queue.declare-ok",
        queue: "second",
        messageCount: 1,
        consumerCount: 0,
      });
      const close = await peer.next();
      assert.equal(close.method.name, "connection.close");
      peer.send(0, { name: "connection.close-ok" });
    });
    const conn = await connect({ hostname: "127.0.0.1", port: srv.port, operationTimeout: 100 });
    const ch = await conn.createChannel();
    const started = Date.now();
    await assert.rejects(ch.queueDeclare("late"), (e: Error) => {
      assert.ok(e instanceof TimeoutError && !(e instanceof BlockedError));
      assert.equal(e.timeout, 100);
      assert.match(e.message, /queue\.declare timed out after 100 ms/);
      return true;
    });
    assert.ok(Date.now() - started < 290);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await ch.queueDeclare("second"), { queue: "second", messageCount: 1, consumerCount: 0 });
    await conn.close();
    await srv.done;
    srv.close();
  });

  it("rejects a publish held back by connection.blocked with a BlockedError after publishTimeout", async () => {
    const srv = await scriptedServer(async (peer) => {
      await handshake(peer);
      const open = await peer.next();
      peer.send(open.channel, { name: "channel.open-ok" });
      peer.send(0, { name: "connection.blocked", reason: "disk is full" });
      const close = await peer.next();
      assert.equal(close.method.name, "connection.close");
      peer.send(0, { name: "connection.close-ok" });
    });
    const conn = await connect({ hostname: "127.0.0.1", port: srv.port, publishTimeout: 150 });
    const ch = await conn.createChannel();
    await new Promise<string>((r) => conn.once("blocked", r));
    const p = ch.publish("", "q", "held");
    assert.equal(ch.waitingPublishes, 1);
    await assert.rejects(p, (e: Error) => {
      assert.ok(e instanceof BlockedError);
      assert.ok(e instanceof TimeoutError);
      assert.equal(e.reason, "disk is full");
      return true;
    });
    assert.equal(ch.waitingPublishes, 0);
    await conn.close();
    await srv.done;
    srv.close();
  });

  it("sends heartbeats, and drops a server that sends none", async () => {
    let peerRef: Peer | undefined;
    const srv = await scriptedServer(async (peer) => {
      peerRef = peer;
      await handshake(peer, 1);
      // Then silence: no heartbeats, no replies.
    });
    const conn = await connect({ hostname: "127.0.0.1", port: srv.port });
    assert.equal(conn.heartbeat, 1);
    const started = Date.now();
    const errors: Error[] = [];
    conn.on("error", (e) => errors.push(e));
    const err = await new Promise<Error | undefined>((r) => conn.once("close", r));
    assert.deepEqual(errors, [err]);
    const elapsed = Date.now() - started;
    assert.ok(err instanceof ClosedError);
    assert.match(err.message, /missed heartbeats/);
    assert.ok(elapsed >= 1500 && elapsed < 4000, `closed after ${elapsed} ms`);
    assert.ok(peerRef!.heartbeatsReceived >= 1, "client sent no heartbeat");
    srv.close();
  });

  it("explains a server that refuses the protocol version", async () => {
    const srv = await scriptedServer(async () => {}, {
      rawReply: Buffer.from("AMQP\x00\x00\x09\x00", "latin1"),
    });
    await assert.rejects(
      connect({ hostname: "127.0.0.1", port: srv.port }),
      (e: Error) => e instanceof ClosedError && /refused AMQP 0-9-1/.test(e.message),
    );
    srv.close();
  });

  it("explains a server hanging up during authentication", async () => {
    const srv = await scriptedServer(async (peer) => {
      await peer.next();
      peer.socket.destroy();
    });
    await assert.rejects(
      connect({ hostname: "127.0.0.1", port: srv.port }),
      (e: Error) => e instanceof ClosedError && /wrong username or password/.test(e.message),
    );
    srv.close();
  });

  it("times out a handshake that never completes", async () => {
    const srv = await scriptedServer(async (peer) => {
      await peer.next();
    });
    await assert.rejects(connect({ hostname: "127.0.0.1", port: srv.port, connectionTimeout: 200 }), {
      code: "ETIMEDOUT",
      message: "connection timeout after 200 ms (authenticating)",
    });
    srv.close();
  });
});
