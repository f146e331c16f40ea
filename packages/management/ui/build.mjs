#!/usr/bin/env node
// Bundles the management UI (ui/src, TypeScript + preact + uPlot) into dist/ui: index.html,
// app.js and app.css, which the management server reads at start and serves at / and /ui/.
// esbuild does the bundling only; type checking is `tsc -p packages/management/ui` (the root
// build runs both). `node build.mjs --watch` rebuilds on change while working on the UI.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
  writeNotices(result.metafile);
  const sizes = Object.entries(result.metafile.outputs)
    .filter(([f]) => !f.endsWith(".map") && !f.endsWith(".txt"))
    .map(([f, o]) => `${f.split("/").pop()} ${(o.bytes / 1024).toFixed(1)} KiB`);
  console.log(`ui: ${sizes.join(", ")}`);
}

/**
 * The bundle carries code of npm packages (preact, uPlot), whose MIT licences ask that their
 * notice travel with it: dist/ui/THIRD-PARTY-LICENSES.txt lists every package esbuild actually
 * bundled, read from the metafile, with its licence text.
 */
function writeNotices(metafile) {
  const packages = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) packages.add(m[1]);
  }
  const root = join(here, "..", "..", "..");
  const sections = [...packages].sort().map((name) => {
    const dir = [join(here, "..", "node_modules", name), join(root, "node_modules", name)].find(existsSync);
    if (!dir) throw new Error(`ui: cannot find ${name} to copy its licence`);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const file = ["LICENSE", "LICENSE.md", "LICENSE.txt", "license"]
      .map((f) => join(dir, f))
      .find(existsSync);
    if (!file) throw new Error(`ui: ${name} has no licence file`);
    return `${name} ${pkg.version} (${pkg.license})\n\n${readFileSync(file, "utf8").trim()}\n`;
  });
  writeFileSync(join(out, "THIRD-PARTY-LICENSES.txt"), sections.join("\n---\n\n"));
}
