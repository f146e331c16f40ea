"""Driver: the "Message acknowledgment" callback fragment (ack_callback.py,
which replaces the callback of receive.py) plus the "fair dispatch" fragment
(fair_dispatch_qos.py), on the tutorial's 'hello' queue."""
import time

import pika

from _fragments import run_fragment

connection = pika.BlockingConnection(pika.ConnectionParameters(host='localhost'))
channel = connection.channel()
channel.queue_declare(queue='hello')
ns = {"__name__": "__main__", "pika": pika, "time": time, "connection": connection, "channel": channel}
run_fragment("fair_dispatch_qos.py", ns)
run_fragment("ack_callback.py", ns)
print(' [*] Waiting for messages. To exit press CTRL+C', flush=True)
channel.start_consuming()
