"""Shared helpers for the queue-feature scripts (interop/queue-features-py.test.mjs runs them).

The broker under test is given in the environment: WARREN_TEST_URL (amqp://user:pass@host:port),
WARREN_TEST_HOST and WARREN_TEST_PORT. Every script uses names of its own, removes what it
declared, prints what it checked, and exits non-zero on the first failed assertion.
"""
import os
import time
import uuid

URL = os.environ["WARREN_TEST_URL"]
HOST = os.environ.get("WARREN_TEST_HOST", "127.0.0.1")
PORT = int(os.environ.get("WARREN_TEST_PORT", "5672"))


def uid(prefix):
    return "interop.py.%s.%s" % (prefix, uuid.uuid4().hex[:8])


def wait_for(cond, timeout=5.0, what="condition", step=0.01):
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(step)


def pika_connection():
    import pika

    return pika.BlockingConnection(pika.URLParameters(URL))


def pyamqp_connection():
    import amqp

    conn = amqp.Connection(host="%s:%d" % (HOST, PORT), userid="guest", password="guest", virtual_host="/")
    conn.connect()
    return conn


class PikaCleanup:
    """Deletes the queues and exchanges a pika script declared, on a fresh connection."""

    def __init__(self):
        self.queues = []
        self.exchanges = []

    def queue(self, name):
        self.queues.append(name)
        return name

    def exchange(self, name):
        self.exchanges.append(name)
        return name

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            conn = pika_connection()
            for q in self.queues:
                ch = conn.channel()
                try:
                    ch.queue_delete(q)
                    ch.close()
                except Exception:
                    pass
            for x in self.exchanges:
                ch = conn.channel()
                try:
                    ch.exchange_delete(x)
                    ch.close()
                except Exception:
                    pass
            conn.close()
        except Exception:
            pass
        return False


def get_all(ch, queue):
    """Every ready message of a pika queue, got with auto-ack: [(method, properties, body)]."""
    out = []
    while True:
        method, props, body = ch.basic_get(queue, auto_ack=True)
        if method is None:
            return out
        out.append((method, props, body))


def message_count(ch, queue):
    return ch.queue_declare(queue, passive=True).method.message_count
