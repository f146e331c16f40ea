"""pika: RPC over direct reply-to (amq.rabbitmq.reply-to), the RabbitMQ tutorial pattern, with an
RPC server on its own connection; then RabbitMQ's errors when direct reply-to is misused."""
import re
import threading
import uuid

import pika
from pika.exceptions import ChannelClosedByBroker

from qf_common import PikaCleanup, pika_connection, uid

REPLY_TO = "amq.rabbitmq.reply-to"

with PikaCleanup() as c:
    rpc_queue = c.queue(uid("rpc"))
    ready = threading.Event()
    stop = threading.Event()
    seen_reply_to = []
    errors = []

    def server():
        try:
            conn = pika_connection()
            ch = conn.channel()
            ch.queue_declare(rpc_queue)

            def on_request(ch, method, props, body):
                seen_reply_to.append(props.reply_to)
                n = int(body)
                ch.basic_publish(
                    "",
                    props.reply_to,
                    str(n * n).encode(),
                    pika.BasicProperties(correlation_id=props.correlation_id),
                )
                ch.basic_ack(method.delivery_tag)

            ch.basic_qos(prefetch_count=1)
            ch.basic_consume(rpc_queue, on_request)
            ready.set()
            while not stop.is_set():
                conn.process_data_events(time_limit=0.05)
            conn.close()
        except Exception as e:  # reported by the main thread
            errors.append(e)
            ready.set()

    t = threading.Thread(target=server, daemon=True)
    t.start()
    assert ready.wait(10), "RPC server did not start"
    assert not errors, errors

    conn = pika_connection()
    ch = conn.channel()
    replies = {}

    def on_reply(ch, method, props, body):
        replies[props.correlation_id] = (int(body), method.consumer_tag)

    tag = ch.basic_consume(REPLY_TO, on_reply, auto_ack=True)
    # A passive declare of the pseudo-queue works while the reply consumer is there.
    assert ch.queue_declare(REPLY_TO, passive=True).method.consumer_count == 1
    pending = {}
    for n in range(1, 6):
        cid = str(uuid.uuid4())
        pending[cid] = n * n
        ch.basic_publish(
            "",
            rpc_queue,
            str(n).encode(),
            pika.BasicProperties(reply_to=REPLY_TO, correlation_id=cid),
        )
    deadline = 50
    while len(replies) < len(pending) and deadline > 0:
        conn.process_data_events(time_limit=0.1)
        deadline -= 1
    stop.set()
    t.join(5)
    assert not errors, errors
    assert {cid: r for cid, (r, _) in replies.items()} == pending, (replies, pending)
    assert {ctag for _, ctag in replies.values()} == {tag}
    assert len(set(seen_reply_to)) == 1, seen_reply_to
    assert re.match(r"^amq\.rabbitmq\.reply-to\.\S+$", seen_reply_to[0]), seen_reply_to[0]
    ch.close()

    # Consuming the pseudo-queue with acknowledgements is refused.
    ch = conn.channel()
    try:
        ch.basic_consume(REPLY_TO, on_reply, auto_ack=False)
        raise AssertionError("reply consumer with acks accepted")
    except ChannelClosedByBroker as e:
        assert (e.reply_code, e.reply_text) == (406, "PRECONDITION_FAILED - reply consumer cannot acknowledge"), e

    # Publishing with reply-to amq.rabbitmq.reply-to without a reply consumer is refused.
    ch = conn.channel()
    ch.basic_publish("", rpc_queue, b"1", pika.BasicProperties(reply_to=REPLY_TO))
    try:
        ch.queue_declare(rpc_queue, passive=True)
        raise AssertionError("publish with reply-to but no reply consumer accepted")
    except ChannelClosedByBroker as e:
        assert (e.reply_code, e.reply_text) == (406, "PRECONDITION_FAILED - fast reply consumer does not exist"), e

    # After the requester's channel is gone, its reply address no longer exists.
    ch = conn.channel()
    try:
        ch.queue_declare(seen_reply_to[0], passive=True)
        raise AssertionError("reply address of a closed channel still declared")
    except ChannelClosedByBroker as e:
        assert e.reply_code == 404, e
    conn.close()
print("OK")
