#!/usr/bin/env python3
"""A refit that fits nothing leaves the group's expected sums as they
were. Rejections of rehabiliteringsersattning/first stop from week 14
(odds ratio 1e-6 in every office); the first model was fitted on weeks
0-12. A refit asked for at week 66 reads weeks 14-65, none of whose
decisions was rejected, so no model comes of it and the group keeps its
model: its weeks keep their expected rates, exactly, and the week that
was open at the refit has one. (Reset without new sums, the window had
counts and no expectation, and the open week closed with all its
decisions against the part of its expectation counted after the
refit.)"""

import datetime
import re

import harness
from harness import WRITE_TOKEN, check

START = datetime.date(2019, 1, 7)
BENEFIT, KIND = "rehabiliteringsersattning", "first"
STOP_WEEK = 14
WEEKS = 66
FIRST = 13
WINDOW = 52
PER_WEEK = 5000


def iso(week):
    return "%04d-W%02d" % (START + datetime.timedelta(weeks=week)).isocalendar()[:2]


def drift(from_week):
    return "national:%s:%s:%d:0.000001" % (BENEFIT, KIND, from_week)


def expected_rates(d):
    path = "/v1/series/national/%s/%s/control?weeks=%d" % (BENEFIT, KIND, WEEKS + 2)
    s, c = d.get(path)
    check(s == 200, "GET %s: %s %r" % (path, s, c))
    return {w["week"]: (w["decisions"], w["rejected"], w["expected_rate"]) for w in c["weeks"]}


def model_version(d):
    s, body = d.get("/v1/model")
    check(s == 200, "GET /v1/model: %s" % s)
    m = [m for m in body["models"] if (m["benefit"], m["kind"]) == (BENEFIT, KIND)]
    check(len(m) == 1 and m[0]["fitted"], "model of %s/%s: %r" % (BENEFIT, KIND, m))
    return m[0]["version"]


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    first = harness.run_sim(redis, w.path, "--seed", 11, "--weeks", WEEKS, "--per-week", PER_WEEK,
                            "--start", START.isoformat(), "--drift", drift(STOP_WEEK))
    d = harness.Daemon(w.path, redis, conf_extra={
        "detector": {"reference_weeks": str(WINDOW), "min_reference_weeks": str(FIRST)},
        "alerts": {"historical_age": "50y"}}).start()
    w.add(d.stop)
    d.wait_counted(first.totals["written"], timeout=120)
    harness.wait_for(lambda: not d.status()["detector_busy"], 30, "the detector idle")
    before = expected_rates(d)
    window = [iso(k) for k in range(WEEKS - WINDOW, WEEKS - 1)]
    for wk in window:
        n, rej, rate = before[wk]
        check(n > 30 and rej == 0 and rate is not None and rate > 0.01,
              "week %s before the refit: %r" % (wk, before[wk]))
    version = model_version(d)

    s, _, raw = d.request("POST", "/v1/model/%s/%s/refit" % (BENEFIT, KIND), token=WRITE_TOKEN)
    check(s == 202, "refit: %s %s" % (s, raw))
    # Two more weeks close week 65, whose close reads weeks 14-65.
    more = harness.run_sim(redis, w.path, "--seed", 12, "--weeks", 2, "--per-week", PER_WEEK,
                           "--start", (START + datetime.timedelta(weeks=WEEKS)).isoformat(),
                           "--drift", drift(0))
    d.wait_counted(first.totals["written"] + more.totals["written"], timeout=60)
    harness.wait_for(lambda: "%s/%s: no model yet" % (BENEFIT, KIND) in d.log(), 30,
                     "the refit that fits nothing")
    harness.wait_for(lambda: not d.status()["detector_busy"], 30, "the detector idle")
    m = re.search(r"%s/%s: no model yet: (.*)" % (BENEFIT, KIND), d.log())
    check(m and "none of" in m.group(1), "why no model: %r" % (m and m.group(0)))
    check(model_version(d) == version, "the model changed: version %d, was %d" % (
        model_version(d), version))

    after = expected_rates(d)
    for wk in window:
        check(after[wk] == before[wk], "week %s after the failed refit: %r, before %r" % (
            wk, after[wk], before[wk]))
    # The week open at the refit closed with its expectation.
    n, rej, rate = after[iso(WEEKS - 1)]
    check(n > 30 and rate is not None and rate > 0.01, "week %s: %r" % (iso(WEEKS - 1),
                                                                         after[iso(WEEKS - 1)]))
    print("refit_failed: %s; weeks %s..%s keep expected rates %.4f..%.4f" % (
        m.group(0), window[0], window[-1], min(before[k][2] for k in window),
        max(before[k][2] for k in window)))
    check(d.stop() == 0, "exit status on SIGTERM")


if __name__ == "__main__":
    harness.main(test, "refit_failed")
