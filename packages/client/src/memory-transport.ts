import type { Duplex } from "node:stream";

/*
 * memory:// URLs: a real Warren broker embedded in this process, one per name, reached
 * through Broker.connectInProcess() (an in-process byte stream, no socket). The broker
 * package is loaded here, by a dynamic import, the first time a memory:// connection is
 * opened: a process that never uses memory:// never loads it, and @warren/client only
 * declares it as an optional peer dependency.
 */

/** What this module uses of @warren/broker's Broker (structural: the client's types do not name the broker's). */
interface EmbeddedBroker {
  connectInProcess(): Duplex;
  stop(): Promise<void>;
  vhost(name: string): unknown;
  setPermissions(user: string, vhost: string, p: { configure: string; write: string; read: string }): void;
}

interface Embedded {
  broker: EmbeddedBroker;
  addVhost(name: string): void;
}

/** The embedded brokers by name; a promise while one starts, so concurrent connects share it. */
const brokers = new Map<string, Promise<Embedded>>();

/** The broker name of a memory:// URL's host: none and "localhost" are both "default". */
export function memoryBrokerName(host: string): string {
  return host === "" || host === "localhost" ? "default" : host;
}

/**
 * ConnectOptions.transport for memory://name/vhost: the named broker (started on first use)
 * and the vhost (created on first use, with full permissions for guest); then a new
 * in-process connection to it.
 */
export function memoryTransport(name: string, vhost: string): () => Promise<Duplex> {
  return async () => {
    const e = await embedded(name);
    if (e.broker.vhost(vhost) === undefined) {
      e.addVhost(vhost);
      e.broker.setPermissions("guest", vhost, { configure: ".*", write: ".*", read: ".*" });
    }
    return e.broker.connectInProcess();
  };
}

/**
 * Stops the brokers that memory:// URLs started in this process (all, or the one of that
 * name: "default" for memory:// itself) and forgets them: their open connections are closed
 * (320 CONNECTION_FORCED, as when a broker shuts down), their queues and messages dropped; the
 * next memory:// connection starts a new, empty broker. For test teardown, and for a clean
 * slate between tests. The process does not need it to exit: the brokers hold nothing that
 * keeps it alive once their connections are closed.
 *
 * @example
 *   afterEach(() => closeMemoryBrokers());
 */
export async function closeMemoryBrokers(name?: string): Promise<void> {
  const names = name === undefined ? [...brokers.keys()] : [memoryBrokerName(name)];
  const stopping: Promise<void>[] = [];
  for (const n of names) {
    const p = brokers.get(n);
    if (!p) continue;
    brokers.delete(n);
    stopping.push(p.then((e) => e.broker.stop()).catch(() => {}));
  }
  await Promise.all(stopping);
}

function embedded(name: string): Promise<Embedded> {
  let p = brokers.get(name);
  if (!p) {
    p = start();
    brokers.set(name, p);
    // A failed start is not cached: the next attempt tries again.
    p.catch(() => brokers.get(name) === p && brokers.delete(name));
  }
  return p;
}

/**
 * A broker as unit tests want one: no listener, no data directory (messages in memory only,
 * durable or not), silent, no heartbeats (both ends are in one process).
 */
async function start(): Promise<Embedded> {
  let mod: typeof import("@warren/broker");
  try {
    mod = await import("@warren/broker");
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code !== "ERR_MODULE_NOT_FOUND" || !String(e).includes("@warren/broker")) throw e;
    throw new Error("memory:// URLs need the @warren/broker package: npm install @warren/broker", {
      cause: e,
    });
  }
  const broker = new mod.Broker({
    listen: false,
    store: new mod.MemoryStore(),
    log: mod.lineLogger(() => {}),
    heartbeat: 0,
  });
  await broker.start();
  const admin = new mod.BrokerAdmin(broker);
  return { broker, addVhost: (v) => admin.addVhost(v) };
}
