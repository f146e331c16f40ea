import type { Command } from "commander";
import { CtlError } from "./ctl-error.js";
import { ctlContext } from "./ctl-context.js";
import { ExitCode } from "./exit-codes.js";
import { type Json, ManagementClient } from "./management-client.js";

/** A column: a dotted path into the API's JSON, or a function of the item. */
type Column = string | ((item: Json) => unknown);

/** One list_* command: where its items come from and the columns it knows. */
interface ListSpec {
  name: string;
  summary: string;
  /** Whether -p selects the vhost listed (rabbitmqctl lists connections and channels of all). */
  perVhost: boolean;
  banner: (vhost: string) => string;
  path: (vhost: string) => string;
  /** rabbitmqctl's info item names, mapped to the API's fields. */
  columns: Record<string, Column>;
  /** rabbitmqctl's default columns for the command. */
  defaults: string[];
}

const { path } = ManagementClient;

/** Columns whose rabbitmqctl name is the API's field name. */
const same = (...names: string[]): Record<string, Column> => Object.fromEntries(names.map((n) => [n, n]));

const MESSAGE_COUNTS = same("messages", "messages_ready", "messages_unacknowledged");

/** The list commands, with rabbitmqctl's names, default columns and info items. */
const LISTS: ListSpec[] = [
  {
    name: "list_queues",
    summary: "queues of the vhost and their message and consumer counts",
    perVhost: true,
    banner: (vh) => `Listing queues for vhost ${vh} ...`,
    path: (vh) => path("queues", vh),
    columns: {
      ...same("name", "vhost", "durable", "auto_delete", "exclusive", "arguments", "policy", "type"),
      ...same("state", "node", "consumers", "consumer_utilisation", "memory"),
      ...MESSAGE_COUNTS,
      ...same("message_bytes", "message_bytes_ready", "message_bytes_unacknowledged"),
    },
    defaults: ["name", "messages"],
  },
  {
    name: "list_exchanges",
    summary: "exchanges of the vhost",
    perVhost: true,
    banner: (vh) => `Listing exchanges for vhost ${vh} ...`,
    path: (vh) => path("exchanges", vh),
    columns: same("name", "vhost", "type", "durable", "auto_delete", "internal", "arguments", "policy"),
    defaults: ["name", "type"],
  },
  {
    name: "list_bindings",
    summary: "bindings of the vhost, the default exchange's included",
    perVhost: true,
    banner: (vh) => `Listing bindings for vhost ${vh}...`,
    path: (vh) => path("bindings", vh),
    columns: {
      source_name: "source",
      source_kind: () => "exchange",
      destination_name: "destination",
      destination_kind: "destination_type",
      ...same("routing_key", "arguments", "vhost", "properties_key"),
    },
    defaults: [
      "source_name",
      "source_kind",
      "destination_name",
      "destination_kind",
      "routing_key",
      "arguments",
    ],
  },
  {
    name: "list_connections",
    summary: "client connections (all vhosts); name is what close_connection takes",
    perVhost: false,
    banner: () => "Listing connections ...",
    path: () => path("connections"),
    columns: {
      ...same("name", "user", "vhost", "state", "protocol", "auth_mechanism", "ssl", "channels"),
      ...same("host", "port", "peer_host", "peer_port", "timeout", "frame_max", "channel_max"),
      ...same("client_properties", "connected_at", "recv_oct", "send_oct", "node", "type"),
    },
    defaults: ["user", "peer_host", "peer_port", "state"],
  },
  {
    name: "list_channels",
    summary: "channels (all vhosts)",
    perVhost: false,
    banner: () => "Listing channels ...",
    path: () => path("channels"),
    columns: {
      // rabbitmqctl's pid is an Erlang process id; the API names a channel by its name.
      pid: "name",
      connection: "connection_details.name",
      ...same("name", "number", "user", "vhost", "state", "transactional", "confirm", "consumer_count"),
      ...same("messages_unacknowledged", "messages_unconfirmed", "messages_uncommitted", "acks_uncommitted"),
      ...same("prefetch_count", "global_prefetch_count", "node"),
    },
    defaults: ["pid", "user", "consumer_count", "messages_unacknowledged"],
  },
  {
    name: "list_consumers",
    summary: "consumers of the vhost's queues",
    perVhost: true,
    banner: (vh) => `Listing consumers in vhost ${vh} ...`,
    path: (vh) => path("consumers", vh),
    columns: {
      queue_name: "queue.name",
      channel_pid: "channel_details.name",
      connection: "channel_details.connection_name",
      ...same("consumer_tag", "ack_required", "prefetch_count", "active", "activity_status", "arguments"),
      ...same("exclusive"),
    },
    defaults: [
      "queue_name",
      "channel_pid",
      "consumer_tag",
      "ack_required",
      "prefetch_count",
      "active",
      "arguments",
    ],
  },
  {
    name: "list_users",
    summary: "users and their tags",
    perVhost: false,
    banner: () => "Listing users ...",
    path: () => path("users"),
    columns: { user: "name", ...same("tags", "hashing_algorithm") },
    defaults: ["user", "tags"],
  },
  {
    name: "list_vhosts",
    summary: "virtual hosts",
    perVhost: false,
    banner: () => "Listing vhosts ...",
    path: () => path("vhosts"),
    columns: { ...same("name", "description", "tags", "tracing", "default_queue_type"), ...MESSAGE_COUNTS },
    defaults: ["name"],
  },
  {
    name: "list_permissions",
    summary: "users' configure, write and read permissions in the vhost",
    perVhost: true,
    banner: (vh) => `Listing permissions for vhost "${vh}" ...`,
    path: (vh) => path("vhosts", vh, "permissions"),
    columns: same("user", "vhost", "configure", "write", "read"),
    defaults: ["user", "configure", "write", "read"],
  },
  {
    name: "list_policies",
    summary: "policies of the vhost",
    perVhost: true,
    banner: (vh) => `Listing policies for vhost "${vh}" ...`,
    path: (vh) => path("policies", vh),
    columns: same("vhost", "name", "pattern", "apply-to", "definition", "priority"),
    defaults: ["vhost", "name", "pattern", "apply-to", "definition", "priority"],
  },
];

/** The value at a dotted path (message_stats.publish), or undefined. */
function at(item: Json, dotted: string): unknown {
  let v: unknown = item;
  for (const key of dotted.split(".")) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Json)[key];
  }
  return v;
}

/**
 * The extractors of the columns asked for: rabbitmqctl's names, separated by spaces or commas
 * (both work in rabbitmqctl), or any dotted path into the API's JSON (message_stats.publish).
 */
function pickColumns(spec: ListSpec, asked: readonly string[]): [string[], ((i: Json) => unknown)[]] {
  const names = asked.flatMap((a) => a.split(",")).filter((n) => n !== "");
  const chosen = names.length > 0 ? names : spec.defaults;
  const getters = chosen.map((name) => {
    const c = spec.columns[name] ?? (name.includes(".") ? name : undefined);
    if (c === undefined) {
      throw new CtlError(
        `${spec.name}: unknown column "${name}"; known: ${Object.keys(spec.columns).join(", ")} (or a dotted path into the API's JSON)`,
        ExitCode.USAGE,
      );
    }
    return typeof c === "string" ? (i: Json) => at(i, c) : c;
  });
  return [chosen, getters];
}

/** Registers list_queues, list_exchanges, ... list_policies. */
export function registerListCommands(program: Command): void {
  for (const spec of LISTS) {
    program
      .command(spec.name)
      .summary(spec.summary)
      .description(
        `${spec.summary}${spec.perVhost ? " (-p VHOST, default /)" : ""}.\n` +
          `Columns: ${Object.keys(spec.columns).join(", ")}, or a dotted path into the API's JSON.\n` +
          `Default: ${spec.defaults.join(" ")}`,
      )
      .argument("[columns...]", "columns to show")
      .action(async (asked: string[], _opts: unknown, cmd: Command) => {
        const { client, out, vhost } = ctlContext(cmd);
        const [columns, getters] = pickColumns(spec, asked);
        out.banner(spec.banner(vhost));
        const notFound = spec.perVhost ? `vhost "${vhost}" not found` : `${spec.path(vhost)} not found`;
        const items = await client.get(spec.path(vhost), { notFound });
        if (!Array.isArray(items)) {
          throw new CtlError(`${spec.path(vhost)}: expected a list`, ExitCode.SOFTWARE);
        }
        out.rows(
          columns,
          (items as Json[]).map((i) => getters.map((g) => g(i))),
        );
      });
  }
}
