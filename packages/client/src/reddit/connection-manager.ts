import { ConnectionError, ReplyCode } from "@warren/protocol";
import type { Channel } from "../channel.js";
import { type Connection, connect } from "../connection.js";
// Through the index: the type's module is an implementation detail of the client.
import type { ConnectOptions } from "../index.js";
import { isRecoverable } from "../kombu/broker-connection.js";
import { parseUrl } from "../url.js";
import { bindingId, type Queues } from "./queues.js";

/** What a ConnectionManager connects to and declares. */
export interface ConnectionManagerOptions {
  /** The broker: an amqp:// URL or connect options. Default amqp://guest:guest@localhost:5672/. */
  url?: string | ConnectOptions;
  /** The direct exchange the bindings are on (the seed's amqp_exchange). Default "reddit_exchange". */
  exchange?: string;
  /** The queues and bindings to declare on each connection. */
  queues: Queues;
  /** Seconds between connection attempts. Default 1, as in the seed. */
  retryDelay?: number;
  /** Failed connection attempts retried before giving up. Default Infinity, as in the seed. */
  maxRetries?: number;
  /** Where "error connecting to amqp …" lines go. Default console.error (the seed prints them). */
  log?: (line: string) => void;
}

/** What has been declared on one connection. */
interface Declared {
  readonly connection: Connection;
  exchange: boolean;
  readonly queues: Set<string>;
  readonly bindings: Set<string>;
  /** Queues.revision when everything in the container was last declared. */
  revision: number;
}

/**
 * reddit's ConnectionManager: one connection and one channel, opened on first use. It
 * connects lazily, retrying every `retryDelay` seconds while the broker cannot be reached
 * (refused, reset, unreachable — the seed's socket.error and IOError; a refused login or
 * vhost is thrown at once, as pika's errors are), then declares the durable direct exchange,
 * every queue and every binding of `queues`, once per connection. Queues or bindings added
 * later are declared on the next getChannel(). A lost connection is replaced on the next
 * getChannel(), and everything is declared again on the new one (the seed declares only
 * once per thread, which leaves queues a restarted broker lost undeclared); a closed
 * channel is replaced by a new one on the same connection.
 *
 * The seed makes it thread-local so that its two threads, the publishing worker and the
 * foreground consumer, never share a connection. Make one ConnectionManager per role for
 * the same effect (Amqp does): a consumer's channel then never waits behind publishes, and
 * a publisher blocked by a broker alarm does not stall acks.
 */
export class ConnectionManager {
  readonly exchange: string;
  readonly queues: Queues;
  private readonly target: ConnectOptions;
  private readonly retryDelay: number;
  private readonly maxRetries: number;
  private readonly log: (line: string) => void;
  private declared: Declared | undefined;
  private channel: Channel | undefined;
  private opening: Promise<Channel> | undefined;
  private closing = false;

  constructor(opts: ConnectionManagerOptions) {
    const url = opts.url ?? "amqp://guest:guest@localhost:5672/";
    this.target = typeof url === "string" ? parseUrl(url) : url;
    this.exchange = opts.exchange ?? "reddit_exchange";
    // Bindings need a named exchange: the default exchange refuses them (403).
    if (this.exchange === "") throw new TypeError("the exchange needs a name");
    this.queues = opts.queues;
    this.retryDelay = opts.retryDelay ?? 1;
    this.maxRetries = opts.maxRetries ?? Number.POSITIVE_INFINITY;
    this.log = opts.log ?? ((line) => console.error(line));
  }

  /** The open connection, if any. */
  get connection(): Connection | undefined {
    const c = this.declared?.connection;
    return c?.isOpen ? c : undefined;
  }

  /** Connects (and declares) if needed; resolves with the connection. */
  async getConnection(): Promise<Connection> {
    return (await this.getChannel()).connection;
  }

  /**
   * The manager's channel, after connecting and declaring as needed. With `reconnect`, the
   * current connection is closed and a new one made first (the seed's get_channel(True)).
   * Concurrent callers share one attempt.
   */
  getChannel(reconnect = false): Promise<Channel> {
    if (this.closing) return Promise.reject(managerClosed());
    if (reconnect) {
      const previous = this.opening ?? Promise.resolve();
      const drop = previous.then(
        () => this.dropConnection(),
        () => this.dropConnection(),
      );
      return this.share(drop.then(() => this.open()));
    }
    if (this.opening) return this.opening;
    const ch = this.channel;
    if (ch?.isOpen && this.declared?.revision === this.queues.revision) return Promise.resolve(ch);
    return this.share(this.open());
  }

  /** Closes the connection; later getChannel() calls reject. */
  async close(): Promise<void> {
    this.closing = true;
    await this.opening?.catch(() => {});
    await this.dropConnection();
  }

  private share(p: Promise<Channel>): Promise<Channel> {
    const shared = p.finally(() => {
      if (this.opening === shared) this.opening = undefined;
    });
    this.opening = shared;
    return shared;
  }

  private async dropConnection(): Promise<void> {
    const c = this.declared?.connection;
    this.declared = undefined;
    this.channel = undefined;
    await c?.close();
  }

  private async open(): Promise<Channel> {
    let d = this.declared;
    if (!d?.connection.isOpen) {
      const connection = await this.connectWithRetry();
      // Losses are seen on the next getChannel(); without a listener they would be thrown.
      connection.on("error", () => {});
      d = this.declared = {
        connection,
        exchange: false,
        queues: new Set(),
        bindings: new Set(),
        revision: -1,
      };
      this.channel = undefined;
    }
    let ch = this.channel;
    if (!ch?.isOpen) {
      ch = await d.connection.createChannel();
      ch.on("error", () => {});
      this.channel = ch;
    }
    if (d.revision !== this.queues.revision) await this.declare(ch, d);
    return ch;
  }

  /** The seed's init_queue(), limited to what this connection has not declared yet. */
  private async declare(ch: Channel, d: Declared): Promise<void> {
    const revision = this.queues.revision;
    if (!d.exchange) {
      await ch.exchangeDeclare(this.exchange, "direct", { durable: true, autoDelete: false });
      d.exchange = true;
    }
    for (const q of this.queues) {
      if (d.queues.has(q.name)) continue;
      await ch.queueDeclare(q.name, { durable: q.durable, exclusive: q.exclusive, autoDelete: q.autoDelete });
      d.queues.add(q.name);
    }
    for (const [queue, key] of this.queues.bindings) {
      const id = bindingId(queue, key);
      if (d.bindings.has(id)) continue;
      await ch.queueBind(queue, this.exchange, key);
      d.bindings.add(id);
    }
    d.revision = revision;
  }

  private async connectWithRetry(): Promise<Connection> {
    for (let attempt = 0; ; attempt++) {
      if (this.closing) throw managerClosed();
      try {
        const c = await connect(this.target);
        if (!this.closing) return c;
        await c.close();
        throw managerClosed();
      } catch (e) {
        if (this.closing || !retryable(e) || attempt >= this.maxRetries) throw e;
        const t = this.target;
        this.log(
          `error connecting to amqp ${t.username ?? "guest"} @ ${t.hostname ?? "localhost"}:${t.port ?? 5672} (${(e as Error).message})`,
        );
        await new Promise((r) => setTimeout(r, this.retryDelay * 1000));
      }
    }
  }
}

/** What calls get once the manager is closed (nothing to retry: not a ClosedError). */
function managerClosed(): Error {
  return new Error("the connection manager is closed");
}

/**
 * Worth another attempt: the broker could not be reached or dropped us (see isRecoverable),
 * but not a refused login or vhost, which the next attempt would meet again.
 */
function retryable(e: unknown): boolean {
  if (
    e instanceof ConnectionError &&
    (e.code === ReplyCode.ACCESS_REFUSED || e.code === ReplyCode.NOT_ALLOWED)
  ) {
    return false;
  }
  return isRecoverable(e);
}
