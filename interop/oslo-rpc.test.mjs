// oslo.messaging interop: the `oslo` namespace of @warren/client against Python's oslo.messaging
// (Debian's python3-oslo.messaging 14, rabbit driver, run with /usr/bin/python3 through
// interop/python/oslo_agent.py), both on the broker: a Python-only baseline, then RPC call,
// directed call, cast and fanout cast in both directions, remote exceptions, namespaces and
// versions, timeouts, call-monitor heartbeats, notifications in both directions, and the
// messages and declarations on the wire compared with Python's own.
//
//   node --test interop/oslo-rpc.test.mjs                    (a fresh Warren broker)
//   INTEROP_TARGET_URL=amqp://guest:guest@localhost:5682 \
//   MANAGEMENT_TARGET_URL=http://localhost:15672 node --test interop/oslo-rpc.test.mjs
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { connect, oslo } from "@warren/client";
import { startManagedBroker } from "./lib/management.mjs";
import { PythonAgent, rabbitUrl } from "./lib/oslo-agent.mjs";
import { sleep, waitFor } from "./node/helpers.mjs";

const run = randomBytes(3).toString("hex");
const PY_TOPIC = `oslo-py-${run}`;
const TS_TOPIC = `oslo-ts-${run}`;
const PY_NOTIFY = `notify-py-${run}`;
const TS_NOTIFY = `notify-ts-${run}`;
const PRIORITIES = ["audit", "debug", "info", "warn", "error", "critical", "sample"];

let broker;
let http;
let agent;
let transport;
let notifyTransport;
let amqp;
const tsServers = [];
/** What the TypeScript servers' record() and the TypeScript listener received. */
const tsRpc = [];
const tsNotifications = [];

/** The TypeScript servers' endpoint: the same methods as the Python agent's TestEndpoint. */
class TestEndpoint {
  constructor(name) {
    this.name = name;
  }
  echo(ctxt, kwargs) {
    return { server: this.name, ctxt, kwargs };
  }
  record(ctxt, kwargs) {
    tsRpc.push({ server: this.name, ctxt, kwargs });
  }
  add(_ctxt, { a, b }) {
    return a + b;
  }
  fail(_ctxt, { message }) {
    throw new TypeError(message);
  }
  /** A Python builtin by name and module: a Python caller rebuilds a real ValueError. */
  failAsValueError(_ctxt, { message }) {
    throw Object.assign(new Error(message), { name: "ValueError", module: "builtins" });
  }
  async slow(_ctxt, { seconds }) {
    await sleep(seconds * 1000);
    return this.name;
  }
  _private() {
    return "private";
  }
}

class CalcEndpoint {
  target = new oslo.Target({ namespace: "calc", version: "2.3" });
  multiply(_ctxt, { a, b }) {
    return a * b;
  }
}

const tsListenerEndpoint = Object.fromEntries(
  PRIORITIES.map((p) => [
    p,
    (ctxt, publisherId, eventType, payload, metadata) =>
      void tsNotifications.push({ priority: p, ctxt, publisherId, eventType, payload, metadata }),
  ]),
);

before(async () => {
  ({ broker, http } = await startManagedBroker());
  const url = rabbitUrl(broker.url);
  const agentStarted = PythonAgent.start(url);
  transport = oslo.getRpcTransport(url);
  notifyTransport = oslo.getNotificationTransport(url);
  amqp = await connect(broker.url);
  for (const name of ["ts-a", "ts-b"]) {
    const s = oslo.getRpcServer(transport, { topic: TS_TOPIC, server: name }, [
      new TestEndpoint(name),
      new CalcEndpoint(),
    ]);
    await s.start();
    tsServers.push(s);
  }
  const listener = oslo.getNotificationListener(
    notifyTransport,
    [{ topic: TS_NOTIFY }],
    [tsListenerEndpoint],
  );
  await listener.start();
  tsServers.push(listener);
  agent = await agentStarted;
  await Promise.all([
    agent.request("server", { topic: PY_TOPIC, server: "py-a" }),
    agent.request("server", { topic: PY_TOPIC, server: "py-b" }),
    agent.request("listener", { name: "py-listener", topics: [PY_NOTIFY] }),
  ]);
});

after(async () => {
  await agent?.stop();
  for (const s of tsServers) {
    await s.stop();
    await s.wait();
  }
  await transport?.cleanup();
  await notifyTransport?.cleanup();
  if (broker?.external && amqp) {
    // oslo never deletes topic and notification queues; a shared broker should not keep ours.
    const ch = await amqp.createChannel();
    const names = [
      PY_TOPIC,
      `${PY_TOPIC}.py-a`,
      `${PY_TOPIC}.py-b`,
      TS_TOPIC,
      `${TS_TOPIC}.ts-a`,
      `${TS_TOPIC}.ts-b`,
    ];
    for (const t of [PY_NOTIFY, TS_NOTIFY]) names.push(...PRIORITIES.map((p) => `${t}.${p}`));
    for (const q of names) await ch.queueDelete(q);
    await ch.close();
  }
  await amqp?.close();
  await broker?.stop();
});

/** A channel with an exclusive queue named `topic`, bound to the topic on the control exchange. */
async function bindQueue(topic) {
  const ch = await amqp.createChannel();
  await ch.exchangeDeclare("openstack", "topic");
  await ch.queueDeclare(topic, { exclusive: true });
  await ch.queueBind(topic, "openstack", topic);
  return ch;
}

/** A token that tells this call's events from the others'. */
const token = () => randomBytes(4).toString("hex");

describe("baseline: Python client, Python server", () => {
  test("call, directed call, fanout cast, exception, timeout, notification", async () => {
    const call = (args) => agent.request("call", { topic: PY_TOPIC, timeout: 10, ...args });
    assert.equal((await call({ method: "add", kwargs: { a: 1, b: 2 } })).result, 3);
    assert.equal((await call({ method: "echo", server: "py-b" })).result.server, "py-b");
    const all = token();
    await agent.request("cast", { topic: PY_TOPIC, method: "record", fanout: true, kwargs: { token: all } });
    for (const server of ["py-a", "py-b"]) {
      await agent.waitEvent(
        (e) => e.kwargs?.token === all && e.server === server,
        10_000,
        `fanout at ${server}`,
      );
    }
    const failed = await call({ method: "fail", kwargs: { message: "boom" } });
    assert.equal(failed.raised.type, "ValueError");
    const timedOut = await call({ topic: `nobody-${run}`, method: "echo", timeout: 1 });
    assert.equal(timedOut.raised.type, "MessagingTimeout");
    await agent.request("notify", {
      publisher_id: "py",
      topics: [PY_NOTIFY],
      priority: "warn",
      event_type: "baseline",
      payload: { ok: true },
    });
    const n = await agent.waitEvent((e) => e.event_type === "baseline", 10_000, "the notification");
    assert.equal(n.priority, "warn");
  });
});

describe("TypeScript client, Python server", () => {
  test("call: the context and keyword arguments arrive, the return value comes back", async () => {
    const client = oslo.getRpcClient(transport, { topic: PY_TOPIC }, { timeout: 10 });
    const r = await client.call({ user: "alice", roles: ["admin"] }, "echo", { x: 1, nested: { y: [2, 3] } });
    assert.ok(["py-a", "py-b"].includes(r.server), r.server);
    assert.deepEqual(r.kwargs, { x: 1, nested: { y: [2, 3] } });
    assert.equal(r.ctxt.user, "alice");
    assert.deepEqual(r.ctxt.roles, ["admin"]);
    assert.equal(await client.call({}, "add", { a: 2, b: 3 }), 5);
  });

  test("directed call: prepare({ server }) reaches only that server", async () => {
    const client = oslo.getRpcClient(transport, { topic: PY_TOPIC }, { timeout: 10 });
    for (const server of ["py-b", "py-a"]) {
      const c = client.prepare({ server });
      const got = await Promise.all([1, 2, 3, 4].map(() => c.call({}, "echo")));
      assert.deepEqual(
        got.map((r) => r.server),
        [server, server, server, server],
      );
    }
  });

  test("cast reaches one server; fanout cast reaches both", async () => {
    const client = oslo.getRpcClient(transport, { topic: PY_TOPIC });
    const one = token();
    await client.cast({ user: "bob" }, "record", { token: one });
    const ev = await agent.waitEvent((e) => e.event === "rpc" && e.kwargs.token === one, 10_000, "the cast");
    assert.equal(ev.ctxt.user, "bob");
    const all = token();
    await client.prepare({ fanout: true }).cast({}, "record", { token: all });
    for (const server of ["py-a", "py-b"]) {
      await agent.waitEvent(
        (e) => e.kwargs?.token === all && e.server === server,
        10_000,
        `fanout at ${server}`,
      );
    }
    await sleep(200);
    assert.equal(
      agent.events.filter((e) => e.kwargs?.token === one).length,
      1,
      "the plain cast went to one server",
    );
    assert.equal(agent.events.filter((e) => e.kwargs?.token === all).length, 2);
  });

  test("a Python exception is a RemoteError with its type, message and traceback", async () => {
    const client = oslo.getRpcClient(transport, { topic: PY_TOPIC }, { timeout: 10 });
    const err = await client.call({}, "fail", { message: "boom" }).then(
      () => assert.fail("no error"),
      (e) => e,
    );
    assert.ok(err instanceof oslo.RemoteError && err instanceof oslo.MessagingException, String(err));
    assert.equal(err.excType, "ValueError");
    assert.equal(err.value, "boom");
    assert.equal(err.module, "builtins");
    assert.deepEqual(err.args, ["boom"]);
    assert.match(err.traceback.join(""), /Traceback[\s\S]*in fail\n[\s\S]*ValueError: boom\n$/);
    assert.match(err.message, /^Remote error: ValueError boom\n/);
  });

  test("namespace and version choose the Python endpoint; oslo's dispatcher errors come back", async () => {
    const client = oslo.getRpcClient(transport, { topic: PY_TOPIC }, { timeout: 10 });
    const calc = client.prepare({ namespace: "calc", version: "2.1" });
    assert.equal(await calc.call({}, "multiply", { a: 6, b: 7 }), 42);
    const remote = (p) =>
      p.then(
        () => assert.fail("no error"),
        (e) => (assert.ok(e instanceof oslo.RemoteError), e),
      );
    for (const version of ["2.4", "3.0", "1.0"]) {
      const e = await remote(
        client.prepare({ namespace: "calc", version }).call({}, "multiply", { a: 1, b: 1 }),
      );
      assert.equal(e.excType, "UnsupportedVersion", version);
      assert.equal(e.value, `Endpoint does not support RPC version ${version}. Attempted method: multiply`);
    }
    const nsm = await remote(client.call({}, "multiply", { a: 1, b: 1 }));
    assert.equal(nsm.excType, "NoSuchMethod");
    assert.equal(nsm.value, "Endpoint does not support RPC method multiply");
    const priv = await remote(client.call({}, "_private"));
    assert.equal(priv.excType, "NoSuchMethod");
  });

  test("a call to a topic nobody serves: MessagingTimeout within the timeout, the request expires", async () => {
    const topic = `nobody-${run}`;
    // A queue bound to the topic without a consumer: the request waits there until it expires.
    const ch = await bindQueue(topic);
    const client = oslo.getRpcClient(transport, { topic }, { timeout: 1 });
    const started = Date.now();
    const err = await client.call({}, "echo").then(
      () => assert.fail("no error"),
      (e) => e,
    );
    const elapsed = Date.now() - started;
    assert.ok(err instanceof oslo.MessagingTimeout, String(err));
    assert.match(err.message, /^Timed out waiting for a reply to message ID [0-9a-f]{32}\.$/);
    // The client's timer, not the broker, ends the call: at 1 s (plus a loaded machine's delay).
    assert.ok(elapsed >= 990 && elapsed < 2500, `${elapsed} ms`);
    await waitFor(
      async () => (await ch.queueDeclare(topic, { passive: true })).messageCount === 0,
      3000,
      "expiry",
    );
    await ch.close();
  });

  test("call-monitor heartbeats from the Python server keep a call longer than callMonitorTimeout alive", async () => {
    const client = oslo.getRpcClient(transport, { topic: PY_TOPIC }, { timeout: 20, callMonitorTimeout: 2 });
    const started = Date.now();
    assert.ok(["py-a", "py-b"].includes(await client.call({}, "slow", { seconds: 3 })));
    assert.ok(Date.now() - started >= 3000);
    // Without a server, nothing renews the monitor: the call fails after 2 s, not 20.
    const t0 = Date.now();
    const err = await client
      .prepare({ topic: `nobody-${run}` })
      .call({}, "slow", { seconds: 1 })
      .catch((e) => e);
    assert.ok(err instanceof oslo.MessagingTimeout, String(err));
    assert.ok(Date.now() - t0 < 6000, `${Date.now() - t0} ms`);
  });
});

describe("Python client, TypeScript server", () => {
  const pyCall = async (args) => {
    const r = await agent.request("call", { topic: TS_TOPIC, timeout: 10, ...args });
    return r;
  };

  test("call and directed call", async () => {
    const r = await pyCall({ method: "echo", ctxt: { user: "carol" }, kwargs: { x: [1, "two"] } });
    assert.ok(["ts-a", "ts-b"].includes(r.result?.server), JSON.stringify(r));
    assert.deepEqual(r.result.kwargs, { x: [1, "two"] });
    assert.deepEqual(r.result.ctxt, { user: "carol" });
    assert.equal((await pyCall({ method: "add", kwargs: { a: 20, b: 22 } })).result, 42);
    for (const server of ["ts-a", "ts-b"]) {
      const got = await Promise.all([1, 2, 3].map(() => pyCall({ method: "echo", server })));
      assert.deepEqual(
        got.map((x) => x.result.server),
        [server, server, server],
      );
    }
    const calc = await pyCall({
      method: "multiply",
      namespace: "calc",
      version: "2.2",
      kwargs: { a: 3, b: 5 },
    });
    assert.equal(calc.result, 15);
  });

  test("cast reaches one TypeScript server; fanout cast reaches both", async () => {
    const one = token();
    await agent.request("cast", {
      topic: TS_TOPIC,
      method: "record",
      ctxt: { user: "dave" },
      kwargs: { token: one },
    });
    await waitFor(() => tsRpc.some((e) => e.kwargs.token === one), 10_000, "the cast");
    assert.deepEqual(tsRpc.find((e) => e.kwargs.token === one).ctxt, { user: "dave" });
    const all = token();
    await agent.request("cast", { topic: TS_TOPIC, method: "record", fanout: true, kwargs: { token: all } });
    await waitFor(() => tsRpc.filter((e) => e.kwargs.token === all).length === 2, 10_000, "the fanout cast");
    assert.deepEqual(
      tsRpc
        .filter((e) => e.kwargs.token === all)
        .map((e) => e.server)
        .sort(),
      ["ts-a", "ts-b"],
    );
    await sleep(200);
    assert.equal(tsRpc.filter((e) => e.kwargs.token === one).length, 1);
  });

  test("an error thrown in TypeScript is a RemoteError in Python; dispatcher errors too", async () => {
    const r = await pyCall({ method: "fail", kwargs: { message: "bad input" } });
    assert.equal(r.raised?.type, "RemoteError", JSON.stringify(r));
    assert.equal(r.raised.exc_type, "TypeError");
    assert.equal(r.raised.value, "bad input");
    assert.ok(r.raised.traceback.join("").includes("TypeError: bad input"));
    // Named as a Python builtin, the failure is rebuilt as that exception.
    const v = await pyCall({ method: "failAsValueError", kwargs: { message: "not a number" } });
    assert.equal(v.raised.type, "ValueError");
    assert.equal(v.raised.message.split("\n")[0], "not a number");
    const nsm = await pyCall({ method: "nope" });
    assert.equal(nsm.raised.exc_type, "NoSuchMethod");
    assert.equal(nsm.raised.value, "Endpoint does not support RPC method nope");
    const priv = await pyCall({ method: "_private" });
    assert.equal(priv.raised.exc_type, "NoSuchMethod");
    const unsupported = await pyCall({ method: "multiply", namespace: "calc", version: "2.9" });
    assert.equal(unsupported.raised.exc_type, "UnsupportedVersion");
    assert.equal(
      unsupported.raised.value,
      "Endpoint does not support RPC version 2.9. Attempted method: multiply",
    );
  });

  test("call-monitor heartbeats from the TypeScript server keep a Python call alive", async () => {
    const r = await pyCall({ method: "slow", kwargs: { seconds: 3 }, timeout: 20, call_monitor_timeout: 2 });
    assert.ok(["ts-a", "ts-b"].includes(r.result), JSON.stringify(r));
    assert.ok(r.elapsed >= 3);
  });
});

describe("notifications", () => {
  const checkMetadata = (m) => {
    assert.match(m.message_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.match(m.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$/);
  };

  test("TypeScript notifier, Python listener: every priority, event type, payload, publisher", async () => {
    const notifier = new oslo.Notifier(notifyTransport, {
      publisherId: "compute.ts-host",
      topics: [PY_NOTIFY],
    });
    const ctxt = { user_id: "u1", project_id: "p1", auth_token: "secret" };
    for (const p of PRIORITIES) await notifier[p](ctxt, `compute.instance.${p}`, { p, n: 1 });
    await notifier.prepare({ publisherId: "other" }).warning(ctxt, "compute.instance.warning", {});
    for (const p of PRIORITIES) {
      const ev = await agent.waitEvent((e) => e.event_type === `compute.instance.${p}`, 10_000, p);
      assert.equal(ev.priority, p);
      assert.equal(ev.publisher_id, "compute.ts-host");
      assert.deepEqual(ev.payload, { p, n: 1 });
      // Notifications carry only oslo.context's safe keys (Python adds client_timeout).
      assert.equal(ev.ctxt.user_id, "u1");
      assert.equal(ev.ctxt.project_id, "p1");
      assert.equal(ev.ctxt.auth_token, undefined);
      checkMetadata(ev.metadata);
    }
    const w = await agent.waitEvent((e) => e.event_type === "compute.instance.warning", 10_000, "warning()");
    assert.equal(w.priority, "warn");
    assert.equal(w.publisher_id, "other");
  });

  test("Python notifier, TypeScript listener: every priority, both message formats", async () => {
    const ctxt = { user_id: "u2", auth_token: "secret" };
    for (const [i, p] of PRIORITIES.entries()) {
      await agent.request("notify", {
        publisher_id: "network.py-host",
        topics: [TS_NOTIFY],
        priority: p,
        event_type: `port.${p}`,
        payload: { i },
        ctxt,
        // The 1.0 format (no envelope) of oslo's "messaging" driver, for one of them.
        driver: p === "error" ? "messaging" : "messagingv2",
      });
    }
    await waitFor(
      () => PRIORITIES.every((p) => tsNotifications.some((n) => n.eventType === `port.${p}`)),
      10_000,
      "all",
    );
    for (const [i, p] of PRIORITIES.entries()) {
      const n = tsNotifications.find((x) => x.eventType === `port.${p}`);
      assert.equal(n.priority, p);
      assert.equal(n.publisherId, "network.py-host");
      assert.deepEqual(n.payload, { i });
      assert.deepEqual(n.ctxt, { user_id: "u2" });
      checkMetadata(n.metadata);
    }
  });
});

describe("on the wire", () => {
  /** An AMQP message decoded: envelope, message, properties, delivery fields. */
  const decode = (m) => {
    const envelope = JSON.parse(m.body.toString());
    return { envelope, msg: JSON.parse(envelope["oslo.message"]), props: m.properties, fields: m.fields };
  };
  /** The next message of a queue, decoded. */
  const take = async (ch, queue) => {
    let m;
    await waitFor(async () => (m = await ch.basicGet(queue, { noAck: true })), 5000, `a message in ${queue}`);
    return decode(m);
  };
  const keys = (o) => Object.keys(o).sort();

  test("calls, casts and notifications look like Python's", async () => {
    const topic = `capture-${run}`;
    const ch = await bindQueue(topic);
    // Consumed as they come: the calls' requests expire with their 1 s timeout.
    const got = [];
    await ch.basicConsume(topic, (m) => void got.push(decode(m)), { noAck: true });
    /** The captured Python and TypeScript messages of one kind, told apart by their context. */
    const pair = async (kind) => {
      await waitFor(() => got.filter((g) => g.msg._context_kind === kind).length === 2, 5000, kind);
      const of = (side) => got.find((g) => g.msg._context_kind === kind && g.msg._context_side === side);
      return [of("py"), of("ts")];
    };
    const ctxt = (kind, side) => ({ user: "eve", kind, side });
    const kwargs = { a: 1 };
    // Calls that nobody answers (they time out after 1 s), then casts, from each side.
    const client = oslo.getRpcClient(transport, { topic }, { timeout: 1 });
    const ns = { namespace: "ns", version: "1.2" };
    await Promise.all([
      agent.request("call", { topic, method: "m", ctxt: ctxt("call", "py"), kwargs, timeout: 1, ...ns }),
      client
        .prepare(ns)
        .call(ctxt("call", "ts"), "m", kwargs)
        .catch(() => undefined),
      agent.request("cast", { topic, method: "m", ctxt: ctxt("cast", "py"), kwargs }),
      client.cast(ctxt("cast", "ts"), "m", kwargs),
    ]);
    const calls = await pair("call");
    const casts = await pair("cast");
    for (const [py, ts] of [calls, casts]) {
      assert.deepEqual(keys(ts.envelope), ["oslo.message", "oslo.version"]);
      assert.equal(ts.envelope["oslo.version"], py.envelope["oslo.version"]);
      assert.deepEqual(keys(ts.msg), keys(py.msg));
      for (const k of ["method", "args", "namespace", "version", "_context_user", "_timeout"]) {
        assert.deepEqual(ts.msg[k], py.msg[k], k);
      }
      assert.match(ts.msg._unique_id, /^[0-9a-f]{32}$/);
      assert.deepEqual(ts.props, py.props);
      assert.equal(ts.fields.exchange, "openstack");
      assert.equal(ts.fields.routingKey, topic);
    }
    assert.equal(calls[1].msg.namespace, "ns");
    assert.match(calls[1].msg._msg_id, /^[0-9a-f]{32}$/);
    assert.match(calls[1].msg._reply_q, /^reply_[0-9a-f]{32}$/);
    assert.equal(calls[1].props.expiration, "1000");
    assert.equal(casts[1].props.expiration, undefined);
    assert.equal(casts[1].msg._msg_id, undefined);

    // Notifications: the notifier itself declares and binds <topic>.<priority>.
    const ntopic = `ncapture-${run}`;
    await agent.request("notify", {
      publisher_id: "p",
      topics: [ntopic],
      priority: "info",
      event_type: "e",
      payload: 1,
      ctxt: {},
    });
    await new oslo.Notifier(notifyTransport, { publisherId: "p", topics: [ntopic] }).info({}, "e", 1);
    const [py, ts] = [await take(ch, `${ntopic}.info`), await take(ch, `${ntopic}.info`)];
    assert.deepEqual(keys(ts.msg), keys(py.msg));
    assert.deepEqual(ts.props, py.props);
    for (const k of ["publisher_id", "event_type", "priority", "payload"])
      assert.deepEqual(ts.msg[k], py.msg[k], k);
    assert.equal(ts.msg.priority, "INFO");
    await ch.queueDelete(`${ntopic}.info`);
    await ch.close();
  });

  test("queues and exchanges are declared as oslo declares them", { skip: managementSkip() }, async () => {
    const auth = { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}` };
    const api = async (path) => {
      const r = await fetch(new URL(`/api/${path}`, http), { headers: auth });
      assert.equal(r.status, 200, path);
      return r.json();
    };
    const strip = (q) => ({
      durable: q.durable,
      auto_delete: q.auto_delete,
      exclusive: q.exclusive,
      arguments: q.arguments,
    });
    const queues = await api("queues/%2F");
    const byName = (re) => queues.filter((q) => re.test(q.name));
    // Python's and TypeScript's servers share <topic> and <topic>.<server> queues of one shape.
    const [pyTopic] = byName(new RegExp(`^${PY_TOPIC}$`));
    const [tsTopic] = byName(new RegExp(`^${TS_TOPIC}$`));
    assert.deepEqual(strip(tsTopic), strip(pyTopic));
    assert.deepEqual(strip(tsTopic), { durable: false, auto_delete: false, exclusive: false, arguments: {} });
    assert.deepEqual(
      strip(byName(new RegExp(`^${TS_TOPIC}\\.ts-a$`))[0]),
      strip(byName(new RegExp(`^${PY_TOPIC}\\.py-a$`))[0]),
    );
    // One fanout queue per server, <topic>_fanout_<uuid>, expiring when unused.
    const pyFanout = byName(new RegExp(`^${PY_TOPIC}_fanout_[0-9a-f]{32}$`));
    const tsFanout = byName(new RegExp(`^${TS_TOPIC}_fanout_[0-9a-f]{32}$`));
    assert.equal(pyFanout.length, 2);
    assert.equal(tsFanout.length, 2);
    assert.deepEqual(strip(tsFanout[0]), strip(pyFanout[0]));
    assert.deepEqual(strip(tsFanout[0]).arguments, { "x-expires": 1800000 });
    // Reply queues: reply_<uuid>, same shape (both sides have made calls by now).
    const replies = byName(/^reply_[0-9a-f]{32}$/);
    assert.ok(replies.length >= 2);
    for (const q of replies) assert.deepEqual(strip(q), strip(replies[0]));
    assert.deepEqual(strip(replies[0]).arguments, { "x-expires": 1800000 });
    // Exchanges: openstack (topic), <topic>_fanout (fanout, auto-delete).
    const ex = async (name) => {
      const x = await api(`exchanges/%2F/${encodeURIComponent(name)}`);
      return { type: x.type, durable: x.durable, auto_delete: x.auto_delete };
    };
    assert.deepEqual(await ex("openstack"), { type: "topic", durable: false, auto_delete: false });
    assert.deepEqual(await ex(`${TS_TOPIC}_fanout`), await ex(`${PY_TOPIC}_fanout`));
    assert.deepEqual(await ex(`${TS_TOPIC}_fanout`), { type: "fanout", durable: false, auto_delete: true });
    const bindings = await api(`queues/%2F/${encodeURIComponent(tsFanout[0].name)}/bindings`);
    assert.ok(bindings.some((b) => b.source === `${TS_TOPIC}_fanout` && b.routing_key === TS_TOPIC));
  });
});

/** The declarations test reads the management API, which an external broker must name. */
function managementSkip() {
  return process.env.INTEROP_TARGET_URL && !process.env.MANAGEMENT_TARGET_URL
    ? "INTEROP_TARGET_URL without MANAGEMENT_TARGET_URL: no management API to read declarations from"
    : false;
}
