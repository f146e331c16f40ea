def handle_items(queue, callback, ack=True, limit=1, min_size=0,
                 drain=False, sleep_time=1):
    """对特定队列中的每个项目调用callback()。
     handle_items 函数：处理队列中的消息，与 consume_items 不同，它可以一次处理多个消息。可以设置处理的消息数量、最小大小、是否要在处理之后确认消息等"""
    if limit < min_size:
        raise ValueError("min_size must be less than limit")

    chan = connection_manager.get_channel()

    while True:

        msg = chan.basic_get(queue)  # 允许消费者主动从队列中获取一条消息
        if not msg and drain:
            return
        elif not msg:
            time.sleep(sleep_time)
            continue

        items = [msg]

        while len(items) < limit:
            msg = chan.basic_get(queue)
            if msg is None:
                if len(items) < min_size:
                    time.sleep(sleep_time)
                else:
                    break
            else:
                items.append(msg)
        print('handle_items', len(items), items)
        try:
            callback(items, chan)

            if ack:
                # ack *all* outstanding messages
                chan.basic_ack(0, multiple=True)
                """
                用于确认消息的接收
                delivery_tag：表示要确认的消息的交付标签（delivery tag），交付标签是由 RabbitMQ 分配的唯一标识，它标识了要确认的消息。
                multiple：一个布尔值，用于指定是确认单个消息还是多个消息
                如果 multiple 为 False，那么只确认指定交付标签（delivery_tag）的消息。
                如果 multiple 为 True，并且 delivery_tag 为 0，则表示确认所有已接收但未确认的消息。
                如果 multiple 为 True，并且 delivery_tag 不为 0，则表示确认包括 delivery_tag 在内的所有消息，从 0 到 delivery_tag 之间的所有消息都会被确认。
                """
        except:
            for msg in items:
                # explicitly reject the items that we've not processed
                chan.basic_reject(msg[1].delivery_tag, requeue=True)
                """拒绝消息的接收
                requeue：一个布尔值，用于指定是否将消息重新放入队列。
                """
            raise
