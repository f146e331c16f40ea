/** The API's JSON shapes, as far as the UI reads them (RabbitMQ 3.10's field names). */

export interface Rate {
  rate: number;
}

export interface QueueJson {
  name: string;
  vhost: string;
  type: string;
  state: string;
  policy: string | null;
  durable: boolean;
  auto_delete: boolean;
  exclusive: boolean;
  arguments: Record<string, unknown>;
  consumers: number;
  messages: number;
  messages_ready: number;
  messages_unacknowledged: number;
  message_bytes?: number;
  messages_ready_details?: Rate;
  messages_unacknowledged_details?: Rate;
  message_stats?: {
    publish?: number;
    publish_details?: Rate;
    deliver_get?: number;
    deliver_get_details?: Rate;
    ack?: number;
    ack_details?: Rate;
  };
  owner_pid_details?: { name: string };
  consumer_details?: ConsumerJson[];
}

export interface ConsumerJson {
  consumer_tag: string;
  channel_details: { name: string; number: number; connection_name: string };
  ack_required: boolean;
  exclusive: boolean;
  prefetch_count: number;
  active: boolean;
}

export interface ExchangeJson {
  name: string;
  vhost: string;
  type: string;
  durable: boolean;
  auto_delete: boolean;
  internal: boolean;
  arguments: Record<string, unknown>;
}

export interface BindingJson {
  source: string;
  vhost: string;
  destination: string;
  destination_type: "queue" | "exchange";
  routing_key: string;
  arguments: Record<string, unknown>;
  properties_key: string;
}

export interface ConnectionJson {
  name: string;
  user: string;
  vhost: string;
  state: string;
  protocol: string;
  auth_mechanism?: string;
  ssl: boolean;
  peer_host: string;
  peer_port: number;
  host: string;
  port: number;
  channels: number;
  channel_max?: number;
  frame_max?: number;
  timeout?: number;
  connected_at?: number;
  client_properties: Record<string, unknown>;
  recv_oct: number;
  send_oct: number;
}

export interface ChannelJson {
  name: string;
  number: number;
  user: string;
  vhost: string;
  state: string;
  consumer_count: number;
  messages_unacknowledged: number;
  prefetch_count: number;
  confirm: boolean;
  transactional: boolean;
  connection_details: { name: string; peer_host: string; peer_port: number };
  message_stats?: { publish?: number; deliver_get?: number; ack?: number };
}

/** The default exchange: "" in bodies, "amq.default" in paths. */
export const pathName = (exchange: string): string => (exchange === "" ? "amq.default" : exchange);
