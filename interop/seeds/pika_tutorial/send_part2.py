channel.basic_publish(exchange='',
                      routing_key='hello',
                      body='Hello World!')
print(" [x] Sent 'Hello World!'")
# 在我们退出程序之前，我们需要确认网络缓冲区被刷新并且我们的消息被准确地递交给rabbitmq
connection.close()
