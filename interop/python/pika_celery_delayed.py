"""pika: Celery-style delayed delivery built from TTL + dead-letter chains over topic exchanges.

The topology is kombu's native delayed delivery (kombu.transport.native_delayed_delivery, used
by Celery 5.5 for ETA/countdown tasks), scaled down to 4 levels of 100 ms instead of 28 levels
of 1 s: level L has a topic exchange and a quorum queue with x-message-ttl 2^L units, overflow
reject-publish, dead-lettering at-least-once to level L-1 (level 0 to the delivery exchange).
A message's routing key starts with the delay in binary, one word per bit, most significant
first; each level's queue takes messages whose bit is 1, and an exchange-to-exchange binding
passes those whose bit is 0 straight down. Messages must arrive after their delay, in delay
order, with an x-death entry for every level they waited in.
"""
import time

import pika

from qf_common import PikaCleanup, pika_connection, uid

LEVELS = 4
UNIT_MS = 100

with PikaCleanup() as c:
    conn = pika_connection()
    ch = conn.channel()
    prefix = uid("celery")

    def level_name(level):
        return "%s_delayed_%d" % (prefix, level)

    delivery = c.exchange("%s_delayed_delivery" % prefix)
    routing_key = "1.#"
    for level in range(LEVELS - 1, -1, -1):
        current = c.exchange(level_name(level))
        ch.exchange_declare(current, "topic", durable=True)
        c.queue(current)
        ch.queue_declare(
            current,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-overflow": "reject-publish",
                "x-message-ttl": (2**level) * UNIT_MS,
                "x-dead-letter-exchange": level_name(level - 1) if level > 0 else delivery,
                "x-dead-letter-strategy": "at-least-once",
            },
        )
        ch.queue_bind(current, current, routing_key)
        routing_key = "*." + routing_key
    routing_key = "0.#"
    for level in range(LEVELS - 1, 0, -1):
        ch.exchange_bind(destination=level_name(level - 1), source=level_name(level), routing_key=routing_key)
        routing_key = "*." + routing_key
    ch.exchange_declare(delivery, "topic", durable=True)
    ch.exchange_bind(destination=delivery, source=level_name(0), routing_key=routing_key)

    # The task queue, bound through its (topic) exchange as bind_queue_to_native_delayed_delivery_exchange does.
    tasks_x = c.exchange(uid("tasks"))
    tasks_q = c.queue(uid("tasks"))
    ch.exchange_declare(tasks_x, "topic", durable=True)
    ch.queue_declare(tasks_q, durable=True)
    ch.exchange_bind(destination=tasks_x, source=delivery, routing_key="#.task.run")
    ch.queue_bind(tasks_q, tasks_x, routing_key="#.task.run")

    def calculate_routing_key(countdown, rk):
        return ".".join(format(countdown, "0%db" % LEVELS)) + "." + rk

    countdowns = [5, 1, 3, 2, 0, 9]
    t0 = time.monotonic()
    for n in countdowns:
        ch.basic_publish(
            level_name(LEVELS - 1),
            calculate_routing_key(n, "task.run"),
            ("eta-%d" % n).encode(),
            pika.BasicProperties(delivery_mode=2),
        )
    arrivals = []
    for method, props, body in ch.consume(tasks_q, auto_ack=True, inactivity_timeout=0.1):
        if method is not None:
            arrivals.append((body.decode(), (time.monotonic() - t0) * 1000, method.routing_key, props.headers))
        if len(arrivals) == len(countdowns) or time.monotonic() - t0 > 8:
            break
    ch.cancel()
    got = [a[0] for a in arrivals]
    assert got == ["eta-%d" % n for n in sorted(countdowns)], got
    for body, ms, rk, headers in arrivals:
        n = int(body.split("-")[1])
        assert ms >= n * UNIT_MS * 0.9, "%s arrived after %.0f ms" % (body, ms)
        assert ms <= n * UNIT_MS + 2000, "%s arrived after %.0f ms" % (body, ms)
        assert rk == calculate_routing_key(n, "task.run"), rk
        waited = [lvl for lvl in range(LEVELS - 1, -1, -1) if n & (1 << lvl)]
        deaths = (headers or {}).get("x-death", [])
        assert [(d["queue"], d["reason"], d["count"]) for d in deaths] == [
            (level_name(lvl), "expired", 1) for lvl in reversed(waited)
        ], (body, deaths)
    conn.close()
print("OK")
