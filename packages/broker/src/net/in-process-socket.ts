import type { Socket } from "node:net";
import { Duplex } from "node:stream";

/** The peer address of in-process connections (management views, logs, the loopback check). */
export const IN_PROCESS_ADDRESS = "in-process";

let nextPort = 1;

/** The most a reader gets in one 'data' event: Node's socket read size. */
const READ_SIZE = 64 * 1024;

/**
 * One end of an in-process byte pipe between a client and the broker in the same process
 * (Broker.connectInProcess): what one end writes, the other reads, with no socket and no
 * kernel in between. It offers the few members of net.Socket the broker's Connection uses
 * (addresses, byte counters, setNoDelay, destroySoon), so the broker handles it as a socket.
 *
 * It behaves as a TCP socket does for the code on either side: chunks arrive in a later tick
 * (never inside the writer's write() call, so neither side re-enters the other), a reader
 * that pauses makes the writer's write() return false until it drains, end() on one side
 * ends the other (no half-open state, as net sockets' default), and destroy() on one side
 * closes both. While the pipe is open it keeps the process alive, as an open TCP connection
 * does, and no longer: closing the connection lets the process exit.
 */
export class InProcessSocket extends Duplex {
  /** Bytes handed to the peer (for the heartbeat watch). */
  bytesWritten = 0;
  /** Bytes received from the peer (for the heartbeat watch). */
  bytesRead = 0;
  readonly remoteAddress = IN_PROCESS_ADDRESS;
  readonly localAddress = IN_PROCESS_ADDRESS;
  readonly remotePort: number;
  readonly localPort: number;
  private peer!: InProcessSocket;
  /** The peer's write callback held back while our read buffer is full (backpressure). */
  private held: (() => void) | undefined;
  private keepAlive: NodeJS.Timeout | undefined;

  /** Two connected ends: [client, server]. */
  static pair(): [client: InProcessSocket, server: InProcessSocket] {
    const port = nextPort++;
    const client = new InProcessSocket(port, 0);
    const server = new InProcessSocket(0, port);
    client.peer = server;
    server.peer = client;
    // One ref'd timer per pipe stands in for the socket handle that would keep the process
    // alive; it never fires (the longest delay Node allows) and goes when the pipe closes.
    const t = setInterval(() => {}, 2 ** 31 - 1);
    client.keepAlive = t;
    server.keepAlive = t;
    return [client, server];
  }

  private constructor(localPort: number, remotePort: number) {
    super({ allowHalfOpen: false });
    this.localPort = localPort;
    this.remotePort = remotePort;
  }

  /** net.Socket's; no meaning here (there is no Nagle to turn off). */
  setNoDelay(): this {
    return this;
  }

  /** net.Socket's: destroy once the pending output is written. */
  destroySoon(): void {
    if (this.writableFinished) this.destroy();
    else {
      this.once("finish", () => this.destroy());
      this.end();
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytesWritten += chunk.length;
    process.nextTick(deliver, this.peer, chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    // After the data already on its way (nextTick runs in order).
    process.nextTick(endPeer, this.peer);
    callback();
  }

  override _read(): void {
    const cb = this.held;
    if (!cb) return;
    this.held = undefined;
    cb();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearInterval(this.keepAlive);
    const cb = this.held;
    this.held = undefined;
    cb?.();
    // The peer sees what a TCP peer sees when the other side goes away: what was written
    // before arrives (the deliveries already queued run first), then its end closes.
    process.nextTick(destroyPeer, this.peer);
    callback(error);
  }

  /** @internal A chunk from the peer: into our read buffer; the peer's write completes when we take it. */
  receive(chunk: Buffer, callback: () => void): void {
    if (this.destroyed || this.readableEnded) return callback();
    this.bytesRead += chunk.length;
    // In pieces no bigger than a socket read: a writer's output can be megabytes (a burst of
    // publishes), and handing a reader such a chunk at once measured a third slower end to
    // end than TCP's 64 KiB reads (bigger buffers pinned by the messages sliced from them,
    // longer stretches of work per connection).
    let ok = true;
    if (chunk.length <= READ_SIZE) ok = this.push(chunk);
    else for (let i = 0; i < chunk.length; i += READ_SIZE) ok = this.push(chunk.subarray(i, i + READ_SIZE));
    if (ok) callback();
    else this.held = callback;
  }
}

function deliver(to: InProcessSocket, chunk: Buffer, callback: () => void): void {
  to.receive(chunk, callback);
}

function destroyPeer(to: InProcessSocket): void {
  if (!to.destroyed) to.destroy();
}

function endPeer(to: InProcessSocket): void {
  if (!to.destroyed && !to.readableEnded) to.push(null);
}

/** What the broker's Connection reads and writes: a TCP (or TLS) socket, or an in-process one. */
export type AmqpSocket = Socket | InProcessSocket;
