"""Driver for transport_func.py / transport_func_use_pool.py (seed 002): the
samples only define a function; this calls it.

  driver_transport_func.py direct QUEUE JSON   _transport_func(QUEUE, data)
  driver_transport_func.py pool QUEUE JSON     _transport_func_use_pool(QUEUE, data)

Both hard-code amqp://openstack:comleader@123@192.168.230.107:5672// (user
'openstack', password 'comleader@123', vhost '/'); the test points that
address at the test broker with the port shim and creates the user.
"""
import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


mode, queue, data = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
if mode == "direct":
    load("transport_func")._transport_func(queue, data)
else:
    load("transport_func_use_pool")._transport_func_use_pool(queue, data)
print("DRIVER: published to %s" % queue)
