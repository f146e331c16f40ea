import type { FieldTable } from "@warren/protocol";
import type { Channel } from "./channel.js";
import type { ExchangeDeclareOptions, QueueDeclareOptions } from "./channel-types.js";

interface ExchangeRecord {
  readonly name: string;
  readonly type: string;
  readonly options: ExchangeDeclareOptions;
}

interface QueueRecord {
  /** The name the application knows: the one it declared, or the server's first choice for "". */
  readonly name: string;
  /** The name on the current connection (a server-named queue gets a new one each time). */
  current: string;
  readonly serverNamed: boolean;
  readonly options: QueueDeclareOptions;
}

/** A binding of a queue or of an exchange. */
export interface BindingRecord {
  readonly kind: "queue" | "exchange";
  /** A queue (by the name the application knows) or an exchange. */
  readonly destination: string;
  readonly source: string;
  readonly routingKey: string;
  readonly arguments: FieldTable;
}

/** Gets a channel to declare on: the same one while it lives, a new one after an error. */
export type ChannelSource = () => Promise<Channel>;

/**
 * What a RecoveringConnection declared, so that it can declare it again on a new
 * connection: exchanges, queues (server-named and exclusive ones included), and bindings of
 * queues and of exchanges, in the order they were made; deletions and unbindings remove
 * them. Passive declarations are checks, not declarations, and are not recorded.
 *
 * A server-named queue gets a new name at each recovery; the application keeps using the
 * first one, which resolveQueue() maps to the current one.
 */
export class TopologyRecorder {
  private readonly exchanges = new Map<string, ExchangeRecord>();
  private readonly queues = new Map<string, QueueRecord>();
  private readonly bindings = new Map<string, BindingRecord>();
  /** Current name → the name the application knows, for server-named queues. */
  private readonly original = new Map<string, string>();

  /** The current name of a queue the application knows by `name`. */
  resolveQueue(name: string): string {
    return this.queues.get(name)?.current ?? name;
  }

  /** The name the application knows for a queue's current name. */
  knownName(current: string): string {
    return this.original.get(current) ?? current;
  }

  /** True when the queue (by the name the application knows) will be declared again. */
  hasQueue(name: string): boolean {
    return this.queues.has(name);
  }

  recordExchange(name: string, type: string, options: ExchangeDeclareOptions): void {
    if (options.passive || name === "") return;
    this.exchanges.set(name, { name, type, options });
  }

  deleteExchange(name: string): void {
    this.exchanges.delete(name);
    for (const [k, b] of this.bindings) {
      if (b.source === name || (b.kind === "exchange" && b.destination === name)) this.bindings.delete(k);
    }
  }

  /** A queue.declare-ok: `requested` is the name asked for ("" for a server-named queue). */
  recordQueue(requested: string, declared: string, options: QueueDeclareOptions): void {
    if (options.passive) return;
    const name = requested === "" ? declared : requested;
    this.queues.set(name, { name, current: declared, serverNamed: requested === "", options });
    if (requested === "") this.original.set(declared, name);
  }

  deleteQueue(name: string): void {
    const q = this.queues.get(name);
    if (q) this.original.delete(q.current);
    this.queues.delete(name);
    for (const [k, b] of this.bindings)
      if (b.kind === "queue" && b.destination === name) this.bindings.delete(k);
  }

  /** A queue.bind or exchange.bind-ok; a queue is named as the application knows it or by its current name. */
  recordBinding(b: BindingRecord): void {
    const r = this.known(b);
    this.bindings.set(bindingKey(r), r);
  }

  deleteBinding(b: BindingRecord): void {
    this.bindings.delete(bindingKey(this.known(b)));
  }

  /** The binding with its queue under the name the application knows. */
  private known(b: BindingRecord): BindingRecord {
    return b.kind === "queue" ? { ...b, destination: this.knownName(b.destination) } : b;
  }

  /**
   * Declares everything again: exchanges, then queues (server-named ones get their new
   * name), then bindings. A failure (say, a queue re-declared elsewhere with other arguments)
   * is reported and the rest carries on, on a new channel if the failure closed this one.
   * Resolves with the queues that were renamed.
   */
  async replay(channel: ChannelSource, onError: (err: Error) => void): Promise<[string, string][]> {
    const renamed: [string, string][] = [];
    const attempt = async (what: string, fn: (ch: Channel) => Promise<void>): Promise<void> => {
      try {
        await fn(await channel());
      } catch (e) {
        const cause = e instanceof Error ? e : new Error(String(e));
        onError(new Error(`recovery could not declare ${what} again: ${cause.message}`, { cause }));
      }
    };
    for (const x of this.exchanges.values()) {
      await attempt(`exchange '${x.name}'`, (ch) => ch.exchangeDeclare(x.name, x.type, x.options));
    }
    for (const q of this.queues.values()) {
      await attempt(`queue '${q.name}'`, async (ch) => {
        const was = q.current;
        if (await this.declare(q, ch)) renamed.push([was, q.current]);
      });
    }
    for (const b of this.bindings.values()) {
      await attempt(`the binding of '${b.destination}' to '${b.source}'`, (ch) =>
        b.kind === "queue"
          ? ch.queueBind(this.resolveQueue(b.destination), b.source, b.routingKey, b.arguments)
          : ch.exchangeBind(b.destination, b.source, b.routingKey, b.arguments),
      );
    }
    return renamed;
  }

  /** Declares q; true when the server gave it a new name. */
  private async declare(q: QueueRecord, ch: Channel): Promise<boolean> {
    const ok = await ch.queueDeclare(q.serverNamed ? "" : q.name, q.options);
    if (ok.queue === q.current) return false;
    this.original.delete(q.current);
    this.original.set(ok.queue, q.name);
    q.current = ok.queue;
    return true;
  }

  /** Declares one queue and its bindings again (after the server cancelled its consumers). */
  async redeclareQueue(name: string, channel: ChannelSource, onError: (err: Error) => void): Promise<void> {
    const q = this.queues.get(name);
    if (!q) return;
    await this.declare(q, await channel());
    for (const b of this.bindings.values()) {
      if (b.kind !== "queue" || b.destination !== name) continue;
      try {
        await (await channel()).queueBind(q.current, b.source, b.routingKey, b.arguments);
      } catch (e) {
        onError(e instanceof Error ? e : new Error(String(e)));
      }
    }
  }
}

function bindingKey(b: BindingRecord): string {
  return JSON.stringify([b.kind, b.destination, b.source, b.routingKey, b.arguments], (_k, v: unknown) =>
    typeof v === "bigint" ? v.toString() : v,
  );
}
