#!/usr/bin/env python3
"""make bench, delivery catch-up: a daemon restarted with 10,000
notifications in its outbox while the receiver is down (every one is
tried and fails), then the receiver comes up and takes them all. Reports
the longest event-loop stall (stabild_loop_stall_max_seconds: the lateness
of a 10 ms heartbeat) and the longest single step of the daemon's own work
(stabild_loop_step_max_seconds), the slowest GET /healthz seen by a client
polling throughout, and how long each phase took. Goal: stall under 50 ms.
BENCH_CATCHUP_ITEMS changes the backlog; BUILDDIR may name another build
(for a comparison)."""

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402
import outbox_files  # noqa: E402
from webhook_sink import Sink  # noqa: E402


class Poller(threading.Thread):
    """GET /healthz back to back; the slowest answer."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.url = "http://127.0.0.1:%d/healthz" % port
        self.slowest = 0.0
        self.n = 0
        self.stop = False

    def run(self):
        while not self.stop:
            t = time.monotonic()
            try:
                urllib.request.urlopen(self.url, timeout=30).read()
            except OSError:
                pass
            self.slowest = max(self.slowest, time.monotonic() - t)
            self.n += 1
            time.sleep(0.005)


def main():
    n = int(os.environ.get("BENCH_CATCHUP_ITEMS", "10000"))
    work = tempfile.mkdtemp(prefix="stabild-bench-catchup-")
    redis = harness.Redis(work).start()
    sink = Sink()           # its port; nothing listens until phase 2
    d = None
    try:
        d = harness.Daemon(work, redis, conf_extra={
            "log": {"level": "info"},
            "alerts": {"retry_max": "2s"}})
        with open(d.conf_path, "a") as f:
            f.write('\n[receiver "hook"]\ntype = webhook\nurl = http://127.0.0.1:%d/hook\n'
                    'timeout = 10s\nconnect_timeout = 2s\n' % sink.port)
        now = int(time.time() * 1000)
        for i in range(n):
            outbox_files.write(d.state_dir, "K%03d.sjukpenning.first.2024-W%02d.up.1.hook"
                               % (i % 290, i // 290 % 52 + 1) + ".%05d" % i, "hook",
                               now - n + i, now - n + i)
        t0 = time.monotonic()
        d.start(wait=False)
        # Before the loop first turns, the outbox is loaded: its time apart.
        harness.wait_log(d, r"deliver: \d+ notifications waiting in the outbox", timeout=300)
        started = time.monotonic() - t0
        poll = Poller(d.http_port)
        poll.start()
        harness.wait_for(lambda: d.alive_http(), 900, "stabild /healthz", interval=0.2)

        def m():
            return harness.get_metrics(d)
        # Phase 1: the receiver is down; every notification is tried once.
        t1 = time.monotonic()
        harness.wait_for(lambda: m()["stabild_notification_retries_total"] >= n, 900,
                         "%d failed attempts" % n, interval=0.2)
        failed_s = time.monotonic() - t1
        # Phase 2: the receiver is back.
        sink.start()
        t2 = time.monotonic()
        harness.wait_for(lambda: m()["stabild_outbox_pending"] == 0, 900,
                         "an empty outbox", interval=0.2)
        delivered_s = time.monotonic() - t2
        poll.stop = True
        poll.join(30)
        mm = m()
        stall = mm["stabild_loop_stall_max_seconds"] * 1000
        step = mm["stabild_loop_step_max_seconds"] * 1000
        step_name = d.status()["loop_step_max"]
        lines = re.findall(r"loop: stalled ([\d.]+) ms; longest step (.*) \(([\d.]+) ms\)", d.log())
        worst = max(lines, key=lambda x: float(x[0])) if lines else None
        ok = len(sink.ok) == n and not sink.dups
        print("catchup: %d notifications in the outbox at start; start-up (load) %.1f s" % (
            n, started))
        print("catchup: receiver down: all tried once in %.1f s; receiver up: all delivered "
              "in %.1f s (%.0f/s); at the receiver %d, twice %d" % (
                  failed_s, delivered_s, n / delivered_s if delivered_s > 0 else 0,
                  len(sink.ok), len(sink.dups)))
        print("catchup: longest loop stall %.1f ms, longest step %.1f ms (%s); slowest GET "
              "/healthz %.1f ms of %d; goal: stall < 50 ms" % (
                  stall, step, step_name, poll.slowest * 1000, poll.n))
        if worst is not None:
            print("catchup: %d stalls over 50 ms logged, the worst %s ms in %s (%s ms)" % (
                len(lines), worst[0], worst[1], worst[2]))
        if not ok:
            raise SystemExit("catchup: %d of %d delivered, %d twice" % (
                len(sink.ok), n, len(sink.dups)))
    finally:
        try:
            if d is not None:
                d.stop(timeout=60)
        finally:
            sink.stop()
            redis.stop()
            subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
