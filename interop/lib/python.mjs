// Runs Debian's Python (/usr/bin/python3, not whatever python3 is first on PATH) for the interop
// suites, with a clean environment for it (no PYTHONPATH, no .pyc files, unbuffered output).
import { spawn } from "node:child_process";

export const PYTHON = "/usr/bin/python3";

/**
 * Runs python with args; resolves with its exit and output (`out` is stdout and stderr
 * interleaved) once it exits, rejects if it is still running after timeoutMs (it is killed).
 * @param {string[]} args
 * @param {{ env?: Record<string, string>, cwd?: string, timeoutMs?: number }} [opts]
 * @returns {Promise<{ code: number | null, signal: string | null, out: string, stdout: string, stderr: string }>}
 */
export function runPython(args, opts = {}) {
  const env = { ...process.env, PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1", ...opts.env };
  delete env.PYTHONPATH;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const proc = spawn(PYTHON, args, { cwd: opts.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d) => {
      out += d;
      stdout += d;
    });
    proc.stderr.on("data", (d) => {
      out += d;
      stderr += d;
    });
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`python ${args[0]} still running after ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    proc.once("error", reject);
    proc.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, stdout, stderr });
    });
  });
}
