"""Driver: the Publish/Subscribe fragment only declares the fanout exchange
'logs'.  This is the smallest program around it (the rest of the RabbitMQ
tutorial's emit_log.py / receive_logs.py):

  driver_fanout.py subscribe      server-named exclusive queue bound to 'logs'
  driver_fanout.py publish MSG    publish MSG to 'logs'
"""
import sys

import pika

from _fragments import run_fragment

connection = pika.BlockingConnection(pika.ConnectionParameters(host='localhost'))
channel = connection.channel()
ns = {"__name__": "__main__", "pika": pika, "channel": channel}
run_fragment("fanout_exchange_declare.py", ns)

if sys.argv[1] == "publish":
    channel.basic_publish(exchange='logs', routing_key='', body=sys.argv[2])
    print(" [x] Sent %r" % sys.argv[2])
    connection.close()
else:
    result = channel.queue_declare(queue='', exclusive=True)
    queue_name = result.method.queue
    channel.queue_bind(exchange='logs', queue=queue_name)
    print(' [*] Queue %s bound to logs. Waiting for logs.' % queue_name, flush=True)

    def callback(ch, method, properties, body):
        print(" [x] %r" % body, flush=True)

    channel.basic_consume(queue=queue_name, on_message_callback=callback, auto_ack=True)
    channel.start_consuming()
