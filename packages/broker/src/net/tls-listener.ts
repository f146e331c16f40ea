import tls from "node:tls";

/** The amqps listener's settings (RabbitMQ's listeners.ssl and ssl_options). */
export interface TlsOptions {
  /** The server's certificate chain, PEM. */
  cert: string | Buffer;
  /** The server's private key, PEM. */
  key: string | Buffer;
  /** CA certificates that client certificates must chain to, PEM (ssl_options.cacertfile). */
  ca?: string | Buffer;
  /** TCP port of the amqps listener; 0 picks a free one. Default 5671. */
  port?: number;
  /**
   * Address the amqps listener binds; default BrokerOptions.host, and null for all interfaces
   * whatever that is (RabbitMQ's listeners.ssl.default = 5671 beside an IP in listeners.tcp).
   */
  host?: string | null;
  /**
   * Ask clients for a certificate and refuse those whose certificate does not chain to `ca`
   * (ssl_options.verify = verify_peer). A client without a certificate is still let in unless
   * failIfNoPeerCert is set. Needed for the EXTERNAL mechanism. Default false.
   */
  verifyPeer?: boolean;
  /** With verifyPeer: refuse clients that present no certificate (ssl_options.fail_if_no_peer_cert). */
  failIfNoPeerCert?: boolean;
}

/** Checks option combinations that would otherwise fail late or silently. */
export function checkTlsOptions(o: TlsOptions): void {
  if (!o.cert || !o.key) throw new TypeError("TLS needs both a certificate and a key");
  if (o.failIfNoPeerCert && !o.verifyPeer) throw new TypeError("TLS failIfNoPeerCert needs verifyPeer");
  // Without a CA every client certificate would be checked against Node's public roots,
  // which is never what a broker that verifies its clients means.
  if (o.verifyPeer && !o.ca) throw new TypeError("TLS verifyPeer needs a CA certificate (ca)");
}

/**
 * Creates the amqps server. `onClient` gets each socket whose handshake succeeded and whose
 * certificate (if any) was accepted; `onRefused` hears about every client refused during the
 * handshake. TLS 1.2 and 1.3 only, as RabbitMQ's TLS guide recommends (its own default on
 * Erlang 25 still accepts 1.0 and 1.1: RabbitMQ 3.10.8 checked).
 */
export function createTlsServer(
  o: TlsOptions,
  handshakeTimeoutMs: number,
  onClient: (socket: tls.TLSSocket) => void,
  onRefused: (reason: string, remoteAddress: string | undefined) => void,
): tls.Server {
  const verify = o.verifyPeer === true;
  const server = tls.createServer(
    {
      cert: o.cert,
      key: o.key,
      ...(o.ca ? { ca: o.ca } : {}),
      minVersion: "TLSv1.2",
      requestCert: verify,
      // Node's rejectUnauthorized refuses a missing certificate as well as a bad one, which is
      // exactly verify_peer + fail_if_no_peer_cert; verify_peer alone is finished below.
      rejectUnauthorized: verify && o.failIfNoPeerCert === true,
      // A client that connects and never finishes the handshake must not hold a socket for
      // Node's default two minutes: it gets what an AMQP handshake gets.
      handshakeTimeout: handshakeTimeoutMs,
    },
    (socket) => {
      if (verify && !socket.authorized && hasPeerCertificate(socket)) {
        // verify_peer without fail_if_no_peer_cert: no certificate is fine, a bad one is not
        // (Erlang's ssl refuses it in the handshake; Node lets us decide afterwards).
        onRefused(`client certificate refused: ${String(socket.authorizationError)}`, socket.remoteAddress);
        socket.destroy();
        return;
      }
      onClient(socket);
    },
  );
  // Without this listener Node would still drop the socket, but we want one log line per refusal
  // (plaintext AMQP on the TLS port, a protocol version below 1.2, an untrusted certificate,
  // a handshake timeout) and nothing else: no other connection notices.
  server.on("tlsClientError", (err: Error, socket: tls.TLSSocket) => {
    onRefused(`TLS handshake failed: ${err.message}`, socket.remoteAddress);
    socket.destroy();
  });
  return server;
}

function hasPeerCertificate(socket: tls.TLSSocket): boolean {
  const c = socket.getPeerCertificate();
  return c !== null && Object.keys(c).length > 0;
}
