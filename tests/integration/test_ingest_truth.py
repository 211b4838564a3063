#!/usr/bin/env python3
"""Ingest: 58 offices, 30 weeks, both timestamp forms; every series and
week stabild reports equals the simulator's ground truth, the national
series is the sum of the offices, and every entry is acknowledged."""

import harness
from harness import check


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 3, "--weeks", 30, "--per-week", 3000,
                            "--start", "2022-10-03")
    d = harness.Daemon(w.path, redis).start()
    w.add(d.stop)
    d.wait_counted(truth.totals["written"])
    st = d.status()
    check(st["events"]["counted"] == truth.totals["valid"],
          "counted %d, truth %d" % (st["events"]["counted"], truth.totals["valid"]))
    check(st["events"]["deadlettered"] == 0 and st["events"]["duplicates"] == 0, "clean input: %r" % st["events"])
    check(st["offices"] == 58, "offices %d" % st["offices"])
    harness.compare_with_truth(d, truth)
    # Weeks closed in event time, not at the wall clock.
    check(st["closed_through"] is not None and st["closed_through"].startswith("2023-"),
          "closed through %r" % st["closed_through"])
    # Everything acknowledged once a checkpoint covers it.
    harness.wait_for(lambda: redis.call("XPENDING", "stabild:decisions", "stabild")[0] == 0,
                     10, "no pending entries")
    check(d.stop() == 0, "exit status on SIGTERM")


if __name__ == "__main__":
    harness.main(test, "ingest_truth")
