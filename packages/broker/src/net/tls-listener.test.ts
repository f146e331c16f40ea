// In-process checks of the TLS configuration; the TLS behaviour itself (handshakes, refusals,
// EXTERNAL) is tested with real clients and real certificates in interop/tls.test.mjs.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import tls from "node:tls";
import { decodeMethod, FrameReader, PROTOCOL_HEADER } from "@warren/protocol";
import { Broker } from "../broker.js";
import { lineLogger } from "../logger.js";

test("incomplete TLS options are refused when the broker is made", () => {
  const pem = "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
  assert.throws(() => new Broker({ tls: { cert: pem, key: "" } }), /both a certificate and a key/);
  assert.throws(
    () => new Broker({ tls: { cert: pem, key: pem, failIfNoPeerCert: true } }),
    /needs verifyPeer/,
  );
  assert.throws(() => new Broker({ tls: { cert: pem, key: pem, verifyPeer: true } }), /needs a CA/);
});

test("a certificate that does not load fails start() before anything listens", async () => {
  const broker = new Broker({
    port: 0,
    log: lineLogger(() => {}),
    tls: { cert: "not a PEM", key: "not a PEM", port: 0 },
  });
  await assert.rejects(broker.start());
  assert.equal(broker.port, 0);
  assert.equal(broker.tlsPort, 0);
  await broker.stop();
});

/** A throw-away self-signed certificate for localhost, made with the openssl command. */
function selfSigned(): { cert: Buffer; key: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), "warren-tls-unit-"));
  try {
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"].concat([
        "-keyout",
        join(dir, "k.pem"),
        "-out",
        join(dir, "c.pem"),
      ]),
      { stdio: "ignore" },
    );
    return { cert: readFileSync(join(dir, "c.pem")), key: readFileSync(join(dir, "k.pem")) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a TLS port already taken fails start() and closes the plaintext listener", async () => {
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
  const port = (taken.address() as net.AddressInfo).port;
  const broker = new Broker({
    port: 0,
    host: "127.0.0.1",
    log: lineLogger(() => {}),
    tls: { ...selfSigned(), port },
  });
  await assert.rejects(broker.start(), /EADDRINUSE/);
  assert.equal(broker.port, 0);
  await broker.stop();
  taken.close();
});

test("port 0 binds a free TLS port; connection.start there offers EXTERNAL", async () => {
  const lines: string[] = [];
  const broker = new Broker({
    port: 0,
    log: lineLogger((l) => lines.push(l)),
    tls: { ...selfSigned(), port: 0 },
  });
  await broker.start();
  try {
    assert.notEqual(broker.tlsPort, 0);
    assert.notEqual(broker.tlsPort, broker.port);
    assert.ok(lines.includes(`warren: listening for amqps on port ${broker.tlsPort}`));
    const socket = tls.connect({ host: "127.0.0.1", port: broker.tlsPort, rejectUnauthorized: false });
    socket.write(PROTOCOL_HEADER);
    const mechanisms = await new Promise<string>((resolve, reject) => {
      const reader = new FrameReader(131072);
      socket.on("error", reject);
      socket.on("data", (d: Buffer) =>
        reader.push(d, (_t, _c, buf, start, end) => {
          const m = decodeMethod(buf, start, end);
          if (m.name === "connection.start") resolve(m.mechanisms);
        }),
      );
    });
    socket.destroy();
    assert.equal(mechanisms, "EXTERNAL PLAIN AMQPLAIN");
  } finally {
    await broker.stop();
  }
});

test("without TLS options there is no TLS listener", async () => {
  const broker = new Broker({ port: 0, log: lineLogger(() => {}) });
  await broker.start();
  assert.notEqual(broker.port, 0);
  assert.equal(broker.tlsPort, 0);
  await broker.stop();
});
