import {
  ChannelError,
  ConnectionError,
  PropertyFlag,
  peekDeliveryMode,
  peekExpiration,
  peekPriority,
  propertiesProblem,
  propertyOffset,
  ReplyCode,
} from "@warren/protocol";

const UNSET = -2;

/** Pinned memory a message may carry beyond twice its size before compact() copies it. */
const COMPACT_SLACK = 4096;

/**
 * A published message as the broker keeps it: routing facts plus the raw property bytes and
 * body exactly as they arrived (usually ranges of the socket's read buffer), so delivery
 * forwards them untouched. One Message is shared by every queue it was routed to. Property fields the broker needs are read lazily from the raw bytes.
 */
export class Message {
  /** Store id, assigned when a store persists the message (0 = memory only). */
  id = 0;
  private mode = UNSET;
  private prio = UNSET;
  private ttl = UNSET;

  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    public rawProps: Buffer,
    public body: Buffer,
  ) {}

  /**
   * Props and body usually are views into the socket chunk they arrived in (64 KiB), so one
   * small message kept in a queue would keep the whole chunk alive. Queues call this for
   * messages still waiting a tenth of a second after they arrived (and for requeued ones):
   * when the message is small next to the memory it pins, props and body move into one
   * buffer of their own size (from Node's pool, for small ones), and the chunk can be
   * collected. Messages delivered at once never pay for the copy.
   */
  compact(): void {
    if (this.packed) return;
    this.packed = true;
    const p = this.rawProps;
    const b = this.body;
    const size = p.length + b.length;
    const pinned = p.buffer === b.buffer ? b.buffer.byteLength : p.buffer.byteLength + b.buffer.byteLength;
    if (pinned <= 2 * size + COMPACT_SLACK) return;
    const copy = Buffer.allocUnsafe(size);
    p.copy(copy, 0);
    b.copy(copy, p.length);
    this.rawProps = copy.subarray(0, p.length);
    this.body = copy.subarray(p.length);
  }

  private packed = false;

  get bodySize(): number {
    return this.body.length;
  }

  /** delivery-mode 2. */
  get persistent(): boolean {
    if (this.mode === UNSET) this.mode = peekDeliveryMode(this.rawProps);
    return this.mode === 2;
  }

  /** The priority property, 0 when absent. */
  get priority(): number {
    if (this.prio === UNSET) this.prio = Math.max(0, peekPriority(this.rawProps));
    return this.prio;
  }

  /**
   * The per-message TTL in ms from the expiration property, -1 when absent; NaN when the
   * property is not valid (see expirationProblem; the channel rejects those at publish).
   */
  get expirationMs(): number {
    if (this.ttl === UNSET) {
      if (this.rawProps.length < 2 || (this.rawProps.readUInt16BE(0) & PropertyFlag.expiration) === 0)
        this.ttl = -1;
      else {
        const s = peekExpiration(this.rawProps) ?? "";
        this.ttl = expirationProblem(s) === undefined ? Number(s) : Number.NaN;
      }
    }
    return this.ttl;
  }
}

/** Largest expiration RabbitMQ accepts (rabbit_misc:check_expiry): ten years in ms. */
const MAX_EXPIRATION_MS = 315360000000n;

/**
 * Why an expiration property is invalid, in the words of RabbitMQ's rabbit_basic:parse_expiration
 * (an optionally signed decimal integer, 0 to ten years), or undefined when it is valid.
 */
export function expirationProblem(s: string): string | undefined {
  const m = /^([+-]?\d+)([\s\S]*)$/.exec(s);
  if (!m) return "no_integer";
  if (m[2] !== "") return `{leftover_string,${JSON.stringify(m[2])}}`;
  const n = BigInt(m[1]!);
  if (n < 0n) return `{value_negative,${n}}`;
  if (n > MAX_EXPIRATION_MS) return `{value_too_large,${n}}`;
  return undefined;
}

/**
 * A message as a client published it, checked as RabbitMQ checks it at publish, in its
 * order: properties that parse (an unknown field type, a length past the end: 541 on the
 * connection, as RabbitMQ decodes them there), so that nothing reading the stored message
 * later (dead-lettering in a timer, recovery, another client's basic.get) can meet them; then
 * a valid expiration and a user-id that is the authenticated user (406 on the channel).
 */
export function publishedMessage(
  exchange: string,
  routingKey: string,
  props: Buffer,
  body: Buffer,
  user: string,
): Message {
  const problem = propertiesProblem(props);
  if (problem !== undefined) {
    throw new ConnectionError(ReplyCode.INTERNAL_ERROR, `invalid content header properties: ${problem}`);
  }
  const msg = new Message(exchange, routingKey, props, body);
  if (Number.isNaN(msg.expirationMs)) {
    const given = peekExpiration(props) ?? "";
    throw new ChannelError(
      ReplyCode.PRECONDITION_FAILED,
      `invalid expiration '${given}': ${expirationProblem(given)}`,
    );
  }
  const o = propertyOffset(props, PropertyFlag.userId);
  if (o >= 0) {
    const given = props.toString("utf8", o + 1, o + 1 + props[o]!);
    if (given !== user) {
      throw new ChannelError(
        ReplyCode.PRECONDITION_FAILED,
        `user_id property set to '${given}' but authenticated user was '${user}'`,
      );
    }
  }
  return msg;
}
