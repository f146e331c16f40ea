"""py-amqp: per-message expiration 100 ms -> DLX with x-death; then a second death (reject) adds
an entry in front; declare-time validation and the equivalence check raise PreconditionFailed."""
import datetime
import time

import amqp
from amqp.exceptions import PreconditionFailed

from qf_common import pyamqp_connection, uid, wait_for

conn = pyamqp_connection()
ch = conn.channel()
dlx = uid("dlx")
q = uid("ttl")
dlq = uid("dlq")
final = uid("final")
try:
    ch.exchange_declare(dlx, "fanout", auto_delete=False)
    ch.queue_declare(q, auto_delete=False, arguments={"x-dead-letter-exchange": dlx})
    # dlq dead-letters rejections to `final` through the default exchange.
    ch.queue_declare(
        dlq,
        auto_delete=False,
        arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": final},
    )
    ch.queue_declare(final, auto_delete=False)
    ch.queue_bind(dlq, dlx, "")

    t0 = time.monotonic()
    ch.basic_publish(amqp.Message(b"py-amqp", expiration="100"), exchange="", routing_key=q)
    msg = wait_for(lambda: ch.basic_get(dlq, no_ack=False), what="the dead-lettered message")
    assert time.monotonic() - t0 >= 0.09
    assert msg.body == b"py-amqp"
    assert "expiration" not in msg.properties, msg.properties
    h = msg.headers
    [d] = h["x-death"]
    assert d["count"] == 1
    assert (d["reason"], d["queue"], d["exchange"], d["routing-keys"]) == ("expired", q, "", [q]), d
    assert d["original-expiration"] == "100"
    assert isinstance(d["time"], datetime.datetime), type(d["time"])
    assert (h["x-first-death-reason"], h["x-first-death-queue"], h["x-first-death-exchange"]) == ("expired", q, "")

    ch.basic_reject(msg.delivery_tag, requeue=False)
    msg2 = wait_for(lambda: ch.basic_get(final, no_ack=True), what="the second death")
    deaths = msg2.headers["x-death"]
    assert [(x["queue"], x["reason"], x["count"]) for x in deaths] == [(dlq, "rejected", 1), (q, "expired", 1)], deaths
    assert deaths[0]["routing-keys"] == [q], deaths[0]
    assert deaths[0]["exchange"] == dlx
    assert "original-expiration" not in deaths[0]
    assert msg2.headers["x-first-death-queue"] == q, "x-first-death-* keep the first death"
    assert msg2.delivery_info["routing_key"] == final

    # Declare-time validation and redeclare equivalence, as py-amqp reports them.
    bad = uid("bad")
    try:
        ch.queue_declare(bad, auto_delete=False, arguments={"x-max-priority": 256})
        raise AssertionError("x-max-priority 256 was accepted")
    except PreconditionFailed as e:
        assert e.reply_code == 406
        assert e.reply_text == (
            "PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue '%s' in vhost '/': "
            "{max_value_exceeded,256}" % bad
        ), e.reply_text
    ch = conn.channel()
    try:
        ch.queue_declare(q, auto_delete=False, arguments={"x-dead-letter-exchange": "other"})
        raise AssertionError("an inequivalent redeclare was accepted")
    except PreconditionFailed as e:
        assert e.reply_text == (
            "PRECONDITION_FAILED - inequivalent arg 'x-dead-letter-exchange' for queue '%s' in vhost '/': "
            "received 'other' but current is '%s'" % (q, dlx)
        ), e.reply_text
    ch = conn.channel()
    ch.queue_declare(q, auto_delete=False, arguments={"x-dead-letter-exchange": dlx, "x-unrelated": 1})
finally:
    ch = conn.channel()
    for name in (q, dlq, final):
        ch.queue_delete(name)
    ch.exchange_delete(dlx)
    conn.close()
print("OK")
