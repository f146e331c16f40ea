/**
 * Broker-wide message and connection counters, for the management API and Prometheus. They
 * are plain integer fields bumped on the hot path (one increment, no allocation, no clock):
 * rates are the reader's business (it samples them), so publishing pays nothing more.
 */
export class BrokerCounters {
  /** Messages received from publishers (RabbitMQ's messages_received / publish). */
  published = 0;
  /** Published messages that reached at least one queue. */
  routed = 0;
  /** Published messages that reached no queue (returned or dropped). */
  unroutable = 0;
  /** Of the unroutable ones, those returned to their publisher (mandatory). */
  returned = 0;
  /** Messages sent to consumers (basic.deliver). */
  delivered = 0;
  /** Messages sent in answer to basic.get. */
  got = 0;
  /** Deliveries and gets that were redeliveries. */
  redelivered = 0;
  /** Messages acknowledged by consumers. */
  acked = 0;
  /** Publisher confirms sent (basic.ack to publishers, counting each message). */
  confirmed = 0;
  connectionsOpened = 0;
  connectionsClosed = 0;
  channelsOpened = 0;
  channelsClosed = 0;

  /** A client's publish was routed with this result (a PublishResult bit set). */
  countPublish(routed: boolean, mandatory: boolean): void {
    this.published++;
    if (routed) this.routed++;
    else {
      this.unroutable++;
      if (mandatory) this.returned++;
    }
  }
}
