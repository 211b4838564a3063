#!/usr/bin/env python3
"""Ingest throughput with HA off and on, side by side: one stream, one
daemon at a time reading it to the end in a group of its own
(--exit-on-idle), rounds alternating off/on so that machine drift hits
both. With HA on, every read of the decisions carries the control log's
XRANGE behind it and the batch waits for its answer; this shows what
that costs. BENCH_EVENTS sets the stream's length (default 200 000),
BENCH_ROUNDS the rounds (default 3)."""

import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402
import ha  # noqa: E402


def run(redis, work, group, ha_on):
    conf = {
        "redis": {"group": group, "consumer": "bench", "batch": "500", "block": "100ms"},
        "state": {"checkpoint_interval": "2s", "dir": os.path.join(work, group)},
        "log": {"level": "notice"},
        "alerts": {"historical_age": "50y"},
    }
    if ha_on:
        conf["ha"] = dict(ha.HA_TIMINGS, enabled="on", instance=group)
    d = harness.Daemon(work, redis, name=group, conf_extra=conf)
    with open(d.log_path, "ab") as logf:
        r = subprocess.run([harness.STABILD, "-c", d.conf_path, "--exit-on-idle"],
                           stdout=logf, stderr=logf, timeout=600)
    log = d.log()
    m = re.search(r"drained (\d+) entries in ([\d.]+) s \((\d+)/s\)", log)
    if r.returncode != 0 or not m:
        raise SystemExit("ha_ingest: stabild failed:\n%s" % log[-3000:])
    return int(m.group(1)), float(m.group(2)), int(m.group(3))


def main():
    n = int(os.environ.get("BENCH_EVENTS", "200000"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    work = tempfile.mkdtemp(prefix="stabild-bench-ha-")
    redis = harness.Redis(work).start()
    try:
        weeks = max(1, n // 4000)
        harness.run_sim(redis, work, "--seed", "11", "--weeks", weeks, "--per-week", 4000,
                        "--start", "2020-01-06", truth=False)
        total = redis.call("XLEN", "stabild:decisions")
        print("ha_ingest: %d entries in the stream, %d rounds" % (total, rounds), flush=True)
        off, on = [], []
        for i in range(rounds):
            row = []
            for ha_on, out in ((False, off), (True, on)):
                got, secs, rate = run(redis, work, "%s-%d" % ("on" if ha_on else "off", i),
                                      ha_on)
                if got != total:
                    raise SystemExit("ha_ingest: read %d of %d entries" % (got, total))
                out.append(rate)
                row.append("%s %d/s (%.2f s)" % ("HA on" if ha_on else "HA off", rate, secs))
            print("ha_ingest: round %d: %s" % (i + 1, ", ".join(row)), flush=True)
        print("ha_ingest: median HA off %.0f/s, HA on %.0f/s, ratio on/off %.2f" % (
            statistics.median(off), statistics.median(on),
            statistics.median(on) / statistics.median(off)))
    finally:
        redis.stop()
        subprocess.run(["rm", "-rf", work])
    return 0


if __name__ == "__main__":
    sys.exit(main())
