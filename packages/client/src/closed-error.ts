/**
 * Raised for an operation on a channel or connection that is closed or closing, and for a
 * connection lost without a close handshake (socket error, missed heartbeats). `cause` holds
 * what closed it, when known: the server's ChannelError or ConnectionError, or the socket error.
 *
 * Server-initiated closes reject the operations in flight with the server's own error
 * (ChannelError / ConnectionError from @warren/protocol, with the reply code); this class is
 * for everything after that, so that callers can tell "the broker refused this" from "this
 * channel was already gone".
 */
export class ClosedError extends Error {
  override name = "ClosedError";
}
