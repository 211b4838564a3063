#!/usr/bin/env python3
"""Run the integration tests: every test_*.py here (or the names given),
each in its own process with a time limit; --long runs the long_*.py
simulations of `make sim` instead.

-j N runs up to N tests at a time (each has its own Redis, ports and
directories). A test whose source has a line `# serial: REASON` (one
that measures time on the loop) runs alone after the others. Each test's
output is printed whole when it ends."""

import glob
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def serial(path):
    with open(path) as f:
        return any(line.startswith("# serial:") for line in f)


def run_one(path, limit):
    """(ok, output, seconds) of one test."""
    start = time.monotonic()
    try:
        r = subprocess.run([sys.executable, path], timeout=limit, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        ok, out = r.returncode == 0, r.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        ok = False
        out = (e.stdout or b"").decode(errors="replace") + "FAIL: over %ds\n" % limit
    return ok, out, time.monotonic() - start


def main(argv):
    long_run = "--long" in argv
    jobs = 1
    names = []
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "-j":
            jobs = max(1, int(args.pop(0)))
        elif a.startswith("-j"):
            jobs = max(1, int(a[2:]))
        elif not a.startswith("--"):
            names.append(a)
    pattern = "long_*.py" if long_run else "test_*.py"
    tests = sorted(glob.glob(os.path.join(HERE, pattern)))
    if names:
        tests = [t for t in tests if any(n in os.path.basename(t) for n in names)]
    limit = 3600 if long_run else 300
    together = [t for t in tests if not serial(t)]
    alone = [t for t in tests if serial(t)]
    failed = []
    lock = threading.Lock()

    def report(path, result):
        ok, out, secs = result
        name = os.path.basename(path)[:-3]
        with lock:
            sys.stdout.write(out)
            print("%s %s (%.1fs)" % ("ok  " if ok else "FAIL", name, secs), flush=True)
            if not ok:
                failed.append(name)

    queue = list(together)

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                path = queue.pop(0)
            report(path, run_one(path, limit))

    threads = [threading.Thread(target=worker) for _ in range(min(jobs, len(together)))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for path in alone:
        report(path, run_one(path, limit))
    print("integration: %d run, %d failed%s" % (len(tests), len(failed),
          (": " + ", ".join(sorted(failed))) if failed else ""))
    return 1 if failed or not tests else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
