from queue import Queue


class Worker:
    def __init__(self):
        self.q = Queue()  # 初始化了一个队列 
        self.t = Thread(target=self._handle)
        # self.t.setDaemon(True) # 设置为守护线程后，当主线程退出时，守护线程也会立即结束，不管是否执行完成
        self.t.start()

    def _handle(self):
        while True:
            fn = self.q.get()
            try:
                fn()
                self.q.task_done()
            except Exception as e:
                import traceback
                traceback.format_exc()
                raise e

    def do(self, fn, *a, **kw):
        fn1 = lambda: fn(*a, **kw)
        self.q.put(fn1)

    def join(self):
        self.q.join()
