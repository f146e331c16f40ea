class Queues(dict):
    """队列容器"""

    def __init__(self, queues):
        dict.__init__(self)
        self.__dict__ = self
        self.bindings = set()
        self.declare(queues)

    def __iter__(self):
        for name, queue in self.items():
            if name != "bindings":
                yield queue

    def declare(self, queues):
        for name, queue in queues.items():
            queue.name = name
            queue.bindings = self.bindings  # 所有消息队列的bindings都指向同一个内存
            if queue.bind_to_self:
                queue._bind(name)
        self.update(queues)
