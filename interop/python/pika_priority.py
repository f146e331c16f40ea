"""pika: a priority queue with 10 levels delivers higher priorities first, FIFO within a
priority; a message without priority counts as 0 and one above the maximum as the maximum."""
import random

import pika

from qf_common import PikaCleanup, get_all, pika_connection, uid

with PikaCleanup() as c:
    conn = pika_connection()
    ch = conn.channel()
    ch.confirm_delivery()
    q = c.queue(uid("prio"))
    ch.queue_declare(q, arguments={"x-max-priority": 10})
    rng = random.Random(42)
    sent = []
    for i in range(100):
        p = rng.choice([None] + list(range(10)))
        props = pika.BasicProperties() if p is None else pika.BasicProperties(priority=p)
        ch.basic_publish("", q, ("m%d" % i).encode(), props)
        sent.append((p or 0, i))
    assert len({p for p, _ in sent}) == 10
    expected = ["m%d" % i for _, i in sorted(sent, key=lambda s: (-s[0], s[1]))]
    got = [b.decode() for _, _, b in get_all(ch, q)]
    assert got == expected, (got[:20], expected[:20])

    # The same through a consumer, and a priority above the maximum.
    q2 = c.queue(uid("prio5"))
    ch.queue_declare(q2, arguments={"x-max-priority": 5})
    for body, p in [("p5", 5), ("p9", 9), ("none", None), ("p255", 255), ("p2", 2)]:
        ch.basic_publish("", q2, body.encode(), pika.BasicProperties(priority=p))
    seen = []
    for method, props, body in ch.consume(q2, auto_ack=True, inactivity_timeout=0.3):
        if method is None:
            break
        seen.append(body.decode())
    ch.cancel()
    assert seen == ["p5", "p9", "p255", "p2", "none"], seen
    conn.close()
print("OK")
