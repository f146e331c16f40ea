// Helpers shared by the store tests (not used by the broker).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Message } from "../message.js";
import type { DurableStore } from "./durable-store.js";
import type { MessageStore } from "./message-store.js";

/** delivery-mode 2 */
export const PERSISTENT = Buffer.from([0x10, 0x00, 2]);

export function msg(n: number, body = `body-${n}`): Message {
  return new Message("ex", `rk-${n}`, PERSISTENT, Buffer.from(body));
}

export function synced(s: MessageStore): Promise<void> {
  return new Promise((resolve, reject) => s.sync((err?: Error) => (err ? reject(err) : resolve())));
}

export function tmpDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `warren-${tag}-`));
}

/** A copy of dir as a crash would leave it: its files as they are now, no close(), no LOCK. */
export function crashCopy(dir: string, tag: string): string {
  const to = tmpDir(tag);
  for (const f of fs.readdirSync(dir, { withFileTypes: true })) {
    if (f.isFile() && f.name !== "LOCK") fs.copyFileSync(path.join(dir, f.name), path.join(to, f.name));
  }
  return to;
}

/** Body texts of the recovered messages of queue q that `delivered` flags, in queue order. */
export function flaggedBodies(s: DurableStore, q: string, delivered: Map<string, Set<number>>): string[] {
  const d = delivered.get(q) ?? new Set<number>();
  return [...(s.recoverIds().get(q) ?? [])].filter((id) => d.has(id)).map((id) => s.load(id).body.toString());
}
