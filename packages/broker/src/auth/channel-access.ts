import { ChannelError, ReplyCode } from "@warren/protocol";
import { Access } from "./permissions.js";
import type { User } from "./users.js";

/**
 * How many granted checks a channel remembers, as RabbitMQ's ?MAX_PERMISSION_CACHE_SIZE: a
 * resource checked recently on a channel is not checked again there, so a permission change
 * reaches an open channel only for resources it has not used lately (validated on RabbitMQ
 * 3.10.8: revoking write leaves publishes on the channel that already published going through,
 * while a new channel is refused).
 */
const CACHE_SIZE = 12;

const KINDS = ["queue", "exchange"] as const;
/** The resource kinds checked with configure / write / read. */
export type ResourceKind = (typeof KINDS)[number];
const QUEUE = 0;
const EXCHANGE = 1;

/**
 * One channel's access checks for its user in its vhost, with RabbitMQ's per-channel caches
 * of granted checks (one for resources, one for topic routing keys). The caches are rings of
 * fixed arrays and the publish path has a one-entry shortcut, so a check that hits allocates
 * nothing; a miss reads the user's current permissions, which runtime changes replace.
 */
export class ChannelAccess {
  private readonly kinds = new Int8Array(CACHE_SIZE).fill(-1);
  private readonly accesses = new Int8Array(CACHE_SIZE);
  private readonly names: string[] = new Array<string>(CACHE_SIZE).fill("");
  private next = 0;
  private readonly topicAccesses = new Int8Array(CACHE_SIZE).fill(-1);
  private readonly topicExchanges: string[] = new Array<string>(CACHE_SIZE).fill("");
  private readonly topicKeys: string[] = new Array<string>(CACHE_SIZE).fill("");
  private topicNext = 0;
  /** The exchange of the last granted publish while it is still in the cache. */
  private lastPublish: string | undefined;

  constructor(
    private readonly user: User,
    private readonly vhost: string,
  ) {}

  /** 403 unless the user has access on the queue. */
  queue(access: Access, name: string): void {
    this.check(QUEUE, access, name);
  }

  /** 403 unless the user has access on the exchange ("" is checked as amq.default). */
  exchange(access: Access, name: string): void {
    this.check(EXCHANGE, access, name === "" ? "amq.default" : name);
  }

  /** basic.publish: write on the exchange; the hot path, usually one string comparison. */
  publish(exchange: string): void {
    if (exchange === this.lastPublish) return;
    this.exchange(Access.WRITE, exchange);
    this.lastPublish = exchange;
  }

  private check(kind: number, access: Access, name: string): void {
    for (let i = 0; i < CACHE_SIZE; i++) {
      if (this.kinds[i] === kind && this.accesses[i] === access && this.names[i] === name) return;
    }
    if (!this.user.permissions.get(this.vhost)?.allows(access, name)) {
      throw new ChannelError(
        ReplyCode.ACCESS_REFUSED,
        `access to ${KINDS[kind]} '${name}' in vhost '${this.vhost}' refused for user '${this.user.name}'`,
      );
    }
    const i = this.next;
    this.next = (i + 1) % CACHE_SIZE;
    // The evicted entry may be the publish shortcut's: RabbitMQ would check it again.
    if (this.kinds[i] === EXCHANGE && this.accesses[i] === Access.WRITE) {
      const evicted = this.names[i] === "amq.default" ? "" : this.names[i];
      if (evicted === this.lastPublish) this.lastPublish = undefined;
    }
    this.kinds[i] = kind;
    this.accesses[i] = access;
    this.names[i] = name;
  }

  /**
   * Topic permission on a topic exchange: WRITE for a publish's routing key, READ for a
   * binding key. Without a topic permission for the exchange everything is allowed.
   */
  topic(access: Access, exchange: string, routingKey: string): void {
    for (let i = 0; i < CACHE_SIZE; i++) {
      if (
        this.topicAccesses[i] === access &&
        this.topicKeys[i] === routingKey &&
        this.topicExchanges[i] === exchange
      )
        return;
    }
    const p = this.user.topicPermissions.get(this.vhost)?.get(exchange);
    if (p && !p.allows(access, routingKey)) {
      throw new ChannelError(
        ReplyCode.ACCESS_REFUSED,
        `access to topic '${routingKey}' in exchange '${exchange}' in vhost '${this.vhost}' refused for user '${this.user.name}'`,
      );
    }
    const i = this.topicNext;
    this.topicNext = (i + 1) % CACHE_SIZE;
    this.topicAccesses[i] = access;
    this.topicExchanges[i] = exchange;
    this.topicKeys[i] = routingKey;
  }
}
