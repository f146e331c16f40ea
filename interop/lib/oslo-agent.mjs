// Drives interop/python/oslo_agent.py: one Python process with Debian's oslo.messaging
// (slow to import, so one per suite) that runs RPC servers, clients, notifiers and
// notification listeners on request and reports what its servers and listeners receive.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "..", "python", "oslo_agent.py");
const PYTHON = "/usr/bin/python3";

/** The oslo transport URL (rabbit://…/) of an interop broker URL (amqp://user:pass@host:port). */
export function rabbitUrl(amqpUrl) {
  const u = new URL(amqpUrl);
  const path = u.pathname && u.pathname !== "/" ? u.pathname : "/";
  return `rabbit://${u.username}:${u.password}@${u.host}${path}`;
}

export class PythonAgent {
  /** Everything the agent reported ({ event: "rpc" | "notification", … }), in order. */
  events = [];
  #proc;
  #pending = new Map();
  #nextId = 1;
  #stderr = "";
  #watchers = new Set();

  /** Starts the agent against a transport URL; resolves once oslo.messaging is imported. */
  static async start(transportUrl, timeoutMs = 30_000) {
    const agent = new PythonAgent(transportUrl);
    await agent.waitEvent((e) => e.event === "ready", timeoutMs, "the Python agent to start");
    return agent;
  }

  constructor(transportUrl) {
    const env = { ...process.env, PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" };
    env.OSLO_TRANSPORT_URL = transportUrl;
    delete env.PYTHONPATH;
    this.#proc = spawn(PYTHON, [SCRIPT], { env, stdio: ["pipe", "pipe", "pipe"] });
    this.#proc.stderr.on("data", (d) => {
      // oslo logs every endpoint exception; keep the tail for failure messages.
      this.#stderr = (this.#stderr + d).slice(-20_000);
    });
    createInterface({ input: this.#proc.stdout }).on("line", (line) => this.#onLine(line));
    this.exited = new Promise((resolve) => this.#proc.once("exit", resolve));
    this.exited.then((code) => {
      const err = new Error(`the Python agent exited (${code}):\n${this.#stderr}`);
      for (const p of this.#pending.values()) p.reject(err);
      for (const w of this.#watchers) w.reject(err);
    });
  }

  /** The last lines Python wrote to stderr (oslo's log). */
  get log() {
    return this.#stderr;
  }

  /** Runs one command; resolves with the reply, rejects when the agent reports an error. */
  request(op, args = {}, timeoutMs = 30_000) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`Python agent: no answer to ${op} within ${timeoutMs} ms:\n${this.#stderr}`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => (clearTimeout(t), resolve(v)),
        reject: (e) => (clearTimeout(t), reject(e)),
      });
      this.#proc.stdin.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  /** Resolves with the first reported event (already seen or to come) that pred accepts. */
  waitEvent(pred, timeoutMs = 10_000, what = "an event") {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (e) => (clearTimeout(t), this.#watchers.delete(w), resolve(e)),
        reject: (e) => (clearTimeout(t), this.#watchers.delete(w), reject(e)),
      };
      const t = setTimeout(() => w.reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.#watchers.add(w);
    });
  }

  /** Asks the agent to stop its servers and listeners and exit; kills it if it does not. */
  async stop() {
    if (this.#proc.exitCode !== null) return;
    this.#proc.stdin.end(`${JSON.stringify({ op: "exit" })}\n`);
    const t = setTimeout(() => this.#proc.kill("SIGKILL"), 10_000);
    await this.exited;
    clearTimeout(t);
  }

  #onLine(line) {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      this.#stderr += `${line}\n`;
      return;
    }
    if (msg.id !== undefined) {
      const p = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      if (!p) return;
      if (msg.ok) p.resolve(msg);
      else p.reject(new Error(`Python agent: ${JSON.stringify(msg.error)}\n${msg.trace}`));
      return;
    }
    this.events.push(msg);
    for (const w of this.#watchers) if (w.pred(msg)) w.resolve(msg);
  }
}
