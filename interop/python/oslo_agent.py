#!/usr/bin/python3
"""Python oslo.messaging (Debian's python3-oslo.messaging) driven over stdin/stdout by
interop/oslo-rpc.test.mjs, so that one interpreter (slow to import oslo) serves every case.

Commands are JSON lines {"id": n, "op": ..., ...}; each runs in its own thread and is
answered with {"id": n, "ok": true, ...} or {"id": n, "ok": false, "error": {...}}.
Servers and listeners report what they receive as {"event": ...} lines.

The transport URL is OSLO_TRANSPORT_URL (rabbit://guest:guest@127.0.0.1:5672/).
"""
import json
import os
import sys
import threading
import time
import traceback

from oslo_config import cfg
import oslo_messaging as om

URL = os.environ["OSLO_TRANSPORT_URL"]
_out = threading.Lock()


def emit(obj):
    line = json.dumps(obj, default=str)
    with _out:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


cfg.CONF([], project="warren-oslo-agent", default_config_files=[])
rpc_transport = om.get_rpc_transport(cfg.CONF, url=URL)
notify_transport = om.get_notification_transport(cfg.CONF, url=URL)
running = []  # servers and listeners, stopped at exit


class TestEndpoint(object):
    """The null namespace, version 1.0."""

    def __init__(self, name):
        self.name = name

    def echo(self, ctxt, **kwargs):
        return {"server": self.name, "ctxt": ctxt, "kwargs": kwargs}

    def add(self, ctxt, a, b):
        return a + b

    def fail(self, ctxt, message):
        raise ValueError(message)

    def record(self, ctxt, **kwargs):
        emit({"event": "rpc", "server": self.name, "ctxt": ctxt, "kwargs": kwargs})

    def slow(self, ctxt, seconds):
        time.sleep(seconds)
        return self.name

    def _private(self, ctxt):
        return "private"


class CalcEndpoint(object):
    """Namespace "calc" at version 2.3."""

    target = om.Target(namespace="calc", version="2.3")

    def multiply(self, ctxt, a, b):
        return a * b


class NotificationEndpoint(object):
    def __init__(self, name):
        self.name = name

    def _record(self, priority, ctxt, publisher_id, event_type, payload, metadata):
        emit({
            "event": "notification",
            "listener": self.name,
            "priority": priority,
            "ctxt": ctxt,
            "publisher_id": publisher_id,
            "event_type": event_type,
            "payload": payload,
            "metadata": metadata,
        })


for _p in ("audit", "debug", "info", "warn", "error", "critical", "sample"):
    setattr(NotificationEndpoint, _p,
            (lambda p: lambda self, *a: self._record(p, *a))(_p))


def describe(e):
    return {
        "type": type(e).__name__,
        "module": type(e).__module__,
        "message": str(e),
        "exc_type": getattr(e, "exc_type", None),
        "value": getattr(e, "value", None),
        "traceback": getattr(e, "traceback", None),
    }


def client_for(cmd):
    target = om.Target(topic=cmd["topic"], exchange=cmd.get("exchange"))
    client = om.get_rpc_client(rpc_transport, target)
    prep = {k: cmd[k] for k in ("server", "fanout", "namespace", "version", "timeout",
                                "call_monitor_timeout") if cmd.get(k) is not None}
    return client.prepare(**prep) if prep else client


def op_server(cmd):
    target = om.Target(topic=cmd["topic"], server=cmd["server"])
    server = om.get_rpc_server(rpc_transport, target,
                               [TestEndpoint(cmd["server"]), CalcEndpoint()],
                               executor="threading")
    server.start()
    running.append(server)
    return {}


def op_call(cmd):
    client = client_for(cmd)
    started = time.monotonic()
    try:
        result = client.call(cmd.get("ctxt", {}), cmd["method"], **cmd.get("kwargs", {}))
        return {"result": result, "elapsed": time.monotonic() - started}
    except Exception as e:  # the test looks at what the caller sees
        return {"raised": describe(e), "elapsed": time.monotonic() - started}


def op_cast(cmd):
    client_for(cmd).cast(cmd.get("ctxt", {}), cmd["method"], **cmd.get("kwargs", {}))
    return {}


def op_listener(cmd):
    targets = [om.Target(topic=t) for t in cmd["topics"]]
    listener = om.get_notification_listener(
        notify_transport, targets, [NotificationEndpoint(cmd["name"])],
        executor="threading", pool=cmd.get("pool"))
    listener.start()
    running.append(listener)
    return {}


def op_notify(cmd):
    notifier = om.Notifier(notify_transport, publisher_id=cmd["publisher_id"],
                           driver=cmd.get("driver", "messagingv2"), topics=cmd["topics"])
    getattr(notifier, cmd["priority"])(cmd.get("ctxt", {}), cmd["event_type"], cmd["payload"])
    return {}


OPS = {name[3:]: fn for name, fn in globals().items() if name.startswith("op_")}


def run(cmd):
    try:
        reply = OPS[cmd["op"]](cmd)
        reply.update({"id": cmd["id"], "ok": True})
    except Exception as e:
        reply = {"id": cmd["id"], "ok": False, "error": describe(e),
                 "trace": traceback.format_exc()}
    emit(reply)


def main():
    emit({"event": "ready"})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        if cmd["op"] == "exit":
            break
        threading.Thread(target=run, args=(cmd,), daemon=True).start()
    # Each stop() waits for its listener's poll to time out (up to 5 s in oslo): stop them
    # all at once, then the transports (their reply waiter polls the same way).
    parallel([lambda s=s: (s.stop(), s.wait()) for s in running])
    parallel([rpc_transport.cleanup, notify_transport.cleanup])
    emit({"event": "bye"})


def parallel(fns):
    threads = [threading.Thread(target=fn) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
