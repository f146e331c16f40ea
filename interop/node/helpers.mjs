// Small shared helpers for the interop tests (not a test file itself).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A name no other test (or earlier run) uses. */
export const uid = (prefix) => `interop.${prefix}.${randomBytes(4).toString("hex")}`;

/** Rejects if p has not settled within ms. */
export function withTimeout(p, ms, what) {
  let t;
  const timer = new Promise((_, rej) => {
    t = setTimeout(() => rej(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timer]).finally(() => clearTimeout(t));
}

/** Every ready message of a queue, got with no-ack (amqplib). */
export async function drainQueue(ch, q) {
  const out = [];
  for (;;) {
    const m = await ch.get(q, { noAck: true });
    if (!m) return out;
    out.push(m);
  }
}

/** Polls cond() until it is truthy. */
export async function waitFor(cond, ms = 5000, what = "condition") {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * Proves an amqplib connection still works: a fresh channel declares a server-named queue,
 * publishes to it through the default exchange and gets the message back.
 */
export async function assertAmqplibWorks(conn) {
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue("", { exclusive: true });
  const body = randomBytes(16);
  ch.sendToQueue(queue, body);
  let msg = false;
  await waitFor(async () => {
    msg = await ch.get(queue, { noAck: true });
    return msg;
  }, 2000);
  assert.deepEqual(msg.content, body);
  await ch.deleteQueue(queue);
  await ch.close();
}

/** Splits an amqplib server-close error into the fields of the close method. */
export function amqplibClose(err) {
  const m = /with message "(.*)"$/s.exec(err.message);
  return { code: err.code, text: m?.[1], classId: err.classId, methodId: err.methodId };
}

/**
 * Asserts a decoded connection.close / channel.close: reply code, the "NAME - explanation"
 * reply-text format, and the class/method id of the offending method when given.
 */
export function assertClose(close, { code, name, classId, methodId }) {
  assert.equal(close.code, code, `reply code (text: ${close.text})`);
  assert.ok(
    close.text?.startsWith(`${name} - `),
    `reply text "${close.text}" should start with "${name} - "`,
  );
  if (classId !== undefined) assert.deepEqual([close.classId, close.methodId], [classId, methodId]);
}
