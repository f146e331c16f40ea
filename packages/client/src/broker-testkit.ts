/*
 * @internal The broker the client's tests talk to: an embedded Warren on a free port, or, with
 * INTEROP_TARGET_URL set (e.g. amqp://guest:guest@localhost:5682), that broker instead, so that
 * the same tests check the behaviour against RabbitMQ.
 */
import { after, before } from "node:test";
import { Broker, lineLogger } from "@warren/broker";

/** An embedded broker that logs nothing (start() it; port 0 picks a free one). */
export function quietBroker(port = 0): Broker {
  return new Broker({ port, log: lineLogger(() => {}) });
}

/**
 * Starts the broker before the file's tests and stops it after them. Returns a function giving
 * its URL (known once `before` has run).
 */
export function useBroker(): () => string {
  const target = process.env.INTEROP_TARGET_URL;
  let broker: Broker | undefined;
  let url = target ?? "";
  before(async () => {
    if (target) return;
    broker = quietBroker();
    url = `amqp://guest:guest@127.0.0.1:${await broker.start()}`;
  });
  after(async () => {
    await broker?.stop();
  });
  return () => url;
}
