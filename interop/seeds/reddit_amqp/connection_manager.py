from threading import local


class ConnectionManager(local):
    """应该只有两个线程与 AMQP 通信：工作线程和前台线程（无论是使用队列项还是 shell）。 这个类只是一个包装器，以确保它们获得单独的连接"""

    def __init__(self):
        self.connection = None
        self.channel = None
        self.have_init = False

    def get_connection(self):
        while not self.connection:
            try:
                self.connection = pika.BlockingConnection(pika.ConnectionParameters('localhost'))
            except (socket.error, IOError) as e:
                print('error connecting to amqp %s @ %s (%r)' %
                      (cfg.amqp_user, cfg.amqp_host, e))
                time.sleep(1)

        if not self.have_init:
            self.init_queue()
            self.have_init = True

        return self.connection

    def get_channel(self, reconnect=False):
        if self.connection and self.connection.is_closed:
            print("Error: amqp.py, connection object with no available channels.")
            self.connection = None

        if not self.connection or reconnect:
            self.connection = None
            self.channel = None
            self.get_connection()

        if not self.channel:
            self.channel = self.connection.channel()

        return self.channel

    def init_queue(self):
        chan = self.get_channel()
        # 声明交换机
        chan.exchange_declare(exchange="reddit_exchange",
                              exchange_type="direct",
                              durable=True,
                              auto_delete=False)
        # 声明队列
        for queue in cfg.queues:
            chan.queue_declare(queue=queue.name,
                               durable=queue.durable,
                               exclusive=queue.exclusive,
                               auto_delete=queue.auto_delete)

        # 队列与交换机,通过binding进行绑定
        for queue, key in cfg.queues.bindings:
            chan.queue_bind(routing_key=key,
                            queue=queue,
                            exchange="reddit_exchange")

