// Compiles and runs the TypeScript examples of a docs page, so that the docs cannot drift
// from the code: every ```ts block of the page is a module that imports @warren/client; a
// ```text block right after one is the output it must print when run.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * The fenced blocks of a markdown page: language, the words after it ("```ts run" has the flag
 * "run"), text, and the line the fence is on.
 * @param {string} page path from the repository root, e.g. "docs/reddit-amqp.md"
 * @returns {{ lang: string, flags: string[], line: number, text: string }[]}
 */
export function blocksOf(page) {
  const lines = readFileSync(join(root, page), "utf8").split("\n");
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^```(\w+)(.*)$/.exec(lines[i]);
    if (!m) continue;
    const start = i;
    const body = [];
    for (i++; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i]);
    const flags = m[2].trim().split(/\s+/).filter(Boolean);
    blocks.push({ lang: m[1], flags, line: start + 1, text: body.join("\n") + "\n" });
  }
  return blocks;
}

/**
 * The ```ts blocks of a markdown page, each with its flags and the ```text block that follows
 * it (its expected output), if any.
 * @param {string} page path from the repository root, e.g. "docs/reddit-amqp.md"
 * @returns {{ line: number, flags: string[], code: string, output: string | undefined }[]}
 */
export function examplesOf(page) {
  const blocks = blocksOf(page);
  const out = [];
  for (let k = 0; k < blocks.length; k++) {
    const b = blocks[k];
    if (b.lang !== "ts") continue;
    const next = blocks[k + 1];
    out.push({
      line: b.line,
      flags: b.flags,
      code: b.text,
      output: next?.lang === "text" ? next.text : undefined,
    });
  }
  return out;
}

/**
 * Type-checks every example of the page under the repository's strict settings and compiles
 * them to a temporary directory.
 * @returns {{ dir: string, files: string[], cleanup: () => void }} compiled .js paths, in page order
 */
export function compileExamples(page, examples) {
  const dir = mkdtempSync(join(tmpdir(), "warren-docs-"));
  // Module resolution (tsc and node) finds @warren/client and @types/node through this link.
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  const sources = examples.map((e, i) => {
    const name = `example-${i + 1}-line-${e.line}.ts`;
    writeFileSync(join(dir, name), e.code);
    return name;
  });
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      extends: join(root, "tsconfig.base.json"),
      compilerOptions: {
        composite: false,
        declaration: false,
        declarationMap: false,
        sourceMap: false,
        outDir: "out",
      },
      files: sources,
    }),
  );
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  const tsc = spawnSync(
    process.execPath,
    [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", dir],
    {
      encoding: "utf8",
    },
  );
  if (tsc.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the examples of ${page} do not compile:\n${tsc.stdout}${tsc.stderr}`);
  }
  return {
    dir,
    files: sources.map((s) => join(dir, "out", s.replace(/\.ts$/, ".js"))),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Runs one compiled example with node.
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
export function runExample(file, env, ms = 30000) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [file], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    p.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
    p.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    const t = setTimeout(() => p.kill("SIGKILL"), ms);
    p.once("close", (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}
