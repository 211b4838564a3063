#!/usr/bin/env python3
"""Late events: after six weeks of events have closed their weeks, an event
decided in an already closed week is counted into that week and month
(not the current one) and in the late counters; an event in the open week
is not late; and an event older than the retention (8 weeks here) is
dead-lettered with a reason naming the retention, without its office
taking a place in the office table."""

import harness
from harness import check

LATE_AT = "2023-01-11T10:00:00+01:00"      # Wednesday of 2023-W02
OPEN_AT = "2023-02-10T10:00:00+01:00"      # Friday of 2023-W06, the open week
OLD_AT = "2022-09-21T10:00:00+02:00"       # about 20 weeks before the latest event


def month_row(d, key, month):
    s, one = d.get("/v1/series/%s/%s/%s?period=month&from=%s&to=%s" % (key + (month, month)))
    check(s == 200, "GET month of %s: %s %s" % (key, s, one))
    rows = [(h["decisions"], h["rejected"]) for h in one["history"] if h["period"] == month]
    check(len(rows) == 1, "month %s of %s: %r" % (month, key, one["history"]))
    return rows[0]


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 31, "--weeks", 6, "--per-week", 3000,
                            "--start", "2023-01-02")
    written, valid = truth.totals["written"], truth.totals["valid"]
    d = harness.Daemon(w.path, redis, conf_extra={"periods": {"retention": "8w"}}).start()
    w.add(d.stop)
    d.wait_counted(written)
    st = d.status()
    check(st["events"]["counted"] == valid and st["events"]["deadlettered"] == 0 and st["events"]["late"] == 0,
          "clean input: %r" % st["events"])
    # Event time closes the weeks up to the watermark, three days behind the
    # latest decision (Sunday of W06): W05 is the last closed week.
    check(st["closed_through"] == "2023-W05", "closed through %r" % st["closed_through"])
    check(st["offices"] == 58, "offices %d" % st["offices"])
    harness.compare_with_truth(d, truth)

    key = next(k for k in truth.series() if k[0] != "national" and "2023-W02" in truth.weeks[k]
               and "2023-W06" in truth.weeks[k])
    nkey = ("national",) + key[1:]
    before = {k: harness.series_week(d, *k, "2023-W02") for k in (key, nkey)}
    before_open = {k: harness.series_week(d, *k, "2023-W06") for k in (key, nkey)}
    before_month = {k: month_row(d, k, "2023-01") for k in (key, nkey)}
    for k in (key, nkey):
        check(before[k] is not None and before[k][4] is True, "W02 of %s not closed: %r" % (k, before[k]))
        check(before_open[k] is not None and before_open[k][4] is False,
              "W06 of %s closed: %r" % (k, before_open[k]))

    office, benefit, kind = key
    harness.xadd(redis, {"id": "late-1", "office": office, "benefit": benefit, "kind": kind,
                         "outcome": "rejected", "decided_at": LATE_AT})
    harness.xadd(redis, {"id": "open-1", "office": office, "benefit": benefit, "kind": kind,
                         "outcome": "granted", "decided_at": OPEN_AT})
    # From an office that sends nothing else: refusing it must not take a
    # place in the office table (max_offices).
    old_id = harness.xadd(redis, {"id": "old-1", "office": "K999", "benefit": benefit, "kind": kind,
                                  "outcome": "rejected", "decided_at": OLD_AT})
    d.wait_counted(written + 3, timeout=15)

    st = d.status()
    ev = st["events"]
    check(ev["counted"] == valid + 2, "counted %d, expected %d" % (ev["counted"], valid + 2))
    check(ev["late"] == 1, "late %d, expected 1" % ev["late"])
    check(ev["deadlettered"] == 1, "dead-lettered %d, expected 1" % ev["deadlettered"])
    m = harness.get_metrics(d)
    check(m["stabild_events_late_total"] == 1, "stabild_events_late_total %r" % m["stabild_events_late_total"])
    check(m["stabild_events_deadlettered_total"] == 1, "stabild_events_deadlettered_total")
    check(st["closed_through"] == "2023-W05", "closed through %r after the late event" % st["closed_through"])

    for k in (key, nkey):
        after = harness.series_week(d, *k, "2023-W02")
        want = (before[k][0] + 1, before[k][1] + 1, before[k][2], before[k][3], True)
        check(after == want, "W02 of %s: %r, expected %r" % (k, after, want))
        after_open = harness.series_week(d, *k, "2023-W06")
        want = (before_open[k][0] + 1,) + before_open[k][1:]
        check(after_open == want, "W06 of %s: %r, expected %r" % (k, after_open, want))
        after_month = month_row(d, k, "2023-01")
        check(after_month == (before_month[k][0] + 1, before_month[k][1] + 1),
              "2023-01 of %s: %r, before %r" % (k, after_month, before_month[k]))
    harness.truth_add(truth, office, benefit, kind, "2023-W02", "rejected")
    harness.truth_add(truth, office, benefit, kind, "2023-W06", "granted")
    harness.compare_with_truth(d, truth)

    # Older than the retention: dead-lettered under its own id, not counted.
    harness.wait_for(lambda: redis.call("XLEN", "stabild:deadletter") == 1, 10, "one dead-letter entry")
    (dl_id, pairs), = harness.xrange_all(redis, "stabild:deadletter")
    f = dict(pairs)
    check(dl_id == old_id and f[b"source_id"] == old_id.encode(), "dead-letter %s of %s" % (dl_id, old_id))
    check(f[b"reason"].startswith(b"decided_at: ") and b"retention" in f[b"reason"],
          "reason %r" % f[b"reason"])
    check(f[b"id"] == b"old-1" and f[b"decided_at"] == OLD_AT.encode(), "fields %r" % pairs)
    harness.wait_acked(redis)
    offices = d.status()["offices"]
    check(offices == 58 and harness.get_metrics(d)["stabild_offices"] == 58,
          "offices %d after an entry from K999 was refused, expected 58" % offices)
    check(d.stop() == 0, "exit status on SIGTERM")


if __name__ == "__main__":
    harness.main(test, "late_events")
