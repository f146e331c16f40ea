"""Driver for autoretry.py (seed 004), the notes' annotated copy of kombu's
Connection.autoretry().  The driver calls it as a function with a kombu
Connection as `self`, around a publish that breaks the connection's socket on
its first call, so the retry path (errback, reconnect, revive with a new
channel, call again) really runs against the broker.  Then it reads the
message back.

  driver_autoretry.py QUEUE
"""
import os
import socket
import sys

import kombu

HERE = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(HERE, "autoretry.py")
ns = {}
with open(path, encoding="utf-8") as f:
    exec(compile(f.read(), path, "exec"), ns)
autoretry = ns["autoretry"]

queue_name = sys.argv[1]
queue = kombu.Queue(queue_name, routing_key=queue_name, durable=False)
conn = kombu.Connection("amqp://guest:guest@localhost:5672//")
calls = []


def publish(body, channel=None):
    calls.append(channel)
    if len(calls) == 1:
        print("DRIVER: call 1 on channel %s: shutting the socket down" % channel.channel_id)
        channel.connection.sock.shutdown(socket.SHUT_RDWR)
    kombu.Producer(channel).publish(body, routing_key=queue_name, declare=[queue])
    return "published on call %d" % len(calls)


def errback(exc, interval):
    print("DRIVER: errback %s" % type(exc).__name__)


def on_revive(channel):
    print("DRIVER: revived with channel %s" % channel.channel_id)


fn = autoretry(conn, publish, max_retries=3, errback=errback, interval_start=0,
               interval_step=0.2, interval_max=1, on_revive=on_revive)
ret, channel = fn({"hello": "autoretry"})
print("DRIVER: %s; returned channel is the revived one: %s" % (ret, channel is calls[-1]))
message = queue(conn.default_channel).get(no_ack=True)
print("DRIVER: read back %r" % (message.payload if message else None))
conn.release()
