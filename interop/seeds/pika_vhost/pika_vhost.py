import pika
from pika import PlainCredentials
from pika import ConnectionParameters

# 发送者
def publish():
    user = 'phptest'
    passwd = 'phptest'
    vhost = 'phptest'
    ip = '127.0.0.1'
    port = 5673
    identified = PlainCredentials(user, passwd)
    paarameters = ConnectionParameters(ip, port, vhost, identified)
    # BlockingConnection类就是一个rabbitmq的连接,如果要用多连接的话,pika有一个pika-pool的库
    connection  = pika.BlockingConnection(paarameters)
    # channel这个玩意比较蛋碎,之前我看了很久就是为了看明白为什么不直接用connection
    # 还要在connection上封一层channel,后来大致明白
    # 其实就是为了不多建立多个connection也能做隔离
    channel = connection.channel()
    print('connect success')
    # 声明一个叫gcy2的交换机(exchange), 默认的exchange_type是direct,即单点的
    channel.exchange_declare(exchange='gcy2', auto_delete=True)
    print('start send data')
    # 然后发送数据 到gcy2 这个exchange, 接收者的routing_key是a
    channel.basic_publish(exchange='gcy2',routing_key='a', body='wtffffff1')
    channel.basic_publish(exchange='gcy2',routing_key='a', body='wtffffff2')
    print('end')

# 接收者
def consume():
    user = 'phptest'
    passwd = 'phptest'
    vhost = 'phptest'
    ip = '127.0.0.1'
    port = 5673
    identified = PlainCredentials(user, passwd)
    paarameters = ConnectionParameters(ip, port, vhost, identified)
    connection  = pika.BlockingConnection(paarameters)
    channel = connection.channel()
    print('connect success')
    # 声明一个队列
    channel.queue_declare(queue='myqeueu')
    # 队列绑定到交换机
    channel.queue_bind(queue='myqeueu', exchange='gcy2', routing_key='a')
    # 数据写入队列
    get_list = []
    # 回调函数
    def callback(ch, method, properties, body):
        print('get body %s ' % body, end=' ')
        print(method.consumer_tag)
        get_list.append([method.delivery_tag, body])
        # 回复ack
        ch.basic_ack(method.delivery_tag)
        #ch.stop_consuming()
    channel.basic_qos(prefetch_count=1)
    # 不自动回复ack,在callback中进行
    tag1 = channel.basic_consume(queue='myqeueu', on_message_callback=callback, auto_ack=False)
    # 循环事件
    # 演示代码没有循环只执行一次
    connection.process_data_events()
    connection.close()
