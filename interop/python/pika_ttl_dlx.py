"""pika: a message with expiration 100 ms is dead-lettered to a DLX queue with a correct x-death."""
import datetime
import time

import pika

from qf_common import PikaCleanup, get_all, pika_connection, uid, wait_for

with PikaCleanup() as c:
    conn = pika_connection()
    ch = conn.channel()
    src = c.exchange(uid("src"))
    dlx = c.exchange(uid("dlx"))
    q = c.queue(uid("ttl"))
    dlq = c.queue(uid("dlq"))
    ch.exchange_declare(src, "direct")
    ch.exchange_declare(dlx, "fanout")
    ch.queue_declare(q, arguments={"x-dead-letter-exchange": dlx})
    ch.queue_declare(dlq)
    ch.queue_bind(q, src, "orders.created")
    ch.queue_bind(dlq, dlx, "")

    t0 = time.monotonic()
    ch.basic_publish(
        src,
        "orders.created",
        b"short-lived",
        pika.BasicProperties(expiration="100", headers={"app": "pika"}, content_type="text/plain"),
    )
    got = wait_for(lambda: get_all(ch, dlq), what="the dead-lettered message")
    elapsed = time.monotonic() - t0
    assert elapsed >= 0.09, "dead-lettered after %.3f s, before its 100 ms TTL" % elapsed
    assert len(got) == 1, got
    method, props, body = got[0]
    assert body == b"short-lived"
    assert method.exchange == dlx, method.exchange
    assert method.routing_key == "orders.created", method.routing_key
    assert props.expiration is None, "expiration removed, got %r" % props.expiration
    assert props.content_type == "text/plain"
    h = props.headers
    assert h["app"] == "pika"
    deaths = h["x-death"]
    assert isinstance(deaths, list) and len(deaths) == 1, deaths
    d = deaths[0]
    assert sorted(d) == sorted(
        ["count", "reason", "queue", "time", "exchange", "routing-keys", "original-expiration"]
    ), sorted(d)
    assert d["count"] == 1 and isinstance(d["count"], int)
    assert d["reason"] == "expired"
    assert d["queue"] == q
    assert d["exchange"] == src
    assert d["routing-keys"] == ["orders.created"]
    assert d["original-expiration"] == "100"
    assert isinstance(d["time"], datetime.datetime), type(d["time"])
    age = abs((datetime.datetime.utcnow() - d["time"]).total_seconds())
    assert age < 5, "x-death time %s is %.1f s off" % (d["time"], age)
    assert h["x-first-death-reason"] == "expired"
    assert h["x-first-death-queue"] == q
    assert h["x-first-death-exchange"] == src
    assert not [k for k in h if k.startswith("x-last-death")], "RabbitMQ 3.10 writes no x-last-death-*"
    assert ch.queue_declare(q, passive=True).method.message_count == 0
    conn.close()
print("OK")
