"""Driver for reddit's amqp wrapper as given in seed 000.

The seed splits one module (reddit's r2/lib/amqp.py, ported to pika) into
code blocks; each block is a file here.  The driver runs them in order in one
module namespace, after the module-level imports the blocks rely on but the
seed leaves out (pika, socket, time, Thread), and creates the three module
globals the blocks use: `cfg`, `connection_manager` and `worker`.

  driver.py declare                  print(declare_queues()) like the seed's
                                     shell block, then declare everything
  driver.py publish RK BODY [RK BODY ...]
                                     add_item(RK, BODY) for each pair, wait for
                                     the worker thread, exit
  driver.py consume                  run consume_items.py, whose last line is
                                     consume_items('vote_comment_q', ...)
                                     (never returns; the test kills it)
  driver.py handle QUEUE LIMIT       handle_items(QUEUE, cb, limit=LIMIT,
                                     drain=True); see handle() below
"""
import os
import socket
import sys
import time
from threading import Thread

import pika

HERE = os.path.dirname(os.path.abspath(__file__))
BLOCKS = [
    "message_queue.py",
    "queues.py",
    "declare_queues.py",
    "worker.py",
    "config.py",
    "connection_manager.py",
    "add_item.py",
    "handle_items.py",
]

ns = {
    "__name__": "reddit_amqp",
    "pika": pika,
    "socket": socket,
    "time": time,
    "Thread": Thread,
}


def run_block(name):
    path = os.path.join(HERE, name)
    with open(path, encoding="utf-8") as f:
        exec(compile(f.read(), path, "exec"), ns)


def exit_now(code=0):
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the Worker thread is not a daemon and never ends


for block in BLOCKS:
    run_block(block)

ns["cfg"] = ns["Config"]({
    "amqp_host": "localhost",
    "amqp_user": "guest",
    "amqp_pass": "guest",
    "amqp_virtual_host": "/",
    "amqp_logging": False,
    "queues": ns["declare_queues"](),
})
ns["connection_manager"] = ns["ConnectionManager"]()

mode = sys.argv[1]
if mode == "declare":
    print(ns["declare_queues"]())
    ns["connection_manager"].get_channel()  # connects and runs init_queue()
    print("DRIVER: declared")
    exit_now()
elif mode == "publish":
    ns["worker"] = ns["Worker"]()
    pairs = sys.argv[2:]
    for rk, body in zip(pairs[0::2], pairs[1::2]):
        ns["add_item"](rk, body)
    ns["worker"].join()
    print("DRIVER: published %d" % (len(pairs) // 2))
    exit_now()
elif mode == "consume":
    run_block("consume_items.py")
elif mode == "handle":
    # With pika, basic_get() on an empty queue returns (None, None, None),
    # which is truthy, so handle_items(drain=True) never sees "no message"
    # and never returns (the seed was written against amqplib, whose
    # basic_get returns None).  The callback therefore ends the process once a
    # batch holds no message at all: by then the previous batch's
    # basic_ack(0, multiple=True) has been sent and the basic.get round trip
    # that followed it proves the broker has processed it.
    def callback(items, chan):
        bodies = [body.decode() for method, props, body in items if method is not None]
        if not bodies:
            print("DRIVER: drained")
            exit_now()
        print("DRIVER: batch %s" % " ".join(bodies))

    ns["handle_items"](sys.argv[2], callback, limit=int(sys.argv[3]), drain=True)
else:
    raise SystemExit("unknown mode %r" % mode)
