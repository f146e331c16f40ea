// Resource limits (issue 7/): RabbitMQ's vhost limits (max-connections, max-queues) and user
// limits (max-connections, max-channels), max_message_size, and Warren's own broker-wide
// connection limit and handshake timeout. Each RabbitMQ limit is checked against RabbitMQ
// 3.10.8 first: with INTEROP_TARGET_URL set, the limits are set through its HTTP API
// (INTEROP_TARGET_HTTP, default http://guest:guest@localhost:15672); against Warren they come
// from a definitions file in RabbitMQ's format.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import amqp from "amqplib";
import { startBroker } from "../lib/broker.mjs";
import { amqplibClose, assertClose, sleep, withTimeout } from "./helpers.mjs";
import { frame, handshake, M, PROTOCOL_HEADER, RawConnection, Writer } from "./raw-amqp.mjs";

const external = !!process.env.INTEROP_TARGET_URL;
const VHOST = "interop-limits";
const QVHOST = "interop-limits-q";
const USER = "interop-limited";
const PASSWORD = "limited";

/** RabbitMQ's rabbit_password_hashing_sha256: base64(salt ‖ sha256(salt ‖ password)). */
function passwordHash(password) {
  const salt = randomBytes(4);
  const digest = createHash("sha256")
    .update(Buffer.concat([salt, Buffer.from(password)]))
    .digest();
  return Buffer.concat([salt, digest]).toString("base64");
}

const all = { configure: ".*", write: ".*", read: ".*" };

/** RabbitMQ's HTTP API, to set the same limits on the reference broker. */
async function api(method, path, body) {
  const u = new URL(process.env.INTEROP_TARGET_HTTP ?? "http://guest:guest@localhost:15672");
  const auth = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString(
    "base64",
  );
  const r = await fetch(`${u.origin}/api${path}`, {
    method,
    headers: { authorization: `Basic ${auth}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status >= 300) throw new Error(`${method} ${path}: HTTP ${r.status}`);
}

let broker;
let dir;

before(async () => {
  if (external) {
    broker = await startBroker();
    for (const v of [VHOST, QVHOST]) {
      await api("PUT", `/vhosts/${v}`, {});
      await api("PUT", `/permissions/${v}/guest`, all);
      await api("PUT", `/permissions/${v}/${USER}`, all).catch(() => {});
    }
    await api("PUT", `/users/${USER}`, { password: PASSWORD, tags: "" });
    await api("PUT", `/permissions/${QVHOST}/${USER}`, all);
    await api("PUT", `/vhost-limits/${VHOST}/max-connections`, { value: 1 });
    await api("PUT", `/vhost-limits/${QVHOST}/max-queues`, { value: 2 });
    await api("PUT", `/user-limits/${USER}/max-connections`, { value: 1 });
    await api("PUT", `/user-limits/${USER}/max-channels`, { value: 2 });
    return;
  }
  dir = mkdtempSync(join(tmpdir(), "warren-limits-"));
  const defs = {
    users: [
      { name: "guest", password_hash: passwordHash("guest"), tags: ["administrator"] },
      {
        name: USER,
        password_hash: passwordHash(PASSWORD),
        tags: [],
        limits: { "max-connections": 1, "max-channels": 2 },
      },
    ],
    // RabbitMQ 3.10 exports vhost limits as a runtime parameter; `limits` on the vhost works too.
    vhosts: [{ name: "/" }, { name: VHOST }, { name: QVHOST, limits: { "max-queues": 2 } }],
    parameters: [
      { vhost: VHOST, component: "vhost-limits", name: "limits", value: { "max-connections": 1 } },
    ],
    permissions: [
      ...["/", VHOST, QVHOST].map((vhost) => ({ user: "guest", vhost, ...all })),
      { user: USER, vhost: QVHOST, ...all },
    ],
  };
  writeFileSync(join(dir, "defs.json"), JSON.stringify(defs));
  broker = await startBroker({
    args: [
      "--definitions",
      join(dir, "defs.json"),
      "--max-message-size",
      "1KiB",
      "--handshake-timeout",
      "1000",
    ],
  });
});

after(async () => {
  await broker?.stop();
  if (external) {
    for (const v of [VHOST, QVHOST]) await api("DELETE", `/vhosts/${v}`).catch(() => {});
    await api("DELETE", `/users/${USER}`).catch(() => {});
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const target = (o = {}) => ({ host: broker.host, port: broker.port, ...o });

describe("limits", { concurrency: false }, () => {
  test("vhost max-connections: the next connection.open -> 530 NOT_ALLOWED, connection.close 10/40", async () => {
    const first = await handshake(target({ vhost: VHOST }));
    try {
      assert.ok(first.openOk, `first connection: ${JSON.stringify(first.close)}`);
      const r = await handshake(target({ vhost: VHOST }));
      r.conn.destroy();
      assert.ok(r.close, "expected connection.close");
      assertClose(r.close, { code: 530, name: "NOT_ALLOWED", classId: 10, methodId: 40 });
      assert.equal(
        r.close.text,
        `NOT_ALLOWED - access to vhost '${VHOST}' refused for user 'guest': connection limit (1) is reached`,
      );
    } finally {
      first.conn.destroy();
    }
    // The slot is free again once the first connection is gone.
    await sleep(200);
    const again = await handshake(target({ vhost: VHOST }));
    again.conn.destroy();
    assert.ok(again.openOk, "a connection is accepted after the other closed");
  });

  test("user max-connections: 530 NOT_ALLOWED, connection.close 10/40", async () => {
    const first = await handshake(target({ vhost: QVHOST, user: USER, password: PASSWORD }));
    try {
      assert.ok(first.openOk, `first connection: ${JSON.stringify(first.close)}`);
      const r = await handshake(target({ vhost: QVHOST, user: USER, password: PASSWORD }));
      r.conn.destroy();
      assert.ok(r.close, "expected connection.close");
      assertClose(r.close, { code: 530, name: "NOT_ALLOWED", classId: 10, methodId: 40 });
      assert.equal(
        r.close.text,
        `NOT_ALLOWED - connection refused for user '${USER}': user connection limit (1) is reached`,
      );
    } finally {
      first.conn.destroy();
    }
    await sleep(200);
  });

  test("user max-channels: the third channel.open -> 530 NOT_ALLOWED, connection.close 0/0", async () => {
    const r = await handshake(target({ vhost: QVHOST, user: USER, password: PASSWORD }));
    try {
      assert.ok(r.openOk, JSON.stringify(r.close));
      await r.conn.openChannel(1);
      await r.conn.openChannel(2);
      r.conn.method(3, M.channelOpen, new Writer().shortstr(""));
      const f = await withTimeout(r.conn.expect(M.connectionClose), 3000, "connection.close");
      // RabbitMQ names no method here (class/method 0/0).
      assertClose(f.close, { code: 530, name: "NOT_ALLOWED", classId: 0, methodId: 0 });
      assert.equal(
        f.close.text,
        `NOT_ALLOWED - number of channels opened for user '${USER}' has reached the maximum allowed user limit of (2)`,
      );
    } finally {
      r.conn.destroy();
    }
    await sleep(200);
  });

  test("vhost max-queues: the next queue.declare -> 406 PRECONDITION_FAILED, channel.close 50/10", async () => {
    const u = new URL(broker.url);
    u.pathname = `/${QVHOST}`;
    const c = await amqp.connect(u.href);
    try {
      const ch = await c.createChannel();
      ch.on("error", () => {});
      await ch.assertQueue("", { exclusive: true });
      await ch.assertQueue("", { exclusive: true });
      const err = await ch.assertQueue("limits.third", { exclusive: true }).then(
        () => assert.fail("third queue declared"),
        (e) => e,
      );
      const close = amqplibClose(err);
      assertClose(close, { code: 406, name: "PRECONDITION_FAILED", classId: 50, methodId: 10 });
      assert.equal(
        close.text,
        `PRECONDITION_FAILED - cannot declare queue 'limits.third': queue limit in vhost '${QVHOST}' (2) is reached`,
      );
      // Redeclaring an existing queue is no new queue and stays allowed at the limit.
      const ch2 = await c.createChannel();
      ch2.on("error", () => {});
      const q = await ch2.assertQueue("", { exclusive: true }).catch((e) => e);
      assert.ok(q instanceof Error, "still at the limit");
    } finally {
      await c.close().catch(() => {});
    }
  });

  test("max_message_size: refused from the content header -> 406 PRECONDITION_FAILED, channel.close 60/40", async () => {
    // RabbitMQ's default (128 MiB) is tested with a declared size only; Warren runs with 1 KiB
    // here so that a real body can be refused too.
    const max = external ? 128 * 1024 * 1024 : 1024;
    const r = await handshake(target());
    try {
      assert.ok(r.openOk);
      await r.conn.openChannel(1);
      r.conn.method(
        1,
        M.basicPublish,
        new Writer().short(0).shortstr("").shortstr("nowhere").bits(false, false),
      );
      const header = new Writer()
        .short(60)
        .short(0)
        .longlong(max + 1)
        .toBuffer();
      r.conn.write(frame(2, 1, Buffer.concat([header, Buffer.alloc(2)])));
      if (external) {
        // RabbitMQ 3.10 checks the size only once the whole body is in; Warren refuses from the
        // header, before buffering any of it.
        const chunk = Buffer.alloc(r.tune.frameMax - 8);
        for (let left = max + 1; left > 0; left -= chunk.length)
          r.conn.write(frame(3, 1, chunk.subarray(0, Math.min(left, chunk.length))));
      }
      const f = await withTimeout(r.conn.expect(M.channelClose, M.connectionClose), 3000, "channel.close");
      assertClose(f.close, { code: 406, name: "PRECONDITION_FAILED", classId: 60, methodId: 40 });
      assert.equal(
        f.close.text,
        `PRECONDITION_FAILED - message size ${max + 1} is larger than configured max size ${max}`,
      );
    } finally {
      r.conn.destroy();
    }
  });

  test(
    "Warren: a handshake trickling in byte by byte is closed at the handshake timeout",
    { skip: external },
    async () => {
      // A valid handshake, one byte every 50 ms: each byte is progress, but the timeout runs from
      // the TCP connect, so a client cannot hold a handshaking connection open by dribbling.
      const conn = await RawConnection.connect(broker.host, broker.port);
      conn.parseFrames = false;
      const t0 = Date.now();
      const startOk = new Writer()
        .short(M.connectionStartOk[0])
        .short(M.connectionStartOk[1])
        .table({ product: "trickle" })
        .shortstr("PLAIN")
        .longstr(Buffer.from("\0guest\0guest"))
        .shortstr("en_US")
        .toBuffer();
      const bytes = Buffer.concat([PROTOCOL_HEADER, frame(1, 0, startOk)]);
      let closed = false;
      conn.closed.then(() => (closed = true));
      for (let i = 0; i < bytes.length && !closed; i++) {
        conn.socket.write(bytes.subarray(i, i + 1));
        await sleep(50);
      }
      await withTimeout(conn.closed, 3000, "the server to close the trickling connection");
      const took = Date.now() - t0;
      assert.ok(took >= 900 && took < 2500, `closed after ${took} ms (handshake timeout 1000 ms)`);
    },
  );
});

test(
  "Warren: --max-connections refuses connection.open past the broker-wide limit with 530",
  { skip: external },
  async () => {
    const b = await startBroker({ args: ["--max-connections", "2"] });
    const t = { host: b.host, port: b.port };
    const open = [];
    try {
      for (let i = 0; i < 2; i++) {
        const r = await handshake(t);
        open.push(r.conn);
        assert.ok(r.openOk, JSON.stringify(r.close));
      }
      const r = await handshake(t);
      open.push(r.conn);
      assert.ok(r.close, "expected connection.close");
      assertClose(r.close, { code: 530, name: "NOT_ALLOWED", classId: 10, methodId: 40 });
      assert.equal(r.close.text, "NOT_ALLOWED - connection refused: node connection limit (2) is reached");
      open.shift().destroy();
      await sleep(200);
      const again = await handshake(t);
      open.push(again.conn);
      assert.ok(again.openOk, "a slot freed by a closed connection is reused");
    } finally {
      for (const c of open) c.destroy();
      await b.stop();
    }
  },
);
