import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MessageQueue } from "./message-queue.js";
import { Queues } from "./queues.js";

/** The seed's declare_queues(), in TypeScript. */
function declareQueues() {
  const queues = new Queues({
    vote_comment_q: new MessageQueue({ bindToSelf: true }),
    newcomments_q: new MessageQueue(),
  });
  queues.get("vote_comment_q").bind("vote_comment_q_test");
  queues.get("newcomments_q").bind("new_link", "link_text_edited");
  return queues;
}

describe("reddit Queues / MessageQueue DSL", () => {
  it("declare_queues(): the seed's four bindings, the self binding first", () => {
    const queues = declareQueues();
    // The seed prints a set: {('newcomments_q', 'new_link'), ('vote_comment_q',
    // 'vote_comment_q_test'), ('vote_comment_q', 'vote_comment_q'), ('newcomments_q',
    // 'link_text_edited')}; here the order is the order of binding.
    assert.deepEqual(queues.bindings, [
      ["vote_comment_q", "vote_comment_q"],
      ["vote_comment_q", "vote_comment_q_test"],
      ["newcomments_q", "new_link"],
      ["newcomments_q", "link_text_edited"],
    ]);
    assert.deepEqual(
      [...queues].map((q) => q.name),
      ["vote_comment_q", "newcomments_q"],
    );
    assert.equal(queues.size, 2);
    assert.deepEqual(queues.get("newcomments_q").routingKeys, ["new_link", "link_text_edited"]);
    assert.deepEqual(JSON.parse(JSON.stringify(queues)).queues.vote_comment_q, {
      durable: true,
      exclusive: false,
      autoDelete: false,
      bindToSelf: true,
    });
  });

  it("MessageQueue defaults are reddit's: durable, not exclusive, not auto-deleted, no self binding", () => {
    const q = new MessageQueue();
    assert.deepEqual([q.durable, q.exclusive, q.autoDelete, q.bindToSelf], [true, false, false, false]);
    const t = new MessageQueue({ durable: false, exclusive: true, autoDelete: true });
    assert.deepEqual([t.durable, t.exclusive, t.autoDelete], [false, true, true]);
  });

  it("bind() is a set, like `<<` into the shared bindings set, and chains", () => {
    const queues = declareQueues();
    const before = queues.revision;
    queues.get("newcomments_q").bind("new_link").bind("new_link", "link_text_edited");
    assert.equal(queues.bindings.length, 4);
    assert.equal(queues.revision, before, "a repeated binding is not a change");
    queues.get("newcomments_q").bind("comment_deleted");
    assert.equal(queues.bindings.length, 5);
    assert.ok(queues.revision > before);
  });

  it("a key is one key: bind('abc') does not bind 'a', 'b', 'c' as the seed's tup() does on Python 3", () => {
    const queues = new Queues({ q: new MessageQueue() });
    queues.get("q").bind("abc");
    assert.deepEqual(queues.bindings, [["q", "abc"]]);
    assert.throws(() => queues.get("q").bind(["x"] as unknown as string), TypeError);
  });

  it("declare() adds queues later and all share one bindings set", () => {
    const queues = new Queues({ a: new MessageQueue() }).declare({
      b: new MessageQueue({ bindToSelf: true }),
    });
    queues.get("a").bind("k");
    queues.get("b").bind("k");
    assert.deepEqual(queues.bindings, [
      ["b", "b"],
      ["a", "k"],
      ["b", "k"],
    ]);
    assert.ok(queues.has("b"));
    assert.equal(queues.has("c"), false);
  });

  it("refuses what the seed would get wrong silently", () => {
    const loose = new MessageQueue();
    assert.throws(() => loose.bind("k"), /declare the MessageQueue in a Queues container first/);
    assert.throws(() => loose.name, TypeError);
    const queues = new Queues({ a: loose });
    assert.throws(() => queues.declare({ a: new MessageQueue() }), /already declared/);
    assert.throws(() => new Queues({ b: loose }), /already declared as "a"/);
    assert.throws(() => new Queues({ "": new MessageQueue() }), /needs a name/);
    assert.throws(() => new Queues({ x: {} as MessageQueue }), /not a MessageQueue/);
    assert.throws(() => (queues as Queues).get("nope"), /no queue "nope"/);
  });
});
