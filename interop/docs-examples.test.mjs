// The examples of the docs pages listed below, compiled and run, so that the docs cannot drift
// from the code (interop/lib/docs-examples.mjs): every ```ts block is a module type-checked
// under the repository's strict settings against the built @warren/client; the runnable ones
// (every block of a page with `run: "all"`, else those fenced as ```ts run) are run against a
// broker (a fresh Warren process, or INTEROP_TARGET_URL), must exit 0 and, when a ```text block
// follows, print exactly that. ```python blocks are byte-compiled by /usr/bin/python3.
//
//   node --test interop/docs-examples.test.mjs
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { connect } from "../packages/client/dist/index.js";
import { startBroker } from "./lib/broker.mjs";
import { blocksOf, compileExamples, examplesOf, runExample } from "./lib/docs-examples.mjs";
import { rabbitUrl } from "./lib/oslo-agent.mjs";

/**
 * The pages; `run` says which examples are programs, `env` what they are given, `queues` and
 * `exchanges` what they leave on the broker (deleted before and after).
 */
const PAGES = [
  {
    page: "docs/oslo-rpc.md",
    run: "flagged",
    env: (url) => ({ TRANSPORT_URL: rabbitUrl(url), BROKER_URL: url }),
    queues: [],
    exchanges: [],
  },
  {
    page: "docs/reddit-amqp.md",
    run: "all",
    env: (url) => ({ AMQP_URL: url }),
    queues: ["vote_comment_q", "newcomments_q"],
    exchanges: ["reddit_exchange"],
  },
  {
    page: "docs/kombu.md",
    run: "all",
    env: (url) => ({ AMQP_URL: url }),
    queues: ["kombu_video", "kombu_jobs", "kombu_events", "kombu_tasks"],
    exchanges: ["kombu_media", "kombu_jobs", "kombu_tasks"],
  },
];

const run = promisify(execFile);
let broker;

before(async () => {
  broker = await startBroker();
});

after(async () => {
  await broker?.stop();
});

/** Deletes what the examples declared (an external broker keeps it otherwise). */
async function tidy({ queues, exchanges }) {
  if (queues.length + exchanges.length === 0) return;
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
    });

    after(async () => {
      compiled?.cleanup();
      if (broker) await tidy(spec);
    });

    it(`every TypeScript example compiles (${examples.length})`, () => {
      assert.ok(examples.length > 0);
      compiled = compileExamples(spec.page, examples);
    });

    examples.forEach((ex, i) => {
      if (spec.run !== "all" && !ex.flags.includes("run")) return;
      const what = ex.output === undefined ? "" : " and prints what the page shows";
      it(`the example at line ${ex.line} runs${what}`, async () => {
        assert.ok(compiled, "the examples did not compile");
        const r = await runExample(compiled.files[i], spec.env(broker.url));
        assert.equal(r.code, 0, `exit ${r.code}\n--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`);
        if (ex.output !== undefined) assert.equal(r.stdout, ex.output, r.stderr);
      });
    });

    const python = blocksOf(spec.page).filter((b) => b.lang === "python");
    if (python.length > 0) {
      it(`every Python example byte-compiles (${python.length})`, async () => {
        const dir = compiled?.dir;
        assert.ok(dir, "the examples did not compile");
        for (const b of python) {
          const f = join(dir, `line${b.line}.py`);
          writeFileSync(f, b.text);
          await run("/usr/bin/python3", ["-m", "py_compile", f]);
        }
      });
    }
  });
}
