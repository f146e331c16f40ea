"""Driver for hub_example.py (seed 002, from the kombu source-analysis notes).

The sample has no imports (the notes leave them out) and is written for the
redis transport.  The driver runs the file unmodified as __main__ with the
kombu names it uses pre-set in its globals, and with `Connection` mapping the
sample's 'redis://localhost:6379' to the AMQP broker at localhost:5672, so the
very same code (kombu's async Hub event loop, Producer, Consumer with
on_message, message.ack) runs over the py-amqp transport.  run_forever()
never returns: the test kills the process once the message has arrived.
"""
import os
import runpy
import sys

import kombu
from kombu import Consumer, Exchange, Producer, Queue
from kombu.asynchronous import Hub


def Connection(url, *args, **kwargs):
    if url == 'redis://localhost:6379':
        url = 'amqp://guest:guest@localhost:5672//'
    return kombu.Connection(url, *args, **kwargs)


HERE = os.path.dirname(os.path.abspath(__file__))
runpy.run_path(
    os.path.join(HERE, "hub_example.py"),
    init_globals={
        "sys": sys,
        "Hub": Hub,
        "Exchange": Exchange,
        "Queue": Queue,
        "Producer": Producer,
        "Consumer": Consumer,
        "Connection": Connection,
    },
    run_name="__main__",
)
