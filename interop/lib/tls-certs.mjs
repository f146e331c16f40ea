// Throw-away certificates for the TLS tests, made with the openssl command in a temp dir:
// a CA, a server certificate for localhost and 127.0.0.1, client certificates signed by that
// CA, and a second, untrusted CA with a client certificate of its own. The same commands are
// shown in docs/tls.md.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function openssl(dir, args) {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** Makes a self-signed CA: <name>.key, <name>.pem. */
function makeCa(dir, name, cn) {
  openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=${cn}`,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
  ]);
}

/** Makes a key and a certificate signed by the CA `ca`; ext: an openssl extensions section. */
function makeCert(dir, ca, name, subject, ext) {
  openssl(dir, [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    subject,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
  ]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.pem`,
  ]);
}

const SERVER_EXT = [
  "basicConstraints=CA:FALSE",
  "keyUsage=digitalSignature,keyEncipherment",
  "extendedKeyUsage=serverAuth",
  "subjectAltName=DNS:localhost,IP:127.0.0.1",
  "",
].join("\n");
const CLIENT_EXT = [
  "basicConstraints=CA:FALSE",
  "keyUsage=digitalSignature,keyEncipherment",
  "extendedKeyUsage=clientAuth",
  "",
].join("\n");

/**
 * Creates the test PKI. Paths are absolute; `cleanup()` removes the directory.
 *
 * - ca: the trusted CA; server: CN=localhost, SAN localhost and 127.0.0.1
 * - client: CN=guest (an existing user, for EXTERNAL); stranger: CN=nobody-here (no such user)
 * - rogue: CN=guest, signed by a second CA the broker does not trust
 *
 * @param {{ clientCn?: string }} [opts]
 */
export function makeTestPki(opts = {}) {
  const dir = mkdtempSync(join(tmpdir(), "warren-tls-"));
  makeCa(dir, "ca", "Warren test CA");
  makeCa(dir, "rogue-ca", "Untrusted test CA");
  makeCert(dir, "ca", "server", "/CN=localhost", SERVER_EXT);
  makeCert(dir, "ca", "client", `/O=Warren tests/CN=${opts.clientCn ?? "guest"}`, CLIENT_EXT);
  makeCert(dir, "ca", "stranger", "/CN=nobody-here", CLIENT_EXT);
  makeCert(dir, "rogue-ca", "rogue", "/CN=guest", CLIENT_EXT);
  const pair = (name) => ({ cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) });
  return {
    dir,
    ca: join(dir, "ca.pem"),
    server: pair("server"),
    client: pair("client"),
    stranger: pair("stranger"),
    rogue: pair("rogue"),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
