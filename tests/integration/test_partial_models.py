#!/usr/bin/env python3
"""A benefit whose model cannot be fitted: its decisions in the reference
window are all granted, so its (benefit, kind) has no model ("no model
yet") while the others have one. The records the monitor reads back to
fill the expected sums of the window include that benefit's decisions;
it must skip them, not predict with a model it does not have (this
crashed). The daemon keeps running, shows that group unfitted and the
others fitted, and exits cleanly."""

import harness
from harness import check

START = "2023-01-02"
WEEKS = 16
EXTRA = "bostadsbidrag"
NEXTRA = 20


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    # Before the simulator's decisions, so that none of them is late and
    # all are in the records when the first models are fitted.
    for i in range(NEXTRA):
        harness.xadd(redis, {"id": "extra-%d" % i, "office": "K001", "benefit": EXTRA,
                             "kind": "first", "outcome": "granted",
                             "decided_at": "2023-01-%02dT10:00:00+01:00" % (3 + i % 4)})
    truth = harness.run_sim(redis, w.path, "--seed", 11, "--weeks", WEEKS, "--per-week", 2000,
                            "--start", START)
    d = harness.Daemon(w.path, redis, conf_extra={
        "benefits": {"list": "sjukpenning, rehabiliteringsersattning, sjukersattning, "
                             "aktivitetsersattning, " + EXTRA},
        "detector": {"min_reference_weeks": "13"}}).start()
    w.add(d.stop)
    d.wait_counted(truth.totals["written"] + NEXTRA, timeout=60)

    st = d.status()
    check(st["events"]["counted"] == truth.totals["valid"] + NEXTRA, "counted %r" % st["events"])
    s, body = d.get("/v1/model")
    check(s == 200, "GET /v1/model: %s" % s)
    models = {(m["benefit"], m["kind"]): m for m in body["models"]}
    check(models[(EXTRA, "first")]["fitted"] is False, "%s/first %r" % (EXTRA, models[(EXTRA, "first")]))
    check(models[("sjukpenning", "first")]["fitted"] is True, "sjukpenning/first not fitted")
    check("no model yet" in d.log(), "no \"no model yet\" in the log")
    s, ser = d.get("/v1/series/national/%s/first" % EXTRA)
    check(s == 200, "GET the unfitted series: %s %s" % (s, ser))
    check(d.stop() == 0, "exit status on SIGTERM")


if __name__ == "__main__":
    harness.main(test, "partial_models")
