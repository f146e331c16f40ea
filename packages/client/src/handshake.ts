import type { Duplex } from "node:stream";
import { platform, version as nodeVersion } from "node:process";
import {
  CLIENT_CAPABILITIES,
  ConnectionError,
  type FieldTable,
  type MethodInit,
  ReplyCode,
} from "@warren/protocol";
import { CLIENT_VERSION, type ConnectOptions } from "./connection-types.js";

/*
 * The client's side of the AMQP handshake, as functions of the options: connection.start-ok
 * (client properties, SASL response), the tune negotiation, and the heartbeat timer.
 */

/** connection.start-ok for a server offering `mechanisms`; throws if ours is not among them. */
export function startOk(o: ConnectOptions, mechanisms: string): MethodInit {
  const mechanism = o.authMechanism ?? "PLAIN";
  if (!mechanisms.split(" ").includes(mechanism)) {
    throw new ConnectionError(
      ReplyCode.NOT_IMPLEMENTED,
      `server offers no ${mechanism} mechanism (${mechanisms})${mechanism === "EXTERNAL" && o.protocol !== "amqps" ? "; EXTERNAL needs amqps" : ""}`,
    );
  }
  const clientProperties: FieldTable = {
    product: "Warren client",
    version: CLIENT_VERSION,
    platform: `Node.js ${nodeVersion} (${platform})`,
    information: "Licensed under the MIT license.",
    capabilities: { ...CLIENT_CAPABILITIES },
    ...(o.connectionName !== undefined ? { connection_name: o.connectionName } : {}),
    ...o.clientProperties,
  };
  return {
    name: "connection.start-ok",
    clientProperties,
    mechanism,
    // EXTERNAL: the identity is the certificate, the response is empty (as pika and amqplib).
    response: mechanism === "EXTERNAL" ? "" : `\u0000${o.username ?? "guest"}\u0000${o.password ?? "guest"}`,
    locale: "en_US",
  };
}

/** Negotiated tune parameters. */
export interface Tuned {
  channelMax: number;
  frameMax: number;
  heartbeat: number;
}

/** The values for connection.tune-ok, given the server's connection.tune. */
export function tune(o: ConnectOptions, server: Tuned): Tuned {
  return {
    channelMax: negotiate(server.channelMax, o.channelMax ?? 2047) || 65535,
    frameMax: negotiate(server.frameMax, o.frameMax ?? 131072),
    heartbeat:
      o.heartbeat === undefined
        ? server.heartbeat
        : o.heartbeat === 0
          ? 0
          : negotiate(server.heartbeat, o.heartbeat),
  };
}

/** Bytes a connection has read and written so far. */
export interface Traffic {
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

/**
 * Ticks at half the heartbeat interval: calls beat() when we have been quiet for a tick, and
 * destroys the socket after two full intervals without a byte from the server (as RabbitMQ
 * does). The timer does not keep the process alive (the socket does, while it is open).
 */
export function watchHeartbeats(
  traffic: Traffic,
  s: Duplex,
  seconds: number,
  beat: () => void,
): NodeJS.Timeout {
  let lastRead = traffic.bytesRead;
  let lastWritten = traffic.bytesWritten;
  let silentTicks = 0;
  const t = setInterval(() => {
    if (traffic.bytesWritten === lastWritten) beat();
    lastWritten = traffic.bytesWritten;
    if (traffic.bytesRead === lastRead) {
      if (++silentTicks >= 4) s.destroy(new Error(`missed heartbeats from the server (${seconds}s)`));
    } else silentTicks = 0;
    lastRead = traffic.bytesRead;
  }, seconds * 500);
  t.unref();
  return t;
}

/** Tune negotiation: 0 means "no limit", so take the other side's value; else the lower. */
function negotiate(server: number, client: number): number {
  if (server === 0) return client;
  if (client === 0) return server;
  return Math.min(server, client);
}
