"""Driver for oslo_connection_fragment.py (seed 004): the lines oslo.messaging's
rabbit driver uses to create its kombu Connection, declare and consume a queue
and run a publish through Connection.autoretry().

The fragment is method-body code (it uses `self`, `conn`, `tag`,
`execute_method`, `retry`, `on_error`, `on_reconnection`, and ends in
`return ret`), so the driver compiles it unmodified as the body of a function
with those parameters and calls it with an object carrying oslo.messaging's
default settings (AMQPLAIN login, heartbeat 60, round-robin failover,
x-expires on the queue, retry interval 1/2/30).

  driver_oslo_connection.py QUEUE
"""
import os
import sys
import textwrap

import kombu
import kombu.connection
import kombu.entity
import six

HERE = os.path.dirname(os.path.abspath(__file__))
queue_name = sys.argv[1]
path = os.path.join(HERE, "oslo_connection_fragment.py")
with open(path, encoding="utf-8") as f:
    body = f.read()
source = (
    "def declare_consume_and_execute(self, conn, tag, execute_method, retry, on_error, on_reconnection):\n"
    + textwrap.indent(body, "    ")
)
ns = {"kombu": kombu, "six": six}
exec(compile(source, path, "exec"), ns)


class OsloLike:
    """The attributes of oslo.messaging's Connection/Consumer the fragment reads."""

    _url = "amqp://guest:guest@localhost:5672//"
    login_method = "AMQPLAIN"
    heartbeat_timeout_threshold = 60
    kombu_failover_strategy = "round-robin"
    queue_name = queue_name
    exchange = kombu.Exchange(queue_name + "-exchange", type="topic", durable=False)
    durable = False
    queue_auto_delete = False
    routing_key = queue_name + ".topic"
    queue_arguments = {"x-expires": 1800000}
    nowait = False
    channel = None
    interval_start = 1
    interval_stepping = 2
    interval_max = 30

    def __init__(self):
        self.received = []

    def _fetch_ssl_params(self):
        return False

    def _on_connection_blocked(self, reason):
        print("DRIVER: connection blocked: %s" % reason)

    def _on_connection_unblocked(self):
        print("DRIVER: connection unblocked")

    def _callback(self, message):
        print("DRIVER: consumer got %r redelivered=%s" % (message.body, message.delivery_info["redelivered"]))
        self.received.append(message.body)
        message.channel.basic_ack(message.delivery_tag)

    def _set_current_channel(self, channel):
        print("DRIVER: current channel set (channel_id=%s)" % channel.channel_id)
        self.channel = channel


oslo = OsloLike()


class ConnWrapper:
    @property
    def channel(self):
        return oslo.connection.default_channel


def execute_method(channel):
    producer = kombu.Producer(channel, exchange=oslo.exchange, routing_key=oslo.routing_key)
    producer.publish({"method": "ping", "args": {"n": 1}})
    return "published"


def on_error(exc, interval):
    print("DRIVER: on_error %r" % (exc,))


def on_reconnection(channel):
    print("DRIVER: on_reconnection")


ret = ns["declare_consume_and_execute"](oslo, ConnWrapper(), "oslo-tag-1", execute_method, 3, on_error, on_reconnection)
print("DRIVER: autoretry returned %r" % ret)
amqp_conn = oslo.connection.connection
print("DRIVER: login mechanism %s (server offers %s)" % (
    b",".join(m.mechanism for m in amqp_conn.authentication).decode(), b" ".join(amqp_conn.mechanisms).decode()))
print("DRIVER: heartbeat %s" % amqp_conn.heartbeat)
print("DRIVER: confirm_publish %s" % amqp_conn.confirm_publish)
while not oslo.received:
    oslo.connection.drain_events(timeout=5)
oslo.connection.release()
print("DRIVER: done")
