#!/usr/bin/env python3
"""make sim: a ten-year replay at a realistic mix. 58 offices, 522 weeks,
malformed entries and duplicates; stabild is stopped (SIGTERM) and started
again half way. Every series and week must equal the ground truth, weeks
must close in order through the last one, and the figures a reader wants
(throughput, memory, state sizes) are printed as a summary.

STABILD_SIM_PER_WEEK sets the national volume per week (default 8000)."""

import os
import signal
import time

import harness
from harness import check

WEEKS = 522
START = "2015-01-05"


def vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def test(w):
    per_week = int(os.environ.get("STABILD_SIM_PER_WEEK", "8000"))
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    t0 = time.monotonic()
    truth = harness.run_sim(redis, w.path, "--seed", 2015, "--weeks", WEEKS,
                            "--per-week", per_week, "--start", START,
                            "--malformed", "0.0005", "--duplicates", "0.0005")
    sim_s = time.monotonic() - t0
    total = truth.totals["written"]

    d = harness.Daemon(w.path, redis, conf_extra={
        "redis": {"batch": "1000", "block": "500ms"},
        "state": {"checkpoint_interval": "2s"},
        "log": {"level": "notice"},
    })
    t0 = time.monotonic()
    d.start()
    w.add(d.stop)
    # Stop cleanly half way and start again: the replay must not notice.
    harness.wait_for(lambda: d.status()["events"]["counted"] >= truth.totals["valid"] // 2,
                     1800, "half of the replay", interval=0.5)
    hwm1 = vm_hwm_kib(d.proc.pid)
    check(d.stop(signal.SIGTERM) == 0, "SIGTERM half way")
    d.start()
    d.wait_counted(total, timeout=3600)
    ingest_s = time.monotonic() - t0
    hwm2 = vm_hwm_kib(d.proc.pid)
    st = d.status()
    ev = st["events"]
    check(ev["counted"] == truth.totals["valid"], "counted %d, truth %d" % (ev["counted"], truth.totals["valid"]))
    check(ev["deadlettered"] == truth.totals["malformed"], "dead-lettered %d" % ev["deadlettered"])
    check(ev["duplicates"] == truth.totals["duplicates"], "duplicates %d" % ev["duplicates"])
    check(ev["late"] == 0, "late events in an ordered replay: %d" % ev["late"])
    harness.compare_with_truth(d, truth)
    last_week = max(wk for series in truth.weeks.values() for wk in series)
    check(st["closed_through"] is not None and st["closed_through"] < last_week,
          "closed through %r, last week %s" % (st["closed_through"], last_week))
    check(d.stop() == 0, "final SIGTERM")
    cp = os.path.getsize(os.path.join(d.state_dir, "checkpoint"))
    rec = len(harness.records_data(d.state_dir))
    check(rec == 16 * truth.totals["valid"], "records file %d bytes for %d decisions" % (rec, truth.totals["valid"]))
    print("sim replay: %d weeks (%s to %s), %d offices, %d entries written in %.0f s" % (
        WEEKS, START, last_week, st["offices"], total, sim_s))
    print("sim replay: counted %d, dead-lettered %d, duplicates %d, all %d series x weeks equal to the truth" % (
        ev["counted"], ev["deadlettered"], ev["duplicates"], len(truth.weeks)))
    print("sim replay: ingest %.0f s (%.0f entries/s, with a SIGTERM and restart half way), closed through %s" % (
        ingest_s, total / ingest_s, st["closed_through"]))
    print("sim replay: peak RSS %.0f MiB / %.0f MiB (before / after the restart), checkpoint %.1f MiB, "
          "records %.1f MiB" % (hwm1 / 1024, hwm2 / 1024, cp / 1048576, rec / 1048576))


if __name__ == "__main__":
    harness.main(test, "long_replay")
