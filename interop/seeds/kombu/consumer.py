from kombu import Connection, Exchange, Queue, Consumer

hostname = f"amqp://openstack:comleader@123@192.168.230.107:5672//"
connection = Connection(hostname=hostname)
exchange = Exchange('test-12', durable=False)
queue_name = "test-12"
queue = Queue(queue_name, exchange=exchange, routing_key=queue_name)


def process_message(body, message):
    print("The body is {}".format(body))
    message.ack()


with Consumer(connection, queues=queue, callbacks=[process_message], accept=["text/plain", "application/json"]):
    connection.drain_events(timeout=2)

