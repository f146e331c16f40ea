// The TypeScript examples of docs/memory-transport.md, compiled under the repository's strict
// settings and run (see interop/lib/docs-examples.mjs): each must exit 0 and print exactly
// the output the page shows after it. They need no broker: memory:// embeds one in the
// example's own process, and the last example embeds its own.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { compileExamples, examplesOf, runExample } from "./lib/docs-examples.mjs";

const page = "docs/memory-transport.md";

describe(page, { timeout: 120000 }, () => {
  const examples = examplesOf(page);
  let compiled;

  before(() => {
    compiled = compileExamples(page, examples);
  });

  after(() => compiled?.cleanup());

  it("has examples", () => assert.ok(examples.length >= 4));

  examples.forEach((ex, i) => {
    it(`example at line ${ex.line} runs${ex.output === undefined ? "" : " and prints what the page shows"}`, async () => {
      const r = await runExample(compiled.files[i], {});
      assert.equal(r.code, 0, `exit ${r.code}\n--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`);
      if (ex.output !== undefined) assert.equal(r.stdout, ex.output, r.stderr);
    });
  });
});
