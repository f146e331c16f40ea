import type { BrokerConnection } from "./broker-connection.js";
import { Producer, type ProducerOptions } from "./producer.js";

/** Raised by acquire() when the pool is at its limit and it may not wait, or waited too long. */
export class LimitExceeded extends Error {
  override name = "LimitExceeded";
}

/** Options of acquire(), as kombu's Resource.acquire(block, timeout). */
export interface AcquireOptions {
  /** Wait for a resource to be released when the pool is at its limit. Default false. */
  block?: boolean;
  /** With block: seconds to wait before LimitExceeded. Default: forever. */
  timeout?: number;
}

interface Waiter<T> {
  resolve(r: T): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A bounded pool of resources (kombu's `kombu.resource.Resource`): acquire() hands out a free
 * one, or creates one below the limit, or (with block) waits for a release. Resources are
 * created lazily, kept after release and destroyed by forceCloseAll().
 */
export class Resource<T> {
  private readonly free: T[] = [];
  private readonly busy = new Set<T>();
  private readonly waiters: Waiter<T>[] = [];
  /** Resources being created: they count against the limit. */
  private creating = 0;

  constructor(
    private readonly create: (options: AcquireOptions) => T | Promise<T>,
    private readonly destroy: (resource: T) => unknown,
    /** Most resources at once; undefined for no limit. */
    public limit: number | undefined,
  ) {}

  /** Resources handed out and not released. */
  get inUse(): number {
    return this.busy.size + this.creating;
  }

  /** Resources created and free. */
  get idle(): number {
    return this.free.length;
  }

  /** A free resource, a new one below the limit, or (block) the next one released. */
  async acquire(options: AcquireOptions = {}): Promise<T> {
    const free = this.free.pop();
    if (free !== undefined) {
      this.busy.add(free);
      return free;
    }
    if (this.limit === undefined || this.inUse < this.limit) {
      this.creating++;
      try {
        const r = await this.create(options);
        this.busy.add(r);
        return r;
      } finally {
        this.creating--;
      }
    }
    if (!options.block) return Promise.reject(new LimitExceeded(`pool limit of ${this.limit} reached`));
    return new Promise<T>((resolve, reject) => {
      const w: Waiter<T> = { resolve, reject, timer: undefined };
      if (options.timeout !== undefined) {
        w.timer = setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          reject(new LimitExceeded(`no resource released within ${options.timeout} s (limit ${this.limit})`));
        }, options.timeout * 1000);
      }
      this.waiters.push(w);
    });
  }

  /** Gives a resource back: to the first waiter, else to the free list. */
  release(resource: T): void {
    if (!this.busy.has(resource)) return;
    const w = this.waiters.shift();
    if (w) {
      clearTimeout(w.timer);
      w.resolve(resource);
      return;
    }
    this.busy.delete(resource);
    this.free.push(resource);
  }

  /** Acquires a resource, runs fn with it and releases it (kombu's `with pool.acquire() as r`). */
  async use<R>(fn: (resource: T) => R | Promise<R>, options?: AcquireOptions): Promise<R> {
    const r = await this.acquire(options);
    try {
      return await fn(r);
    } finally {
      this.release(r);
    }
  }

  /** Destroys every resource, free or in use, and fails the waiters. */
  async forceCloseAll(): Promise<void> {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new LimitExceeded("pool closed"));
    }
    const all = [...this.free.splice(0), ...this.busy];
    this.busy.clear();
    await Promise.all(all.map((r) => this.destroy(r)));
  }
}

/** A pool of BrokerConnections cloned from one (kombu's ConnectionPool). */
export class ConnectionPool extends Resource<BrokerConnection> {
  constructor(connection: BrokerConnection, limit?: number) {
    super(
      () => connection.clone(),
      (c) => c.close(),
      limit,
    );
  }
}

/** A pool of Producers, each holding a connection of a ConnectionPool (kombu's ProducerPool). */
export class ProducerPool extends Resource<Producer> {
  constructor(
    readonly connections: ConnectionPool,
    options: ProducerOptions = {},
    limit?: number,
  ) {
    const held = new Map<Producer, BrokerConnection>();
    super(
      async (acquire) => {
        // As in kombu, a producer keeps its connection until the pool closes it.
        const conn = await connections.acquire(acquire);
        const p = new Producer(conn, options);
        held.set(p, conn);
        return p;
      },
      async (p) => {
        await p.close().catch(() => {});
        const c = held.get(p);
        held.delete(p);
        if (c) connections.release(c);
      },
      limit,
    );
  }
}

const limit = { value: 10 as number | undefined };
const connectionPools = new Map<string, ConnectionPool>();
const producerPools = new Map<string, ProducerPool>();
const keyOf = (c: BrokerConnection): string => JSON.stringify(c.urls);

/** The limit of the global pools (kombu's pools.get_limit(); 10 unless set). */
export function getLimit(): number | undefined {
  return limit.value;
}

/**
 * Sets the limit of the global pools (kombu's pools.set_limit). Raising it applies to the
 * existing pools; lowering it needs force. With force the pools are closed (their connections
 * too) and recreated on next use.
 */
export async function setLimit(value: number | undefined, force = false): Promise<void> {
  const lower = value !== undefined && (limit.value === undefined || value < limit.value);
  if (lower && !force && connectionPools.size > 0)
    throw new RangeError(`cannot lower the pool limit to ${value} while pools are in use (use force)`);
  limit.value = value;
  if (lower || force) await resetPools();
  else for (const p of [...connectionPools.values(), ...producerPools.values()]) p.limit = value;
}

/** Closes every global pool (kombu's pools.reset()). */
export async function resetPools(): Promise<void> {
  const all = [...producerPools.values(), ...connectionPools.values()];
  producerPools.clear();
  connectionPools.clear();
  for (const p of all) await p.forceCloseAll();
}

/**
 * kombu's `connections` pool group: `connections.get(conn)` is the pool of connections to
 * conn's brokers, one per distinct URL list, with the global limit.
 *
 * @example
 *   const c = await connections.get(conn).acquire({ block: true, timeout: 5 });
 *   try { await (await c.defaultChannel()).queueDeclare("jobs"); } finally { connections.get(conn).release(c); }
 */
export const connections = {
  get(connection: BrokerConnection): ConnectionPool {
    const key = keyOf(connection);
    let pool = connectionPools.get(key);
    if (!pool) connectionPools.set(key, (pool = new ConnectionPool(connection, limit.value)));
    return pool;
  },
};

/**
 * kombu's `producers` pool group: `producers.get(conn)` is the pool of Producers (default
 * options: JSON, confirms, default exchange) on the connections of `connections.get(conn)`.
 *
 * @example
 *   await producers.get(conn).use((p) => p.publish({ id: 1 }, { routingKey: "jobs" }), { block: true });
 */
export const producers = {
  get(connection: BrokerConnection): ProducerPool {
    const key = keyOf(connection);
    let pool = producerPools.get(key);
    if (!pool)
      producerPools.set(key, (pool = new ProducerPool(connections.get(connection), {}, limit.value)));
    return pool;
  },
};
