import type { AmqpSocket } from "./in-process-socket.js";
import {
  AmqpError,
  ConnectionError,
  decodeMethod,
  FRAME_MIN_SIZE,
  METHOD_IDS,
  type Method,
  type MethodInit,
  ReplyCode,
  writeHeartbeat,
  type Writer,
} from "@warren/protocol";
import { tlsPeer } from "./tls-peer.js";

// The rules of a connection's handshake and liveness that need none of its state: which
// mechanisms are offered, what a tune-ok may ask for, how channel-0 decode errors are named,
// and the heartbeat watch.

/**
 * The SASL mechanisms connection.start offers: as RabbitMQ with rabbitmq_auth_mechanism_ssl,
 * EXTERNAL on every TLS connection, even one without a client certificate, so that such a login
 * fails with a clear refusal rather than "no common mechanism" (checked against RabbitMQ 3.10.8).
 */
export function offeredMechanisms(socket: AmqpSocket): string[] {
  return tlsPeer(socket) ? ["EXTERNAL", "PLAIN", "AMQPLAIN"] : ["PLAIN", "AMQPLAIN"];
}

/**
 * Refuses a connection.tune-ok above the server's limits, as RabbitMQ: 0 means "no limit",
 * which exceeds them too. Thrown from the frame handler, which knows no method: the errors
 * name tune-ok.
 */
export function checkTuneOk(
  limits: { frameMax: number; channelMax: number },
  channelMax: number,
  frameMax: number,
): void {
  const ids = METHOD_IDS["connection.tune-ok"];
  if (frameMax !== 0 && frameMax < FRAME_MIN_SIZE) {
    throw new ConnectionError(
      ReplyCode.NOT_ALLOWED,
      `frame_max=${frameMax} < ${FRAME_MIN_SIZE} min size`,
      ...ids,
    );
  }
  if (frameMax === 0 || frameMax > limits.frameMax) {
    throw new ConnectionError(
      ReplyCode.NOT_ALLOWED,
      `frame_max=${frameMax} > ${limits.frameMax} max size`,
      ...ids,
    );
  }
  if (channelMax === 0 || channelMax > limits.channelMax) {
    throw new ConnectionError(
      ReplyCode.NOT_ALLOWED,
      `channel_max=${channelMax} > ${limits.channelMax} max`,
      ...ids,
    );
  }
}

/**
 * A channel-0 method. RabbitMQ names connection.open in the close for a malformed one (a
 * virtual host that is not UTF-8: 501 on 10/40); decode errors elsewhere carry 0/0.
 */
export function decodeConnectionMethod(buf: Buffer, start: number, end: number): Method {
  try {
    return decodeMethod(buf, start, end);
  } catch (e) {
    const [classId, methodId] = METHOD_IDS["connection.open"];
    if (
      e instanceof AmqpError &&
      end - start >= 4 &&
      buf.readUInt16BE(start) === classId &&
      buf.readUInt16BE(start + 2) === methodId
    ) {
      throw new ConnectionError(e.code, e.text, classId, methodId);
    }
    throw e;
  }
}

/** What the heartbeat watch needs of its connection. */
export interface HeartbeatTarget {
  readonly socket: AmqpSocket;
  readonly out: Writer;
  /** A flush is already due (so data will go out and no heartbeat is needed). */
  readonly flushPending: boolean;
  flush(): void;
  /** The peer went silent: tear the connection down. */
  teardown(): void;
}

/**
 * Heartbeats, checked every half interval: a heartbeat frame when nothing was written since the
 * last tick, and the connection is dropped after two intervals without a byte from the peer.
 * Returns the (unref'd) timer for the connection to clear.
 */
export function watchHeartbeats(c: HeartbeatTarget, seconds: number): NodeJS.Timeout {
  let lastRead = 0;
  let lastWritten = 0;
  let silentTicks = 0;
  const t = setInterval(
    () => {
      const s = c.socket;
      if (s.bytesWritten === lastWritten && !c.flushPending) {
        writeHeartbeat(c.out);
        c.flush();
      }
      lastWritten = s.bytesWritten;
      if (s.bytesRead === lastRead) {
        // Two heartbeat intervals of silence: four half-interval ticks.
        if (++silentTicks >= 4) {
          s.destroy();
          c.teardown();
        }
      } else silentTicks = 0;
      lastRead = s.bytesRead;
    },
    (seconds * 1000) / 2,
  );
  t.unref();
  return t;
}

/** "::ffff:127.0.0.1" → "127.0.0.1", as RabbitMQ shows IPv4 peers on a dual-stack listener. */
export function unmapped(addr: string): string {
  return addr.startsWith("::ffff:") ? addr.slice(7) : addr;
}

/** The connection.start a client gets once its protocol header is read. */
export function connectionStart(serverProperties: Record<string, unknown>, socket: AmqpSocket): MethodInit {
  return {
    name: "connection.start",
    versionMajor: 0,
    versionMinor: 9,
    serverProperties: serverProperties as never,
    mechanisms: offeredMechanisms(socket).join(" "),
    locales: "en_US",
  };
}
