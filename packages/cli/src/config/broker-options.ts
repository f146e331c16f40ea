import { readFileSync } from "node:fs";
import type { BrokerOptions, TlsOptions } from "@warren/broker";
import { ConfigError } from "./config-error.js";
import type { ResolvedSettings } from "./resolve-settings.js";

/**
 * The Broker's options from resolved settings (everything but the logger). Combinations that
 * cannot work are refused here, before anything starts, naming the settings involved.
 */
export function brokerOptions(s: ResolvedSettings): BrokerOptions {
  const v = s.values;
  const host = v.host ?? v.port.host;
  return {
    port: v.port.port,
    ...(host ? { host } : {}),
    dataDir: v.dataDir,
    ...(v.definitions ? { definitions: v.definitions } : {}),
    defaults: {
      vhost: v.defaultVhost,
      user: v.defaultUser,
      password: v.defaultPass,
      tags: v.defaultUserTags,
      permissions: {
        configure: v.defaultPermissionConfigure,
        write: v.defaultPermissionWrite,
        read: v.defaultPermissionRead,
      },
    },
    loopbackUsers: v.loopbackUsers,
    diskFreeLimit: v.diskFreeLimit,
    // Only when set: the broker warns about a watermark far above V8's heap limit only when an
    // operator chose it.
    ...(s.sources.memoryHighWatermark !== "default" ? { memoryHighWatermark: v.memoryHighWatermark } : {}),
    maxMessageSize: v.maxMessageSize,
    ...(Number.isFinite(v.maxConnections) ? { maxConnections: v.maxConnections } : {}),
    handshakeTimeoutMs: v.handshakeTimeout,
    heartbeat: v.heartbeat,
    frameMax: v.frameMax,
    channelMax: v.channelMax,
    consumerTimeoutMs: v.consumerTimeout,
    ...tls(s),
  };
}

/** The amqps listener, when a certificate and key are configured; half a configuration is refused. */
function tls(s: ResolvedSettings): { tls?: TlsOptions } {
  const v = s.values;
  const d = s.describe;
  if (!v.tlsCert && !v.tlsKey) {
    // Half a TLS configuration is a mistake worth a refusal, not a silent plaintext-only broker.
    if (v.tlsCa || v.tlsPort || v.tlsVerifyPeer || v.tlsFailIfNoPeerCert)
      throw new ConfigError(`TLS options given without ${d("tlsCert")} and ${d("tlsKey")}`);
    return {};
  }
  if (!v.tlsCert || !v.tlsKey) throw new ConfigError(`TLS needs both ${d("tlsCert")} and ${d("tlsKey")}`);
  // The broker checks these too, but in its option names; say it in the settings' here.
  if (v.tlsFailIfNoPeerCert && !v.tlsVerifyPeer)
    throw new ConfigError(`${d("tlsFailIfNoPeerCert")} needs ${d("tlsVerifyPeer")}`);
  if (v.tlsVerifyPeer && !v.tlsCa) throw new ConfigError(`${d("tlsVerifyPeer")} needs ${d("tlsCa")}`);
  return {
    tls: {
      cert: readFileSync(v.tlsCert),
      key: readFileSync(v.tlsKey),
      ...(v.tlsCa ? { ca: readFileSync(v.tlsCa) } : {}),
      ...(v.tlsPort ? { port: v.tlsPort.port } : {}),
      // --host, else its own address, else all interfaces (not the IP of listeners.tcp.*).
      host: v.host ?? v.tlsPort?.host ?? null,
      verifyPeer: v.tlsVerifyPeer,
      failIfNoPeerCert: v.tlsFailIfNoPeerCert,
    },
  };
}
