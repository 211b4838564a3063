#!/usr/bin/env python3
"""stabilctl with indicators, against a daemon watching rejections and the
change rate at reconsideration on a mixed stream with a reconsideration
drift in one office and a rejection drift in another: `indicators` (table
and --json, against GET /v1/indicators); the global --indicator on
`series` (list and one series), `alerts` and `model show`, each checked
against the API, and refused by a command it does not go with; an
unknown indicator is the API's 400 naming the valid ones; `explain add
--indicators reconsideration` explains the reconsideration alert and no
rejection alert; `silence add --indicator reconsideration` silences that
indicator's alerts only."""

import datetime
import json

import harness
import indicators
from harness import check
from test_stabilctl import PUBLIC_URL, Ctl, pairs, pct, table

NAME, LABEL = "reconsideration", "change rate at reconsideration"
DRIFTING, REJECTING = "K002", "K003"
BENEFIT, KIND = "sjukpenning", "first"


def api(d, path):
    s, body = d.get(path)
    check(s == 200, "GET %s: %s %r" % (path, s, body))
    return body


def settled(d):
    if d.status()["detector_busy"]:
        return False
    return bool(api(d, "/v1/alerts?indicator=%s&office=%s" % (NAME, DRIFTING))["alerts"]) and \
        bool(api(d, "/v1/alerts?indicator=rejection&office=" + REJECTING)["alerts"])


def check_indicators(c, d):
    want = api(d, "/v1/indicators")
    check(c.json("indicators") == want, "indicators --json differs from the API")
    head, rows, rest = table(c.ok("indicators"))
    check(head == ["NAME", "EVENT", "YES", "NO", "LABEL", "ALERTS", "SERIES", "FIRING",
                   "UNEXPLAINED", "NATIONAL"], "indicators head %r" % head)
    check([r["NAME"] for r in rows] == ["rejection", NAME], "indicators rows %r" % rows)
    for r, i in zip(rows, want["indicators"]):
        check((r["EVENT"], r["YES"], r["NO"], r["LABEL"], r["ALERTS"]) ==
              (i["event"], ",".join(i["yes"]), ",".join(i["no"]), i["label"], "on"),
              "indicators row %r against %r" % (r, i))
        check((int(r["SERIES"]), int(r["FIRING"]), int(r["UNEXPLAINED"])) ==
              (i["series"], i["firing"], i["firing_unexplained"]), "indicators counts %r against %r" % (r, i))
        states = ", ".join("%s/%s %s" % (n["benefit"], n["kind"], n["state"] or "none") for n in i["national"])
        check(r["NATIONAL"] == states, "national %r, want %r" % (r["NATIONAL"], states))
    check(rest == ["2 indicators"] or rest[-1].startswith("2 indicator"), "indicators footer %r" % rest)


def check_series(c, d):
    # The list of one indicator, filtered as the API filters it.
    want = api(d, "/v1/series?indicator=%s&state=drifting&limit=10000" % NAME)["series"]
    check(any((s["office"], s["benefit"], s["kind"]) == (DRIFTING, BENEFIT, KIND) for s in want),
          "the drifting series is not drifting: %r" % [(s["office"], s["benefit"], s["kind"]) for s in want])
    head, rows, rest = table(c.ok("--indicator", NAME, "series", "--state", "drifting"))
    check([(r["OFFICE"], r["BENEFIT"], r["KIND"]) for r in rows] ==
          [(s["office"], s["benefit"], s["kind"]) for s in want], "series rows %r" % rows)
    for r, s in zip(rows, want):
        check(r["STATE"] == "drifting" and r["RATE_13W"] == pct(s["rolling"]["13w"]["rejection_rate"]),
              "series row %r against %r" % (r, s["rolling"]["13w"]))
    check(rest[-1] == "%d of %d series" % (len(want), len(want)), "series footer %r" % rest)
    every = c.json("--indicator", "all", "series")
    check(len(every["series"]) == api(d, "/v1/series?indicator=all&limit=0")["total"] and
          {s.get("indicator", "rejection") for s in every["series"]} == {"rejection", NAME},
          "series --indicator all: %r" % {s.get("indicator") for s in every["series"]})
    check(c.json("series") == c.json("--indicator", "rejection", "series"), "rejection is not the default")

    # One series: says whose it is, its history the API's.
    one = api(d, "/v1/series/%s/%s/%s?indicator=%s" % (DRIFTING, BENEFIT, KIND, NAME))
    out = c.ok("--indicator", NAME, "series", DRIFTING, BENEFIT, KIND)
    head_pairs = pairs(out)
    check(head_pairs["indicator"] == NAME and head_pairs["state"] == "drifting" and
          head_pairs["alert"].startswith(NAME + ":" + DRIFTING), "series header %r" % head_pairs)
    head, rows, _ = table(out.split("\n\n", 1)[1])
    check([int(r["DECISIONS"]) for r in rows] == [h["decisions"] for h in one["history"]] and
          [int(r["REJECTED"]) for r in rows] == [h["rejected"] for h in one["history"]],
          "series history differs from the API")
    rej = pairs(c.ok("series", DRIFTING, BENEFIT, KIND))
    check("indicator" not in rej, "rejection's series names an indicator: %r" % rej)


def check_alerts(c, d):
    mine = api(d, "/v1/alerts?status=firing&indicator=" + NAME)
    got = c.json("--indicator", NAME, "alerts", "--status", "firing")
    check(got == mine and mine["total"] >= 1, "alerts --indicator: %r" % got)
    check(all(a["alert_id"].startswith(NAME + ":") and a["indicator_label"] == LABEL
              for a in got["alerts"]), "alerts of another indicator: %r" % [a["alert_id"] for a in got["alerts"]])
    every = c.json("alerts")
    check(every == api(d, "/v1/alerts") and
          {a.get("indicator", "rejection") for a in every["alerts"]} == {"rejection", NAME},
          "alerts default is not every indicator's")
    head, rows, rest = table(c.ok("--indicator", NAME, "alerts", "--status", "firing", "--wide"))
    check(len(rows) == mine["total"], "alerts table %d rows, want %d" % (len(rows), mine["total"]))
    # One prefixed alert, by its id (the ':' travels in the path).
    a = mine["alerts"][0]
    out = c.ok("alerts", a["alert_id"])
    check(a["alert_id"] in out and LABEL in out, "alerts %s:\n%s" % (a["alert_id"], out))
    link = "%s/ui/#/series/%s/%s/%s?indicator=%s&alert=%s" % (
        PUBLIC_URL, a["series"]["office"], a["series"]["benefit"], a["series"]["kind"], NAME,
        a["alert_id"].replace(":", "%3A"))
    check(pairs(out).get("dashboard") == link, "alerts %s: dashboard link %r, want %r"
          % (a["alert_id"], pairs(out).get("dashboard"), link))
    # --indicator is for the list.
    c.fails(1, "--indicator", NAME, "alerts", a["alert_id"], message="--indicator is for the list")


def check_models(c, d):
    models = api(d, "/v1/model?indicator=" + NAME)["models"]
    check(models and all(m["indicator"] == NAME for m in models), "models %r" % models)
    check(c.json("--indicator", NAME, "model", "show") == {"models": models}, "model show --indicator")
    one = c.json("--indicator", NAME, "model", "show", BENEFIT, KIND)
    check(one == [m for m in models if (m["benefit"], m["kind"]) == (BENEFIT, KIND)][0],
          "model show %s %s --indicator" % (BENEFIT, KIND))
    rej = c.json("model", "show", BENEFIT, KIND)
    check("indicator" not in rej, "model show without --indicator: %r" % rej.get("indicator"))
    head, rows, _ = table(c.ok("model", "show"))
    check("INDICATOR" in head and {r["INDICATOR"] for r in rows} == {"rejection", NAME},
          "model show head %r" % head)


def check_refusals(c):
    for args in (["status"], ["indicators"], ["explain", "list"], ["silence", "list"], ["checkpoint"]):
        c.fails(1, "--indicator", NAME, *args, message="--indicator does not go with " + " ".join(args))
    err = c.fails(5, "--indicator", "reconsiderations", "series",
                  message="unknown indicator 'reconsiderations'")
    check("rejection, reconsideration" in err, "400 does not name the valid ones: %r" % err)
    c.fails(5, "silence", "add", "--indicator", "nope", "--duration", "1h", "--comment", "c",
            token="write", message="unknown indicator 'nope'")


def check_explain_silence(c, d):
    target = api(d, "/v1/alerts?status=firing&indicator=%s&office=%s" % (NAME, DRIFTING))["alerts"]
    target = [a for a in target if (a["series"]["benefit"], a["series"]["kind"]) == (BENEFIT, KIND)][0]
    rejecting = [a for a in api(d, "/v1/alerts?status=firing&indicator=rejection&office=" + REJECTING)["alerts"]
                 if a["classification"] == "unexplained"]
    check(target["classification"] == "unexplained" and rejecting, "before: %r %r" % (target, rejecting))
    # Every office, benefit and kind, from the onset's Monday: only the
    # indicator keeps the rejection alerts (same weeks) out of it.
    year, week = target["onset"].split("-W")
    monday = datetime.date.fromisocalendar(int(year), int(week), 1).isoformat()
    c.ok("explain", "add", "recon-campaign", "--kind", "legal_position", "--effective-from", monday,
         "--indicators", NAME, "--reference", "internal campaign", token="write")
    stored = api(d, "/v1/explanations/recon-campaign")
    check(stored["indicators"] == [NAME], "stored explanation %r" % stored)
    after = api(d, "/v1/alerts/" + target["alert_id"])
    check(after["classification"] == "explained" and after["explanations"] == ["recon-campaign"],
          "the reconsideration alert after the explanation: %r" % after)
    for a in rejecting:
        now = api(d, "/v1/alerts/" + a["alert_id"])
        check("recon-campaign" not in (now.get("explanations") or []) and
              now["classification"] == "unexplained", "rejection alert %s explained: %r" % (a["alert_id"], now))
    c.ok("explain", "rm", "recon-campaign", token="write")

    out = c.ok("--json", "silence", "add", "--indicator", NAME, "--duration", "1w",
               "--comment", "campaign under review", token="write")
    sid = json.loads(out)["id"]
    check(json.loads(out)["matchers"] == {"indicator": NAME}, "silence %r" % out)
    for a in api(d, "/v1/alerts?status=firing")["alerts"]:
        want = sid if a.get("indicator") == NAME else None
        check(a["silenced_by"] == want, "%s silenced by %r, want %r" % (a["alert_id"], a["silenced_by"], want))
    c.ok("silence", "rm", sid, token="write")


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 5, "--offices", 3, "--weeks", 30,
                            "--per-week", 20000, "--start", "2023-01-02", "--events", "all",
                            "--drift", "%s:*:*:16:4.0@%s" % (DRIFTING, NAME),
                            "--drift", "%s:%s:*:16:3.0" % (REJECTING, BENEFIT))
    conf = {"detector": {"min_reference_weeks": "13"}, "alerts": {"historical_age": "50y"},
            "http": {"public_url": PUBLIC_URL + "/"}}
    conf.update(indicators.sections(NAME))
    d = harness.Daemon(w.path, redis, conf_extra=conf)
    d.start()
    w.add(d.stop)
    d.wait_counted(truth.totals["written"], timeout=120)
    harness.wait_for(lambda: settled(d), 120, "the alerts of both drifts")
    c = Ctl(w.path)
    c.url = "http://127.0.0.1:%d" % d.http_port
    check_indicators(c, d)
    check_series(c, d)
    check_alerts(c, d)
    check_models(c, d)
    check_refusals(c)
    check_explain_silence(c, d)


if __name__ == "__main__":
    harness.main(test, "stabilctl_indicator")
