
def autoretry(self, fun, channel=None, **ensure_options):
    # 这里把channel变成channels列表
    # 原因参考闭包
    channels = [channel]
    class Revival(object):
        __name__ = getattr(fun, '__name__', None)
        __module__ = getattr(fun, '__module__', None)
        __doc__ = getattr(fun, '__doc__', None)

        def __init__(self, connection):
            
            self.connection = connection

        def revive(self, channel):
            # 相当于修改闭包里的自由变量
            channels[0] = channel

        def __call__(self, *args, **kwargs):
            if channels[0] is None:
                self.revive(self.connection.default_channel)
            return fun(*args, channel=channels[0], **kwargs), channels[0]

    revive = Revival(self)
    return self.ensure(revive, revive, **ensure_options)

