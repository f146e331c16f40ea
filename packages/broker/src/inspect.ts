import type { UserStore } from "./auth/users.js";
import { Connection } from "./net/connection.js";
import { unmapped } from "./net/handshake.js";
import type { PolicyStore } from "./policy/policy-store.js";
import type { Queue } from "./queue/queue.js";
import type { VHost } from "./vhost.js";
import type * as views from "./views.js";

/*
 * Builders of the read-only views in views.ts. They walk the live objects only when a
 * management tool asks, so the broker keeps no extra state for them beyond plain counters.
 */

/** The queue as management tools see it. */
export function queueView(q: Queue): views.QueueView {
  const owner = q.exclusiveOwner;
  return {
    name: q.name,
    vhost: q.vhost,
    durable: q.durable,
    autoDelete: q.autoDelete,
    exclusive: owner !== undefined,
    owner: owner instanceof Connection ? owner.name : undefined,
    arguments: q.args,
    type: q.a.queueType,
    ready: q.messageCount,
    unacked: q.unacked,
    readyBytes: q.readyBytes,
    consumers: q.consumerCount,
    published: q.publishedCount,
    delivered: q.deliveredCount,
    acked: q.ackedCount,
    policy: q.policy.name,
    operatorPolicy: q.policy.operatorName,
    effectivePolicyDefinition: q.policy.definition,
  };
}

/** A vhost's policies (or operator policies), lowest priority first. */
export function policyViews(store: PolicyStore): views.PolicyView[] {
  return store.list().map(({ vhost, name, pattern, applyTo, definition, priority }) => {
    return { vhost, name, pattern, applyTo, definition, priority };
  });
}

/** Every exchange of vh, the default one (name "") included. */
export function exchangeViews(vh: VHost): views.ExchangeView[] {
  return [...vh.exchanges.values()].map((ex) => ({
    name: ex.name,
    vhost: vh.name,
    type: ex.type,
    durable: ex.durable,
    autoDelete: ex.autoDelete,
    internal: ex.internal,
    arguments: ex.args,
    policy: ex.policy,
  }));
}

/**
 * Every binding of vh, the default exchange's implicit ones first (one per queue, as RabbitMQ
 * lists them), then the others by source exchange.
 */
export function bindingViews(vh: VHost): views.BindingView[] {
  const out: views.BindingView[] = [];
  for (const q of vh.queues.values()) {
    out.push({
      source: "",
      vhost: vh.name,
      destination: q.name,
      destinationType: "queue",
      routingKey: q.name,
      arguments: {},
    });
  }
  for (const ex of vh.exchanges.values()) {
    for (const b of ex.bindings.values()) {
      out.push({
        source: ex.name,
        vhost: vh.name,
        destination: b.destination.name,
        destinationType: b.destination.kind,
        routingKey: b.routingKey,
        arguments: b.args,
      });
    }
  }
  return out;
}

export function userViews(users: UserStore): views.UserView[] {
  return [...users.users.values()].map((u) => ({
    name: u.name,
    passwordHash: u.passwordHash,
    hashingAlgorithm: u.hashingAlgorithm,
    tags: [...u.tags],
  }));
}

export function permissionViews(users: UserStore): views.PermissionView[] {
  const out: views.PermissionView[] = [];
  for (const u of users.users.values()) {
    for (const [vhost, p] of u.permissions)
      out.push({ user: u.name, vhost, configure: p.configure, write: p.write, read: p.read });
  }
  return out;
}

export function connectionViews(connections: Iterable<Connection>): views.ConnectionView[] {
  return [...connections].map((c) => {
    const s = c.socket;
    return {
      name: c.name,
      user: c.user?.name,
      vhost: c.vhost?.name,
      state: c.stateName,
      peerHost: c.peerHost,
      peerPort: c.peerPort,
      host: unmapped(s.localAddress ?? ""),
      port: s.localPort ?? 0,
      connectedAt: c.connectedAt,
      channels: c.channels.size,
      channelMax: c.channelMax,
      frameMax: c.frameMax,
      heartbeat: c.heartbeat,
      clientProperties: c.clientProperties,
      authMechanism: c.authMechanism,
      recvOct: s.bytesRead,
      sendOct: s.bytesWritten,
    };
  });
}

export function channelViews(connections: Iterable<Connection>): views.ChannelView[] {
  const out: views.ChannelView[] = [];
  for (const c of connections) {
    for (const ch of c.channels.values()) {
      const f = ch.describe();
      out.push({
        name: `${c.name} (${ch.id})`,
        connection: c.name,
        number: ch.id,
        user: c.user?.name,
        vhost: f.vhost,
        peerHost: c.peerHost,
        peerPort: c.peerPort,
        consumers: f.consumers.length,
        unacked: f.unacked,
        prefetch: f.prefetch,
        globalPrefetch: f.globalPrefetch,
        confirm: f.confirm,
        transactional: f.transactional,
        published: f.published,
        delivered: f.delivered,
        acked: f.acked,
      });
    }
  }
  return out;
}

export function consumerViews(connections: Iterable<Connection>): views.ConsumerView[] {
  const out: views.ConsumerView[] = [];
  for (const c of connections) {
    for (const ch of c.channels.values()) {
      const f = ch.describe();
      for (const k of f.consumers) {
        out.push({
          tag: k.tag,
          queue: k.queue.name,
          vhost: f.vhost,
          channel: `${c.name} (${ch.id})`,
          channelNumber: ch.id,
          connection: c.name,
          peerHost: c.peerHost,
          peerPort: c.peerPort,
          user: c.user?.name,
          ackRequired: !k.noAck,
          exclusive: k.exclusive,
          prefetch: k.prefetch,
          arguments: k.args,
        });
      }
    }
  }
  return out;
}

/** Object counts; walks queues once for the message totals. */
export function objectTotals(vhosts: Iterable<VHost>, connections: Iterable<Connection>): views.ObjectTotals {
  const t: views.ObjectTotals = {
    connections: 0,
    channels: 0,
    consumers: 0,
    exchanges: 0,
    queues: 0,
    vhosts: 0,
    messagesReady: 0,
    messagesUnacked: 0,
  };
  for (const vh of vhosts) {
    t.vhosts++;
    t.exchanges += vh.exchanges.size;
    t.queues += vh.queues.size;
    for (const q of vh.queues.values()) {
      t.consumers += q.consumerCount;
      t.messagesReady += q.messageCount;
      t.messagesUnacked += q.unacked;
    }
  }
  for (const c of connections) {
    t.connections++;
    t.channels += c.channels.size;
  }
  return t;
}
