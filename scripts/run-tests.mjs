#!/usr/bin/env node
// Runs every test file with node's test runner: unit and integration tests compiled from
// packages/*/src/**/*.test.ts, and the interop suites in interop/ (real clients, real
// broker process). Node 20's --test does not expand globs, so the files are listed here.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function walk(dir, pred, out = []) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e === "node_modules") continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, pred, out);
    else if (pred(p)) out.push(p);
  }
  return out;
}

const only = process.argv.slice(2);
const files = [
  ...readdirSync("packages").flatMap((p) => walk(join("packages", p, "dist"), (f) => f.endsWith(".test.js"))),
  ...walk("interop", (f) => f.endsWith(".test.mjs")),
]
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (files.length === 0) {
  console.error("no test files found");
  process.exit(1);
}
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=2", ...files], { stdio: "inherit" });
process.exit(r.status ?? 1);
