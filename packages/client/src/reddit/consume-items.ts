import type { Channel } from "../channel.js";
import type { Message } from "../message.js";

/** Options of consumeItems(). */
export interface ConsumeItemsOptions {
  /** basic.qos prefetch count (per consumer). Default 1000, as in the seed. */
  prefetchCount?: number;
  /**
   * Reject with requeue, instead of ack, a message for which this returns true once the
   * callback has handled it: the seed's demonstration rejects every "message_0005". Such a
   * message comes straight back (redelivered), over and over while the consumer runs.
   */
  requeueIf?: (message: Message) => boolean;
  /** Stops consuming; consumeItems then resolves. The seed consumes until its process ends. */
  signal?: AbortSignal;
  /** Where to say that an item arrived (the seed prints each message). */
  log?: (line: string) => void;
}

/** Gets each message's body (and the message); may return a promise. */
export type ConsumeItemsCallback = (body: Buffer, message: Message) => unknown;

/**
 * The seed's consume_items(): basic.qos, then basic.consume on `queue`, calling `callback`
 * with one message at a time, in delivery order (a promise from the callback is awaited
 * before the next message is handed over, as pika's blocking consumer does), then acking it
 * (or rejecting it with requeue, see `requeueIf`).
 *
 * It resolves when `signal` aborts or the broker cancels the consumer (its queue was
 * deleted): the consumer is cancelled, the message being handled is finished, and those
 * prefetched but not yet handed to the callback are rejected with requeue. When the callback
 * throws, the seed's exception leaves start_consuming() and ends its process, and the broker
 * requeues what the channel had not acked; here the channel is closed, to the same effect
 * (the failed message and those prefetched after it go back in their places, marked
 * redelivered; the connection manager opens a new channel on next use), and consumeItems
 * rejects with the callback's error. It also rejects if the channel fails or its connection
 * goes (a broker's channel error, a lost or closed connection), and resolves if the channel
 * itself is closed cleanly.
 */
export async function consumeItems(
  channel: Channel,
  queue: string,
  callback: ConsumeItemsCallback,
  opts: ConsumeItemsOptions = {},
): Promise<void> {
  const { prefetchCount = 1000, requeueIf, signal, log } = opts;
  const ch = channel;
  await ch.basicQos(prefetchCount);
  if (signal?.aborted) return;

  let stopping = false;
  let failure: Error | undefined;
  let chain = Promise.resolve();
  let serverCancelled = false;
  let finish!: (err?: Error) => void;
  const finished = new Promise<Error | undefined>((resolve) => {
    finish = (err) => {
      stopping = true;
      failure ??= err;
      resolve(failure);
    };
  });

  const handle = async (m: Message): Promise<void> => {
    if (stopping) {
      // Prefetched but never handed over. After a failure the channel's close returns it.
      if (!failure && ch.isOpen) ch.reject(m, true);
      return;
    }
    log?.(`${queue}: 1 item`);
    try {
      await callback(m.body, m);
      if (!ch.isOpen) return;
      if (requeueIf?.(m)) ch.reject(m, true);
      else ch.ack(m);
    } catch (e) {
      finish(e instanceof Error ? e : new Error(String(e)));
    }
  };

  const onAbort = (): void => finish();
  // channel.close() ends consuming; a failed channel or a gone connection is an error.
  const onClose = (err: Error | undefined): void => finish(err);
  signal?.addEventListener("abort", onAbort, { once: true });
  ch.once("close", onClose);
  try {
    const consumerTag = await ch.basicConsume(queue, (m) => void (chain = chain.then(() => handle(m))), {
      onCancel: () => {
        serverCancelled = true;
        finish();
      },
    });
    const err = await finished;
    if (err) {
      // As when the seed's process dies of the exception: the channel goes, and the broker
      // requeues the failed message and everything prefetched, in their places.
      await ch.close();
      await chain;
      throw err;
    }
    // A channel that closes meanwhile has ended the consumer anyway.
    if (ch.isOpen && !serverCancelled) await ch.basicCancel(consumerTag).catch(() => {});
    // basic.cancel-ok comes after the last delivery: every message is in the chain now.
    await chain;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    ch.off("close", onClose);
  }
}
