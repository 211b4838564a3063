#!/usr/bin/env python3
"""An explanation limited to one indicator: 64 weeks of decisions and
reconsiderations in which, from week 56, the odds of a change at reconsideration
of sjukpenning triple nationally and K024 rejects more sjukpenning. The
configuration holds a court ruling for sjukpenning from that week with
`indicators = reconsideration`: it explains the reconsideration alert and
not the rejection alert, though both are of sjukpenning and begin in its
window. The reconsideration alert carries its indicator, a prefixed id and
the explanation; rejection's alert is as it would be without indicators."""

import harness
import indicators
from harness import check

SHIFT_WEEK = 56
START = "2019-01-07"
SHIFT_DATE = "2020-02-03"    # week 56 from START
RULING = "hfd-2020-recon"


def alerts(d, query=""):
    s, body = d.get("/v1/alerts" + query)
    check(s == 200, "GET /v1/alerts%s: %s %s" % (query, s, body))
    return body["alerts"]


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 5, "--weeks", SHIFT_WEEK + 12,
                            "--per-week", 12000, "--start", START,
                            "--events", "reconsideration",
                            "--drift", "K024:sjukpenning:*:%d:2.5" % SHIFT_WEEK,
                            "--drift", "national:sjukpenning:*:%d:3.0@reconsideration"
                            % SHIFT_WEEK)
    extra = {"detector": {"min_reference_weeks": "52"},
             "alerts": {"historical_age": "50y"},
             'explanation "%s"' % RULING: {
                 "kind": "court_ruling", "effective_from": SHIFT_DATE,
                 "benefits": "sjukpenning", "indicators": "reconsideration",
                 "reference": "HFD 2020 ref. 1"}}
    # A few dozen reconsiderations a week nationally per benefit and
    # kind: the uncertainty of the model's own level is about the size of
    # the default design odds ratio (1.2), so the section asks for a
    # larger one, as a deployment would.
    extra.update(indicators.sections("reconsideration"))
    extra['indicator "reconsideration"']["design_or_national"] = "2.0"
    d = harness.Daemon(w.path, redis, conf_extra=extra)
    d.start()
    w.add(d.stop)
    d.wait_counted(truth.totals["written"], timeout=180)

    # The explanation names its indicator.
    s, e = d.get("/v1/explanations/" + RULING)
    check(s == 200 and e.get("indicators") == ["reconsideration"], "explanation %s %r" % (s, e))

    every = alerts(d)
    ids = [a["alert_id"] for a in every]
    recon = [a for a in every if a.get("indicator") == "reconsideration"
             and a["scope"] == "national" and a["series"]["benefit"] == "sjukpenning"
             and a["direction"] == "up"]
    check(recon, "no national reconsideration alert for sjukpenning among %s" % ids)
    for a in recon:
        check(a["alert_id"].startswith("reconsideration:national.sjukpenning."),
              "id %r" % a["alert_id"])
        check(a["indicator_label"] == "change rate at reconsideration"
              and a["event"] == "reconsideration", "members %r" % a)
        check(a["classification"] == "explained" and RULING in a["explanations"],
              "the reconsideration alert is not explained by %s: %r" % (RULING, a))

    office = [a for a in every if a["series"]["office"] == "K024"
              and a["series"]["benefit"] == "sjukpenning" and a["direction"] == "up"
              and "indicator" not in a]
    check(office, "no rejection alert for K024 among %s" % ids)
    for a in office:
        check(":" not in a["alert_id"] and a["alert_id"].startswith("K024.sjukpenning."),
              "rejection id %r" % a["alert_id"])
        check(a["classification"] == "unexplained" and RULING not in a["explanations"],
              "the rejection alert took the reconsideration ruling: %r" % a)
    # Nothing of rejection is explained by it.
    for a in every:
        if a.get("indicator", "rejection") == "rejection":
            check(RULING not in a["explanations"], "rejection alert %s explained by %s"
                  % (a["alert_id"], RULING))

    # Each indicator's firing alerts, by the alert list's filter.
    firing = alerts(d, "?status=firing&indicator=reconsideration")
    check(firing and all(a.get("indicator") == "reconsideration" for a in firing),
          "indicator=reconsideration: %s" % [a["alert_id"] for a in firing])
    firing = alerts(d, "?status=firing&indicator=rejection")
    check(firing and all("indicator" not in a for a in firing),
          "indicator=rejection: %s" % [a["alert_id"] for a in firing])
    check(d.stop() == 0, "exit status on SIGTERM")


if __name__ == "__main__":
    harness.main(test, "indicator_explain")
