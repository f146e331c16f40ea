"""Runs seed fragments (files in this directory that are not whole programs)
in one shared namespace, the way they sit in the tutorial text."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def run_fragment(name, namespace):
    path = os.path.join(HERE, name)
    with open(path, encoding="utf-8") as f:
        code = compile(f.read(), path, "exec")
    exec(code, namespace)
    return namespace
