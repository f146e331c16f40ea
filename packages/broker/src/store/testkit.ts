// Helpers shared by the store tests (not used by the broker).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Message } from "../message.js";
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
