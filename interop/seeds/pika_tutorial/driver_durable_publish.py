"""Driver: the "Message Durability" fragment.  It declares 'hello' durable and
publishes `message` persistently to 'task_queue'; the driver supplies the
channel and `message` (argv[1])."""
import sys

import pika

from _fragments import run_fragment

connection = pika.BlockingConnection(pika.ConnectionParameters(host='localhost'))
channel = connection.channel()
ns = {"__name__": "__main__", "pika": pika, "channel": channel, "message": sys.argv[1]}
run_fragment("durable_publish.py", ns)
print(" [x] Sent %r" % sys.argv[1])
connection.close()
