"""Driver for transport_excerpt.py (seed 003): py-amqp's TCPTransport._read and
_AbstractTransport.read_frame as quoted (and annotated) in the notes.

The excerpt is run unmodified in a namespace holding the names it takes from
amqp.transport (errno, socket, EMPTY_BUFFER, unpack, SIGNED_INT_MAX, ...).
TCPTransport is defined before its base class in the excerpt, so the driver
pre-binds `_AbstractTransport` to `object` and combines the two classes
afterwards.  The driver opens a plain socket to localhost:5672, sends the
AMQP 0-9-1 protocol header and reads the broker's first frame with the quoted
read_frame(), which checks the 0xCE frame-end octet itself, then decodes the
connection.start arguments and prints them as JSON.
"""
import json
import os
import socket

import amqp.transport
from amqp.serialization import loads

HERE = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(HERE, "transport_excerpt.py")
ns = {k: v for k, v in vars(amqp.transport).items() if not k.startswith("__")}
ns["_AbstractTransport"] = object
with open(path, encoding="utf-8") as f:
    exec(compile(f.read(), path, "exec"), ns)


class Transport(ns["TCPTransport"], ns["_AbstractTransport"]):
    pass


t = Transport("localhost:5672", connect_timeout=5)
t.sock = socket.create_connection((t.host, t.port), timeout=5)
t._setup_transport()
t.sock.sendall(b"AMQP\x00\x00\x09\x01")
frame_type, channel, payload = t.read_frame()
class_id, method_id = ns["unpack"](">HH", payload[:4])
args, _ = loads("ooFSS", payload, 4)
major, minor, server_properties, mechanisms, locales = args


def plain(v):
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    return v


print(json.dumps({
    "frame_type": frame_type,
    "channel": channel,
    "class_id": class_id,
    "method_id": method_id,
    "version": [major, minor],
    "server_properties": plain(server_properties),
    "mechanisms": plain(mechanisms).split(),
    "locales": plain(locales).split(),
}, default=str))
t.sock.close()
