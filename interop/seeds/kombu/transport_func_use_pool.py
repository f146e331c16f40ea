import json

from kombu import Exchange, Queue, Connection
from kombu.pools import producers, connections


def _transport_func_use_pool(queue, data):
    # hostname = f"amqp{transport_url.split('rabbit')[-1]}:5672//"
    hostname = f"amqp://openstack:comleader@123@192.168.230.107:5672//"
    connection = Connection(hostname=hostname)
    exchange = Exchange('test-11', durable=False)
    send_queue_conn = Queue(queue, exchange=exchange, routing_key=queue)
    with connections[connection].acquire(block=True) as conn:
        with producers[conn].acquire(block=True) as producer:
            producer.publish(
                serializer='json',
                body=data,
                exchange=exchange,
                declare=[send_queue_conn],
                routing_key=queue
            )
    connection.release()

