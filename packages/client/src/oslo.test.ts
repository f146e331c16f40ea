import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Broker, BrokerAdmin, lineLogger } from "@warren/broker";
import { connect } from "./connection.js";
import type { ConnectOptions } from "./connection-types.js";
import * as oslo from "./oslo/index.js";
import {
  deserializeMsg,
  deserializeRemoteException,
  serializeMsg,
  serializeRemoteException,
} from "./oslo/wire.js";

// The Python side of the protocol is tested in interop/oslo-rpc.test.mjs; here: the pure
// parts, and what needs a broker but no Python (recovery, stop/wait, lost reply queues,
// duplicates, pools, requeue, durability), against an embedded broker.

let broker: Broker;
let admin: BrokerAdmin;
let port: number;
/** Fast reconnection, so that recovery tests take milliseconds. */
const fast = {
  rabbitRetryInterval: 0.05,
  rabbitRetryBackoff: 0.05,
  rabbitIntervalMax: 0.2,
  kombuReconnectDelay: 0.05,
};
const transports: oslo.Transport[] = [];
const rpcTransport = (config: oslo.TransportConfig = {}, query = "") => {
  const t = oslo.getRpcTransport(`rabbit://guest:guest@127.0.0.1:${port}/${query}`, { ...fast, ...config });
  transports.push(t);
  return t;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(cond: () => boolean, ms = 3000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
const rejects = async (p: Promise<unknown>): Promise<Error> =>
  p.then(
    () => assert.fail("resolved"),
    (e: unknown) => e as Error,
  );

before(async () => {
  broker = new Broker({ port: 0, log: lineLogger(() => {}) });
  port = await broker.start();
  admin = new BrokerAdmin(broker);
});

after(async () => {
  for (const t of transports) await t.cleanup();
  await broker.stop();
});

describe("transport URLs and options", () => {
  it("parses hosts, credentials, IPv6, the virtual host and the query as oslo does", () => {
    const u = oslo.parseTransportUrl("rabbit://a:p%40ss@h1:5673,b:q@[::1]:5674/my%2Fvhost?ssl=1&x=1&x=2");
    assert.equal(u.transport, "rabbit");
    assert.deepEqual(u.hosts, [
      { hostname: "h1", port: 5673, username: "a", password: "p@ss" },
      { hostname: "::1", port: 5674, username: "b", password: "q" },
    ]);
    assert.equal(u.virtualHost, "my/vhost");
    assert.deepEqual(u.query, { ssl: "1", x: "1,2" });
    assert.equal(oslo.parseTransportUrl("rabbit://").virtualHost, undefined);
    assert.equal(oslo.parseTransportUrl("rabbit:///").virtualHost, "");
    assert.throws(() => oslo.parseTransportUrl("localhost:5672"), oslo.InvalidTransportURL);
    assert.throws(() => oslo.parseTransportUrl("rabbit://h:port/"), /bad port/);
  });

  it("takes driver options from the URL's query over the given config; refuses unknown ones", () => {
    const t = oslo.getRpcTransport("rabbit://h/?amqp_durable_queues=yes&rabbit_transient_queues_ttl=60", {
      amqpDurableQueues: false,
      controlExchange: "nova",
    });
    assert.equal(t.conf.amqpDurableQueues, true);
    assert.equal(t.conf.rabbitTransientQueuesTtl, 60);
    assert.equal(t.conf.controlExchange, "nova");
    assert.equal(t.conf.rpcResponseTimeout, 60);
    assert.throws(() => oslo.getRpcTransport("rabbit://h/?rabbit_quorum_queue=true"), /unsupported option/);
    assert.throws(() => oslo.getRpcTransport("rabbit://h/?ssl=maybe"), /not a boolean/);
    assert.throws(() => oslo.getRpcTransport("amqp://h/"), /unsupported driver 'amqp'.*rabbit:\/\//);
    // The password stays out of the message.
    assert.throws(
      () => oslo.getRpcTransport("kafka://u:s3cret@h1,v:s3cret@h2/"),
      (e: Error) =>
        e.message.startsWith("Invalid transport URL: kafka://u:***@h1,v:***@h2/:") &&
        !e.message.includes("s3cret"),
    );
    // oslo connects to 5672 unless told otherwise, with ssl too; no host: guest@localhost.
    const ssl = oslo.getRpcTransport("rabbit://h/?ssl=true").connection.urls[0] as ConnectOptions;
    assert.deepEqual([ssl?.protocol, ssl?.port, ssl?.vhost], ["amqps", 5672, "/"]);
    const bare = oslo.getRpcTransport("rabbit://").connection.urls[0] as ConnectOptions;
    assert.deepEqual([bare?.hostname, bare?.username, bare?.password], ["localhost", "guest", "guest"]);
  });
});

describe("targets and versions", () => {
  it("version_is_compatible: same major, minor and revision no higher", () => {
    const cases: [string | undefined, string | undefined, boolean][] = [
      ["2.3", "2.1", true],
      ["2.3", "2.3", true],
      ["2.3", "2.4", false],
      ["2.3", "1.0", false],
      ["2.3", "3.0", false],
      ["2.3.1", "2.3.2", false],
      ["2.3.2", "2.3.1", true],
      ["2.4", "2.3.5", true],
      [undefined, "7.0", true],
      ["1.0", undefined, false],
    ];
    for (const [imp, v, want] of cases) assert.equal(oslo.versionIsCompatible(imp, v), want, `${imp} ${v}`);
    assert.throws(() => oslo.parseVersion("2"), /major and minor/);
    assert.throws(() => oslo.parseVersion("2.x"), /major and minor/);
  });

  it("Target: copies with overrides, prints like oslo, accepts legacy namespaces", () => {
    const t = new oslo.Target({ topic: "compute", version: "2.0", legacyNamespaces: ["old"] });
    assert.equal(String(t.with({ server: "h1", version: undefined })), "<Target topic=compute, server=h1>");
    assert.deepEqual(t.acceptedNamespaces, [undefined, "old"]);
  });

  it("the client checks targets and the version cap before sending anything", async () => {
    const t = oslo.getRpcTransport("rabbit://nowhere.invalid/");
    const client = oslo.getRpcClient(t, { topic: "x", version: "2.5" }, { versionCap: "2.4" });
    assert.equal(client.canSendVersion(), false);
    assert.equal(client.canSendVersion("2.4"), true);
    const capped = await rejects(client.call({}, "m"));
    assert.ok(capped instanceof oslo.RPCVersionCapError, String(capped));
    assert.ok(
      (await rejects(client.prepare({ fanout: true, versionCap: undefined }).call({}, "m"))) instanceof
        oslo.InvalidTarget,
    );
    assert.match(
      String(await rejects(client.prepare({ topic: undefined, versionCap: undefined }).cast({}, "m"))),
      /A topic is required/,
    );
    assert.throws(() => client.prepare({ version: "two" }), /major and minor/);
    assert.equal(client.prepare({ server: "s" }).prepare({ server: undefined }).target.server, undefined);
    assert.throws(() => oslo.getRpcServer(t, { topic: "x" }, []), /must have topic and server/);
  });
});

describe("the wire format", () => {
  it("wraps messages in the 2.0 envelope; passes 1.0 messages through; refuses envelope 3.0", () => {
    const body = serializeMsg({ method: "m", args: {} });
    const outer = JSON.parse(body.toString());
    assert.deepEqual(Object.keys(outer), ["oslo.version", "oslo.message"]);
    assert.equal(typeof outer["oslo.message"], "string");
    assert.deepEqual(deserializeMsg(body), { method: "m", args: {} });
    assert.deepEqual(deserializeMsg(Buffer.from('{"event_type":"e"}')), { event_type: "e" });
    const v3 = Buffer.from(JSON.stringify({ "oslo.version": "3.0", "oslo.message": "{}" }));
    assert.throws(() => deserializeMsg(v3), oslo.UnsupportedRpcEnvelopeVersion);
  });

  it("serializes failures as oslo does: class, module, message, traceback, args, kwargs", () => {
    const f = JSON.parse(serializeRemoteException(new TypeError("bad")));
    assert.equal(f.class, "TypeError");
    assert.equal(f.module, "javascript");
    assert.deepEqual(f.args, ["bad"]);
    assert.ok(f.tb[0].startsWith("TypeError: bad"));
    const nsm = JSON.parse(serializeRemoteException(new oslo.NoSuchMethod("m")));
    assert.deepEqual([nsm.class, nsm.module], ["NoSuchMethod", "oslo_messaging.rpc.dispatcher"]);
    class QuotaError extends Error {}
    assert.equal(JSON.parse(serializeRemoteException(new QuotaError("q"))).class, "QuotaError");
    const back = deserializeRemoteException(
      serializeRemoteException(Object.assign(new Error("v"), { kwargs: { code: 3 } })),
    );
    assert.deepEqual([back.excType, back.value, back.kwargs], ["Error", "v", { code: 3 }]);
    assert.equal(deserializeRemoteException("not json").value, "not json");
  });
});

describe("RPC dispatch", () => {
  class V1 {
    echo(ctxt: object, kwargs: object) {
      return { ctxt, kwargs };
    }
  }
  class V2 {
    target = { namespace: "ns", version: "2.2", legacyNamespaces: ["old-ns"] };
    echo() {
      return "v2";
    }
    _hidden() {
      return "hidden";
    }
  }
  const d = new oslo.RPCDispatcher([new V1(), new V2()]);
  const dispatch = (msg: Record<string, unknown>) => d.dispatch({ args: {}, ...msg }, { user: "u" });

  it("picks the endpoint by namespace and version, as oslo's dispatcher", async () => {
    assert.deepEqual(await dispatch({ method: "echo", args: { a: 1 } }), {
      ctxt: { user: "u" },
      kwargs: { a: 1 },
    });
    assert.equal(await dispatch({ method: "echo", namespace: "ns", version: "2.1" }), "v2");
    assert.equal(await dispatch({ method: "echo", namespace: "old-ns", version: "2.0" }), "v2");
    await assert.rejects(
      dispatch({ method: "echo", namespace: "ns", version: "2.3" }),
      oslo.UnsupportedVersion,
    );
    await assert.rejects(dispatch({ method: "echo", namespace: "other" }), oslo.UnsupportedVersion);
  });

  it("never calls private, inherited Object methods or the constructor: NoSuchMethod", async () => {
    for (const method of ["nope", "toString", "constructor", "hasOwnProperty", "target", "__proto__"]) {
      await assert.rejects(dispatch({ method }), oslo.NoSuchMethod, method);
    }
    await assert.rejects(dispatch({ method: "_hidden", namespace: "ns", version: "2.0" }), oslo.NoSuchMethod);
    await assert.rejects(dispatch({ method: "echo", args: [1] }), /args must be a JSON object/);
    assert.throws(() => new oslo.RPCDispatcher([{ target: "x" } as never]), /reserved Endpoint attribute/);
  });

  it("NotificationFilter matches from the start of each value, as re.match", () => {
    const f = new oslo.NotificationFilter({
      eventType: "compute\\.instance\\.",
      publisherId: /^compute/,
      payload: { state: "^active$" },
    });
    const meta = { message_id: "m", timestamp: "t" };
    assert.equal(f.match({}, "compute.h1", "compute.instance.create", meta, { state: "active" }), true);
    assert.equal(f.match({}, "compute.h1", "x.compute.instance.create", meta, { state: "active" }), false);
    assert.equal(f.match({}, "compute.h1", "compute.instance.create", meta, { state: "stopped" }), false);
    assert.equal(f.match({}, "compute.h1", "compute.instance.create", meta, {}), false);
    assert.equal(f.match({}, 7, "compute.instance.create", meta, { state: "active" }), false);
  });
});

describe("servers, clients and listeners on a broker", () => {
  class Endpoint {
    calls = 0;
    constructor(readonly name: string) {}
    echo(ctxt: object, kwargs: object) {
      this.calls++;
      return { server: this.name, ctxt, kwargs };
    }
    async slow(_ctxt: object, { ms }: { ms: number }) {
      await sleep(ms);
      return "done";
    }
  }

  /** A transport and a started server "s1" on the topic, with what it reports. */
  async function serve(topic: string, config: oslo.TransportConfig = {}, query = "") {
    const t = rpcTransport(config, query);
    const ep = new Endpoint("s1");
    const server = oslo.getRpcServer(t, { topic, server: "s1" }, [ep]);
    const errors: Error[] = [];
    server.on("error", (e) => errors.push(e));
    await server.start();
    const stop = async () => {
      await server.stop();
      await server.wait();
    };
    return { t, ep, server, errors, stop };
  }

  it("recovers from a lost connection: the server consumes again, calls go on", async () => {
    const { t, stop } = await serve("recover");
    const client = oslo.getRpcClient(t, { topic: "recover" }, { timeout: 5 });
    assert.equal(((await client.call({}, "echo")) as { server: string }).server, "s1");
    const before = admin.listQueues("/").find((q) => q.name.startsWith("reply_"))?.name;
    for (const c of admin.listConnections()) admin.closeConnection(c.name, "test");
    await waitFor(() => admin.listConsumers("/").some((c) => c.queue === "recover"), 5000, "re-consuming");
    assert.equal(((await client.call({}, "echo")) as { server: string }).server, "s1");
    // The same reply queue, consumed again on the new connection.
    assert.ok(admin.listQueues("/").some((q) => q.name === before));
    await stop();
  });

  it("declares and consumes again when the broker cancels a consumer (its queue was deleted)", async () => {
    const { t, stop } = await serve("cancelled");
    admin.deleteQueue("/", "cancelled.s1");
    await waitFor(
      () => admin.listConsumers("/").some((c) => c.queue === "cancelled.s1"),
      3000,
      "re-consuming",
    );
    const client = oslo.getRpcClient(t, { topic: "cancelled", server: "s1" }, { timeout: 5 });
    assert.equal(((await client.call({}, "echo")) as { server: string }).server, "s1");
    await stop();
  });

  it("stop() ends consuming; wait() lets calls in progress reply, then deletes the fanout queue", async () => {
    const { t, server } = await serve("stopping");
    const fanoutQueue = () =>
      admin.listQueues("/").filter((q) => /^stopping_fanout_[0-9a-f]{32}$/.test(q.name));
    const [fq] = fanoutQueue();
    assert.deepEqual([fq?.durable, fq?.autoDelete, fq?.arguments], [false, false, { "x-expires": 1800000 }]);
    const client = oslo.getRpcClient(t, { topic: "stopping" }, { timeout: 5 });
    const pending = client.call({}, "slow", { ms: 1000 });
    // Taken (and, as oslo does, acknowledged on arrival) by the server.
    await waitFor(() => admin.queueInfo("/", "stopping")?.acked === 1, 3000, "the request to be taken");
    await server.stop();
    let waited = false;
    const w = server.wait().then(() => (waited = true));
    await sleep(50);
    assert.equal(waited, false, "wait() resolved before the call in progress replied");
    assert.equal(await pending, "done");
    await w;
    assert.deepEqual(fanoutQueue(), []);
    const late = await rejects(client.prepare({ timeout: 0.3 }).call({}, "echo"));
    assert.ok(late instanceof oslo.MessagingTimeout);
  });

  it("a reply to a reply queue that is gone is retried, then given up and reported", async () => {
    const { errors, stop } = await serve("lost-reply", { kombuMissingConsumerRetryTimeout: 0.4 });
    const conn = await connect(`amqp://guest:guest@127.0.0.1:${port}`);
    const ch = await conn.createChannel();
    const request = { method: "echo", args: {}, _msg_id: "m1", _reply_q: "reply_gone", _unique_id: "u1" };
    ch.publish("openstack", "lost-reply", serializeMsg(request));
    const started = Date.now();
    await waitFor(() => errors.length > 0, 3000, "the reply to be abandoned");
    assert.ok(Date.now() - started >= 350, "gave up before kombu_missing_consumer_retry_timeout");
    assert.match(errors[0]!.message, /reply to m1 abandoned: reply queue reply_gone does not exist/);
    await conn.close();
    await stop();
  });

  it("drops a repeated _unique_id; rejects and reports what is not oslo's format", async () => {
    const { ep, errors, stop } = await serve("dups");
    const conn = await connect(`amqp://guest:guest@127.0.0.1:${port}`);
    const ch = await conn.createChannel();
    const cast = serializeMsg({ method: "echo", args: {}, _unique_id: "same" });
    ch.publish("openstack", "dups", cast);
    ch.publish("openstack", "dups", cast);
    ch.publish("openstack", "dups", "not json");
    ch.publish("openstack", "dups", serializeMsg({ method: "echo", args: {}, _unique_id: "other" }));
    await waitFor(() => ep.calls === 2 && errors.length === 1, 3000, "both casts and the error");
    await sleep(50);
    assert.equal(ep.calls, 2);
    assert.ok(errors[0] instanceof SyntaxError);
    assert.equal(admin.listQueues("/").find((q) => q.name === "dups")?.ready, 0);
    await conn.close();
    await stop();
  });

  it("listeners of a pool share one queue; allowRequeue gives a notification another try", async () => {
    const nt = oslo.getNotificationTransport(`rabbit://guest:guest@127.0.0.1:${port}/`);
    transports.push(nt);
    const got: string[] = [];
    let refusals = 1;
    const endpoint = (name: string) => ({
      info: (_c: unknown, _p: unknown, eventType: unknown) => {
        if (eventType === "retry" && refusals > 0) {
          refusals--;
          return oslo.NotificationResult.REQUEUE;
        }
        got.push(`${name}:${String(eventType)}`);
        return undefined;
      },
    });
    const listeners = ["l1", "l2"].map((n) =>
      oslo.getNotificationListener(nt, [{ topic: "pooled" }], [endpoint(n)], {
        pool: "workers",
        allowRequeue: true,
      }),
    );
    for (const l of listeners) await l.start();
    assert.ok(
      admin.listBindings("/").some((b) => b.destination === "workers" && b.routingKey === "pooled.info"),
    );
    const notifier = new oslo.Notifier(nt, { publisherId: "p", topics: ["pooled"] });
    for (let i = 0; i < 6; i++) await notifier.info({}, `e${i}`, {});
    await notifier.info({}, "retry", {});
    await waitFor(() => got.length === 7, 3000, "seven notifications");
    assert.deepEqual(got.map((g) => g.split(":")[1]).sort(), ["e0", "e1", "e2", "e3", "e4", "e5", "retry"]);
    assert.equal(refusals, 0);
    for (const l of listeners) {
      await l.stop();
      await l.wait();
    }
  });

  it("amqp_durable_queues makes the exchange and queues durable", async () => {
    const { t, stop } = await serve("durable", { controlExchange: "durable-x" }, "?amqp_durable_queues=true");
    assert.equal(admin.listExchanges("/").find((x) => x.name === "durable-x")?.durable, true);
    assert.equal(admin.listQueues("/").find((q) => q.name === "durable")?.durable, true);
    assert.equal(admin.listQueues("/").find((q) => q.name === "durable.s1")?.durable, true);
    const client = oslo.getRpcClient(t, { topic: "durable", server: "s1" }, { timeout: 5 });
    assert.equal(((await client.call({}, "echo")) as { server: string }).server, "s1");
    await stop();
  });

  it("a call that timed out while the broker was unreachable is not sent when it comes back", async () => {
    const probe = new Broker({ port: 0, log: lineLogger(() => {}) });
    const p = await probe.start();
    await probe.stop();
    const t = oslo.getRpcTransport(`rabbit://guest:guest@127.0.0.1:${p}/`, {
      rabbitRetryInterval: 0.3,
      rabbitRetryBackoff: 0,
      rabbitIntervalMax: 0.3,
    });
    transports.push(t);
    const late = await rejects(oslo.getRpcClient(t, { topic: "late" }, { timeout: 0.2 }).call({}, "m"));
    assert.ok(late instanceof oslo.MessagingTimeout);
    const b2 = new Broker({ port: p, log: lineLogger(() => {}) });
    await b2.start();
    try {
      const conn = await connect(`amqp://guest:guest@127.0.0.1:${p}`);
      const ch = await conn.createChannel();
      await ch.exchangeDeclare("openstack", "topic");
      await ch.queueDeclare("late");
      await ch.queueBind("late", "openstack", "late");
      // The transport reconnects (its reply queue appears) and still does not send the request.
      const a2 = new BrokerAdmin(b2);
      await waitFor(() => a2.listQueues("/").some((q) => q.name.startsWith("reply_")), 3000, "reconnection");
      await sleep(300);
      assert.equal(a2.queueInfo("/", "late")?.published, 0);
      await conn.close();
      await t.cleanup();
    } finally {
      await b2.stop();
    }
  });

  it("with retry: 0 an unreachable broker fails the send at once", async () => {
    const t = oslo.getRpcTransport("rabbit://guest:guest@127.0.0.1:1/");
    transports.push(t);
    const client = oslo.getRpcClient(t, { topic: "x" }, { retry: 0, timeout: 10 });
    const started = Date.now();
    const castErr = await rejects(client.cast({}, "m"));
    assert.ok(castErr instanceof oslo.MessageDeliveryFailure, String(castErr));
    const callErr = await rejects(client.call({}, "m"));
    assert.ok(callErr instanceof oslo.MessageDeliveryFailure, String(callErr));
    assert.ok(Date.now() - started < 2000);
  });
});
