#!/usr/bin/env python3
"""make bench, the loop while the detector reads its records: a stream of
a year and a quarter at twice national volume (about 740 000 entries, a
model fit on the first year's records and drill-downs of the alerts that
follow) consumed by stabild with the reads on the worker thread and with
them on the loop (STABILD_DETECTOR_ON_LOOP, the same code run at the end of
the detector hook), in alternating rounds. Each run reports its ingest
rate (first to last entry) and its longest loop stall: the largest
lateness of a 10 ms heartbeat timer inside the daemon."""

import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402


def run(redis, work, group, on_loop):
    d = harness.Daemon(work, redis, name=group, conf_extra={
        "redis": {"group": group, "consumer": "bench", "batch": "500", "block": "100ms"},
        "state": {"checkpoint_interval": "2s", "dir": os.path.join(work, group)},
        "log": {"level": "info"},
        "alerts": {"historical_age": "50y"},
    })
    env = dict(os.environ)
    env.pop("STABILD_DETECTOR_ON_LOOP", None)
    if on_loop:
        env["STABILD_DETECTOR_ON_LOOP"] = "1"
    with open(d.log_path, "ab") as logf:
        p = subprocess.run([harness.STABILD, "-c", d.conf_path, "--exit-on-idle"],
                           stdout=logf, stderr=logf, env=env, timeout=900)
    log = d.log()
    m = re.search(r"drained (\d+) entries in ([\d.]+) s \((\d+)/s\), longest loop stall "
                  r"([\d.]+) ms", log)
    if p.returncode != 0 or not m:
        raise SystemExit("bench: stabild failed:\n%s" % log[-3000:])
    fits = [int(x) for x in re.findall(r"fit of weeks \S+ read and computed in (\d+) ms", log)]
    strata = [int(x) for x in re.findall(r"strata of \S+ read in (\d+) ms", log)]
    if not fits or not strata:
        raise SystemExit("bench: no fit (%d) or no drill-down (%d) in the run" % (
            len(fits), len(strata)))
    return int(m.group(1)), int(m.group(3)), float(m.group(4)), max(fits), max(strata), len(strata)


def main():
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    per_week = int(os.environ.get("BENCH_STALL_PER_WEEK", "12000"))
    work = tempfile.mkdtemp(prefix="stabild-bench-stall-")
    redis = harness.Redis(work).start()
    try:
        harness.run_sim(redis, work, "--seed", 11, "--weeks", 62, "--per-week", per_week,
                        "--start", "2020-01-06", "--drift", "K003:*:*:54:2.5",
                        "--drift", "K011:*:*:54:0.4", "--drift", "national:sjukpenning:first:54:1.3",
                        truth=False)
        total = redis.call("XLEN", "stabild:decisions")
        print("stall: %d entries in the stream, %d rounds" % (total, rounds))
        res = {False: [], True: []}
        for i in range(rounds):
            for on_loop in (False, True):
                n, rate, stall, fit, strata, nstrata = run(
                    redis, work, "%s-%d" % ("loop" if on_loop else "worker", i), on_loop)
                if n != total:
                    raise SystemExit("bench: read %d of %d entries" % (n, total))
                res[on_loop].append((rate, stall, fit, strata, nstrata))
        w, lp = res[False], res[True]

        def med(rows, k):
            return statistics.median(r[k] for r in rows)
        print("stall: the fit read %d ms, the longest drill-down %d ms (%d drill-downs a run)" % (
            med(w, 2), med(w, 3), w[0][4]))
        print("stall: ingest median: reads on the worker %d events/s, on the loop %d events/s, "
              "ratio %.2f" % (med(w, 0), med(lp, 0), med(w, 0) / med(lp, 0)))
        print("stall: longest loop stall median: worker %.0f ms (max %.0f), on the loop %.0f ms "
              "(max %.0f), ratio %.2f; goal <= 50 ms" % (
                  med(w, 1), max(r[1] for r in w), med(lp, 1), max(r[1] for r in lp),
                  med(w, 1) / med(lp, 1)))
    finally:
        redis.stop()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
