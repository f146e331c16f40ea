import { ChannelError, unexpectedFrame } from "./errors.js";
import { ClassId, METHOD_IDS, type MethodName, ReplyCode } from "./generated/methods.js";

const EMPTY = Buffer.alloc(0);
/** The property list of a message without properties (flags 0), shared by every such message. */
const NO_PROPERTIES = Buffer.alloc(2);

const IDLE = 0;
const HEADER = 1;
const BODY = 2;

/**
 * Whether an assembled message may keep views into the frames it came from.
 * - "view": properties and a one-frame body are subarrays of the frame buffers (the broker,
 *   which compacts messages that stay; see its Message.compact).
 * - "own": the message never shares memory with a socket chunk: properties are copied, and a
 *   one-frame body too unless its buffer holds nothing but that frame (one the FrameReader
 *   assembled from several chunks, or a chunk that was exactly this frame).
 */
export type ContentRetention = "view" | "own";

/**
 * Content assembly for one channel, as a small state machine: a method with content
 * (basic.publish, basic.deliver, basic.get-ok, basic.return) → one content header frame →
 * body frames until the header's body size has arrived. It enforces the frame order and the
 * size rules with RabbitMQ's reply codes; what the message means is the caller's business.
 *
 * One assembler serves every message of its channel and allocates nothing for a body that
 * arrives in one frame, so the publish hot path costs no object per message.
 */
export class ContentAssembler {
  private state = IDLE;
  private classId = 0;
  private methodId = 0;
  private bodySize = 0;
  private received = 0;
  private buf: Buffer | undefined;
  private properties: Buffer = EMPTY;

  /**
   * @param maxBodySize larger bodies are refused with 406 PRECONDITION_FAILED on the method
   *   that announced them (a channel error, as RabbitMQ's max_message_size).
   */
  constructor(
    private readonly retention: ContentRetention,
    private readonly maxBodySize = Number.MAX_SAFE_INTEGER,
  ) {}

  /** True between a method with content and the last byte of its body. */
  get active(): boolean {
    return this.state !== IDLE;
  }

  /** A method frame arrived: none may come while a message is being assembled. */
  expectMethod(): void {
    if (this.state !== IDLE) {
      throw unexpectedFrame("expected content header for class 60, got non content header frame instead");
    }
  }

  /** A method with content arrived; its header comes next. `method` names it in errors. */
  begin(method: MethodName): void {
    this.expectMethod();
    const ids = METHOD_IDS[method];
    this.classId = ids[0];
    this.methodId = ids[1];
    this.state = HEADER;
  }

  /**
   * A content header frame's payload buf[start, end): class-id u16, weight u16, body-size
   * u64, properties. Returns the body when the message is complete (an empty body), then
   * takeProperties() gives its properties.
   */
  header(buf: Buffer, start: number, end: number): Buffer | undefined {
    if (this.state !== HEADER) throw unexpectedFrame("unexpected content header frame");
    if (end - start < 14) throw unexpectedFrame("content header too short");
    if (buf.readUInt16BE(start) !== ClassId.basic) {
      throw unexpectedFrame("content header for a class other than basic");
    }
    const size = buf.readUInt32BE(start + 4) * 0x100000000 + buf.readUInt32BE(start + 8);
    if (size > this.maxBodySize) {
      this.state = IDLE;
      throw new ChannelError(
        ReplyCode.PRECONDITION_FAILED,
        `message size ${size} is larger than configured max size ${this.maxBodySize}`,
        this.classId,
        this.methodId,
      );
    }
    const props = buf.subarray(start + 12, end);
    this.properties =
      this.retention === "view"
        ? props
        : props.length === 2 && props[0] === 0 && props[1] === 0
          ? NO_PROPERTIES
          : Buffer.from(props);
    this.bodySize = size;
    this.received = 0;
    if (size > 0) {
      this.state = BODY;
      return undefined;
    }
    this.state = IDLE;
    return EMPTY;
  }

  /**
   * A content body frame's payload buf[start, end). Returns the body when the message is
   * complete, then takeProperties() gives its properties.
   */
  bodyFrame(buf: Buffer, start: number, end: number): Buffer | undefined {
    if (this.state !== BODY) throw unexpectedFrame("unexpected content body frame");
    const n = end - start;
    const received = this.received + n;
    if (received > this.bodySize) throw unexpectedFrame("content body longer than its header said");
    if (this.received === 0 && n === this.bodySize) {
      this.state = IDLE;
      return this.retention === "view" || (start === 7 && end === buf.length - 1)
        ? buf.subarray(start, end)
        : Buffer.from(buf.subarray(start, end));
    }
    // Grow with what arrives rather than trusting the declared size: a header may announce
    // 128 MiB and never send it, and thousands of channels may do so at once.
    let b = this.buf;
    if (!b || b.length < received) {
      const grown = Buffer.allocUnsafe(Math.min(this.bodySize, Math.max(received, 2 * (b?.length ?? 0))));
      if (b) b.copy(grown, 0, 0, this.received);
      this.buf = b = grown;
    }
    buf.copy(b, this.received, start, end);
    this.received = received;
    if (received < this.bodySize) return undefined;
    this.buf = undefined;
    this.state = IDLE;
    return b.length > received ? b.subarray(0, received) : b;
  }

  /**
   * The properties of the message just completed. Taking them lets go of the frame buffer
   * they may view, so an idle channel pins no socket chunk.
   */
  takeProperties(): Buffer {
    const p = this.properties;
    this.properties = EMPTY;
    return p;
  }

  /** Drops a message being assembled (its channel closed). */
  reset(): void {
    this.state = IDLE;
    this.buf = undefined;
    this.properties = EMPTY;
  }
}
