"""Port shim for running the seed samples unmodified against a test broker.

The samples hard-code their broker address (localhost:5672 by default, one
pika sample 127.0.0.1:5673, the kombu samples 192.168.230.107:5672).  When
this directory is on PYTHONPATH, Python imports this module at start-up and
every TCP connect() to one of those addresses is sent to the test broker
instead.  Nothing else is touched.

Environment:
  WARREN_TEST_PORT        port of the test broker (required; without it the
                          shim does nothing)
  WARREN_TEST_HOST        IPv4 address of the test broker (default 127.0.0.1)
  WARREN_TEST_FROM_PORTS  comma-separated ports to redirect (default 5672,
                          the AMQP default port)
  WARREN_TEST_FROM_HOSTS  extra comma-separated host addresses to redirect,
                          besides loopback (localhost, 127.0.0.1, ::1)
  WARREN_TEST_SHIM_DEBUG  if set, log every redirection to stderr

The shim is only needed when the broker is not at localhost:5672 or a sample
uses another address; the test runner leaves it off PYTHONPATH otherwise.
"""
import os
import socket
import sys


def _install():
    port = os.environ.get("WARREN_TEST_PORT")
    if not port:
        return
    target_port = int(port)
    target_host = os.environ.get("WARREN_TEST_HOST") or "127.0.0.1"
    if target_host == "localhost":
        target_host = "127.0.0.1"
    from_ports = {
        int(p) for p in (os.environ.get("WARREN_TEST_FROM_PORTS") or "5672").split(",") if p.strip()
    }
    from_hosts = {"localhost", "127.0.0.1", "::1", "::ffff:127.0.0.1"}
    from_hosts.update(h.strip() for h in (os.environ.get("WARREN_TEST_FROM_HOSTS") or "").split(",") if h.strip())
    if target_host in ("127.0.0.1",) and from_ports == {target_port} and from_hosts <= {
        "localhost", "127.0.0.1", "::1", "::ffff:127.0.0.1"
    }:
        return  # nothing to redirect
    debug = bool(os.environ.get("WARREN_TEST_SHIM_DEBUG"))

    def rewrite(sock, address):
        if not isinstance(address, tuple) or len(address) < 2:
            return address
        host, port = address[0], address[1]
        if host not in from_hosts or port not in from_ports:
            return address
        if sock.family == socket.AF_INET6:
            # A dual-stack IPv6 socket reaches the IPv4 target via its mapped address.
            new = ("::ffff:" + target_host, target_port) + tuple(address[2:])
        else:
            new = (target_host, target_port) + tuple(address[2:])
        if debug:
            sys.stderr.write("[warren shim] %r -> %r\n" % (address, new))
        return new

    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def connect(self, address):
        return original_connect(self, rewrite(self, address))

    def connect_ex(self, address):
        return original_connect_ex(self, rewrite(self, address))

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex


_install()
