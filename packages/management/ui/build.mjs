#!/usr/bin/env node
// Bundles the management UI (ui/src, TypeScript + preact + uPlot) into dist/ui: index.html,
// app.js and app.css, which the management server reads at start and serves at / and /ui/.
// esbuild does the bundling only; type checking is `tsc -p packages/management/ui` (the root
// build runs both). `node build.mjs --watch` rebuilds on change while working on the UI.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "dist", "ui");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
copyFileSync(join(here, "index.html"), join(out, "index.html"));

/** @type {import("esbuild").BuildOptions} */
const options = {
  entryPoints: { app: join(here, "src", "main.tsx") },
  outdir: out,
  bundle: true,
  format: "esm",
  // Browsers of the last few years; nothing is transpiled for older ones.
  target: ["chrome110", "firefox110", "safari16"],
  minify: true,
  sourcemap: "linked",
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "linked",
  logLevel: "warning",
  metafile: true,
};

if (process.argv.includes("--watch")) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log(`ui: watching, writing ${out}`);
} else {
  const result = await esbuild.build(options);
  const sizes = Object.entries(result.metafile.outputs)
    .filter(([f]) => !f.endsWith(".map") && !f.endsWith(".txt"))
    .map(([f, o]) => `${f.split("/").pop()} ${(o.bytes / 1024).toFixed(1)} KiB`);
  console.log(`ui: ${sizes.join(", ")}`);
}
