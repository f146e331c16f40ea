DELIVERY_TRANSIENT = 1
DELIVERY_DURABLE = 2
import pika.exceptions


def _add_item(routing_key, body, message_id=None,
              delivery_mode=DELIVERY_DURABLE, headers=None,
              exchange=None, send_stats=True):
    if not exchange:
        exchange = cfg.amqp_exchange

    chan = connection_manager.get_channel()

    properties = pika.BasicProperties(  # 设置消息的基本属性, 。这些属性包括消息的持久性、消息的优先级、消息的时间戳、消息的类型和其他元数据。
        message_id=message_id,
        # 设置消息的有效期为 10 秒
        # expiration='10000'
    )
    print(body)

    # def on_return(*args, **kwargs):
    #     print("Message returned!", args, kwargs)
    # 设置回调函数, 此方式
    # chan.add_on_return_callback(on_return)
    # 启用生产者确认模式
    chan.confirm_delivery()

    try:
        chan.basic_publish(exchange=exchange,
                           routing_key=routing_key,  # invalid_routing_key
                           body=body, properties=properties, mandatory=True)
    except pika.exceptions.UnroutableError:
        # 开启用生产者确认模式：chan.confirm_delivery()
        # 设置：mandatory=True ，设置为 True，
        # 当无法将消息路由到队列时（设置无效的路由key），会触发pika.exceptions.UnroutableError异常
        print('Message was returned')


def add_item(routing_key, body, message_id=None,
             delivery_mode=DELIVERY_DURABLE, headers=None,
             exchange=None, send_stats=True):
    """发布消息"""

    if exchange is None:  # 交换机
        exchange = cfg.amqp_exchange

    worker.do(_add_item, routing_key, body, message_id=message_id,
              delivery_mode=delivery_mode, headers=headers, exchange=exchange,
              send_stats=send_stats)

