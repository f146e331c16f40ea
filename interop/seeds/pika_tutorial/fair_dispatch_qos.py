channel.basic_qos(prefetch_count=1) # 告诉RabbitMQ不要将一个新的消息分发给workerA，直到workerA处理完它手头上的任务。
