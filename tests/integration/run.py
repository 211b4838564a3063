#!/usr/bin/env python3
"""Run the integration tests: every test_*.py here (or the names given),
each in its own process with a time limit; --long runs the long_*.py
simulations of `make sim` instead."""

import glob
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv):
    long_run = "--long" in argv
    names = [a for a in argv if not a.startswith("--")]
    pattern = "long_*.py" if long_run else "test_*.py"
    tests = sorted(glob.glob(os.path.join(HERE, pattern)))
    if names:
        tests = [t for t in tests if any(n in os.path.basename(t) for n in names)]
    limit = 3600 if long_run else 300
    failed = []
    for t in tests:
        name = os.path.basename(t)[:-3]
        start = time.monotonic()
        try:
            r = subprocess.run([sys.executable, t], timeout=limit)
            ok = r.returncode == 0
        except subprocess.TimeoutExpired:
            print("FAIL %s: over %ds" % (name, limit), file=sys.stderr)
            ok = False
        print("%s %s (%.1fs)" % ("ok  " if ok else "FAIL", name, time.monotonic() - start),
              flush=True)
        if not ok:
            failed.append(name)
    print("integration: %d run, %d failed%s" % (len(tests), len(failed),
          (": " + ", ".join(failed)) if failed else ""))
    return 1 if failed or not tests else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
