"""Driver for pika_vhost.py (seed 004), which only defines publish() and
consume() for vhost 'phptest' / user phptest:phptest at 127.0.0.1:5673.

consume() binds queue 'myqeueu' to exchange 'gcy2', which publish() declares,
and its single process_data_events() call handles at most the deliveries that
are already there, so the driver calls, in order:
  publish()   declares 'gcy2'; the two messages are unroutable and dropped
  consume()   declares and binds 'myqeueu'
  publish()   the two messages now reach 'myqeueu'
  consume()   repeatedly, until both bodies have been printed (max 40 calls)
"""
import importlib.util
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("pika_vhost", os.path.join(HERE, "pika_vhost.py"))
sample = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sample)


class Tee:
    def __init__(self, real):
        self.real, self.text = real, ""

    def write(self, s):
        self.text += s
        return self.real.write(s)

    def flush(self):
        self.real.flush()


tee = sys.stdout = Tee(sys.stdout)
sample.publish()
sample.consume()
sample.publish()
for attempt in range(40):
    sample.consume()
    if "wtffffff1" in tee.text and "wtffffff2" in tee.text:
        print("DRIVER: both messages consumed after %d consume() calls" % (attempt + 1))
        break
    time.sleep(0.05)
else:
    print("DRIVER: gave up")
    sys.exit(1)
