#!/usr/bin/env python3
# serial: it measures the event loop's stalls and /healthz latency
"""The event loop keeps going while the first model fits of all five
indicators read a big records file (over 780 000 events of every kind)
on the worker thread and their results are applied on the loop a slice
at a time: the longest single step of the daemon's own work on the loop
(stabild_loop_step_max_seconds) stays under 100 ms (250 ms under the
sanitizers, which make a fork or a slice of CPU-bound work several times
as long), and /healthz, polled
throughout ingest, answers 99 % of the time within 250 ms and always
within 500 ms (the client's own scheduling is in those figures). The heartbeat's lateness (stabild_loop_stall_max_seconds)
also counts time the host kept the process off a CPU, which a loaded
two-core machine under a sanitizer does for tens of milliseconds: it is
held to the looser 500 ms. Ingest pauses for the fit, so counts still
match the truth exactly."""

import http.client
import re
import threading
import time

import harness
import indicators
from harness import check

WEEKS = 56
PER_WEEK = 12000
LIMIT_S = 0.100
SANITIZED_LIMIT_S = 0.250
P99_LIMIT_S = 0.250
HARD_LIMIT_S = 0.500


class Poller(threading.Thread):
    """GET /healthz every 5 ms on a fresh connection; the slowest answer."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.worst = 0.0
        self.times = []
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
            self.times.append(dt)
            self.n += 1
            time.sleep(0.005)


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 7, "--weeks", WEEKS, "--per-week", PER_WEEK,
                            "--start", "2021-01-04", "--events", "all")
    d = harness.Daemon(w.path, redis, conf_extra={
        "redis": {"batch": "500"},
        "state": {"checkpoint_interval": "1s"}, **indicators.sections()}).start()
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
    step = m["stabild_loop_step_max_seconds"]
    times = sorted(poller.times)
    p99 = times[int(0.99 * (len(times) - 1))] if times else 0.0
    print("loop_stall: %d events, fits read in %s ms off the loop; /healthz answered %d times, "
          "p99 %.1f ms, slowest %.1f ms; longest step %.1f ms (%s), longest loop stall %.1f ms, "
          "longest checkpoint fork %.1f ms" % (
              truth.totals["valid"], "/".join(str(f) for f in fits), poller.n,
              p99 * 1e3, poller.worst * 1e3, step * 1e3, st["loop_step_max"], stall * 1e3,
              m["stabild_checkpoint_fork_max_seconds"] * 1e3))
    check(not poller.failures, "/healthz failed: %s" % poller.failures[:5])
    check(poller.n > 50, "only %d /healthz answers" % poller.n)
    limit = SANITIZED_LIMIT_S if harness.sanitized() else LIMIT_S
    check(step < limit, "a step of %s took %.1f ms" % (st["loop_step_max"], step * 1e3))
    check(p99 < P99_LIMIT_S, "/healthz p99 %.1f ms" % (p99 * 1e3))
    check(poller.worst < HARD_LIMIT_S, "/healthz took %.1f ms" % (poller.worst * 1e3))
    check(stall < HARD_LIMIT_S, "the loop stalled %.1f ms" % (stall * 1e3))
    check(stall >= step - 0.011, "the stall %.1f ms is shorter than the step %.1f ms" % (
        stall * 1e3, step * 1e3))
    check(abs(st["loop_stall_max_s"] - stall) < 0.05, "status %r, metric %r" % (
        st["loop_stall_max_s"], stall))
    check(st["events"]["counted"] == truth.totals["valid"], "counted %d, truth %d" % (
        st["events"]["counted"], truth.totals["valid"]))
    check(m["stabild_records_bytes"] == 16 * truth.totals["valid"], "records %r bytes" % (
        m["stabild_records_bytes"]))
    check(m["stabild_records_segments"] >= 2, "records in %r segments" % (
        m["stabild_records_segments"]))
    # The detector was busy (ingest waited) at least as long as the fits
    # took on the worker, which time themselves inside that span.
    busy = m["stabild_detector_busy_seconds_total"]
    check(busy >= sum(fits) / 1e3 - 0.002 and busy < time.time() - m["stabild_start_time_seconds"],
          "detector busy %.3f s, fits %s ms" % (busy, fits))
    check(d.stop() == 0, "exit status on SIGTERM")


if __name__ == "__main__":
    harness.main(test, "loop_stall")
