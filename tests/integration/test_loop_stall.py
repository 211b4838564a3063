#!/usr/bin/env python3
"""The event loop keeps going while the first model fit reads a big
records file (over 600 000 decisions) on the worker thread: /healthz,
polled throughout ingest, answers every time within 100 ms, and the
daemon's own measure of its longest stall (stabild_loop_stall_max_seconds,
a 10 ms heartbeat's lateness) stays under 100 ms. Ingest pauses for the
fit, so counts still match the truth exactly."""

import http.client
import re
import threading
import time

import harness
from harness import check

WEEKS = 56
PER_WEEK = 12000
LIMIT_S = 0.100


class Poller(threading.Thread):
    """GET /healthz every 5 ms on a fresh connection; the slowest answer."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.worst = 0.0
        self.n = 0
        self.failures = []

    def run(self):
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("GET", "/healthz")
                status = c.getresponse().status
                c.close()
                if status != 200:
                    self.failures.append(status)
            except OSError as e:
                self.failures.append(str(e))
            dt = time.monotonic() - t0
            self.worst = max(self.worst, dt)
            self.n += 1
            time.sleep(0.005)


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 7, "--weeks", WEEKS, "--per-week", PER_WEEK,
                            "--start", "2021-01-04")
    d = harness.Daemon(w.path, redis, conf_extra={
        "redis": {"batch": "500"},
        "state": {"checkpoint_interval": "1s"}}).start()
    w.add(d.stop)
    poller = Poller(d.http_port)
    poller.start()
    try:
        d.wait_counted(truth.totals["written"], timeout=120)
        # The last week's fit may still be applied after the last count.
        harness.wait_for(lambda: "model v1 fitted" in d.log(), 30, "the first model fit")
        harness.wait_for(lambda: not d.status()["detector_busy"], 30, "the detector idle")
    finally:
        poller.stop.set()
        poller.join()

    log = d.log()
    fits = [int(m) for m in re.findall(r"fit of weeks \S+ read and computed in (\d+) ms", log)]
    check(fits, "no fit was read: %s" % log[-2000:])
    st = d.status()
    m = harness.get_metrics(d)
    stall = m["stabild_loop_stall_max_seconds"]
    print("loop_stall: %d decisions, fit read in %s ms off the loop; /healthz answered %d times, "
          "slowest %.1f ms; longest loop stall %.1f ms" % (
              truth.totals["valid"], "/".join(str(f) for f in fits), poller.n,
              poller.worst * 1e3, stall * 1e3))
    check(not poller.failures, "/healthz failed: %s" % poller.failures[:5])
    check(poller.n > 50, "only %d /healthz answers" % poller.n)
    check(poller.worst < LIMIT_S, "/healthz took %.1f ms" % (poller.worst * 1e3))
    check(stall < LIMIT_S, "the loop stalled %.1f ms" % (stall * 1e3))
    check(abs(st["loop_stall_max_s"] - stall) < 0.05, "status %r, metric %r" % (
        st["loop_stall_max_s"], stall))
    check(st["events"]["counted"] == truth.totals["valid"], "counted %d, truth %d" % (
        st["events"]["counted"], truth.totals["valid"]))
    check(m["stabild_records_bytes"] == 16 * truth.totals["valid"], "records %r bytes" % (
        m["stabild_records_bytes"]))
    check(m["stabild_records_segments"] >= 2, "records in %r segments" % (
        m["stabild_records_segments"]))
    check(d.stop() == 0, "exit status on SIGTERM")


if __name__ == "__main__":
    harness.main(test, "loop_stall")
