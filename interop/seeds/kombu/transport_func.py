import json

from kombu import Exchange, Queue, Connection
from kombu.pools import producers, connections


def _transport_func(queue, data):
    import json
    from kombu import Connection, Exchange, Producer, Queue
    hostname = f"amqp://openstack:comleader@123@192.168.230.107:5672//"
    conn = Connection(hostname)
    channel = conn.channel()
    # exchange = Exchange("snapshot", type="direct", durable=False)
    exchange = Exchange("test-12", durable=False)
    producer = Producer(exchange=exchange, channel=channel, routing_key=queue)
    queue_conn = Queue(name=queue, exchange=exchange, routing_key=queue)
    queue_conn.maybe_bind(conn)
    queue_conn.declare()
    producer.publish(json.dumps(data))
    conn.release()

