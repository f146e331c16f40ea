def consume_items(queue, callback, verbose=True):
    """
    消费者函数，用于消费队列中的消息
    :param queue: 要消费的队列的名称
    :param callback: 处理每条消息的回调函数
    """
    chan = connection_manager.get_channel()

    # configure the amount of data rabbit will send down to our buffer before
    # we're ready for it (to reduce network latency). by default, it will send
    # as much as our buffers will allow.
    chan.basic_qos(
        # 预取窗口的大小，通常设置为0表示不限制消息的大小
        prefetch_size=0,
        # 最大预取消息数量，表示一次从队列中获取的消息数量。
        prefetch_count=1000,
        # 一个布尔值，表示是否将配置应用于所有通道，通常为 False，只应用于当前通道。
        global_qos=False
    )

    def _callback(ch, method, properties, body):
        print('_callback:', body, method, properties.__dict__, )

        ret = callback(body)
        if body.decode('utf-8') == 'message_0005':
            # 手动拒绝消息
            ch.basic_reject(delivery_tag=method.delivery_tag, requeue=True)
            """
            delivery_tag: 表示要拒绝的消息的唯一标识符
            requeue=True: 表示是否将拒绝的消息重新放回队列, 如果设置为 False，消息将被丢弃, 如果设置为 True，拒绝的消息将重新进入队列，可以被其他消费者重新处理；
            """
        else:
            # 手动确认消息
            ch.basic_ack(delivery_tag=method.delivery_tag)
        return ret

    # 轮询队列以获取新消息
    chan.basic_consume(queue=queue, on_message_callback=_callback, auto_ack=False)
    # chan.basic_consume(queue=queue, on_message_callback=_callback, auto_ack=True) # 自动确认
    # 是一个阻塞调用，它会持续从队列中接收消息并调用指定的回调函数进行处理，直到程序手动停止或出现错误
    chan.start_consuming()


def _run_changed(*args, **kwargs):
    print("_run_changed:", args, kwargs)
    pass


queue = 'vote_comment_q'
# 单个消费
consume_items(queue, _run_changed)
