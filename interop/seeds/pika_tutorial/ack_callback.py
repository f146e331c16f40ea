# receive.py
def callback(ch, method, properties, body):
    print(" [x] Received %r" % body)
    time.sleep( body.count(b'.') )
    print(" [x] Done")
    ch.basic_ack(delivery_tag = method.delivery_tag) # 回信/回执

channel.basic_consume(queue='hello', on_message_callback=callback, auto_ack=False)
