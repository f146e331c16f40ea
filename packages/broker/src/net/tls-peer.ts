import type { AmqpSocket } from "./in-process-socket.js";
import tls from "node:tls";

/** What a connection's TLS session says about its client, for the EXTERNAL mechanism. */
export interface TlsPeer {
  /**
   * The client certificate's subject CN (several CNs joined with ",", as RabbitMQ's
   * ssl_cert_login_from = common_name does), when the certificate was verified against the
   * configured CA; undefined when there is none or it was not verified.
   */
  verifiedCommonName: string | undefined;
}

/** The TLS facts of a connection's socket, or undefined for a plaintext connection. */
export function tlsPeer(socket: AmqpSocket): TlsPeer | undefined {
  if (!(socket instanceof tls.TLSSocket)) return undefined;
  if (!socket.authorized) return { verifiedCommonName: undefined };
  const cn: string | string[] | undefined = socket.getPeerCertificate().subject?.CN;
  return { verifiedCommonName: Array.isArray(cn) ? cn.join(",") : cn };
}
