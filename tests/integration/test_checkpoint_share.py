#!/usr/bin/env python3
"""state.checkpoint_share bounds the time checkpoints take under heavy
ingest. Two daemons read the same backlog with a checkpoint asked for
every 1000 entries: with a share of 1 they follow each other back to
back, with 0.01 a checkpoint that took T is followed by 99 T of counting,
so the second daemon writes a handful where the first writes dozens.
Both count every entry."""

import re
import time

import harness
from harness import check


def metric(d, name):
    s, text = d.get("/metrics")
    check(s == 200, "GET /metrics: %s" % s)
    m = re.search(r"^%s (\S+)$" % name, text, re.M)
    check(m, "no %s in /metrics" % name)
    return float(m.group(1))


def drain(w, redis, total, share):
    name = "share-%s" % share
    d = harness.Daemon(w.path, redis, name=name, conf_extra={
        "redis": {"group": name, "batch": "500"},
        "state": {"checkpoint_interval": "10m", "checkpoint_events": "1000",
                  "checkpoint_share": share},
        "log": {"level": "notice"}})
    w.add(d.stop)
    t0 = time.monotonic()
    d.start()
    d.wait_counted(total)
    took = time.monotonic() - t0
    n = metric(d, "stabild_checkpoints_total")
    last = metric(d, "stabild_checkpoint_duration_seconds")
    counted = metric(d, "stabild_events_counted_total")
    d.stop()
    print("checkpoint_share: share %s: %d checkpoints in %.2f s (the last took %.3f s)" % (
        share, n, took, last))
    return n, took, last, counted


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 41, "--weeks", 45, "--per-week", 4000,
                            "--start", "2021-01-04")
    total = truth.totals["written"]
    n_all, _, _, counted_all = drain(w, redis, total, "1")
    n_few, took_few, _, counted_few = drain(w, redis, total, "0.01")
    check(counted_all == counted_few == truth.totals["valid"],
          "counted %d and %d of %d" % (counted_all, counted_few, truth.totals["valid"]))
    check(n_all >= 8, "with a share of 1, only %d checkpoints for %d entries" % (n_all, total))
    check(n_few * 3 <= n_all, "with a share of 0.01, %d checkpoints against %d" % (
        n_few, n_all))
    check(n_few >= 1, "with a share of 0.01, no checkpoint in %.2f s" % took_few)


if __name__ == "__main__":
    harness.main(test, "checkpoint_share")
