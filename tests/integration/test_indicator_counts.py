#!/usr/bin/env python3
"""A mixed stream counted exactly against the truth, per indicator: the
simulator writes every event kind (decisions with supplement_requested,
reconsiderations, appeals, assessments; malformed entries and resent
duplicates among them) on the decision stream, and stabild runs with the
four shipped indicators and a fifth that counts assessments at day 180
only. Then every series and week of every indicator (the events in the
rate, the yeses, those left out of it) equals the simulator's truth, the
counts by event kind equal its totals, and rejection's series equal the
decisions' truth as without indicators."""

import os

import harness
import indicators
from harness import check

DAY180 = {"event": "assessment", "yes": "late", "no": "on_time", "checkpoint": "180",
          "label": "late assessment rate at day 180"}


def series_of(d, name):
    s, body = d.get("/v1/series?limit=10000&indicator=" + name)
    check(s == 200, "GET /v1/series?indicator=%s: %s %s" % (name, s, body))
    check(body["total"] == len(body["series"]), "%s: total %d, %d listed"
          % (name, body["total"], len(body["series"])))
    return {(x["office"], x["benefit"], x["kind"]) for x in body["series"]}


def weeks_of(d, name, key):
    s, one = d.get("/v1/series/%s/%s/%s?period=week&indicator=%s" % (key + (name,)))
    check(s == 200, "GET series %s of %s: %s %s" % (key, name, s, one))
    return {h["period"]: (h["decisions"], h["rejected"], h["dismissed"])
            for h in one["history"]}


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    itruth_path = os.path.join(w.path, "truth-indicators.tsv")
    truth = harness.run_sim(redis, w.path, "--seed", 7, "--offices", 6, "--weeks", 14,
                            "--per-week", 3000, "--start", "2023-01-02", "--events", "all",
                            "--truth-indicators", itruth_path, "--malformed", 0.01,
                            "--duplicates", 0.01)
    itruth = indicators.read_truth_indicators(itruth_path)
    conf = indicators.sections()
    conf['indicator "day180"'] = DAY180
    d = harness.Daemon(w.path, redis, conf)
    w.add(d.stop)
    d.start()
    written = truth.totals["written"]
    d.wait_counted(written, timeout=60)
    harness.wait_acked(redis, timeout=20)

    # The counters: by kind, as written.
    ev = d.status()["events"]
    kinds = ("decision", "reconsideration", "appeal", "assessment")
    want = {k: itruth.totals[k] for k in kinds}
    check(ev["by_event"] == want, "by_event %r, truth %r" % (ev["by_event"], want))
    check(all(n > 100 for n in want.values()), "too few events of a kind: %r" % want)
    check(ev["counted"] == sum(want.values()), "counted %d, truth %d"
          % (ev["counted"], sum(want.values())))
    check(ev["deadlettered"] == itruth.totals["malformed"], "dead-lettered %d, truth %d"
          % (ev["deadlettered"], itruth.totals["malformed"]))
    check(ev["duplicates"] == itruth.totals["duplicates"], "duplicates %d, truth %d"
          % (ev["duplicates"], itruth.totals["duplicates"]))

    # Rejection: the decisions' truth, as without indicators.
    harness.compare_with_truth(d, truth)

    # Every other indicator, every series and week.
    for name, section in list(indicators.SHIPPED.items()) + [("day180", DAY180)]:
        want = indicators.indicator_truth(itruth, section)
        listed = series_of(d, name)
        check(listed == set(want), "%s: series missing %s, extra %s" % (
            name, sorted(set(want) - listed)[:5], sorted(listed - set(want))[:5]))
        for key in sorted(want):
            got = weeks_of(d, name, key)
            if got != want[key]:
                diff = [(wk, want[key].get(wk), got.get(wk))
                        for wk in sorted(set(got) | set(want[key]))
                        if want[key].get(wk) != got.get(wk)]
                raise harness.TestFailure("%s: series %s differs in %d weeks, e.g. %s"
                                          % (name, key, len(diff), diff[:3]))
        yes = sum(v[1] for k, wk in want.items() if k[0] == "national" for v in wk.values())
        check(yes > 0, "%s: no yes in the truth" % name)
    # Day 180 is a part of timeliness.
    t_all = indicators.indicator_truth(itruth, indicators.SHIPPED["timeliness"])
    t_180 = indicators.indicator_truth(itruth, DAY180)
    n_all = sum(v[0] for k, wk in t_all.items() if k[0] == "national" for v in wk.values())
    n_180 = sum(v[0] for k, wk in t_180.items() if k[0] == "national" for v in wk.values())
    check(0 < n_180 < n_all, "assessments at day 180 %d of %d" % (n_180, n_all))

    errors = [l for l in harness.log_lines(d) if l[:3] in ("<0>", "<1>", "<2>", "<3>")]
    check(not errors, "errors logged: %s" % errors[:5])


if __name__ == "__main__":
    harness.main(test, "indicator_counts")
