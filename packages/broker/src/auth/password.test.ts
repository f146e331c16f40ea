// Password hashes in RabbitMQ's format: the known answer from RabbitMQ's documentation, the
// sha512 and md5 schemes of older and newer definitions, and refusals.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { checkPassword, hashPassword, isHashingAlgorithm } from "./password.js";

test("sha256: RabbitMQ's documented example (password test12, salt 908DC60A)", () => {
  const hash = "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR";
  assert.equal(
    hashPassword("test12", "rabbit_password_hashing_sha256", Buffer.from("908DC60A", "hex")),
    hash,
  );
  assert.ok(checkPassword("test12", hash));
  assert.ok(!checkPassword("test13", hash));
});

for (const [algorithm, digest] of [
  ["rabbit_password_hashing_sha512", "sha512"],
  ["rabbit_password_hashing_md5", "md5"],
] as const) {
  test(`${algorithm}: base64(salt ‖ ${digest}(salt ‖ password))`, () => {
    const salt = Buffer.from("01020304", "hex");
    const expected = Buffer.concat([salt, createHash(digest).update(salt).update("pässword").digest()]);
    const hash = hashPassword("pässword", algorithm, salt);
    assert.equal(hash, expected.toString("base64"));
    assert.ok(checkPassword("pässword", hash, algorithm));
    assert.ok(!checkPassword("password", hash, algorithm));
    // The same hash read with another scheme does not match.
    assert.ok(!checkPassword("pässword", hash, "rabbit_password_hashing_sha256"));
  });
}

test("unknown schemes and malformed hashes never match", () => {
  const hash = hashPassword("pw");
  assert.ok(!checkPassword("pw", hash, "rabbit_password_hashing_bcrypt"));
  assert.ok(!isHashingAlgorithm("rabbit_password_hashing_bcrypt"));
  assert.ok(!checkPassword("pw", ""));
  assert.ok(!checkPassword("pw", "AAAA"));
  assert.ok(!checkPassword("pw", hash.slice(0, 20)));
  assert.throws(() => hashPassword("pw", "plain"), /unknown password hashing algorithm 'plain'/);
});
