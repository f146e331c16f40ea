"""pika: a deep durable priority queue (x-max-priority 10) of persistent messages with mixed
priorities (none, 0-9, and 11-12 above the maximum) delivers them highest priority first, FIFO
within a priority, also after some were delivered and requeued; at depth Warren keeps most of
them in per-level tail files rather than memory (interop/deep-priority-py.test.mjs checks the
files between the phases).

    pika_deep_priority.py publish QUEUE N    declare QUEUE, publish N messages, check the count
    pika_deep_priority.py consume QUEUE N    consume them all, checking the order; delete QUEUE
"""
import random
import sys

import pika

from qf_common import message_count, pika_connection, wait_for

phase, queue, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
MAX = 10
rng = random.Random(15)
prios = [rng.choice([None] + list(range(10)) + [11, 12]) for _ in range(n)]
expected = sorted(range(n), key=lambda i: (-min(prios[i] or 0, MAX), i))

conn = pika_connection()
ch = conn.channel()
if phase == "publish":
    ch.queue_delete(queue)
    ch.queue_declare(queue, durable=True, arguments={"x-max-priority": MAX})
    for i, p in enumerate(prios):
        props = pika.BasicProperties(delivery_mode=2, priority=p)
        ch.basic_publish("", queue, b"m%d" % i, props)
    wait_for(lambda: message_count(ch, queue) == n, timeout=60, what="%d messages queued" % n)
    print("published %d" % n)
else:
    assert message_count(ch, queue) == n
    # The first 1000 one by one; then 500 taken and requeued go back to their places.
    for k in range(1000):
        method, _, body = ch.basic_get(queue, auto_ack=False)
        assert body == b"m%d" % expected[k], (k, body, expected[k])
        ch.basic_ack(method.delivery_tag)
    tags = []
    for k in range(1000, 1500):
        method, _, body = ch.basic_get(queue, auto_ack=False)
        assert body == b"m%d" % expected[k], (k, body, expected[k])
        tags.append(method.delivery_tag)
    ch.basic_nack(tags[-1], multiple=True, requeue=True)
    ch.basic_qos(prefetch_count=1000)
    k = 1000
    redelivered = 0
    for method, props, body in ch.consume(queue, auto_ack=False, inactivity_timeout=10):
        assert method is not None, "no delivery for 10 s after %d of %d" % (k, n)
        assert body == b"m%d" % expected[k], (k, body, expected[k])
        redelivered += method.redelivered
        k += 1
        if k % 500 == 0 or k == n:
            ch.basic_ack(method.delivery_tag, multiple=True)
        if k == n:
            break
    ch.cancel()
    assert redelivered == 500, redelivered
    assert message_count(ch, queue) == 0
    ch.queue_delete(queue)
    print("consumed %d in order" % n)
conn.close()
print("OK")
