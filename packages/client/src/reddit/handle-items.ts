import type { Channel } from "../channel.js";
import type { Message } from "../message.js";
import { sleep } from "./sleep.js";

/** Options of handleItems(), the seed's keyword arguments. */
export interface HandleItemsOptions {
  /** After the callback returns, ack every outstanding message on the channel. Default true. */
  ack?: boolean;
  /** Most messages in one batch. Default 1. */
  limit?: number;
  /**
   * Fewest messages in one batch: fewer waiting means poll again every `sleepTime` seconds
   * until there are this many, even with `drain`. Default 0.
   */
  minSize?: number;
  /** Return when the queue is empty at the start of a batch, rather than poll on. Default false. */
  drain?: boolean;
  /** Seconds between polls of an empty queue. Default 1. */
  sleepTime?: number;
  /**
   * Stops the loop (an addition: the seed loops until its process ends). handleItems then
   * resolves; messages already fetched for a batch that was not handed to the callback are
   * rejected with requeue.
   */
  signal?: AbortSignal;
  /** Where to say how many items each batch has (the seed prints every batch). */
  log?: (line: string) => void;
}

/** Gets a batch of messages and the channel they came on; may return a promise. */
export type HandleItemsCallback = (items: Message[], channel: Channel) => unknown;

/**
 * The seed's handle_items(): calls `callback` with batches of messages fetched with
 * basic.get, on `channel`, exactly as the seed does:
 *
 * 1. `limit < minSize` throws a RangeError before anything else (the seed's ValueError,
 *    same message; `limit === minSize` is allowed).
 * 2. One basic.get. Nothing there: with `drain`, return; otherwise sleep `sleepTime` and
 *    start again.
 * 3. basic.get again until the batch has `limit` messages. When the queue runs dry: with at
 *    least `minSize` messages the batch is done; with fewer, sleep and keep polling (`drain`
 *    does not end this wait).
 * 4. `callback(items, channel)`. When it returns (or its promise resolves) and `ack` is
 *    set: basic.ack with delivery tag 0 and multiple, which acks every outstanding message
 *    on the channel, including any the callback fetched itself.
 * 5. When it throws (or its promise rejects): basic.reject with requeue for each message of
 *    the batch, then the error is thrown out of handleItems. RabbitMQ puts rejected messages
 *    back in their places, so the batch comes back in order, marked redelivered.
 */
export async function handleItems(
  channel: Channel,
  queue: string,
  callback: HandleItemsCallback,
  opts: HandleItemsOptions = {},
): Promise<void> {
  const { ack = true, limit = 1, minSize = 0, drain = false, sleepTime = 1, signal, log } = opts;
  checkBatchSizes(opts);
  const ch = channel;
  while (!signal?.aborted) {
    const first = await ch.basicGet(queue);
    if (!first) {
      if (drain) return;
      await sleep(sleepTime, signal);
      continue;
    }
    const items = [first];
    while (items.length < limit) {
      if (signal?.aborted) return rejectAll(ch, items);
      const msg = await ch.basicGet(queue);
      if (msg) items.push(msg);
      else if (items.length < minSize) await sleep(sleepTime, signal);
      else break;
    }
    log?.(`${queue}: ${items.length} items`);
    try {
      await callback(items, ch);
      if (ack) ch.ackAll();
    } catch (e) {
      // The seed rejects unconditionally; on a channel that is already gone that would throw
      // a ClosedError over the callback's error, and the broker requeues the batch anyway.
      if (ch.isOpen) rejectAll(ch, items);
      throw e;
    }
  }
}

/** The seed's first check: a RangeError (its ValueError, same words) when limit < minSize. */
export function checkBatchSizes(opts: Pick<HandleItemsOptions, "limit" | "minSize">): void {
  if ((opts.limit ?? 1) < (opts.minSize ?? 0)) throw new RangeError("min_size must be less than limit");
}

/** Explicitly reject (with requeue) the items that were not processed. */
function rejectAll(ch: Channel, items: readonly Message[]): void {
  for (const m of items) ch.reject(m, true);
}
