import type { Command } from "commander";
import { ctlContext } from "./ctl-context.js";
import { type Json, ManagementClient } from "./management-client.js";

const obj = (v: unknown): Json =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {};

/**
 * `status`: what the node is and how it is, from /api/overview, /api/nodes/{node} and the
 * alarms health check. Like rabbitmqctl status it exits 0 while alarms are on, and lists them;
 * an unreachable node is exit 69.
 */
export function registerStatusCommand(program: Command): void {
  program
    .command("status")
    .summary("node name, versions, uptime, memory, listeners, alarms and object counts")
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out } = ctlContext(cmd);
      const overview = obj(await client.get("/api/overview"));
      const node = String(overview.node ?? "");
      out.banner(`Status of node ${node} ...`);
      const [info, alarms] = await Promise.all([
        client.get(ManagementClient.path("nodes", node)).then(obj),
        // 503 is the check's answer while an alarm is on, not a failure of the request.
        client.request("GET", "/api/health/checks/alarms", { accept: [503] }).then((r) => obj(r.body)),
      ]);
      const totals = obj(overview.object_totals);
      const queued = obj(overview.queue_totals);
      const listeners = (Array.isArray(overview.listeners) ? overview.listeners : []).map((l) => ({
        protocol: obj(l).protocol,
        port: obj(l).port,
      }));
      const status = {
        node,
        product_name: overview.product_name ?? "RabbitMQ",
        product_version: overview.product_version ?? overview.rabbitmq_version,
        rabbitmq_version: overview.rabbitmq_version,
        management_version: overview.management_version,
        cluster_name: overview.cluster_name,
        runtime: overview.erlang_full_version ?? overview.erlang_version,
        uptime_seconds: typeof info.uptime === "number" ? Math.floor(info.uptime / 1000) : null,
        memory_used_bytes: info.mem_used ?? null,
        memory_limit_bytes: info.mem_limit ?? null,
        disk_free_bytes: info.disk_free ?? null,
        listeners,
        alarms: (Array.isArray(alarms.alarms) ? alarms.alarms : []).map((a) => obj(a).resource),
        connections: totals.connections ?? null,
        channels: totals.channels ?? null,
        queues: totals.queues ?? null,
        exchanges: totals.exchanges ?? null,
        consumers: totals.consumers ?? null,
        messages: queued.messages ?? 0,
        messages_ready: queued.messages_ready ?? 0,
        messages_unacknowledged: queued.messages_unacknowledged ?? 0,
      };
      out.pairs(
        [
          ["Node", status.node],
          ["Product", `${String(status.product_name)} ${String(status.product_version)}`],
          ["RabbitMQ API", status.management_version],
          ["Cluster name", status.cluster_name],
          ["Runtime", status.runtime],
          ["Uptime (seconds)", status.uptime_seconds],
          ["Memory used (bytes)", status.memory_used_bytes],
          ["Memory limit (bytes)", status.memory_limit_bytes],
          ["Disk free (bytes)", status.disk_free_bytes],
          ["Listeners", listeners.map((l) => `${String(l.protocol)} ${String(l.port)}`).join(", ")],
          ["Alarms", status.alarms.length > 0 ? status.alarms : "none"],
          ["Connections", status.connections],
          ["Channels", status.channels],
          ["Queues", status.queues],
          ["Exchanges", status.exchanges],
          ["Consumers", status.consumers],
          ["Messages", status.messages],
          ["Messages ready", status.messages_ready],
          ["Messages unacknowledged", status.messages_unacknowledged],
        ],
        status,
      );
    });
}
