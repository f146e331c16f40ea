"""py-amqp: max-length drop-head and reject-publish under confirms (basic_publish_confirm raises
MessageNacked), and max-length-bytes."""
import amqp
from amqp.exceptions import MessageNacked

from qf_common import pyamqp_connection, uid

conn = pyamqp_connection()
ch = conn.channel()
ch.confirm_select()
limited = uid("limit")
drop = uid("drop")
nbytes = uid("bytes")
try:
    ch.queue_declare(limited, auto_delete=False, arguments={"x-max-length": 2, "x-overflow": "reject-publish"})
    ch.queue_declare(drop, auto_delete=False, arguments={"x-max-length": 2})
    ch.queue_declare(nbytes, auto_delete=False, arguments={"x-max-length-bytes": 10})
    outcome = []
    for i in range(3):
        try:
            ch.basic_publish_confirm(amqp.Message(b"m%d" % i), exchange="", routing_key=limited)
            outcome.append("ack")
        except MessageNacked:
            outcome.append("nack")
    assert outcome == ["ack", "ack", "nack"], outcome
    for i in range(4):
        ch.basic_publish_confirm(amqp.Message(b"d%d" % i), exchange="", routing_key=drop)
    for body in (b"aaaa", b"bbbb", b"cccc"):
        ch.basic_publish_confirm(amqp.Message(body), exchange="", routing_key=nbytes)

    def drain(q):
        out = []
        while True:
            m = ch.basic_get(q, no_ack=True)
            if m is None:
                return out
            out.append(m.body)

    assert drain(limited) == [b"m0", b"m1"]
    assert drain(drop) == [b"d2", b"d3"]
    assert drain(nbytes) == [b"bbbb", b"cccc"]
finally:
    ch = conn.channel()
    for q in (limited, drop, nbytes):
        ch.queue_delete(q)
    conn.close()
print("OK")
