import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * RabbitMQ's rabbit_password_hashing_sha256: base64(salt ‖ sha256(salt ‖ password)) with a
 * 4-byte random salt, so hashes from a RabbitMQ definitions export work unchanged.
 */
export function hashPassword(password: string, salt: Buffer = randomBytes(4)): string {
  const digest = createHash("sha256").update(salt).update(password, "utf8").digest();
  return Buffer.concat([salt, digest]).toString("base64");
}

export function checkPassword(
  password: string,
  hash: string,
  algorithm = "rabbit_password_hashing_sha256",
): boolean {
  const raw = Buffer.from(hash, "base64");
  if (raw.length < 5) return false;
  const salt = raw.subarray(0, 4);
  const algo =
    algorithm === "rabbit_password_hashing_sha512"
      ? "sha512"
      : algorithm === "rabbit_password_hashing_md5"
        ? "md5"
        : "sha256";
  const digest = createHash(algo).update(salt).update(password, "utf8").digest();
  const expected = raw.subarray(4);
  return digest.length === expected.length && timingSafeEqual(digest, expected);
}
