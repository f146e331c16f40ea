"""Driver for the py-amqp channel notes (seed 003).  The notes quote
amqp.channel.Channel and list the order in which a consumer is set up:
exchange_declare, queue_declare, queue_bind, basic_consume, with deliveries
reaching the callback through _on_basic_deliver (delivery_info = consumer_tag,
delivery_tag, redelivered, exchange, routing_key).  The quoted Channel code is
elided (`....`) and cannot run as such, so this driver performs those four
steps with the installed py-amqp and prints what each returned, as JSON lines.

  driver_channel_flow.py QUEUE
"""
import json
import sys
import warnings

import amqp

warnings.simplefilter("ignore")  # exchange_declare(auto_delete=True) warns, as the notes show
q = sys.argv[1]
x = q + "-exchange"
out = {}
conn = amqp.Connection("localhost:5672", userid="guest", password="guest", virtual_host="/")
conn.connect()
ch = conn.channel()

# 1 exchange_declare (auto_delete=True is the default in the quoted signature)
ch.exchange_declare(x, "direct", durable=False, auto_delete=True)
# 2 queue_declare -> queue_declare_ok_t(queue, message_count, consumer_count)
out["declare_ok"] = list(ch.queue_declare(q, durable=False, exclusive=False, auto_delete=False))
# 3 queue_bind
ch.queue_bind(q, exchange=x, routing_key="rk")
# publisher confirms, so that both messages are enqueued before the next declare-ok is built
ch.confirm_select()
ch.basic_publish_confirm(amqp.Message("m1", content_type="text/plain"), exchange=x, routing_key="rk")
ch.basic_publish_confirm(amqp.Message("m2", application_headers={"k": "v"}), exchange=x, routing_key="rk")
out["after_publish"] = list(ch.queue_declare(q, passive=True))

# 4 basic_consume with a callback and a server-generated consumer tag
got = []


def callback(msg):
    got.append({
        "body": msg.body.decode() if isinstance(msg.body, bytes) else msg.body,
        "delivery_info": msg.delivery_info,
        "content_type": msg.properties.get("content_type"),
        "headers": msg.properties.get("application_headers"),
    })


out["consumer_tag"] = ch.basic_consume(q, callback=callback)
while len(got) < 2:
    conn.drain_events(timeout=5)
out["deliveries"] = got
out["while_consuming"] = list(ch.queue_declare(q, passive=True))
ch.basic_ack(got[-1]["delivery_info"]["delivery_tag"], multiple=True)
ch.basic_cancel(out["consumer_tag"])
out["queue_delete"] = ch.queue_delete(q)
# the auto-delete exchange lost its last binding with the queue
try:
    ch.exchange_declare(x, "direct", passive=True)
    out["exchange_after_queue_delete"] = "exists"
except amqp.exceptions.NotFound as e:
    out["exchange_after_queue_delete"] = "404 %s" % e.reply_text
    ch = conn.channel()
conn.close()
print(json.dumps(out, default=str))
