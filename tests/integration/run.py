#!/usr/bin/env python3
"""Run the integration tests: every test_*.py here (or the names given),
each in its own process with a time limit; --long runs the long_*.py
simulations of `make sim` instead.

-j N runs up to N tests at a time (each has its own Redis, ports and
directories). A test whose source has a line `# serial: REASON` (one
that measures time on the loop) runs alone after the others; the longest
ones start first. Each test's output is printed whole when it ends."""

import glob
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


# The longest tests start first, so that -j N does not end on one of
# them alone (longest first is within a third of the best order).
LONGEST = ("test_dashboard", "test_dashboard_indicator", "test_chart_api",
           "test_dashboard_series", "test_detector_api", "test_email_delivery",
           "test_stabilctl", "test_indicator_explain", "test_shuffled_history",
           "test_indicator_alerts_on", "test_dashboard_regime", "test_stabilctl_indicator",
           "test_ha_delivery", "test_routes", "test_indicator_routes")


def first_longest(path):
    name = os.path.basename(path)[:-3]
    return (LONGEST.index(name) if name in LONGEST else len(LONGEST), name)


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

    queue = sorted(together, key=first_longest)

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
