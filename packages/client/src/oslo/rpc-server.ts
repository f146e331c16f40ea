import type { Message } from "../message.js";
import { InvalidTarget, MessageUndeliverable } from "./errors.js";
import type { QueueSpec } from "./queue-consumer.js";
import { type AccessPolicy, type Endpoint, RPCDispatcher } from "./rpc-dispatcher.js";
import { MessageHandlingServer } from "./server.js";
import { Target, type TargetFields } from "./target.js";
import type { Transport } from "./transport.js";
import {
  MsgIdCache,
  type RawMessage,
  serializeRemoteException,
  type Unpacked,
  unpackContext,
  uuidHex,
} from "./wire.js";

/** Options of an RPC server. */
export interface RPCServerOptions {
  /** Which endpoint methods may be called; default: those not starting with "_". */
  accessPolicy?: AccessPolicy;
}

/** Reply queues given up on are skipped for this long (oslo's ObsoleteReplyQueuesCache). */
const OBSOLETE_TTL_MS = 60_000;
const OBSOLETE_SIZE = 200;
/** Pause between attempts to reply to a reply queue that does not exist (yet). */
const REPLY_RETRY_MS = 250;

/**
 * Serves RPC requests to endpoints (oslo's RPCServer), on the queues the rabbit driver
 * listens on: `<topic>` (shared by the topic's servers), `<topic>.<server>` (requests for this
 * server only) and `<topic>_fanout_<uuid>` bound to the `<topic>_fanout` exchange (casts to
 * every server). Requests are acknowledged on receipt, as oslo does, then dispatched
 * concurrently; results and failures go back to the caller's reply queue.
 *
 * @example
 *   const server = getRpcServer(transport, { topic: "compute", server: "host-1" }, [new Calculator()]);
 *   await server.start();
 *   // …
 *   await server.stop();
 *   await server.wait();
 */
export class RPCServer extends MessageHandlingServer {
  readonly target: Target;
  private readonly dispatcher: RPCDispatcher;
  private readonly seen = new MsgIdCache();
  private readonly obsoleteReplyQueues = new Map<string, number>();

  constructor(
    transport: Transport,
    target: Target | TargetFields,
    endpoints: readonly Endpoint[],
    options: RPCServerOptions = {},
  ) {
    super(transport);
    this.target = target instanceof Target ? target : new Target(target);
    if (!this.target.topic || !this.target.server) {
      throw new InvalidTarget("A server's target must have topic and server names specified", this.target);
    }
    this.dispatcher = new RPCDispatcher(endpoints, options.accessPolicy);
  }

  /** @internal */
  protected queues(): QueueSpec[] {
    const { topic, server } = this.target as { topic: string; server: string };
    const c = this.transport.conf;
    const p = this.transport.publisher;
    const exchange = p.topicExchange(this.transport.exchangeFor(this.target.exchange));
    const topicQueue = (name: string): QueueSpec => ({
      queue: name,
      exchange,
      routingKey: name,
      durable: c.amqpDurableQueues,
      autoDelete: c.amqpAutoDelete,
      arguments: {},
    });
    return [
      topicQueue(topic),
      topicQueue(`${topic}.${server}`),
      {
        queue: `${topic}_fanout_${uuidHex()}`,
        exchange: p.fanoutExchange(topic),
        routingKey: topic,
        durable: false,
        autoDelete: false,
        arguments: { "x-expires": c.rabbitTransientQueuesTtl * 1000 },
        deleteOnClose: true,
      },
    ];
  }

  protected async process(m: Message): Promise<void> {
    const data = this.decode(m);
    m.ack();
    const incoming = unpackContext(data);
    if (this.seen.has(incoming.uniqueId)) return;
    this.seen.add(incoming.uniqueId);
    const stopHeartbeats = this.heartbeats(incoming);
    let result: unknown = null;
    let failure: unknown;
    let failed = false;
    try {
      result = (await this.dispatcher.dispatch(data, incoming.ctxt)) ?? null;
    } catch (e) {
      failed = true;
      failure = e;
    } finally {
      stopHeartbeats();
    }
    if (!incoming.msgId || !incoming.replyQ) {
      if (failed) this.report(failure);
      return;
    }
    await this.reply(incoming, {
      result: failed ? null : result,
      failure: failed ? serializeRemoteException(failure) : null,
      ending: true,
    });
  }

  /**
   * Sends a reply; while the reply queue does not exist, tries again every 250 ms for
   * kombu_missing_consumer_retry_timeout seconds, then gives up on that queue for a minute.
   */
  private async reply(incoming: Unpacked, body: RawMessage): Promise<void> {
    const replyQ = incoming.replyQ!;
    const deadline = Date.now() + this.transport.conf.kombuMissingConsumerRetryTimeout * 1000;
    for (;;) {
      if (this.isObsolete(replyQ)) return;
      try {
        await this.transport.publisher.directSend(replyQ, { ...body, _msg_id: incoming.msgId });
        return;
      } catch (e) {
        if (!(e instanceof MessageUndeliverable)) throw e;
        if (Date.now() >= deadline) {
          this.markObsolete(replyQ);
          throw new Error(`reply to ${incoming.msgId} abandoned: reply queue ${replyQ} does not exist`, {
            cause: e,
          });
        }
        await new Promise((r) => setTimeout(r, REPLY_RETRY_MS));
      }
    }
  }

  /**
   * The call-monitor heartbeats a caller asked for with `_timeout`: an empty, non-ending
   * reply every half of it (whole seconds, as oslo) while the method runs.
   */
  private heartbeats(incoming: Unpacked): () => void {
    const interval = Math.trunc(incoming.clientTimeout ?? 0) / 2;
    if (!incoming.msgId || !incoming.replyQ || interval < 1) return () => undefined;
    const timer = setInterval(() => {
      this.transport.publisher
        .directSend(incoming.replyQ!, { result: null, failure: null, ending: false, _msg_id: incoming.msgId })
        .catch(() => clearInterval(timer));
    }, interval * 1000);
    return () => clearInterval(timer);
  }

  private isObsolete(replyQ: string): boolean {
    const until = this.obsoleteReplyQueues.get(replyQ);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.obsoleteReplyQueues.delete(replyQ);
    return false;
  }

  private markObsolete(replyQ: string): void {
    this.obsoleteReplyQueues.set(replyQ, Date.now() + OBSOLETE_TTL_MS);
    if (this.obsoleteReplyQueues.size > OBSOLETE_SIZE) {
      const oldest = this.obsoleteReplyQueues.keys().next().value;
      if (oldest !== undefined) this.obsoleteReplyQueues.delete(oldest);
    }
  }
}

/**
 * An RPC server for endpoints on a target (oslo's get_rpc_server).
 *
 * @param target the topic and the server's name (both required), optionally the exchange
 */
export function getRpcServer(
  transport: Transport,
  target: Target | TargetFields,
  endpoints: readonly Endpoint[],
  options: RPCServerOptions = {},
): RPCServer {
  return new RPCServer(transport, target, endpoints, options);
}
