"""pika: x-max-length drop-head (dead-letters the dropped head) and reject-publish /
reject-publish-dlx under publisher confirms (the publisher gets basic.nack, the message still
reaches the other queues it routed to)."""
import pika
from pika.exceptions import NackError

from qf_common import PikaCleanup, get_all, message_count, pika_connection, uid, wait_for


def bodies(msgs):
    return [b.decode() for _, _, b in msgs]


with PikaCleanup() as c:
    conn = pika_connection()
    ch = conn.channel()
    ch.confirm_delivery()
    dlx = c.exchange(uid("dlx"))
    dlq = c.queue(uid("dlq"))
    ch.exchange_declare(dlx, "fanout")
    ch.queue_declare(dlq)
    ch.queue_bind(dlq, dlx, "")

    # drop-head: the oldest messages go, dead-lettered with reason maxlen; every publish is acked.
    q = c.queue(uid("drophead"))
    ch.queue_declare(q, arguments={"x-max-length": 3, "x-dead-letter-exchange": dlx})
    for i in range(1, 6):
        ch.basic_publish("", q, ("m%d" % i).encode())  # raises on nack
    assert bodies(get_all(ch, q)) == ["m3", "m4", "m5"]
    wait_for(lambda: message_count(ch, dlq) == 2, what="two dropped heads dead-lettered")
    dead = get_all(ch, dlq)
    assert bodies(dead) == ["m1", "m2"]
    for _, props, _ in dead:
        d = props.headers["x-death"][0]
        assert (d["reason"], d["queue"], d["count"]) == ("maxlen", q, 1), d

    # reject-publish behind a fanout: nacked for the full queue, delivered to the other one.
    fan = c.exchange(uid("fan"))
    ch.exchange_declare(fan, "fanout")
    limited = c.queue(uid("rejectpub"))
    other = c.queue(uid("other"))
    ch.queue_declare(limited, arguments={"x-max-length": 2, "x-overflow": "reject-publish", "x-dead-letter-exchange": dlx})
    ch.queue_declare(other)
    ch.queue_bind(limited, fan, "")
    ch.queue_bind(other, fan, "")
    results = []
    for i in range(1, 5):
        try:
            ch.basic_publish(fan, "", ("r%d" % i).encode(), pika.BasicProperties(delivery_mode=1))
            results.append("ack")
        except NackError:
            results.append("nack")
    assert results == ["ack", "ack", "nack", "nack"], results
    assert bodies(get_all(ch, limited)) == ["r1", "r2"]
    assert bodies(get_all(ch, other)) == ["r1", "r2", "r3", "r4"]
    assert message_count(ch, dlq) == 0, "reject-publish does not dead-letter"
    ch.basic_publish(fan, "", b"r5")  # room again: acked
    assert bodies(get_all(ch, limited)) == ["r5"]

    # reject-publish-dlx: nacked and dead-lettered.
    q2 = c.queue(uid("rejectdlx"))
    ch.queue_declare(q2, arguments={"x-max-length": 1, "x-overflow": "reject-publish-dlx", "x-dead-letter-exchange": dlx})
    ch.basic_publish("", q2, b"kept")
    try:
        ch.basic_publish("", q2, b"refused")
        raise AssertionError("reject-publish-dlx acked a message over the limit")
    except NackError:
        pass
    wait_for(lambda: message_count(ch, dlq) == 1, what="refused message dead-lettered")
    [(_, props, body)] = get_all(ch, dlq)
    assert body == b"refused"
    assert props.headers["x-death"][0]["reason"] == "maxlen"
    assert bodies(get_all(ch, q2)) == ["kept"]
    conn.close()
print("OK")
