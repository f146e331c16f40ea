import fs from "node:fs";
import path from "node:path";
import type { Logger } from "../logger.js";
import { DiskStore } from "./disk-store.js";

/** The spool's directory inside the data directory. */
const SPOOL_DIR = "transient-spool";

/**
 * Opens the transient spool: a DiskStore where deep queues page out transient messages, so a
 * backlog of them costs disk rather than memory (RabbitMQ 3.12's lazy classic queues do the
 * same). Transient messages must not survive a restart, so the directory is wiped before each
 * open, and the spool writes without fdatasync: nothing in it is ever recovered.
 */
export async function openSpool(dataDir: string, log: Logger): Promise<DiskStore> {
  const dir = path.join(dataDir, SPOOL_DIR);
  await fs.promises.rm(dir, { recursive: true, force: true });
  return DiskStore.open(dir, {
    noSync: true,
    onWarning: (m) => log.warn(`transient spool: ${m}`),
    // Paging then stops (enqueue refuses, so messages stay in memory); the memory alarm
    // remains the backstop.
    onError: (e) =>
      log.error(`transient spool failed: ${e.message}; transient messages stay in memory`, { err: e }),
  });
}
