// Starts the broker the interop tests talk to: a real Warren process on a free port with
// a throw-away data directory, or, when INTEROP_TARGET_URL is set (for example a RabbitMQ at
// amqp://guest:guest@localhost:5682), that broker instead, so every test can be checked
// against the reference implementation.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CLI = join(root, "packages", "cli", "dist", "main.js");

/**
 * The JSON log records in a broker's output (`warren server` logs JSON lines when its output
 * is not a terminal); other lines (a Node crash report, say) are left out.
 */
export function logRecords(text) {
  const records = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      records.push(JSON.parse(line));
    } catch {
      // A line still being written.
    }
  }
  return records;
}

/** A free TCP port on loopback. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * `opts.command` starts another program than this checkout's CLI (for example the `warren` bin
 * of an installed package, interop/packaging.test.mjs): its argv before `server`. A test of that
 * program wants that program, so INTEROP_TARGET_URL does not apply then.
 *
 * @param {{ port?: number, dataDir?: string, args?: string[], env?: Record<string,string>,
 *   command?: string[] }} [opts]
 * @returns {Promise<{ url: string, host: string, port: number, dataDir: string|undefined,
 *   proc: import("node:child_process").ChildProcess|undefined, external: boolean,
 *   stop: () => Promise<void>, kill: (signal?: string) => Promise<void> }>}
 */
export async function startBroker(opts = {}) {
  const target = process.env.INTEROP_TARGET_URL;
  if (target && !opts.command) {
    const u = new URL(target);
    return {
      url: target,
      host: u.hostname,
      port: Number(u.port || 5672),
      dataDir: undefined,
      proc: undefined,
      external: true,
      stop: async () => {},
      kill: async () => {},
    };
  }
  const port = opts.port ?? (await freePort());
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "warren-test-"));
  const [program, ...prefix] = opts.command ?? [process.execPath, CLI];
  const proc = spawn(
    program,
    [...prefix, "server", "--port", String(port), "--data-dir", dataDir, ...(opts.args ?? [])],
    {
      stdio: ["ignore", "pipe", "pipe"],
      // The management API and Prometheus endpoint are off unless a test asks for them (their
      // default ports may belong to a RabbitMQ on this machine, and most tests need neither).
      env: { WARREN_MANAGEMENT_PORT: "0", WARREN_PROMETHEUS_PORT: "0", ...process.env, ...(opts.env ?? {}) },
    },
  );
  let log = "";
  proc.stdout.on("data", (d) => {
    log += d;
  });
  proc.stderr.on("data", (d) => {
    log += d;
  });
  const exited = new Promise((resolve) => proc.once("exit", resolve));
  await Promise.race([
    waitForPort(port),
    exited.then((code) => {
      throw new Error(`broker exited with ${code} before listening:\n${log}`);
    }),
  ]);
  const kill = async (signal = "SIGKILL") => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    host: "127.0.0.1",
    port,
    dataDir,
    proc,
    external: false,
    log: () => log,
    kill,
    stop: async () => {
      await kill("SIGTERM");
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
