// The failed-login log: one line per peer per interval, with a count of what it suppressed.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { LogFields } from "../logger.js";
import { LoginFailureLog } from "./login-failures.js";

/** A log on a clock the test moves (`clock.now`), collecting its warnings' messages and fields. */
function logWithClock(maxPeers?: number) {
  const lines: string[] = [];
  const fields: (LogFields | undefined)[] = [];
  const clock = { now: 0 };
  const unexpected = (msg: string) => assert.fail(`a line at another level: ${msg}`);
  const warn = (msg: string, f?: LogFields) => {
    lines.push(msg);
    fields.push(f);
  };
  const log = new LoginFailureLog(
    { warn, error: unexpected, info: unexpected, debug: unexpected },
    1000,
    () => clock.now,
    maxPeers,
  );
  return { lines, fields, clock, log };
}

test("failed logins: one line per peer per interval, then the count of suppressed lines", () => {
  const { lines, fields, clock, log } = logWithClock();
  for (let i = 0; i < 5; i++) log.failed("10.0.0.1", "bob", "PLAIN", "invalid credentials");
  log.failed("10.0.0.2", "eve", "AMQPLAIN", "no such user");
  assert.deepEqual(lines, [
    "login failed for user 'bob' from 10.0.0.1 with mechanism PLAIN: invalid credentials",
    "login failed for user 'eve' from 10.0.0.2 with mechanism AMQPLAIN: no such user",
  ]);
  clock.now = 999;
  log.failed("10.0.0.1", "bob", "PLAIN", "invalid credentials");
  assert.equal(lines.length, 2);
  clock.now = 1000;
  log.failed("10.0.0.1", "bob", "PLAIN", "invalid credentials");
  assert.equal(
    lines[2],
    "login failed for user 'bob' from 10.0.0.1 with mechanism PLAIN: invalid credentials (5 similar lines from this peer suppressed)",
  );
  assert.deepEqual(fields[2], {
    peer: "10.0.0.1",
    user: "bob",
    mechanism: "PLAIN",
    reason: "invalid credentials",
    suppressed: 5,
  });
});

test("the peers remembered are bounded: quiet ones are forgotten first", () => {
  const { lines, clock, log } = logWithClock(2);
  log.failed("a", undefined, "PLAIN", "x");
  log.failed("b", undefined, "PLAIN", "x");
  clock.now = 5000;
  log.failed("c", undefined, "PLAIN", "x");
  log.failed("c", undefined, "PLAIN", "x");
  assert.equal(lines.length, 3);
  assert.equal(lines[2], "login failed from c with mechanism PLAIN: x");
});
