#!/usr/bin/env python3
"""--exit-on-idle, as a back-fill uses it: the daemon reads a stream of
mixed events (every kind, with malformed entries and duplicates; the
first models fitted on the way), exits 0 by itself once it is drained,
and its "drained" line gives the entries read and figures that hold
together (the loop's CPU no more than the process's, nor than the span
between the first entry and the last, both read on the loop thread; the
time ingest waited for the detector within that span). Nothing is left
pending in the group, and a daemon started again on the same state,
without the flag, has every indicator's count equal to the simulator's
truth and reads nothing twice."""

import os
import re
import subprocess

import harness
import indicators
from harness import check


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    itruth_path = os.path.join(w.path, "truth-indicators.tsv")
    truth = harness.run_sim(redis, w.path, "--seed", 33, "--weeks", 20, "--per-week", 1500,
                            "--start", "2022-03-07", "--events", "all",
                            "--truth-indicators", itruth_path,
                            "--malformed", 0.01, "--duplicates", 0.01)
    itruth = indicators.read_truth_indicators(itruth_path)
    written = truth.totals["written"]
    check(truth.totals["malformed"] > 0 and truth.totals["duplicates"] > 0,
          "simulator wrote %r" % truth.totals)
    # The first models after 13 weeks: the drain waits for a fit.
    # Checkpoints on the way, for the drained line's count.
    conf = {"state": {"checkpoint_interval": "1s", "checkpoint_events": "2000"},
            "detector": {"min_reference_weeks": "13"}}
    conf.update(indicators.sections())
    d = harness.Daemon(w.path, redis, conf_extra=conf)
    w.add(d.stop)
    with open(d.log_path, "ab") as logf:
        try:
            rc = subprocess.run([harness.STABILD, "-c", d.conf_path, "--exit-on-idle"],
                                stdout=logf, stderr=logf, timeout=120).returncode
        except subprocess.TimeoutExpired:
            raise harness.TestFailure("no exit once drained; log:\n%s" % d.log()[-3000:])
    log = d.log()
    check(rc == 0, "exit status %d; log:\n%s" % (rc, log[-3000:]))
    m = re.search(r"drained (\d+) entries in ([\d.]+) s \((\d+)/s\), longest loop stall "
                  r"([\d.]+) ms, detector busy ([\d.]+) s, loop CPU ([\d.]+) s, "
                  r"process CPU ([\d.]+) s, (\d+) checkpoints", log)
    check(m, "no drained line:\n%s" % log[-3000:])
    entries, span, busy = int(m.group(1)), float(m.group(2)), float(m.group(5))
    loop_cpu, proc_cpu = float(m.group(6)), float(m.group(7))
    print("exit_on_idle: %s" % m.group(0))
    check(entries == written, "drained %d entries, %d written" % (entries, written))
    check(0 < loop_cpu <= proc_cpu + 0.002, "loop CPU %.3f s, process CPU %.3f s" % (
        loop_cpu, proc_cpu))
    # Both read on the loop thread, the wall clock first at each end:
    # only the line's rounding to 1 ms is allowed for.
    check(loop_cpu <= span + 0.002, "loop CPU %.3f s in a span of %.3f s" % (loop_cpu, span))
    check(0 < busy <= span, "detector busy %.3f s in a span of %.3f s" % (busy, span))
    # One is due every 2 000 entries (the first, with no rest before
    # it, early in the drain: it has the rest of the drain to finish),
    # more only by the 1 s interval; the one at the exit is not counted.
    ckpts = int(m.group(8))
    check(1 <= ckpts <= entries // 2000 + int(span) + 1,
          "%d checkpoints while %d entries were read in %.3f s" % (ckpts, entries, span))
    check("model v1 fitted" in log, "no model fitted:\n%s" % log[-2000:])
    # The rate after the first fit: a part of the drain, its own figures.
    a = re.search(r"after the first models (\d+) entries in ([\d.]+) s \((\d+)/s\), "
                  r"detector busy ([\d.]+) s", log)
    check(a, "no rate after the first models:\n%s" % log[-3000:])
    print("exit_on_idle: %s" % a.group(0))
    a_n, a_span, a_rate, a_busy = int(a.group(1)), float(a.group(2)), int(a.group(3)), \
        float(a.group(4))
    check(0 < a_n < entries, "%d entries after the first models of %d" % (a_n, entries))
    check(0 < a_span <= span + 0.001, "%.3f s after the first models in %.3f s" % (a_span, span))
    # The span is printed to 1 ms, the rate from the exact span.
    check(a_n / (a_span + 0.0005) - 1 <= a_rate <= a_n / max(a_span - 0.0005, 1e-9) + 1,
          "rate %d/s for %d entries in %.3f s" % (a_rate, a_n, a_span))
    check(0 <= a_busy <= busy, "detector busy %.3f s after the first models, %.3f s in all"
          % (a_busy, busy))
    check("stabild: stopped" in log, "no clean stop:\n%s" % log[-2000:])
    harness.wait_acked(redis, timeout=2)

    # Again on the same state, without the flag: counts exact, no rereads.
    d.start()
    d.wait_counted(written, timeout=30)
    ev = d.status()["events"]
    kinds = ("decision", "reconsideration", "appeal", "assessment")
    want = {k: itruth.totals[k] for k in kinds}
    check(ev["by_event"] == want, "by_event %r, truth %r" % (ev["by_event"], want))
    check(ev["counted"] == sum(want.values()), "counted %d, truth %d" % (
        ev["counted"], sum(want.values())))
    check(ev["duplicates"] == itruth.totals["duplicates"], "duplicates %d, truth %d" % (
        ev["duplicates"], itruth.totals["duplicates"]))
    check(ev["deadlettered"] == itruth.totals["malformed"], "dead-lettered %d, truth %d" % (
        ev["deadlettered"], itruth.totals["malformed"]))
    harness.compare_with_truth(d, truth)
    # Every other indicator's national series, week by week.
    for name, section in indicators.SHIPPED.items():
        want = indicators.indicator_truth(itruth, section)
        for key in sorted(k for k in want if k[0] == "national"):
            s, one = d.get("/v1/series/%s/%s/%s?period=week&indicator=%s" % (key + (name,)))
            check(s == 200, "GET series %s of %s: %s %s" % (key, name, s, one))
            got = {h["period"]: (h["decisions"], h["rejected"], h["dismissed"])
                   for h in one["history"]}
            check(got == want[key], "%s: series %s differs from the truth" % (name, key))
    check(len(re.findall(r"drained \d+ entries", d.log())) == 1, "a second drained line")
    check(d.stop() == 0, "exit status on SIGTERM")


if __name__ == "__main__":
    harness.main(test, "exit_on_idle")
