import { ConnectionError, METHOD_IDS, ReplyCode } from "@warren/protocol";
import type { Connection } from "../net/connection.js";
import type { VHost } from "../vhost.js";

/**
 * Connection limits, checked at connection.open in RabbitMQ's order (node, vhost, user) with
 * its texts: 530 NOT_ALLOWED on connection.open. A negative limit is none, 0 refuses every
 * connection. nodeMax: the broker-wide limit (Warren's --max-connections).
 */
export function admitConnection(
  connections: Iterable<Connection>,
  nodeMax: number | undefined,
  c: Connection,
  vh: VHost,
): void {
  const user = c.user!;
  const ids = METHOD_IDS["connection.open"];
  const vhostMax = vh.limits["max-connections"];
  const userMax = user.limits?.["max-connections"];
  if (nodeMax === undefined && !(vhostMax! >= 0) && !(userMax! >= 0)) return;
  let all = 0;
  let inVhost = 0;
  let ofUser = 0;
  for (const o of connections) {
    if (!o.isOpen) continue;
    all++;
    if (o.vhost === vh) inVhost++;
    if (o.user === user) ofUser++;
  }
  if (nodeMax !== undefined && all >= nodeMax)
    throw new ConnectionError(
      ReplyCode.NOT_ALLOWED,
      `connection refused: node connection limit (${nodeMax}) is reached`,
      ...ids,
    );
  if (vhostMax! >= 0 && inVhost >= vhostMax!)
    throw new ConnectionError(
      ReplyCode.NOT_ALLOWED,
      `access to vhost '${vh.name}' refused for user '${user.name}': connection limit (${vhostMax}) is reached`,
      ...ids,
    );
  if (userMax! >= 0 && ofUser >= userMax!)
    throw new ConnectionError(
      ReplyCode.NOT_ALLOWED,
      `connection refused for user '${user.name}': user connection limit (${userMax}) is reached`,
      ...ids,
    );
}

/** The user's max-channels, counted over all their connections, as RabbitMQ. */
export function admitChannel(connections: Iterable<Connection>, c: Connection): void {
  const user = c.user!;
  const max = user.limits?.["max-channels"];
  if (max === undefined || max < 0) return;
  let n = 0;
  for (const o of connections) if (o.user === user) n += o.channels.size;
  if (n >= max)
    throw new ConnectionError(
      ReplyCode.NOT_ALLOWED,
      // RabbitMQ names no method in this close (0/0).
      `number of channels opened for user '${user.name}' has reached the maximum allowed user limit of (${max})`,
    );
}
