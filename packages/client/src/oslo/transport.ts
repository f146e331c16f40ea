import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { ConnectOptions } from "../connection-types.js";
import type { Channel } from "../channel.js";
import type { Connection } from "../connection.js";
import { BrokerConnection, isRecoverable, type RetryPolicy } from "../kombu/broker-connection.js";
import { InvalidTransportURL, MessageDeliveryFailure } from "./errors.js";
import { Publisher } from "./publisher.js";
import { ReplyWaiter } from "./reply-waiter.js";
import { parseTransportUrl, type TransportURL } from "./transport-url.js";
import { uuidHex } from "./wire.js";

/**
 * Driver options, named after oslo.messaging's (`[oslo_messaging_rabbit]` and `[DEFAULT]`
 * configuration options, in camelCase) with oslo's defaults. The snake_case names may also be
 * given in the transport URL's query, as oslo allows (`rabbit://host/?amqp_durable_queues=true`);
 * the URL wins over these options.
 */
export interface TransportConfig {
  /** control_exchange: the exchange topics are scoped under unless a target names one. Default "openstack". */
  controlExchange?: string;
  /** rpc_response_timeout: seconds a call waits for its reply unless the client says otherwise. Default 60. */
  rpcResponseTimeout?: number;
  /** amqp_durable_queues: durable topic exchange and queues. Default false. */
  amqpDurableQueues?: boolean;
  /** amqp_auto_delete: auto-delete topic exchange and queues. Default false. */
  amqpAutoDelete?: boolean;
  /** rabbit_transient_queues_ttl: seconds (x-expires) an unused reply or fanout queue lives. Default 1800. */
  rabbitTransientQueuesTtl?: number;
  /** rabbit_qos_prefetch_count: basic.qos of servers and listeners; 0 is unlimited. Default 0. */
  rabbitQosPrefetchCount?: number;
  /** heartbeat_timeout_threshold: AMQP heartbeat in seconds, 0 for none. Default 60. */
  heartbeatTimeoutThreshold?: number;
  /** kombu_missing_consumer_retry_timeout: seconds a server retries a reply to a missing reply queue. Default 60. */
  kombuMissingConsumerRetryTimeout?: number;
  /** rabbit_retry_interval: seconds before the first reconnection attempt. Default 1. */
  rabbitRetryInterval?: number;
  /** rabbit_retry_backoff: seconds added to each further attempt. Default 2. */
  rabbitRetryBackoff?: number;
  /** rabbit_interval_max: longest wait between attempts, in seconds. Default 30. */
  rabbitIntervalMax?: number;
  /** kombu_reconnect_delay: seconds before re-consuming after the broker cancelled a consumer. Default 1. */
  kombuReconnectDelay?: number;
  /** ssl: connect with TLS (amqps). Default false. */
  ssl?: boolean;
  /** Further connect options (TLS certificates, connectionName, …), applied to every host. */
  connectOptions?: ConnectOptions;
}

/** The resolved configuration of a transport: every option with its value. */
export type ResolvedConfig = Required<Omit<TransportConfig, "connectOptions">>;

const DEFAULTS: ResolvedConfig = {
  controlExchange: "openstack",
  rpcResponseTimeout: 60,
  amqpDurableQueues: false,
  amqpAutoDelete: false,
  rabbitTransientQueuesTtl: 1800,
  rabbitQosPrefetchCount: 0,
  heartbeatTimeoutThreshold: 60,
  kombuMissingConsumerRetryTimeout: 60,
  rabbitRetryInterval: 1,
  rabbitRetryBackoff: 2,
  rabbitIntervalMax: 30,
  kombuReconnectDelay: 1,
  ssl: false,
};

/** Query options of the transport URL and the config key each sets. */
const QUERY_OPTIONS: Record<string, keyof ResolvedConfig | "ssl_ca_file" | "ssl_cert_file" | "ssl_key_file"> =
  {
    amqp_durable_queues: "amqpDurableQueues",
    amqp_auto_delete: "amqpAutoDelete",
    rabbit_transient_queues_ttl: "rabbitTransientQueuesTtl",
    rabbit_qos_prefetch_count: "rabbitQosPrefetchCount",
    heartbeat_timeout_threshold: "heartbeatTimeoutThreshold",
    kombu_missing_consumer_retry_timeout: "kombuMissingConsumerRetryTimeout",
    rabbit_retry_interval: "rabbitRetryInterval",
    rabbit_retry_backoff: "rabbitRetryBackoff",
    rabbit_interval_max: "rabbitIntervalMax",
    kombu_reconnect_delay: "kombuReconnectDelay",
    ssl: "ssl",
    ssl_ca_file: "ssl_ca_file",
    ssl_cert_file: "ssl_cert_file",
    ssl_key_file: "ssl_key_file",
  };

/**
 * A messaging transport: one (lazily opened, reconnecting) AMQP connection to the broker of
 * an oslo.messaging transport URL, shared by every client, server, notifier and listener
 * made from it. Get one with getRpcTransport() or getNotificationTransport(); end it with
 * cleanup().
 */
export class Transport {
  /** The parsed transport URL. */
  readonly url: TransportURL;
  /** The configuration in effect: options, then the URL's query, over oslo's defaults. */
  readonly conf: ResolvedConfig;
  /** @internal The kombu-style connection (failover, ensure, revive). */
  readonly connection: BrokerConnection;
  /** @internal The confirm-mode publisher every sender uses. */
  readonly publisher: Publisher;
  private waiter: ReplyWaiter | undefined;

  constructor(url: string, config: TransportConfig = {}) {
    this.url = parseTransportUrl(url);
    const scheme = this.url.transport.split("+")[0];
    if (scheme !== "rabbit" && scheme !== "kombu") {
      throw new InvalidTransportURL(
        url,
        `unsupported driver '${this.url.transport}' (this client speaks AMQP 0-9-1: use rabbit://)`,
      );
    }
    const { connectOptions, ...rest } = config;
    const conf: ResolvedConfig = { ...DEFAULTS, ...definedOnly(rest) };
    const tls: NonNullable<ConnectOptions["tls"]> = { ...connectOptions?.tls };
    for (const [name, value] of Object.entries(this.url.query)) {
      const key = QUERY_OPTIONS[name];
      if (key === undefined) throw new InvalidTransportURL(url, `unsupported option '${name}'`);
      if (key === "ssl_ca_file") tls.ca = readFileSync(value);
      else if (key === "ssl_cert_file") tls.cert = readFileSync(value);
      else if (key === "ssl_key_file") tls.key = readFileSync(value);
      else if (typeof DEFAULTS[key] === "boolean")
        (conf as Record<string, unknown>)[key] = parseBool(url, name, value);
      else (conf as Record<string, unknown>)[key] = parseNumber(url, name, value);
    }
    this.conf = conf;
    const hosts = this.url.hosts.length > 0 ? this.url.hosts : [undefined];
    const vhost = this.url.virtualHost ? this.url.virtualHost : "/";
    const targets: ConnectOptions[] = hosts.map((h) => ({
      protocol: conf.ssl ? "amqps" : "amqp",
      hostname: h?.hostname ?? "localhost",
      // oslo's default port is 5672 with or without ssl.
      port: h?.port ?? 5672,
      username: h?.username ?? "guest",
      password: h?.password ?? "guest",
      vhost,
    }));
    // As oslo names its connections: program:pid:uuid, shown by the broker's management tools.
    const name = `${basename(process.argv[1] ?? "node")}:${process.pid}:${uuidHex()}`;
    this.connection = new BrokerConnection(targets, {
      heartbeat: conf.heartbeatTimeoutThreshold,
      connectionName: name,
      ...connectOptions,
      ...(Object.keys(tls).length > 0 ? { tls } : {}),
      retryPolicy: this.retryPolicy(undefined),
    });
    this.publisher = new Publisher(this);
  }

  /** Exchange of a target: its own, else the control exchange. */
  exchangeFor(exchange: string | undefined): string {
    return exchange ?? this.conf.controlExchange;
  }

  /**
   * kombu's ensure() policy for oslo's `retry`: undefined (or -1) retries forever, 0 never, N
   * at most N times; waits grow from rabbit_retry_interval by rabbit_retry_backoff up to
   * rabbit_interval_max.
   */
  private retryPolicy(retry: number | undefined): RetryPolicy {
    const c = this.conf;
    return {
      ...(retry !== undefined && retry >= 0 ? { maxRetries: retry } : {}),
      intervalStart: c.rabbitRetryInterval,
      intervalStep: c.rabbitRetryBackoff,
      intervalMax: c.rabbitIntervalMax,
    };
  }

  /**
   * @internal Runs fn on the connection as kombu's ensure() does (reconnecting and running it
   * again after a connection failure, per oslo's `retry`); the connection failure left after
   * the last retry becomes a MessageDeliveryFailure, as in oslo.
   */
  async ensure<T>(
    fn: (conn: Connection, ch: Channel) => Promise<T>,
    retry: number | undefined,
    what: string,
  ): Promise<T> {
    try {
      return await this.connection.ensure((ch, conn) => fn(conn, ch), this.retryPolicy(retry));
    } catch (e) {
      if (isRecoverable(e))
        throw new MessageDeliveryFailure(`${what}: ${(e as Error).message}`, { cause: e });
      throw e;
    }
  }

  /** @internal The reply queue's consumer, created on the first call (as oslo does). */
  replyWaiter(): ReplyWaiter {
    this.waiter ??= new ReplyWaiter(this);
    return this.waiter;
  }

  /**
   * Closes the connection. Servers and listeners should be stopped first; calls still
   * waiting for replies fail.
   */
  async cleanup(): Promise<void> {
    this.waiter?.stop();
    this.waiter = undefined;
    await this.connection.close();
  }
}

/** A transport for RPC clients and servers. */
export class RPCTransport extends Transport {}

/** A transport for notifiers and notification listeners. */
export class NotificationTransport extends Transport {}

/**
 * A transport for RPC (oslo's get_rpc_transport).
 *
 * @param url `rabbit://user:pass@host:port/vhost`; several brokers separated by commas fail
 *   over in turn; driver options in the query
 * @example
 *   const transport = getRpcTransport("rabbit://guest:guest@localhost:5672/");
 */
export function getRpcTransport(url: string, config: TransportConfig = {}): RPCTransport {
  return new RPCTransport(url, config);
}

/** A transport for notifications (oslo's get_notification_transport). */
export function getNotificationTransport(url: string, config: TransportConfig = {}): NotificationTransport {
  return new NotificationTransport(url, config);
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** oslo.config's boolean spellings. */
function parseBool(url: string, name: string, v: string): boolean {
  const s = v.toLowerCase();
  if (["true", "1", "on", "yes"].includes(s)) return true;
  if (["false", "0", "off", "no"].includes(s)) return false;
  throw new InvalidTransportURL(url, `option ${name}: not a boolean: ${v}`);
}

function parseNumber(url: string, name: string, v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new InvalidTransportURL(url, `option ${name}: not a non-negative number: ${v}`);
  }
  return n;
}
