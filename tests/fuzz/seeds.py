#!/usr/bin/env python3
"""Make the checkpoint and outbox seeds of the fuzz corpus from a short
daemon run: a few weeks of simulated decisions with a drift, a webhook
receiver nobody listens on (so its notifications stay in the outbox), then
a clean stop (which writes the checkpoint).

    BUILDDIR=build python3 tests/fuzz/seeds.py

Writes tests/fuzz/corpus/checkpoint/daemon and daemon-early (the files
without their trailing SHA-256, as the target takes them) and
tests/fuzz/corpus/outbox/daemon-N.
"""

import glob
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import harness  # noqa: E402

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def run(w, name, weeks, outbox_seeds):
    """One daemon on a fresh Redis: weeks of decisions, then a clean stop."""
    wd = os.path.join(w.path, name)
    os.makedirs(wd)
    redis = harness.Redis(wd).start()
    w.add(redis.stop)
    closed = harness.free_port()
    d = harness.Daemon(wd, redis, conf_extra={
        "state": {"dedup_window": "1000"},
        "benefits": {"list": "sjukpenning"},
        "periods": {"retention": "1y", "max_offices": "4"},
        "detector": {"reference_weeks": "52", "min_reference_weeks": "13",
                     "learning_weeks": "2", "evaluate_every": "1d"},
        "alerts": {"historical_age": "50y"},
        'receiver "ops"': {"type": "webhook",
                           "url": "http://127.0.0.1:%d/hook" % closed,
                           "connect_timeout": "1s", "timeout": "2s"},
    })
    d.start()
    w.add(d.stop)
    harness.run_sim(redis, wd, "--seed", 7, "--weeks", weeks, "--offices", 2,
                    "--per-week", 4000, "--benefits", "sjukpenning",
                    "--start", "2023-01-02", "--drift", "K002:sjukpenning:*:14:4.0",
                    "--malformed", "0.001", "--duplicates", "0.001", truth=False)
    d.wait_counted(int(redis.call("XLEN", "stabild:decisions")), timeout=120)
    outbox = os.path.join(d.state_dir, "outbox")
    if outbox_seeds:
        harness.wait_for(lambda: glob.glob(os.path.join(outbox, "*.json")), 60,
                         "a notification in the outbox")
    harness.check(d.stop() == 0, "stabild did not stop cleanly")

    with open(os.path.join(d.state_dir, "checkpoint"), "rb") as f:
        cp = f.read()
    with open(os.path.join(CORPUS, "checkpoint", name), "wb") as f:
        f.write(cp[:-32])
    print("checkpoint %s: %d bytes" % (name, len(cp) - 32))
    for i, path in enumerate(sorted(glob.glob(os.path.join(outbox, "*.json")))[:outbox_seeds]):
        shutil.copy(path, os.path.join(CORPUS, "outbox", "%s-%d" % (name, i)))
        print("outbox: %s, %d bytes" % (os.path.basename(path), os.path.getsize(path)))


def seeds(w):
    run(w, "daemon-early", 3, 0)
    run(w, "daemon", 26, 3)


if __name__ == "__main__":
    harness.main(seeds, "fuzz-seeds")
