// The packages as a user gets them: `npm pack` of every workspace package, the tarballs
// installed with `npm install` into a new project outside the repository (under os.tmpdir()),
// a TypeScript example (interop/fixtures/packaging/example.ts) compiled there with strict
// settings by the repository's tsc against the packed declarations, and run: once with an
// embedded @warren/broker, once against the packed `warren server` bin. See docs/packaging.md.
//
//   node --test interop/packaging.test.mjs      (after `npm run build`, which npm test does)
//
// The tarballs hold what dist/ holds when the test runs: a stale file left there by an old
// build shows up as unreachable from the entry points. Third-party dependencies (fastify,
// commander, @types/node) come from npm's cache, or the registry when the cache lacks them.
// Skipped only when npm is not on PATH.
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort, startBroker, waitForPort } from "./lib/broker.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PACKAGES = ["protocol", "broker", "client", "management", "cli"];
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const EXAMPLE = join(ROOT, "interop", "fixtures", "packaging", "example.ts");
const BODY = "hello from a packed @warren/client";

const npmFound = spawnSync("npm", ["--version"], { stdio: "ignore" }).status === 0;
const skip = npmFound ? false : "npm is not on PATH: the packages cannot be packed or installed";

const run = promisify(execFile);
/** Runs a command; on failure the error says what ran and shows its output. */
async function sh(cmd, args, opts = {}) {
  try {
    return await run(cmd, args, { maxBuffer: 64 << 20, timeout: 120_000, ...opts });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${e.code ?? e.signal}):\n${e.stdout}\n${e.stderr}`, {
      cause: e,
    });
  }
}

let work; // the temporary directory: tarballs/ and app/
let app; // the project outside the repository
let packs; // npm pack --json output: [{ name, version, filename, files: [{ path }] }]
const installed = (name) => join(app, "node_modules", name);

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), "warren-packaging-"));
  app = join(work, "app");
  const tarballs = join(work, "tarballs");
  mkdirSync(tarballs);
  mkdirSync(app);
  // --ignore-scripts: pack what the build left in dist/ (no lifecycle script rebuilds it).
  const workspaces = PACKAGES.flatMap((p) => ["--workspace", `packages/${p}`]);
  const { stdout } = await sh(
    "npm",
    ["pack", ...workspaces, "--pack-destination", tarballs, "--json", "--ignore-scripts"],
    { cwd: ROOT },
  );
  packs = JSON.parse(stdout);

  // The project a user would have: the packages (every @warren tarball, since none is on the
  // registry) and @types/node for their declarations' Buffer, EventEmitter, net and tls.
  const typesNode = JSON.parse(readFileSync(join(ROOT, "node_modules/@types/node/package.json"), "utf8"));
  const dependencies = Object.fromEntries(packs.map((p) => [p.name, `file:../tarballs/${p.filename}`]));
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({
      name: "warren-packaging-example",
      private: true,
      type: "module",
      dependencies,
      devDependencies: { "@types/node": typesNode.version },
    }),
  );
  await sh("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: app,
  });
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test("tarballs: dist/ with declarations, sources, README, LICENSE, no tests", { skip }, () => {
  assert.deepEqual(packs.map((p) => p.name).sort(), PACKAGES.map((p) => `@warren/${p}`).sort());
  for (const pack of packs) {
    const files = new Set(pack.files.map((f) => f.path));
    const has = (f) => assert.ok(files.has(f), `${pack.name} lacks ${f}`);
    has("package.json");
    has("README.md");
    has("LICENSE");
    if (pack.name === "@warren/cli") has("dist/main.js");
    else ["dist/index.js", "dist/index.d.ts", "src/index.ts"].forEach(has);
    for (const f of files) {
      assert.doesNotMatch(f, /\.test\.|testkit/, `${pack.name} ships test code: ${f}`);
      assert.match(f, /^(dist|src)\/|^(package\.json|README\.md|LICENSE)$/, `${pack.name}: ${f}`);
      if (f.endsWith(".js") && !f.startsWith("dist/ui/")) has(f.replace(/\.js$/, ".d.ts"));
    }
  }
  const mgmt = packs.find((p) => p.name === "@warren/management").files.map((f) => f.path);
  for (const asset of ["index.html", "app.js", "app.css", "THIRD-PARTY-LICENSES.txt"])
    assert.ok(mgmt.includes(`dist/ui/${asset}`));
});

test("installed: dependencies by version, each package once", { skip }, () => {
  const versions = new Map(packs.map((p) => [p.name, p.version]));
  for (const pack of packs) {
    const pkg = JSON.parse(readFileSync(join(installed(pack.name), "package.json"), "utf8"));
    assert.equal(pkg.license, "MIT");
    assert.equal(pkg.type, "module");
    assert.ok(pkg.engines?.node, `${pack.name}: engines.node`);
    for (const [dep, range] of Object.entries(pkg.dependencies ?? {})) {
      if (versions.has(dep)) assert.equal(range, versions.get(dep), `${pack.name} -> ${dep}`);
      else assert.match(range, /^[\^~]?\d+\.\d+\.\d+$/, `${pack.name} -> ${dep}: ${range}`);
    }
    // A nested copy would mean npm fetched a @warren package from elsewhere than the tarballs.
    const nested = join(installed(pack.name), "node_modules", "@warren");
    assert.ok(!existsSync(nested), `nested @warren in ${pack.name}`);
  }
});

/** The files reached from `entries` by following relative imports (static and dynamic). */
function reachable(pkgName, dir, entries, mapSpecifier = (s) => s) {
  const seen = new Set();
  const queue = entries.map((e) => resolve(dir, e));
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    assert.ok(existsSync(file), `${pkgName}: ${relative(dir, file)} is imported but not packed`);
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g)) {
      queue.push(resolve(dirname(file), mapSpecifier(m[1])));
    }
  }
  return seen;
}

test("installed: every module reachable, every source map's sources there", { skip }, () => {
  for (const pack of packs) {
    const dir = installed(pack.name);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const main = pkg.exports?.["."];
    const code = reachable(pack.name, dir, [main?.default, ...Object.values(pkg.bin ?? {})].filter(Boolean));
    // A module of types only compiles to an empty .js that nothing imports at run time; its
    // declarations are reached from the entry point's.
    const toDts = (s) => s.replace(/\.js$/, ".d.ts");
    const types = main ? reachable(pack.name, dir, [main.types], toDts) : new Set();
    const paths = pack.files.map((f) => f.path).filter((f) => !f.startsWith("dist/ui/"));
    const stale = paths.filter(
      (f) => f.endsWith(".js") && !code.has(join(dir, f)) && !types.has(join(dir, toDts(f))),
    );
    assert.deepEqual(
      stale,
      [],
      `${pack.name}: packed but never imported (stale build output? rebuild dist/)`,
    );
    for (const map of paths.filter((f) => f.endsWith(".map"))) {
      const { sources } = JSON.parse(readFileSync(join(dir, map), "utf8"));
      for (const s of sources) {
        assert.ok(existsSync(resolve(dir, dirname(map), s)), `${pack.name}: ${map} points at missing ${s}`);
      }
    }
  }
});

/** Runs the compiled example (with a broker URL, or embedding one) and returns its JSON line. */
async function runExample(...args) {
  const { stdout } = await sh(process.execPath, [join(app, "dist", "example.js"), ...args], {
    cwd: app,
    timeout: 60_000,
  });
  return JSON.parse(stdout);
}

test("example: strict TypeScript against the packed types, embedded broker", { skip }, async () => {
  copyFileSync(EXAMPLE, join(app, "example.ts"));
  writeFileSync(
    join(app, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2022"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        types: ["node"],
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        // Check the packed .d.ts files too, not only the example's use of them.
        skipLibCheck: false,
        outDir: "dist",
      },
      files: ["example.ts"],
    }),
  );
  await sh(process.execPath, [TSC, "-p", join(app, "tsconfig.json")], { cwd: app });
  assert.deepEqual(await runExample(), {
    body: BODY,
    contentType: "text/plain",
    headers: { attempt: 1 },
    managementUser: "guest",
  });
});

test("the packed warren bin: usage, AMQP, the built management UI", { skip }, async () => {
  const bin = join(app, "node_modules", ".bin", "warren");
  const help = await sh(bin, ["--help"]);
  assert.match(help.stdout, /^usage: warren server/);

  const mgmtPort = await freePort();
  const broker = await startBroker({
    command: [bin],
    args: ["--management-port", String(mgmtPort), "--management-host", "127.0.0.1", "--prometheus-port", "0"],
  });
  try {
    await waitForPort(mgmtPort); // the management API listens after AMQP does
    const page = await fetch(`http://127.0.0.1:${mgmtPort}/`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.doesNotMatch(html, /has not been built/);
    assert.match(html, /<script[^>]+app\.js/);
    const js = await fetch(`http://127.0.0.1:${mgmtPort}/ui/app.js`);
    assert.equal(js.status, 200);
    assert.ok((await js.arrayBuffer()).byteLength > 10_000, "the UI bundle is served");

    assert.ok(existsSync(join(app, "dist", "example.js")), "the previous test compiled the example");
    const out = await runExample(broker.url);
    assert.equal(out.body, BODY);
    assert.equal(out.managementUser, undefined);
  } finally {
    await broker.stop();
  }
});
