import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** The hashing RabbitMQ 3.6+ uses for new users, and the default in definitions. */
export const DEFAULT_HASHING = "rabbit_password_hashing_sha256";

/** RabbitMQ's hashing modules (rabbit_password_hashing_*) and the digest each uses. */
const DIGESTS: ReadonlyMap<string, string> = new Map([
  ["rabbit_password_hashing_sha256", "sha256"],
  ["rabbit_password_hashing_sha512", "sha512"],
  // RabbitMQ before 3.6; definitions exported from those still carry it.
  ["rabbit_password_hashing_md5", "md5"],
]);

/** Whether checkPassword knows the algorithm. */
export function isHashingAlgorithm(algorithm: string): boolean {
  return DIGESTS.has(algorithm);
}

/**
 * RabbitMQ's salted hash: base64(salt ‖ digest(salt ‖ password)) with a 4-byte random salt,
 * so hashes from a RabbitMQ definitions export work unchanged.
 */
export function hashPassword(
  password: string,
  algorithm = DEFAULT_HASHING,
  salt: Buffer = randomBytes(4),
): string {
  const digest = DIGESTS.get(algorithm);
  if (!digest) throw new Error(`unknown password hashing algorithm '${algorithm}'`);
  const d = createHash(digest).update(salt).update(password, "utf8").digest();
  return Buffer.concat([salt, d]).toString("base64");
}

/**
 * Whether password matches hash. The digests are compared in constant time; an unknown
 * algorithm or a malformed hash never matches.
 */
export function checkPassword(password: string, hash: string, algorithm = DEFAULT_HASHING): boolean {
  const digest = DIGESTS.get(algorithm);
  if (!digest) return false;
  const raw = Buffer.from(hash, "base64");
  if (raw.length < 5) return false;
  const salt = raw.subarray(0, 4);
  const actual = createHash(digest).update(salt).update(password, "utf8").digest();
  const expected = raw.subarray(4);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
