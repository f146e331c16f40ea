# 最后我们进入一个无限循环，等待数据并且在有必要的时候调用callback 函数
print(' [*] Waiting for messages. To exit press CTRL+C')
channel.start_consuming()
