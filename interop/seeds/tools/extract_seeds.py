#!/usr/bin/env python3
"""Copy the seed code samples listed in ../manifest.json into their files, or
(--check) verify that the files are still exactly the seed text plus the
recorded fixes.

usage: extract_seeds.py [--check] [--seeds DIR]
"""
import json
import os
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)  # interop/seeds


def sample_text(seed_dir, entry):
    with open(os.path.join(seed_dir, entry["seed"]), encoding="utf-8") as f:
        lines = f.read().split("\n")
    first, last = entry["lines"]
    text = "\n".join(lines[first - 1:last]) + "\n"
    if entry.get("dedent"):
        text = textwrap.dedent(text)
    for old, new in entry.get("fixes", []):
        if old not in text:
            raise SystemExit("%s: fix %r does not apply to the seed text" % (entry["file"], old))
        text = text.replace(old, new)
    return text


def main(argv):
    check = "--check" in argv
    seed_dir = os.environ.get("SEEDS_DIR", "/work/shared/seeds")
    if "--seeds" in argv:
        seed_dir = argv[argv.index("--seeds") + 1]
    if not os.path.isdir(seed_dir):
        print("SKIP: seed directory %s not found" % seed_dir)
        return 0
    with open(os.path.join(ROOT, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    bad = 0
    for entry in manifest["samples"]:
        want = sample_text(seed_dir, entry)
        path = os.path.join(ROOT, entry["file"])
        if check:
            try:
                with open(path, encoding="utf-8") as f:
                    have = f.read()
            except FileNotFoundError:
                have = None
            if have != want:
                bad += 1
                print("MISMATCH %s (seed %s lines %s)" % (entry["file"], entry["seed"], entry["lines"]))
            else:
                print("ok %s" % entry["file"])
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(want)
            print("wrote %s" % entry["file"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
