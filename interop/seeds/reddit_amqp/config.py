class Config(object):
    def __init__(self, g):
        self.amqp_host = g['amqp_host']
        self.amqp_user = g['amqp_user']
        self.amqp_pass = g['amqp_pass']
        self.amqp_exchange = 'reddit_exchange'
        # self.log = g.log
        self.amqp_virtual_host = g['amqp_virtual_host']
        self.amqp_logging = g['amqp_logging']
        # self.stats = g.stats
        self.queues = g["queues"]

