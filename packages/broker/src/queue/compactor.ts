import type { Message } from "../message.js";
import type { MessageList } from "../ring.js";

/** How long a ready message may pin its socket chunk before it is compacted (a tenth of a second of input at most stays pinned). */
const COMPACT_AFTER_MS = 100;

const compactMessage = (m: Message): void => m.compact();

/**
 * Compacts a queue's messages still ready a tenth of a second after they arrived
 * (Message.compact): a message that waits keeps the socket chunk it arrived in alive, but
 * most are delivered sooner and should not pay for a copy. The last `pending` entries of the
 * ready list are the ones pushed since the previous pass (shifts only take from the head).
 */
export class Compactor {
  private pending = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly ready: MessageList<Message>) {}

  /** A message was appended to the ready list (not paged out). */
  pushed(): void {
    if (++this.pending === 1 && !this.timer && !this.stopped) {
      this.timer = setTimeout(this.onTimer, COMPACT_AFTER_MS);
      this.timer.unref();
    }
  }

  /** The queue is gone: no more passes. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    const n = Math.min(this.pending, this.ready.length);
    this.pending = 0;
    if (n > 0) this.ready.forEachTail(n, compactMessage);
  };
}
