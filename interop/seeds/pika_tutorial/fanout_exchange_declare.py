channel.exchange_declare(exchange='logs', exchange_type='fanout')
