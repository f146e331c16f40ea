// Permission patterns and the per-channel cache of granted checks (RabbitMQ's
// permission_cache), in process: what a runtime change does to an open channel.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ChannelAccess } from "./channel-access.js";
import { Access, CompiledTopicPermission, compilePattern } from "./permissions.js";
import { UserStore } from "./users.js";

test("patterns: empty matches only the empty name, matching is unanchored, a bad pattern denies", () => {
  assert.ok(compilePattern("").test(""));
  assert.ok(!compilePattern("").test("q"));
  assert.ok(compilePattern("b").test("abc"));
  assert.ok(!compilePattern("^b").test("abc"));
  assert.ok(!compilePattern("(").test("("));
});

test("topic permissions expand {username} and {vhost}", () => {
  const p = new CompiledTopicPermission("t", "^{username}\\.", "^{vhost}$", "alice", "v1");
  assert.ok(p.allows(Access.WRITE, "alice.x"));
  assert.ok(!p.allows(Access.WRITE, "bob.x"));
  assert.ok(p.allows(Access.READ, "v1"));
  assert.ok(!p.allows(Access.READ, "v2"));
});

function setup() {
  const users = new UserStore();
  const user = users.add("u", "pw");
  users.setPermission("u", "v", { configure: "^c", write: "^w|^amq\\.default$", read: "^r" });
  return { users, user, access: new ChannelAccess(user, "v") };
}

const refused = (kind: string, name: string) => ({
  code: 403,
  replyText: `ACCESS_REFUSED - access to ${kind} '${name}' in vhost 'v' refused for user 'u'`,
});

test("configure / write / read per resource kind, with RabbitMQ's reply texts", () => {
  const { access } = setup();
  access.queue(Access.CONFIGURE, "cq");
  access.exchange(Access.WRITE, "wx");
  access.queue(Access.READ, "rq");
  access.publish("");
  assert.throws(() => access.queue(Access.READ, "cq"), refused("queue", "cq"));
  assert.throws(() => access.exchange(Access.CONFIGURE, "wx"), refused("exchange", "wx"));
});

test("a granted check stays granted on its channel; new channels see the change", () => {
  const { users, user, access } = setup();
  access.publish("wx");
  access.queue(Access.READ, "rq");
  users.setPermission("u", "v", { configure: "", write: "", read: "" });
  access.publish("wx");
  access.queue(Access.READ, "rq");
  const fresh = new ChannelAccess(user, "v");
  assert.throws(() => fresh.publish("wx"), refused("exchange", "wx"));
  users.clearPermission("u", "v");
  assert.throws(() => fresh.queue(Access.READ, "rq"), refused("queue", "rq"));
});

test("the cache holds the 12 latest grants; an evicted one is checked again (the publish shortcut too)", () => {
  const { users, access } = setup();
  access.publish("wx");
  for (let i = 0; i < 11; i++) access.queue(Access.READ, `r${i}`);
  users.setPermission("u", "v", { configure: "", write: "", read: "^r" });
  access.publish("wx"); // 12 entries: still cached
  access.queue(Access.READ, "r-last"); // evicts wx
  assert.throws(() => access.publish("wx"), refused("exchange", "wx"));
});

test("the default exchange is checked, and refused, as amq.default", () => {
  const { users, user } = setup();
  users.setPermission("u", "v", { configure: "", write: "^w", read: "" });
  assert.throws(() => new ChannelAccess(user, "v").publish(""), refused("exchange", "amq.default"));
});

test("topic permissions: only exchanges with one are checked; grants are cached per routing key", () => {
  const { users, user, access } = setup();
  users.setTopicPermission("u", "v", { exchange: "t", write: "^ok\\.", read: "^{username}$" });
  access.topic(Access.WRITE, "other", "anything");
  access.topic(Access.WRITE, "t", "ok.1");
  access.topic(Access.READ, "t", "u");
  assert.throws(() => access.topic(Access.WRITE, "t", "no.1"), {
    code: 403,
    replyText: "ACCESS_REFUSED - access to topic 'no.1' in exchange 't' in vhost 'v' refused for user 'u'",
  });
  users.clearTopicPermission("u", "v");
  new ChannelAccess(user, "v").topic(Access.WRITE, "t", "no.1");
});
