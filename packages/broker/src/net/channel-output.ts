import type { AmqpError, MethodInit } from "@warren/protocol";

/**
 * A channel's side of its connection's output, as the channel's helpers (PublisherConfirms,
 * ReplyOrder) see it: they write frames and ask for a flush, never reach the socket.
 */
export interface ChannelOutput {
  /** False once the channel is closing or closed: what would be written is dropped. */
  readonly open: boolean;
  /** Writes a method frame into the output buffer, without scheduling a flush. */
  writeMethod(m: MethodInit): void;
  /** Asks the connection to flush (and so to call the channel's flushConfirms) soon. */
  scheduleFlush(): void;
  /** Closes the channel with an error raised outside frame handling (a timer, a store callback). */
  fail(err: AmqpError): void;
}
