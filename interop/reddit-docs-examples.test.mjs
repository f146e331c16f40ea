// The TypeScript examples of docs/reddit-amqp.md (its own harness, interop/lib/docs-examples.mjs; to be merged with docs-examples.test.mjs), compiled under the repository's strict settings and
// run against a broker (a fresh Warren process, or INTEROP_TARGET_URL): each must exit 0
// and print exactly the output the page shows after it. See interop/lib/docs-examples.mjs.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect } from "../packages/client/dist/index.js";
import { startBroker } from "./lib/broker.mjs";
import { compileExamples, examplesOf, runExample } from "./lib/docs-examples.mjs";

/** Pages whose ```ts blocks are programs, and what their examples leave on the broker. */
const PAGES = [
  {
    page: "docs/reddit-amqp.md",
    queues: ["vote_comment_q", "newcomments_q"],
    exchanges: ["reddit_exchange"],
  },
];

let broker;

before(async () => {
  broker = await startBroker();
});

after(async () => {
  await broker?.stop();
});

/** Deletes what the examples declared (an external broker keeps it otherwise). */
async function tidy({ queues, exchanges }) {
  const c = await connect(broker.url);
  for (const q of queues) await (await c.createChannel()).queueDelete(q).catch(() => {});
  for (const x of exchanges) await (await c.createChannel()).exchangeDelete(x).catch(() => {});
  await c.close();
}

for (const spec of PAGES) {
  describe(spec.page, { timeout: 120000 }, () => {
    const examples = examplesOf(spec.page);
    let compiled;

    before(async () => {
      await tidy(spec);
      compiled = compileExamples(spec.page, examples);
    });

    after(async () => {
      compiled?.cleanup();
      if (broker) await tidy(spec);
    });

    it("has examples", () => assert.ok(examples.length > 0));

    examples.forEach((ex, i) => {
      it(`example at line ${ex.line} runs${ex.output === undefined ? "" : " and prints what the page shows"}`, async () => {
        const r = await runExample(compiled.files[i], { AMQP_URL: broker.url });
        assert.equal(r.code, 0, `exit ${r.code}\n--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`);
        if (ex.output !== undefined) assert.equal(r.stdout, ex.output, r.stderr);
      });
    });
  });
}
