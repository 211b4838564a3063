#!/usr/bin/env python3
"""Duplicates: with 2% of the simulator's valid events sent again, every
decision is counted once (counts equal the truth), the duplicates counter
in /v1/status and stabild_events_duplicate_total equal the truth, and after
a SIGTERM and a new start a repeated id (sent as is, and with another
outcome) is still recognised, since the window is in the checkpoint."""

import harness
from harness import check


def processed(d):
    ev = d.status()["events"]
    return ev["counted"] + ev["deadlettered"] + ev["duplicates"]


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 21, "--weeks", 8, "--per-week", 3000,
                            "--start", "2023-05-01", "--duplicates", 0.02)
    n_dup = truth.totals["duplicates"]
    check(n_dup > 200, "simulator wrote %r" % truth.totals)
    d = harness.Daemon(w.path, redis).start()
    w.add(d.stop)
    d.wait_counted(truth.totals["written"], timeout=30)
    ev = d.status()["events"]
    check(ev["counted"] == truth.totals["valid"], "counted %d, truth %d" % (ev["counted"], truth.totals["valid"]))
    check(ev["duplicates"] == n_dup, "duplicates %d, truth %d" % (ev["duplicates"], n_dup))
    check(ev["deadlettered"] == 0, "dead-lettered %d" % ev["deadlettered"])
    m = harness.get_metrics(d)
    check(m["stabild_events_duplicate_total"] == n_dup,
          "stabild_events_duplicate_total %r, truth %d" % (m["stabild_events_duplicate_total"], n_dup))
    check(m["stabild_events_counted_total"] == truth.totals["valid"], "stabild_events_counted_total")
    harness.compare_with_truth(d, truth)
    harness.wait_acked(redis)

    # Restart: the duplicate window comes back from the checkpoint.
    check(d.stop() == 0, "exit status on SIGTERM")
    d.start()
    ev = d.status()["events"]
    check(ev["counted"] == truth.totals["valid"] and ev["duplicates"] == n_dup,
          "counters after restart %r" % ev)

    # A decision counted before the restart, from the first entries of the
    # stream (far back, yet inside the default window of a million ids).
    first_id, flat = redis.call("XRANGE", "stabild:decisions", "-", "+", "COUNT", 1)[0]
    fields = list(zip(flat[0::2], flat[1::2]))
    f = dict(fields)
    check(b"id" in f and b"outcome" in f, "first entry %s: %r" % (first_id, fields))
    harness.xadd(redis, fields)
    other = b"granted" if f[b"outcome"] != b"granted" else b"rejected"
    harness.xadd(redis, [(k, other if k == b"outcome" else v) for k, v in fields])
    # A new decision after them, so the wait below cannot pass before the
    # repeats were read: it must be counted, they must not.
    office, benefit, kind = (f[k].decode() for k in (b"office", b"benefit", b"kind"))
    harness.xadd(redis, {"id": "after-restart-1", "office": office, "benefit": benefit, "kind": kind,
                         "outcome": "rejected", "decided_at": "2023-05-17T12:00:00+02:00"})
    harness.truth_add(truth, office, benefit, kind, harness.week_label(1684317600), "rejected")
    harness.wait_for(lambda: processed(d) >= truth.totals["written"] + 3, 15, "three more entries processed")
    ev = d.status()["events"]
    check(ev["duplicates"] == n_dup + 2, "duplicates after restart %d, expected %d" % (ev["duplicates"], n_dup + 2))
    check(ev["counted"] == truth.totals["valid"] + 1, "counted %d, expected %d" %
          (ev["counted"], truth.totals["valid"] + 1))
    m = harness.get_metrics(d)
    check(m["stabild_events_duplicate_total"] == n_dup + 2, "stabild_events_duplicate_total after restart")
    harness.compare_with_truth(d, truth)
    harness.wait_acked(redis)
    check(d.stop() == 0, "exit status on SIGTERM")


if __name__ == "__main__":
    harness.main(test, "duplicates")
