import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { it } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/*
 * Every ```ts block of docs/client.md is type-checked against the built package, as an ES
 * module of its own (top-level await allowed) that imports "@warren/client" as users do.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** The ```ts blocks of a markdown file, with the line each starts on. */
function examples(file: string): { line: number; code: string }[] {
  const text = readFileSync(file, "utf8");
  const out: { line: number; code: string }[] = [];
  const re = /^```ts\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({ line: text.slice(0, m.index).split("\n").length + 1, code: m[1]! });
  }
  return out;
}

it("docs/client.md: every TypeScript example compiles", () => {
  const doc = join(root, "docs", "client.md");
  const blocks = examples(doc);
  assert.ok(blocks.length >= 5, `only ${blocks.length} examples found`);
  // Virtual files beside the package, so that "@warren/client" resolves through node_modules.
  const files = new Map(blocks.map((b, i) => [join(root, "packages", "client", `docs-example-${i}.mts`), b]));
  // The repository's own compiler options (strict and then some), without output.
  const base = ts.readConfigFile(join(root, "tsconfig.base.json"), (f) => ts.sys.readFile(f));
  const parsed = ts.parseJsonConfigFileContent(base.config, ts.sys, root);
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    composite: false,
    declaration: false,
    declarationMap: false,
    sourceMap: false,
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  const exists = host.fileExists.bind(host);
  const getSource = host.getSourceFile.bind(host);
  host.readFile = (f) => files.get(f)?.code ?? read(f);
  host.fileExists = (f) => files.has(f) || exists(f);
  host.getSourceFile = (f, lang, ...rest) => {
    const b = files.get(f);
    return b ? ts.createSourceFile(f, b.code, lang) : getSource(f, lang, ...rest);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  const problems = ts.getPreEmitDiagnostics(program).map((d) => {
    const b = d.file && files.get(d.file.fileName);
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
    const loc = b ? `docs/client.md:${b.line + where}` : (d.file?.fileName ?? "");
    return `${loc}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });
  assert.deepEqual(problems, []);
});
