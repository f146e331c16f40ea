# 初始化kombu的connection
self.connection = kombu.connection.Connection(
    self._url, ssl=self._fetch_ssl_params(),
    login_method=self.login_method,
    heartbeat=self.heartbeat_timeout_threshold,
    failover_strategy=self.kombu_failover_strategy,
    transport_options={
        'confirm_publish': True,
        'client_properties': {'capabilities': {
            'authentication_failure_close': True,
            'connection.blocked': True,
            'consumer_cancel_notify': True}},
        'on_blocked': self._on_connection_blocked,
        'on_unblocked': self._on_connection_unblocked,
    },
)

# 初始化队列
self.queue = kombu.entity.Queue(
    name=self.queue_name,
    channel=conn.channel,
    exchange=self.exchange,
    durable=self.durable,
    auto_delete=self.queue_auto_delete,
    routing_key=self.routing_key,
    queue_arguments=self.queue_arguments)
# 声明队列
self.queue.declare()

# 消费者声明
self.queue.consume(callback=self._callback,
                   consumer_tag=six.text_type(tag),
                   nowait=self.nowait)

# 自动重试
autoretry_method = self.connection.autoretry(
    execute_method, channel=self.channel,
    max_retries=retry,
    errback=on_error,
    interval_start=self.interval_start or 1,
    interval_step=self.interval_stepping,
    interval_max=self.interval_max,
    on_revive=on_reconnection)
# autoretry_method返回channel对象
ret, channel = autoretry_method()
# 设置channel, channel在这里被设置
self._set_current_channel(channel)
return ret



