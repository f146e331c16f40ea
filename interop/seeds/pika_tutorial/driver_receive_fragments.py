"""Driver: the two receive.py fragments.  The fragments assume a `channel`;
the driver opens it exactly as the tutorial's send fragment does."""
import pika

from _fragments import run_fragment

connection = pika.BlockingConnection(pika.ConnectionParameters('localhost'))
channel = connection.channel()
ns = {"__name__": "__main__", "pika": pika, "connection": connection, "channel": channel}
run_fragment("receive_part1.py", ns)
run_fragment("receive_part2.py", ns)
