def tup(item, ret_is_single=False):
    """根据输入的类型，将其转换为元组形式。"""
    if hasattr(item, '__iter__'):
        return (item, False) if ret_is_single else item
    else:
        return ((item,), True) if ret_is_single else (item,)


class MessageQueue(object):
    """AMQP消息队列的表示"""

    def __init__(self, durable=True, exclusive=False,
                 auto_delete=False, bind_to_self=False):
        self.durable = durable  # 持久的
        self.exclusive = exclusive  # 排他性
        self.auto_delete = auto_delete  # 自动删除
        self.bind_to_self = bind_to_self  # 设置：路由key与当前消息队列的名称一样

    def _bind(self, routing_key):
        # bindings属性，通过Queues的declare方式定义，使所有的消息队列的bindings属性都指向同一块内存
        self.bindings.add((self.name, routing_key))

    def __lshift__(self, routing_keys):
        """通过<<，实现将路由键绑定到该队列"""
        routing_keys = tup(routing_keys)
        for routing_key in routing_keys:
            self._bind(routing_key)

