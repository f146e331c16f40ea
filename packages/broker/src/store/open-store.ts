import { DiskStore, type DiskStoreOptions } from "./disk-store.js";
import { MemoryStore } from "./memory-store.js";
import type { MessageStore } from "./message-store.js";

/** What openStore needs to pick and open a backend; the rest goes to the DiskStore. */
export interface OpenStoreOptions extends DiskStoreOptions {
  /** Where the store keeps its files; undefined: memory only, nothing survives a restart. */
  dataDir: string | undefined;
}

/**
 * The one place that picks a storage backend: a DiskStore in dataDir (locked, recovered) when
 * dataDir is set, else a MemoryStore. Callers use the result through MessageStore, and
 * asDurable() for what only a durable store has.
 */
export async function openStore({ dataDir, ...disk }: OpenStoreOptions): Promise<MessageStore> {
  return dataDir === undefined ? new MemoryStore() : DiskStore.open(dataDir, disk);
}
