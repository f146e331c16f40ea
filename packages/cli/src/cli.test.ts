import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { Broker, lineLogger } from "@warren/broker";
import { type Channel, type Connection, connect } from "@warren/client";

const MAIN = fileURLToPath(new URL("./main.js", import.meta.url));

let broker: Broker;
let url: string;
let conn: Connection;
let ch: Channel;

before(async () => {
  broker = new Broker({ port: 0, log: lineLogger(() => {}) });
  url = `amqp://guest:guest@127.0.0.1:${await broker.start()}`;
  conn = await connect(url);
  ch = await conn.createChannel();
});

after(async () => {
  await conn.close();
  await broker.stop();
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `warren ...args` with WARREN_URL pointing at the test broker. */
function warren(args: string[], input?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { ...process.env, WARREN_URL: url },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}

describe("warren CLI", () => {
  it("publishes arguments and consumes a counted batch", async () => {
    await ch.queueDeclare("cli-args");
    const pub = await warren([
      "publish",
      "--routing-key",
      "cli-args",
      "--confirm",
      "--persistent",
      "hello",
      "world",
    ]);
    assert.deepEqual(pub, { code: 0, stdout: "", stderr: "" });
    const sub = await warren(["consume", "--queue", "cli-args", "--count", "2"]);
    assert.equal(sub.stderr, "");
    assert.equal(sub.code, 0);
    assert.equal(sub.stdout, "hello\nworld\n");
    // Exactly two were taken, and acknowledged.
    assert.equal((await ch.queueDeclare("cli-args", { passive: true })).messageCount, 0);
  });

  it("publishes stdin lines; get takes one at a time and exits 1 when empty", async () => {
    await ch.queueDeclare("cli-stdin");
    const pub = await warren(["publish", "-k", "cli-stdin"], "line one\nline two\nline three\n");
    assert.equal(pub.code, 0, pub.stderr);
    assert.deepEqual(await warren(["get", "--queue", "cli-stdin"]), {
      code: 0,
      stdout: "line one\n",
      stderr: "",
    });
    const peek = await warren(["get", "--queue", "cli-stdin", "--requeue"]);
    assert.equal(peek.stdout, "line two\n");
    const rest = await warren(["consume", "-q", "cli-stdin", "-n", "2", "--no-ack"]);
    assert.equal(rest.stdout, "line two\nline three\n");
    assert.deepEqual(await warren(["get", "--queue", "cli-stdin"]), { code: 1, stdout: "", stderr: "" });
  });

  it("sets headers, persistence and content type", async () => {
    await ch.queueDeclare("cli-props");
    await ch.queueBind("cli-props", "amq.direct", "cli-props");
    const pub = await warren([
      "publish",
      "--exchange",
      "amq.direct",
      "--routing-key",
      "cli-props",
      "--header",
      "source=cli",
      "-H",
      "equation=a=b",
      "--persistent",
      "--content-type",
      "text/plain",
      "body",
    ]);
    assert.equal(pub.code, 0, pub.stderr);
    const m = await ch.basicGet("cli-props", { noAck: true });
    assert.equal(m?.body.toString(), "body");
    assert.equal(m?.fields.exchange, "amq.direct");
    assert.deepEqual(m?.properties, {
      contentType: "text/plain",
      headers: { source: "cli", equation: "a=b" },
      deliveryMode: 2,
    });
  });

  it("consume --declare creates the queue and waits for messages", async () => {
    const sub = warren(["consume", "--queue", "cli-declared", "--declare", "--count", "1"]);
    for (let i = 0; ; i++) {
      const probe = await conn.createChannel();
      const ok = await probe.queueDeclare("cli-declared", { passive: true }).then(
        (r) => r.consumerCount === 1,
        () => false,
      );
      if (probe.isOpen) await probe.close();
      if (ok) break;
      assert.ok(i < 200, "consumer never appeared");
      await new Promise((r) => setTimeout(r, 20));
    }
    await warren(["publish", "-k", "cli-declared", "late arrival"]);
    const r = await sub;
    assert.deepEqual(r, { code: 0, stdout: "late arrival\n", stderr: "" });
  });

  it("reports unroutable mandatory messages, broker errors and usage errors", async () => {
    const lost = await warren(["publish", "--mandatory", "-k", "no-such-queue", "x"]);
    assert.equal(lost.code, 1);
    assert.match(lost.stderr, /message returned: 312 NO_ROUTE/);
    const missing = await warren(["get", "--queue", "no-such-queue"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /NOT_FOUND - no queue 'no-such-queue'/);
    const usage = await warren(["consume"]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--queue is required/);
    const unknown = await warren(["publish", "--bogus"]);
    assert.equal(unknown.code, 2);
    const refused = await warren(["get", "--url", "amqp://127.0.0.1:1", "-q", "x"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /ECONNREFUSED/);
    const help = await warren(["help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /warren publish/);
    assert.match(help.stdout, /warren consume/);
    assert.match(help.stdout, /warren get/);
  });

  it("server refuses an incomplete TLS configuration before it starts", async () => {
    // The files exist (a missing one is refused by itself); the combinations are wrong.
    const dir = mkdtempSync(join(tmpdir(), "warren-cli-tls-"));
    const [c, k] = [join(dir, "c.pem"), join(dir, "k.pem")];
    writeFileSync(c, "");
    writeFileSync(k, "");
    const cases: [string[], RegExp][] = [
      [["--tls-key", k], /TLS needs both --tls-cert \(ssl_options.certfile\) and --tls-key/],
      [["--tls-verify-peer"], /TLS options given without --tls-cert \(ssl_options.certfile\) and --tls-key/],
      [["--tls-cert", c, "--tls-key", k, "--tls-fail-if-no-peer-cert"], /needs --tls-verify-peer/],
      [["--tls-cert", c, "--tls-key", k, "--tls-verify-peer"], /needs --tls-ca \(ssl_options.cacertfile\)/],
      [["--tls-cert", join(dir, "missing.pem")], /--tls-cert: file ".*missing.pem" does not exist/],
    ];
    try {
      for (const [args, message] of cases) {
        const r = await warren(["server", "--port", "0", ...args]);
        assert.equal(r.code, 2, args.join(" "));
        assert.match(r.stderr, message);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
