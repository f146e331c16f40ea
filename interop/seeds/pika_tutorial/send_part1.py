import pika
connection = pika.BlockingConnection(pika.ConnectionParameters('localhost')) # 初始化/建立连接（establish a connection）
channel = connection.channel()
channel.queue_declare(queue='hello') # 声明hello队列
