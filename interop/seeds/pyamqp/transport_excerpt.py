# amqp.transport.TCPTransport
class TCPTransport(_AbstractTransport):

    def _setup_transport(self):
        # 找到落地socket.send了
        self._write = self.sock.sendall
        self._read_buffer = EMPTY_BUFFER
        # 落地socket.recv
        self._quick_recv = self.sock.recv

    def _read(self, n, initial=False, _errnos=(errno.EAGAIN, errno.EINTR)):
        # initial表示从头开始读
        recv = self._quick_recv
        # 处理分包年粘包的变量
        rbuf = self._read_buffer
        try:
            # 读取指定长度
            while len(rbuf) < n:
                try:
                    s = recv(n - len(rbuf))
                except socket.error as exc:
                    # 可以接受的socket错误
                    if exc.errno in _errnos:
                        # 抛出timeout错误
                        # 外部只有读包头才会设置initial=True
                        # 包头7字节中任意一个自己字节读取过程有错都把之前的部分抛掉
                        if initial and self.raise_on_initial_eintr:
                            raise socket.timeout()
                        # 否则继续读socket数据
                        continue
                    raise
                # 读到空返回,socket关闭
                if not s:
                    raise IOError('Socket closed')
                rbuf += s
        except:
            self._read_buffer = rbuf
            raise
        # self._read_buffer切片,切掉返回的帧数
        # 这里处理玩分包粘包返回完整协议帧
        result, self._read_buffer = rbuf[:n], rbuf[n:]
        return result


class _AbstractTransport(object):
    connected = False
    def __init__(self, host, connect_timeout=None,
                 read_timeout=None, write_timeout=None,
                 socket_settings=None, raise_on_initial_eintr=True, **kwargs):
        self.connected = True
        self.sock = None
        self.raise_on_initial_eintr = raise_on_initial_eintr
        self._read_buffer = EMPTY_BUFFER
        self.host, self.port = to_host_port(host)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.write_timeout = write_timeout
        self.socket_settings = socket_settings

    def connect(self):
        self._connect(self.host, self.port, self.connect_timeout)
        self._init_socket(
            self.socket_settings, self.read_timeout, self.write_timeout,
        )

    def read_frame(self, unpack=unpack):
        read = self._read
        # 初始化保存整帧变量, 不用''是兼容2、3
        read_frame_buffer = EMPTY_BUFFER
        try:
            # 读取帧头7个字节,从头开始读
            # 后面的True配合raise_on_initial_eintr
            # 是为了保证第一个包出错能截掉错误的数据
            frame_header = read(7, True)
            # 真帧数据包括原始包头
            read_frame_buffer += frame_header
            # 从帧头解析出帧长度
            frame_type, channel, size = unpack('>BHI', frame_header)
            # 最大帧长度超过int的上限
            # 差成两部分.....
            # 也就是说...要是长度超过2倍int上限就有问题
            if size > SIGNED_INT_MAX:
                part1 = read(SIGNED_INT_MAX)
                part2 = read(size - SIGNED_INT_MAX)
                payload = ''.join([part1, part2])
            else:
                # 读出包体
                payload = read(size)
            read_frame_buffer += payload
            # 在多读一个字节
            ch = ord(read(1))
        except socket.timeout:
            self._read_buffer = read_frame_buffer + self._read_buffer
            raise
        except (OSError, IOError, SSLError, socket.error) as exc:
            # Don't disconnect for ssl read time outs
            # http://bugs.python.org/issue10272
            if isinstance(exc, SSLError) and 'timed out' in str(exc):
                raise socket.timeout()
            if get_errno(exc) not in _UNAVAIL:
                self.connected = False
            raise
        # 包尾必须是206
        if ch == 206:  # '\xce'
            # 最后一个payload是普通字节
            # 所以把msg再封装的部分在channel的dispatch_method中
            # channel的id没有在客户端connect的时候设置
            # channel的id值是rabbit自己设置的?
            return frame_type, channel, payload
        else:
            raise UnexpectedFrame(
                'Received {0:#04x} while expecting 0xce'.format(ch))
