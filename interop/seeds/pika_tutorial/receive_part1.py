# 我们不能确认send和receive这两个程序哪个先运行，所以这里要再声明一次队列
channel.queue_declare(queue='hello')
# 接收消息比较复杂，通过向队列订阅一个 回调 函数工作。任何时候 callback 函数都会被 Pika 库调用。
def callback(ch, method, properties, body):
    print(" [x] Received %r" % body)

# 接下来我们要告诉RabbitMQ这是一个特殊地 callback 函数，这个函数需要接收 hello 队列的消息。注意这里需要确认 此队列存在，这也是我们需要在 send 和 receive 两个程序中都声明该 队列的原因
channel.basic_consume(queue='hello',
                      auto_ack=True,
                      on_message_callback=callback)
