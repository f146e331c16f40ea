// amqps: real clients (pika, amqplib, @warren/client) over TLS against a broker process, with
// a throw-away CA and certificates made by openssl at the start (interop/lib/tls-certs.mjs).
//
// The main broker verifies peers and refuses clients without a certificate (RabbitMQ's
// ssl_options.verify = verify_peer, fail_if_no_peer_cert = true); a second one verifies the
// certificates clients send but lets in clients without one (verify_peer alone), a third does
// no peer verification (verify_none). Checked: PLAIN and EXTERNAL logins, the mechanisms offered, refusals of a
// plaintext client on the TLS port, an untrusted or missing client certificate, TLS 1.1, and an
// EXTERNAL login whose CN is no user, each while a bystander connection keeps working.
//
//   node scripts/run-tests.mjs interop/tls
//
// Against RabbitMQ 3.10.8 with rabbitmq_auth_mechanism_ssl, verify_peer, fail_if_no_peer_cert,
// auth_mechanisms PLAIN AMQPLAIN EXTERNAL and certificates from makeTestPki in INTEROP_TLS_PKI
// (the tests of the second broker are skipped; see docs/tls.md):
//   INTEROP_TARGET_URL=amqp://guest:guest@localhost:5692 INTEROP_TARGET_TLS_PORT=5693 \
//   INTEROP_TLS_PKI=/tmp/rmq-tls/pki node --test interop/tls.test.mjs
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import net from "node:net";
import { dirname, join } from "node:path";
import tls from "node:tls";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { connect, ConnectionError } from "@warren/client";
import { decodeMethod, FrameReader, PROTOCOL_HEADER } from "@warren/protocol";
import amqp from "amqplib";
import { freePort, startBroker, waitForPort } from "./lib/broker.mjs";
import { makeTestPki } from "./lib/tls-certs.mjs";
import { assertAmqplibWorks, withTimeout } from "./node/helpers.mjs";
import { handshake } from "./node/raw-amqp.mjs";

const PY_DIR = join(dirname(fileURLToPath(import.meta.url)), "python");
const PYTHON = "/usr/bin/python3";
const external = Boolean(process.env.INTEROP_TARGET_URL);

/** Certificates: a fresh PKI, or the one the target RabbitMQ was configured with. */
let pki;
/** The main broker (verify_peer + fail_if_no_peer_cert) and its TLS port. */
let broker;
let tlsPort;
/** verify_peer without fail_if_no_peer_cert. */
let optional;
let optionalTlsPort;
/** No peer verification. */
let loose;
let looseTlsPort;

const file = (p) => readFileSync(p);
const tlsFiles = (pair) => ({ ca: file(pki.ca), cert: file(pair.cert), key: file(pair.key) });

/** A broker with TLS on a free port; viaEnv: configured through WARREN_TLS_* instead of flags. */
async function startTlsBroker(extraArgs, viaEnv = {}) {
  const port = await freePort();
  const env = Object.keys(viaEnv).length > 0;
  const b = await startBroker(
    env
      ? {
          env: {
            WARREN_TLS_CERT: pki.server.cert,
            WARREN_TLS_KEY: pki.server.key,
            WARREN_TLS_CA: pki.ca,
            WARREN_TLS_PORT: String(port),
            ...viaEnv,
          },
        }
      : {
          args: [
            "--tls-cert",
            pki.server.cert,
            "--tls-key",
            pki.server.key,
            "--tls-ca",
            pki.ca,
            "--tls-port",
            String(port),
            ...extraArgs,
          ],
        },
  );
  await waitForPort(port);
  return { b, port };
}

before(async () => {
  if (external) {
    const dir = process.env.INTEROP_TLS_PKI;
    assert.ok(dir, "INTEROP_TLS_PKI: the certificates the target broker uses");
    const pair = (n) => ({ cert: join(dir, `${n}.pem`), key: join(dir, `${n}.key`) });
    pki = {
      ca: join(dir, "ca.pem"),
      client: pair("client"),
      stranger: pair("stranger"),
      rogue: pair("rogue"),
      cleanup: () => {},
    };
    broker = await startBroker();
    tlsPort = Number(process.env.INTEROP_TARGET_TLS_PORT ?? 5671);
    return;
  }
  pki = makeTestPki();
  ({ b: broker, port: tlsPort } = await startTlsBroker(["--tls-verify-peer", "--tls-fail-if-no-peer-cert"]));
  // This one from the environment, to cover WARREN_TLS_*.
  ({ b: optional, port: optionalTlsPort } = await startTlsBroker([], { WARREN_TLS_VERIFY_PEER: "true" }));
  ({ b: loose, port: looseTlsPort } = await startTlsBroker([]));
});

after(async () => {
  await broker?.stop();
  await optional?.stop();
  await loose?.stop();
  pki?.cleanup();
});

/** A TLS socket to the port; resolves once the handshake is over, or rejects with its error. */
function tlsConnect(port, options) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, servername: "localhost", ...options });
    s.once("secureConnect", () => resolve(s));
    s.once("error", reject);
  });
}

/**
 * Sends the AMQP protocol header over the socket; resolves with connection.start's mechanisms,
 * or with { closed, error } when the server hangs up without one (a refusal after the
 * handshake, as TLS 1.3 reports a refused client certificate; or bytes that are not AMQP).
 */
function startMechanisms(socket, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const reader = new FrameReader(131072);
    const t = setTimeout(() => reject(new Error("no connection.start")), timeoutMs);
    let error;
    socket.on("error", (e) => (error = e));
    socket.on("data", (d) => {
      try {
        reader.push(d, (_type, _ch, buf, start, end) => {
          clearTimeout(t);
          resolve(decodeMethod(buf, start, end).mechanisms);
          socket.destroy();
        });
      } catch (e) {
        // Not AMQP: RabbitMQ answers a plaintext client on its TLS port with a TLS alert record.
        error = e;
        socket.destroy();
      }
    });
    socket.on("close", () => {
      clearTimeout(t);
      resolve({ closed: true, error });
    });
    socket.write(PROTOCOL_HEADER);
  });
}

/** A working connection from a client with a good certificate, to watch for collateral damage. */
async function bystander() {
  const conn = await amqp.connect(`amqps://guest:guest@localhost:${tlsPort}`, tlsFiles(pki.client));
  let lost;
  conn.on("close", (e) => (lost = e ?? new Error("closed")));
  conn.on("error", () => {});
  return {
    async check() {
      assert.equal(lost, undefined, "the bystander connection was closed");
      await assertAmqplibWorks(conn);
    },
    close: () => conn.close(),
  };
}

/** Runs interop/python/pika_tls.py; resolves with its output once it succeeded. */
function runPika(env) {
  const full = {
    ...process.env,
    PYTHONUNBUFFERED: "1",
    PYTHONDONTWRITEBYTECODE: "1",
    TLS_HOST: "127.0.0.1",
    TLS_PORT: String(tlsPort),
    TLS_CA: pki.ca,
    TLS_CERT: pki.client.cert,
    TLS_KEY: pki.client.key,
    ...env,
  };
  delete full.PYTHONPATH;
  return new Promise((resolve, reject) => {
    const proc = spawn(PYTHON, [join(PY_DIR, "pika_tls.py")], {
      env: full,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    proc.stdout.on("data", (d) => (out += d));
    proc.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => proc.kill("SIGKILL"), 30000);
    proc.once("error", reject);
    proc.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && /^OK$/m.test(out)) resolve(out);
      else reject(new Error(`pika_tls.py (${JSON.stringify(env)}) exited with ${code ?? signal}:\n${out}`));
    });
  });
}

describe("amqps with verify_peer and fail_if_no_peer_cert", { concurrency: true }, () => {
  test("@warren/client: PLAIN login over TLS, publish and get", async () => {
    const conn = await connect(`amqps://guest:guest@localhost:${tlsPort}`, { tls: tlsFiles(pki.client) });
    try {
      const ch = await conn.createChannel();
      const { queue } = await ch.queueDeclare("", { exclusive: true });
      const body = randomBytes(32);
      ch.publish("", queue, body);
      let msg;
      for (let i = 0; i < 200 && !msg; i++) {
        msg = await ch.basicGet(queue, { noAck: true });
        if (!msg) await new Promise((r) => setTimeout(r, 10));
      }
      assert.deepEqual(msg?.body, body);
    } finally {
      await conn.close();
    }
  });

  test("@warren/client: EXTERNAL login from ?auth_mechanism=external, as the certificate's CN", async () => {
    const conn = await connect(`amqps://localhost:${tlsPort}?auth_mechanism=external`, {
      tls: tlsFiles(pki.client),
    });
    try {
      const ch = await conn.createChannel();
      const { queue } = await ch.queueDeclare("", { exclusive: true });
      // user-id must match the logged-in user, or the broker closes the channel.
      ch.publish("", queue, Buffer.from("x"), { userId: "guest" });
      await ch.queueDelete(queue);
      await ch.close();
    } finally {
      await conn.close();
    }
  });

  test("amqplib: PLAIN and EXTERNAL (credentials.external()) logins over TLS", async () => {
    const plain = await amqp.connect(`amqps://guest:guest@localhost:${tlsPort}`, tlsFiles(pki.client));
    await assertAmqplibWorks(plain);
    await plain.close();
    const ext = await amqp.connect(`amqps://localhost:${tlsPort}`, {
      ...tlsFiles(pki.client),
      credentials: amqp.credentials.external(),
    });
    const ch = await ext.createChannel();
    const { queue } = await ch.assertQueue("", { exclusive: true });
    ch.sendToQueue(queue, Buffer.from("who"), { userId: "guest" });
    await ch.close(); // a user-id mismatch would have closed the channel: close() would reject
    await ext.close();
  });

  test("pika: PLAIN and EXTERNAL (ExternalCredentials) logins over TLS", async () => {
    await runPika({ MODE: "plain" });
    await runPika({ MODE: "external", USER_ID: "guest" });
  });

  test("connection.start offers EXTERNAL on TLS, not on plaintext", async () => {
    const s = await tlsConnect(tlsPort, tlsFiles(pki.client));
    assert.deepEqual((await startMechanisms(s)).split(" ").sort(), ["AMQPLAIN", "EXTERNAL", "PLAIN"]);
    const p = net.connect(broker.port, "127.0.0.1");
    assert.deepEqual((await startMechanisms(p)).split(" ").sort(), ["AMQPLAIN", "PLAIN"]);
  });

  test("EXTERNAL on a plaintext connection is not offered: the broker hangs up after 3 s", async () => {
    const t0 = Date.now();
    const r = await handshake({ host: "127.0.0.1", port: broker.port, mechanism: "EXTERNAL" });
    assert.equal(r.socketClosed, true, `expected a silent close, got ${JSON.stringify(r.close)}`);
    assert.ok(Date.now() - t0 >= 2500, "refused before the failed-login delay");
  });

  test("EXTERNAL with a trusted certificate whose CN is no user is refused (pika, @warren/client)", async () => {
    const by = await bystander();
    await runPika({
      MODE: "external",
      EXPECT: "refused",
      TLS_CERT: pki.stranger.cert,
      TLS_KEY: pki.stranger.key,
    });
    await assert.rejects(
      connect(`amqps://localhost:${tlsPort}`, { authMechanism: "EXTERNAL", tls: tlsFiles(pki.stranger) }),
      (e) => e instanceof ConnectionError && e.code === 403 && /EXTERNAL/.test(e.message),
    );
    await by.check();
    await by.close();
  });

  test("a plaintext AMQP client on the TLS port is refused; a bystander keeps working", async () => {
    const by = await bystander();
    await assert.rejects(
      withTimeout(amqp.connect(`amqp://guest:guest@127.0.0.1:${tlsPort}`), 10000, "refusal"),
    );
    const raw = net.connect(tlsPort, "127.0.0.1");
    const r = await startMechanisms(raw);
    assert.equal(r.closed, true, "plaintext AMQP header on the TLS port got an answer");
    await by.check();
    await by.close();
  });

  test("an untrusted client certificate, or none, is refused; a bystander keeps working", async () => {
    const by = await bystander();
    for (const options of [tlsFiles(pki.rogue), { ca: file(pki.ca) }]) {
      // TLS 1.3 finishes the client's side of the handshake before the server checks its
      // certificate: the refusal arrives as an alert on the first read, or a hang-up.
      const r = await tlsConnect(tlsPort, options).then(startMechanisms, (e) => ({ closed: true, error: e }));
      assert.equal(r.closed, true, `connected without a good certificate: ${JSON.stringify(r)}`);
      await assert.rejects(amqp.connect(`amqps://guest:guest@localhost:${tlsPort}`, options));
      await assert.rejects(connect(`amqps://guest:guest@localhost:${tlsPort}`, { tls: options }));
    }
    await by.check();
    await by.close();
  });

  test("TLS 1.1 is refused, 1.2 and 1.3 are accepted", async () => {
    const by = await bystander();
    // SECLEVEL=0: our own OpenSSL would otherwise refuse to offer TLS 1.1 at all, and the
    // refusal must come from the server (a protocol_version alert).
    await assert.rejects(
      tlsConnect(tlsPort, {
        ...tlsFiles(pki.client),
        minVersion: "TLSv1",
        maxVersion: "TLSv1.1",
        ciphers: "DEFAULT@SECLEVEL=0",
      }),
      (e) => /ALERT_PROTOCOL_VERSION|protocol version/i.test(`${e.code} ${e.message}`),
    );
    for (const v of ["TLSv1.2", "TLSv1.3"]) {
      const s = await tlsConnect(tlsPort, { ...tlsFiles(pki.client), minVersion: v, maxVersion: v });
      assert.equal(s.getProtocol(), v);
      assert.equal(typeof (await startMechanisms(s)), "string");
    }
    await by.check();
    await by.close();
  });

  test("refusals are logged by the broker", { skip: external }, () => {
    const log = broker.log();
    assert.match(log, /amqps connection from .* refused: TLS handshake failed/);
  });
});

describe("amqps with verify_peer alone", { skip: external && "needs a second broker" }, () => {
  test("no certificate: PLAIN works, EXTERNAL is offered but refused", async () => {
    const conn = await connect(`amqps://guest:guest@localhost:${optionalTlsPort}`, {
      tls: { ca: file(pki.ca) },
    });
    await conn.close();
    const s = await tlsConnect(optionalTlsPort, { ca: file(pki.ca) });
    assert.equal((await startMechanisms(s)).split(" ").includes("EXTERNAL"), true);
    await assert.rejects(
      connect(`amqps://localhost:${optionalTlsPort}?auth_mechanism=external`, { tls: { ca: file(pki.ca) } }),
      (e) => e instanceof ConnectionError && e.code === 403,
    );
  });

  test("a good certificate logs in with EXTERNAL; an untrusted one is refused", async () => {
    const conn = await connect(`amqps://localhost:${optionalTlsPort}?auth_mechanism=external`, {
      tls: tlsFiles(pki.client),
    });
    await conn.close();
    const r = await tlsConnect(optionalTlsPort, tlsFiles(pki.rogue)).then(startMechanisms, (e) => ({
      closed: true,
      error: e,
    }));
    assert.equal(r.closed, true, `connected with an untrusted certificate: ${JSON.stringify(r)}`);
    assert.match(optional.log(), /refused: client certificate refused/);
  });
});

describe("amqps without peer verification", { skip: external && "needs a third broker" }, () => {
  test("a client without a certificate logs in with PLAIN; EXTERNAL is offered but refused", async () => {
    const conn = await connect(`amqps://guest:guest@localhost:${looseTlsPort}`, {
      tls: { ca: file(pki.ca) },
    });
    await conn.close();
    const s = await tlsConnect(looseTlsPort, { ca: file(pki.ca) });
    assert.equal((await startMechanisms(s)).split(" ").includes("EXTERNAL"), true);
    // The server asks for no certificate, so a client's is never sent nor verified: no identity
    // (RabbitMQ refuses EXTERNAL without verify_peer as "unsafe").
    await assert.rejects(
      connect(`amqps://localhost:${looseTlsPort}?auth_mechanism=external`, { tls: tlsFiles(pki.client) }),
      (e) => e instanceof ConnectionError && e.code === 403,
    );
  });

  test("@warren/client refuses to try EXTERNAL on a plaintext connection", async () => {
    await assert.rejects(
      connect(`amqp://127.0.0.1:${loose.port}?auth_mechanism=external`),
      /server offers no EXTERNAL mechanism/,
    );
  });
});
