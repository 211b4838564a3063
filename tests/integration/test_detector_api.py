#!/usr/bin/env python3
"""The detector through the daemon: 64 weeks of decisions with a drift in
the largest office and a national shift from week 56. The model is fitted and
visible; both changes raise alerts with their estimates; the alert list
filters; a legislation explanation registered afterwards re-classifies the
national alert; a supervisor's rebaseline resolves the office alert; a
refit is accepted; and all of it survives a restart."""

import datetime

import harness
from harness import WRITE_TOKEN, check

SHIFT_WEEK = 56
START = "2019-01-07"


def alerts(d, query=""):
    s, body = d.get("/v1/alerts" + query)
    check(s == 200, "GET /v1/alerts%s: %s %s" % (query, s, body))
    check(body["total"] == len(body["alerts"]), "total %r" % body["total"])
    return body["alerts"]


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 5, "--weeks", SHIFT_WEEK + 8,
                            "--per-week", harness.SCENARIO_PER_WEEK, "--start", START,
                            "--drift", "K024:sjukpenning:*:%d:2.5" % SHIFT_WEEK,
                            "--drift", "national:sjukersattning:ongoing:%d:1.5" % SHIFT_WEEK)
    d = harness.Daemon(w.path, redis, conf_extra={"detector": {"min_reference_weeks": "52"},
                                                    "alerts": {"historical_age": "50y"}})
    d.start()
    w.add(d.stop)
    d.wait_counted(truth.totals["written"], timeout=120)

    # The model: fitted, with its window and coefficients.
    s, body = d.get("/v1/model")
    check(s == 200, "GET /v1/model: %s" % s)
    models = {(m["benefit"], m["kind"]): m for m in body["models"]}
    m = models[("sjukpenning", "first")]
    check(m["fitted"] and m["version"] >= 1 and m["fit"]["converged"], "model %r" % m.get("fit"))
    names = {c["name"] for c in m["coefficients"]}
    check({"intercept", "diagnosis=F", "season_sin1"} <= names, "coefficients %s" % sorted(names)[:8])
    check(m["fit"]["decisions"] > 100000, "fitted on %d decisions" % m["fit"]["decisions"])

    # Both changes are found, with their estimates.
    firing = alerts(d, "?status=firing")
    office = [a for a in firing if a["series"]["office"] == "K024" and a["direction"] == "up"]
    nat = [a for a in firing if a["scope"] == "national" and a["series"]["benefit"] == "sjukersattning"
           and a["series"]["kind"] == "ongoing" and a["direction"] == "up"]
    check(office, "no firing alert for K024 among %s" % [a["alert_id"] for a in firing])
    check(len(nat) == 1, "national sjukersattning/ongoing alerts: %s" % [a["alert_id"] for a in nat])
    a = office[0]
    check(a["odds_ratio"] > 1.5 and a["current_rate"] > a["expected_rate"], "office estimates %r" % a)
    check(abs(a["decomposition"]["practice"] - (a["current_rate"] - a["expected_rate"])) < 1e-9,
          "decomposition %r" % a["decomposition"])
    check(a["strata"] and a["classification"] == "unexplained" and a["seq"] >= 1, "alert %r" % a)
    check(a["historical"] is False, "historical with a 50y historical_age")
    s, one = d.get("/v1/alerts/" + a["alert_id"])
    check(s == 200 and one["alert_id"] == a["alert_id"], "GET one alert: %s" % s)
    s, _ = d.get("/v1/alerts/no.such.alert")
    check(s == 404, "unknown alert: %s" % s)
    for q in ("?status=open", "?scope=region", "?direction=sideways", "?classification=maybe"):
        s, body = d.get("/v1/alerts" + q)
        check(s == 400 and body["error"] == "bad_request", "%s: %s" % (q, s))
    check(all(x["scope"] == "national" for x in alerts(d, "?scope=national")), "scope filter")

    # The series show the detector's view.
    s, ser = d.get("/v1/series/K024/%s/%s" % (a["series"]["benefit"], a["series"]["kind"]))
    check(s == 200 and ser["detector"]["state"] == "drifting"
          and ser["detector"]["alert"] == a["alert_id"], "K024 detector %r" % ser.get("detector"))
    s, lst = d.get("/v1/series?state=drifting")
    check(s == 200 and any(x["office"] == "K024" for x in lst["series"]), "state filter")

    # An explanation registered afterwards re-classifies the national alert.
    year, wk = nat[0]["onset"].split("-W")
    monday = datetime.date.fromisocalendar(int(year), int(wk), 1)
    expl = {"id": "lag-2020", "kind": "legislation", "effective_from": monday.isoformat(),
            "effective_to": None, "benefits": ["sjukersattning"], "kinds": ["ongoing"],
            "offices": [], "reference": "SFS 2020:1", "description": "test"}
    s, _, raw = d.request("POST", "/v1/explanations", token=WRITE_TOKEN, body=expl)
    check(s == 201, "POST explanation: %s %s" % (s, raw))
    s, after = d.get("/v1/alerts/" + nat[0]["alert_id"])
    check(after["classification"] == "explained" and after["explanations"] == ["lag-2020"]
          and after["seq"] > nat[0]["seq"], "after the explanation: %r" % after)

    # A supervisor accepts K024's new level; a refit is accepted.
    path = "/v1/series/K024/%s/%s/rebaseline" % (a["series"]["benefit"], a["series"]["kind"])
    s, _, _ = d.request("POST", path)
    check(s == 403, "rebaseline with the read token: %s" % s)
    s, _, raw = d.request("POST", path, token=WRITE_TOKEN)
    check(s == 200, "rebaseline: %s %s" % (s, raw))
    s, done = d.get("/v1/alerts/" + a["alert_id"])
    check(done["status"] == "resolved" and done.get("note"), "after rebaseline: %r" % done)
    s, _, raw = d.request("POST", path, token=WRITE_TOKEN)
    check(s == 409, "second rebaseline: %s" % s)
    s, _, raw = d.request("POST", "/v1/model/sjukpenning/first/refit", token=WRITE_TOKEN)
    check(s == 202, "refit: %s %s" % (s, raw))
    s, _, raw = d.request("POST", "/v1/model/nothing/first/refit", token=WRITE_TOKEN)
    check(s == 400, "refit of an unknown benefit: %s" % s)

    # Everything survives a restart: alerts, states, the model.
    before = {x["alert_id"]: (x["status"], x["classification"]) for x in alerts(d)}
    check(d.stop() == 0, "SIGTERM")
    d.start()
    again = {x["alert_id"]: (x["status"], x["classification"]) for x in alerts(d)}
    check(again == before, "alerts after a restart differ: %s" % (set(again.items()) ^ set(before.items())))
    s, body = d.get("/v1/model")
    check({(m["benefit"], m["kind"]): m["version"] for m in body["models"]}[("sjukpenning", "first")]
          == m["version"], "model version after a restart")
    s, st = d.get("/v1/status")
    check(st["firing_alerts"] == len(alerts(d, "?status=firing")), "firing_alerts %r" % st["firing_alerts"])


if __name__ == "__main__":
    harness.main(test, "detector_api")
