/**
 * The RabbitMQ extensions to AMQP 0-9-1 that Warren implements, as announced in the
 * "capabilities" table of the connection properties: the client's in connection.start-ok,
 * the broker's in connection.start. Kept in one place so the client and the broker cannot
 * drift apart on what Warren supports. Frozen: callers put a copy into their properties.
 */

/** What Warren's client announces in its client-properties. */
export const CLIENT_CAPABILITIES: Readonly<Record<string, boolean>> = Object.freeze({
  publisher_confirms: true,
  exchange_exchange_bindings: true,
  "basic.nack": true,
  consumer_cancel_notify: true,
  "connection.blocked": true,
  authentication_failure_close: true,
  per_consumer_qos: true,
});

/** What Warren's broker announces in its server-properties: the client's set plus broker-side features. */
export const SERVER_CAPABILITIES: Readonly<Record<string, boolean>> = Object.freeze({
  ...CLIENT_CAPABILITIES,
  consumer_priorities: true,
  direct_reply_to: true,
});
