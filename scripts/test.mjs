#!/usr/bin/env node
// `npm test`: installs what the tests need when it is missing (npm packages; Debian's Python
// AMQP clients for the interop suites, Chromium for the UI test), then builds and runs every
// test. Arguments are passed on to run-tests.mjs, which keeps the test files whose path
// contains one of them:
//
//   npm test        npm test -- interop/seeds        node scripts/test.mjs interop/seeds
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

// The interop suites run /usr/bin/python3 (not whatever python3 is first on PATH, e.g. a pyenv
// shim without Debian's dist-packages), so that is the interpreter to check. six is imported by
// the oslo.messaging seed and is not a dependency of python3-kombu; oslo_messaging (Debian's
// python3-oslo.messaging) is the Python side of interop/oslo-rpc.test.mjs.
const PYTHON = "/usr/bin/python3";
const PY_MODULES = "pika, kombu, amqp, six, oslo_messaging";
const APT_PACKAGES = [
  "python3",
  "python3-pika",
  "python3-kombu",
  "python3-amqp",
  "python3-six",
  "python3-oslo.messaging",
];

const log = (msg) => console.log(`test-setup: ${msg}`);
const run = (cmd, args, stdio = "inherit") => spawnSync(cmd, args, { stdio }).status === 0;

process.chdir(fileURLToPath(new URL("..", import.meta.url)));

// npm ci when node_modules is absent, or older than package-lock.json (npm writes
// node_modules/.package-lock.json on every install, so its age is that of the install).
function nodeModulesStale() {
  if (!existsSync("node_modules/typescript/package.json")) return true;
  try {
    return statSync("node_modules/.package-lock.json").mtimeMs < statSync("package-lock.json").mtimeMs;
  } catch {
    return true;
  }
}
if (nodeModulesStale()) {
  log("node_modules missing or older than package-lock.json: npm ci");
  if (!run("npm", ["ci", "--no-audit", "--no-fund"])) process.exit(1);
}

const pythonReady = () => run(PYTHON, ["-c", `import ${PY_MODULES}`], "ignore");
// The management UI's test drives Debian's Chromium (interop/ui.test.mjs).
const CHROMIUM = "/usr/bin/chromium";
const chromiumReady = () => existsSync(CHROMIUM);
// The management suites drive the real rabbitmqadmin, which Debian ships in rabbitmq-server.
const RABBITMQADMIN = "/usr/bin/rabbitmqadmin";
const adminReady = () => existsSync(RABBITMQADMIN);
const missing = [
  ...(pythonReady() ? [] : APT_PACKAGES),
  ...(chromiumReady() ? [] : ["chromium"]),
  ...(adminReady() ? [] : ["rabbitmq-server"]),
];
if (missing.length > 0) {
  // apt-get needs root: run it directly as root, else through passwordless sudo (-n never prompts).
  const root = process.getuid?.() === 0;
  const sudo = root ? [] : run("sudo", ["-n", "true"], "ignore") ? ["sudo", "-n"] : null;
  const canApt = run("apt-get", ["--version"], "ignore");
  if (canApt && sudo) {
    log(`missing: apt-get install ${missing.join(" ")}`);
    // env(1) sets DEBIAN_FRONTEND past sudo, which resets the environment. dpkg's chatter on
    // stdout is dropped; apt's errors (stderr) still show.
    const aptGet = (...args) => {
      // RUNLEVEL=1: installing rabbitmq-server (for rabbitmqadmin) does not start its service.
      const cmd = [...sudo, "env", "DEBIAN_FRONTEND=noninteractive", "RUNLEVEL=1", "apt-get", ...args];
      return run(cmd[0], cmd.slice(1), ["ignore", "ignore", "inherit"]);
    };
    if (aptGet("update", "-qq")) {
      aptGet("install", "-y", "-qq", "--no-install-recommends", ...missing);
    }
  }
  // Not fatal: the unit tests still run; the interop suites fail with Python's ImportError,
  // and the UI test skips, saying why.
  if (!pythonReady()) {
    log(
      `cannot import ${PY_MODULES} in ${PYTHON}; install them as root with ` +
        `\`apt-get install ${APT_PACKAGES.join(" ")}\` (the interop suites need them)`,
    );
  }
  if (!chromiumReady()) {
    log(
      `${CHROMIUM} is missing; install it as root with \`apt-get install chromium\` (the UI test needs it)`,
    );
  }
  if (!adminReady()) {
    log(
      `${RABBITMQADMIN} is missing; install it as root with \`apt-get install rabbitmq-server\` (the management suites need it)`,
    );
  }
}

log("building");
if (!run("npm", ["run", "build"])) process.exit(1);
const r = spawnSync(process.execPath, ["scripts/run-tests.mjs", ...process.argv.slice(2)], {
  stdio: "inherit",
});
process.exit(r.status ?? 1);
