#!/usr/bin/env python3
"""Small pika helper the interop tests use to look at and tidy the broker.

Connects to $WARREN_TEST_URL (amqp://user:pass@host:port/vhost) directly, so
it never needs the port shim.  Prints one JSON document on stdout.

  state Q...              -> [{"queue", "exists", "messages", "consumers"}]
                             (passive queue.declare; messages = ready count)
  purge Q...              -> purges queues that exist
  delete-queue Q...       -> deletes queues (missing ones are fine)
  delete-exchange E...    -> deletes exchanges (missing ones are fine)
  declare-queue Q [--durable]
  get Q [N]               -> basic.get (auto-ack) up to N messages:
                             [{"body", "redelivered", "message_count",
                               "routing_key", "exchange", "content_type",
                               "delivery_mode"}]
"""
import json
import os
import sys

import pika


def main(argv):
    cmd, args = argv[0], argv[1:]
    conn = pika.BlockingConnection(pika.URLParameters(os.environ["WARREN_TEST_URL"]))
    ch = conn.channel()
    out = []
    if cmd == "state":
        for q in args:
            try:
                ok = ch.queue_declare(queue=q, passive=True)
                out.append({
                    "queue": q,
                    "exists": True,
                    "messages": ok.method.message_count,
                    "consumers": ok.method.consumer_count,
                })
            except pika.exceptions.ChannelClosedByBroker as e:
                if e.reply_code != 404:
                    raise
                out.append({"queue": q, "exists": False, "messages": 0, "consumers": 0})
                ch = conn.channel()
    elif cmd == "purge":
        for q in args:
            try:
                ch.queue_declare(queue=q, passive=True)
                ok = ch.queue_purge(queue=q)
                out.append({"queue": q, "purged": ok.method.message_count})
            except pika.exceptions.ChannelClosedByBroker as e:
                if e.reply_code != 404:
                    raise
                ch = conn.channel()
    elif cmd == "delete-queue":
        for q in args:
            ch.queue_delete(queue=q)
            out.append(q)
    elif cmd == "delete-exchange":
        for x in args:
            ch.exchange_delete(exchange=x)
            out.append(x)
    elif cmd == "declare-queue":
        ok = ch.queue_declare(queue=args[0], durable="--durable" in args)
        out.append({"queue": ok.method.queue, "messages": ok.method.message_count})
    elif cmd == "get":
        q = args[0]
        n = int(args[1]) if len(args) > 1 else 1
        for _ in range(n):
            method, props, body = ch.basic_get(queue=q, auto_ack=True)
            if method is None:
                break
            out.append({
                "body": body.decode("utf-8", "replace"),
                "redelivered": method.redelivered,
                "message_count": method.message_count,
                "routing_key": method.routing_key,
                "exchange": method.exchange,
                "content_type": props.content_type,
                "delivery_mode": props.delivery_mode,
            })
    else:
        raise SystemExit("unknown command %r" % cmd)
    conn.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
