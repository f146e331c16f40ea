"""Driver: the two send.py fragments of the tutorial, run one after the other
(together they are the complete sender)."""
from _fragments import run_fragment

ns = {"__name__": "__main__"}
run_fragment("send_part1.py", ns)
run_fragment("send_part2.py", ns)
