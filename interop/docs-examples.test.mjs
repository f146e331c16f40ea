// The examples of the docs pages listed below, compiled and run: every ```ts block is a module
// type-checked with the repository's strict settings against the built @warren/client; a
// ```ts run block is also run against the broker (TRANSPORT_URL=rabbit://…, BROKER_URL=amqp://…)
// and, when a ```text block follows it, must print exactly that. ```python blocks are
// byte-compiled by /usr/bin/python3. Pages join the list once all their examples compile.
//
//   node --test interop/docs-examples.test.mjs
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startBroker } from "./lib/broker.mjs";
import { rabbitUrl } from "./lib/oslo-agent.mjs";

const PAGES = ["docs/oslo-rpc.md"];

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const run = promisify(execFile);
// Inside the repository (the .gitignored tmp/), so that "@warren/client" resolves to the workspace.
const work = join(root, "tmp", `docs-examples-${process.pid}`);
let broker;

/** The fenced blocks of a markdown page: language, flags after it, code, line. */
function blocks(markdown) {
  const out = [];
  const re = /^```(\w+)([^\n]*)\n([\s\S]*?)^```$/gm;
  for (let m; (m = re.exec(markdown));) {
    out.push({
      lang: m[1],
      flags: m[2].trim().split(/\s+/),
      code: m[3],
      line: markdown.slice(0, m.index).split("\n").length,
    });
  }
  return out;
}

before(async () => {
  broker = await startBroker();
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, "package.json"), JSON.stringify({ type: "module" }));
});

after(async () => {
  rmSync(work, { recursive: true, force: true });
  await broker?.stop();
});

for (const page of PAGES) {
  describe(page, () => {
    const all = blocks(readFileSync(join(root, page), "utf8"));
    const ts = all.map((b, i) => ({ ...b, next: all[i + 1] })).filter((b) => b.lang === "ts");
    const dir = join(work, page.replace(/\W/g, "_"));
    const file = (b) => `line${b.line}.ts`;

    test(`every TypeScript example compiles (${ts.length})`, async () => {
      assert.ok(ts.length > 0);
      mkdirSync(dir, { recursive: true });
      for (const b of ts) writeFileSync(join(dir, file(b)), b.code);
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          extends: join(root, "tsconfig.base.json"),
          compilerOptions: { composite: false, declaration: false, declarationMap: false, outDir: "out" },
          include: ["*.ts"],
        }),
      );
      const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
      const r = await run(process.execPath, [tsc, "-p", dir]).catch((e) => e);
      assert.equal(r.code ?? 0, 0, `tsc on the examples of ${page} (file lineN.ts = line N):\n${r.stdout}`);
    });

    for (const b of ts.filter((x) => x.flags.includes("run"))) {
      test(`the example at line ${b.line} runs${b.next?.lang === "text" ? " and prints what the page says" : ""}`, async () => {
        const env = { ...process.env, TRANSPORT_URL: rabbitUrl(broker.url), BROKER_URL: broker.url };
        const r = await run(process.execPath, [join(dir, "out", file(b).replace(/\.ts$/, ".js"))], {
          env,
          timeout: 30_000,
        });
        if (b.next?.lang === "text") assert.equal(r.stdout, b.next.code);
      });
    }

    const py = all.filter((b) => b.lang === "python");
    if (py.length > 0) {
      test(`every Python example byte-compiles (${py.length})`, async () => {
        mkdirSync(dir, { recursive: true });
        for (const b of py) {
          const f = join(dir, `line${b.line}.py`);
          writeFileSync(f, b.code);
          await run("/usr/bin/python3", ["-m", "py_compile", f]);
        }
      });
    }
  });
}
