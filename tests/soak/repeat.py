#!/usr/bin/env python3
"""repeat.py N test_NAME: run one integration test N times in a row and
stop at the first failure (make soak runs the Redis link tests this way
under the sanitizers, so that a rare crash cannot hide)."""

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(os.path.dirname(HERE), "integration")
LIMIT = 600


def main(argv):
    if len(argv) != 2 or not argv[0].isdigit():
        print("usage: repeat.py N test_NAME", file=sys.stderr)
        return 2
    n, name = int(argv[0]), argv[1]
    path = os.path.join(TESTS, name + ".py")
    if not os.path.exists(path):
        print("repeat: no %s" % path, file=sys.stderr)
        return 2
    start = time.monotonic()
    for i in range(1, n + 1):
        t0 = time.monotonic()
        try:
            ok = subprocess.run([sys.executable, path], timeout=LIMIT).returncode == 0
        except subprocess.TimeoutExpired:
            print("repeat: %s run %d over %d s" % (name, i, LIMIT), file=sys.stderr)
            ok = False
        print("repeat: %s run %d of %d %s (%.1f s)" % (name, i, n, "ok" if ok else "FAILED",
                                                      time.monotonic() - t0), flush=True)
        if not ok:
            print("repeat: %s failed on run %d after %d in a row" % (name, i, i - 1))
            return 1
    print("repeat: %s passed %d times in a row in %.0f s" % (name, n, time.monotonic() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
