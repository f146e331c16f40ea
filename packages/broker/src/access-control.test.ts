// The Broker's runtime access-control API, in process: merging definitions, validation, and
// changes surviving a restart with the durable definitions. (What clients see is in
// interop/node/access-control.test.mjs.)
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { Broker } from "./broker.js";
import { lineLogger } from "./logger.js";

const quiet = { port: 0, host: "127.0.0.1", log: lineLogger(() => {}) };

test("importDefinitions merges: a user imported again keeps its permissions", async () => {
  const b = new Broker(quiet);
  await b.start();
  try {
    b.importDefinitions({
      users: [{ name: "u", password_hash: "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR" }],
      vhosts: [{ name: "v" }],
      permissions: [{ user: "u", vhost: "v", configure: "", write: "^w", read: "^r" }],
    });
    b.importDefinitions({ users: [{ name: "u", password_hash: "x", tags: "management" }] });
    const out = b.exportDefinitions();
    assert.deepEqual(
      out.users?.find((u) => u.name === "u"),
      {
        name: "u",
        password_hash: "x",
        hashing_algorithm: "rabbit_password_hashing_sha256",
        tags: ["management"],
      },
    );
    assert.deepEqual(
      out.permissions?.filter((p) => p.user === "u"),
      [{ user: "u", vhost: "v", configure: "", write: "^w", read: "^r" }],
    );
  } finally {
    await b.stop();
  }
});

test("unknown hashing algorithms, users and vhosts are refused", async () => {
  const b = new Broker(quiet);
  await b.start();
  try {
    assert.throws(
      () => b.importDefinitions({ users: [{ name: "u", password_hash: "x", hashing_algorithm: "bcrypt" }] }),
      /unknown hashing algorithm 'bcrypt'/,
    );
    assert.throws(() => b.putUser("u", { password: "p", hashingAlgorithm: "plain" }), /unknown/);
    assert.throws(() => b.setPermissions("nobody", "/", { configure: "", write: "", read: "" }), /no user/);
    b.putUser("u", { password: "p" });
    assert.throws(() => b.setPermissions("u", "nowhere", { configure: "", write: "", read: "" }), /no vhost/);
    assert.equal(b.deleteUser("nobody"), false);
    assert.equal(b.deleteUser("u"), true);
  } finally {
    await b.stop();
  }
});

test("a definitions file user with an unknown hashing algorithm is loaded with a warning", async () => {
  const lines: string[] = [];
  const b = new Broker({
    ...quiet,
    log: lineLogger((l) => lines.push(l)),
    definitions: {
      users: [{ name: "old", password_hash: "x", hashing_algorithm: "rabbit_password_hashing_crypt" }],
    },
  });
  await b.start();
  await b.stop();
  assert.ok(
    lines.includes(
      "warren: warning: user 'old' has unknown hashing algorithm 'rabbit_password_hashing_crypt' and cannot log in",
    ),
    lines.join("\n"),
  );
});

test("runtime changes are saved with the durable definitions and survive a restart", async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-acl-"));
  try {
    const b = new Broker({ ...quiet, dataDir });
    await b.start();
    b.putUser("ops", { password: "pw", hashingAlgorithm: "rabbit_password_hashing_sha512" });
    b.setPermissions("ops", "/", { configure: "", write: "^a", read: "^b" });
    b.setTopicPermissions("ops", "/", { exchange: "amq.topic", write: "^{username}\\.", read: ".*" });
    b.clearPermissions("guest", "/");
    await new Promise((r) => setTimeout(r, 50)); // the save rides the next group commit
    await b.stop();
    const b2 = new Broker({ ...quiet, dataDir });
    await b2.start();
    const out = b2.exportDefinitions();
    await b2.stop();
    assert.deepEqual(out.permissions, [{ user: "ops", vhost: "/", configure: "", write: "^a", read: "^b" }]);
    assert.deepEqual(out.topic_permissions, [
      { user: "ops", vhost: "/", exchange: "amq.topic", write: "^{username}\\.", read: ".*" },
    ]);
    assert.equal(
      out.users?.find((u) => u.name === "ops")?.hashing_algorithm,
      "rabbit_password_hashing_sha512",
    );
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
