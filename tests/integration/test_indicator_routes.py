#!/usr/bin/env python3
"""Alerts of another indicator through routes, receivers and silences,
on a daemon watching rejections and the change rate at reconsideration,
fed a mixed stream with a reconsideration drift in one office and a
rejection drift in another:
- a route with `indicators = reconsideration` gets the reconsideration
  alerts and only those (a webhook and a mail receiver), the next route
  every rejection alert and none of the others;
- the webhook body of a reconsideration alert carries `indicator`,
  `indicator_label` and `event` (last), its id is prefixed and its
  status_url asks for the indicator's series; a rejection body has none
  of them;
- the mail names the indicator in its subject and says the change rate
  and the reconsiderations where a rejection mail says rejection rate
  and decisions;
- a silence on `indicator = reconsideration` holds back that indicator's
  alerts (marked silenced, their repeats stop) and no rejection alert
  (still marked unsilenced, its repeats go on)."""

import email
import email.policy
import json
import re
import time

import harness
import indicators
from harness import WRITE_TOKEN, check
from smtp_sink import SmtpSink
from webhook_sink import Sink

NAME, LABEL = "reconsideration", "change rate at reconsideration"
DRIFTING, REJECTING = "K002", "K003"
ALERT_LINE = re.compile(r"\(alert (\S+), change (\d+)\)")


def alerts(d, query=""):
    s, body = d.get("/v1/alerts" + query)
    check(s == 200, "GET /v1/alerts%s: %s %r" % (query, s, body))
    return body["alerts"]


def keys_of(raised, receiver):
    return {"%s.%d.%s" % (a["alert_id"], seq, receiver) for a in raised for seq in range(1, a["seq"] + 1)}


def is_repeat(key):
    return re.search(r"\.r\d+$", key) is not None


def settled(d):
    """Every alert of the drifts raised and the detector idle."""
    if d.status()["detector_busy"]:
        return False
    mine = alerts(d, "?indicator=%s&office=%s" % (NAME, DRIFTING))
    theirs = alerts(d, "?indicator=rejection&office=" + REJECTING)
    return bool(mine) and bool(theirs)


def check_bodies(recon, rest, d):
    for key, body in recon.ok.items():
        check(body.get("indicator") == NAME and body.get("indicator_label") == LABEL and
              body.get("event") == NAME, "%s: indicator members %r" % (key, {
                  k: body.get(k) for k in ("indicator", "indicator_label", "event")}))
        check(list(body)[-3:] == ["indicator", "indicator_label", "event"],
              "%s: the indicator members are not last: %r" % (key, list(body)))
        check(body["alert_id"].startswith(NAME + ":"), "%s: id %r" % (key, body["alert_id"]))
        s = body["series"]
        want = "/v1/series/%s/%s/%s?indicator=%s" % (s["office"], s["benefit"], s["kind"], NAME)
        check(body["status_url"].endswith(want), "%s: status_url %r" % (key, body["status_url"]))
        # The body is the API's alert as it was sent.
        st, one = d.get("/v1/alerts/" + body["alert_id"])
        check(st == 200 and one.get("indicator") == NAME, "GET /v1/alerts/%s: %s %r"
              % (body["alert_id"], st, one))
    for key, body in rest.ok.items():
        check(not any(k in body for k in ("indicator", "indicator_label", "event")),
              "%s: a rejection body with indicator members: %r" % (key, list(body)))
        check(":" not in body["alert_id"], "%s: id %r" % (key, body["alert_id"]))


def check_mail(sink, want):
    listed = []
    for m in sink.messages:
        msg = email.message_from_bytes(m["data"], policy=email.policy.default)
        subject = str(msg["Subject"])
        check(subject.startswith("[stabild] [%s] " % NAME), "subject %r" % subject)
        body = msg.get_content()
        found = ALERT_LINE.findall(body)
        listed.extend((a, int(seq)) for a, seq in found)
        check(found and body.count("At detection: %s " % LABEL) == len(found),
              "mail body does not say the change rate:\n%s" % body)
        check(body.count(" reconsiderations.") == len(found) and "rejection rate" not in body and
              " decisions." not in body, "mail body's events:\n%s" % body)
        check("?indicator=%s" % NAME in body, "mail body's link:\n%s" % body)
    check(len(listed) == len(set(listed)), "a state mailed twice: %s" % listed)
    check(set(listed) == want, "mailed %s, want %s" % (sorted(set(listed)), sorted(want)))


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    recon = Sink().start()
    w.add(recon.stop)
    rest = Sink().start()
    w.add(rest.stop)
    mail = SmtpSink().start()
    w.add(mail.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 5, "--offices", 3, "--weeks", 30,
                            "--per-week", 20000, "--start", "2023-01-02", "--events", "all",
                            "--drift", "%s:*:*:16:4.0@%s" % (DRIFTING, NAME),
                            "--drift", "%s:sjukpenning:*:16:3.0" % REJECTING)
    conf = {"detector": {"min_reference_weeks": "13"},
            "alerts": {"historical_age": "50y", "retry_max": "1s"}}
    conf.update(indicators.sections(NAME))
    d = harness.Daemon(w.path, redis, conf_extra=conf)
    with open(d.conf_path, "a") as f:
        f.write("""
[receiver "recon-hook"]
type = webhook
url = http://127.0.0.1:%d/hook

[receiver "recon-mail"]
type = email
url = smtp://127.0.0.1:%d
starttls = off
from = larm@fk.example
to = omprovning@fk.example

[receiver "rest-hook"]
type = webhook
url = http://127.0.0.1:%d/hook

[route "explained"]
classifications = explained
receivers =

[route "reconsideration-mail"]
indicators = %s
receivers = recon-mail
continue = on

[route "reconsideration"]
indicators = %s
receivers = recon-hook
repeat_interval = 2s

[route "rest"]
receivers = rest-hook
repeat_interval = 2s
""" % (recon.port, mail.port, rest.port, NAME, NAME))
    d.start()
    w.add(d.stop)
    d.wait_counted(truth.totals["written"], timeout=120)
    harness.wait_for(lambda: settled(d), 120, "the alerts of both drifts")

    raised = alerts(d)
    mine = [a for a in raised if a.get("indicator") == NAME and a["classification"] == "unexplained"]
    theirs = [a for a in raised if "indicator" not in a and a["classification"] == "unexplained"]
    check(all(a["indicator"] == NAME for a in raised if "indicator" in a),
          "alerts of other indicators: %r" % sorted({str(a.get("indicator")) for a in raised}))
    check(any(a["series"]["office"] == DRIFTING for a in mine) and
          any(a["series"]["office"] == REJECTING for a in theirs),
          "the drifts' alerts: %s" % [(a["alert_id"], a["classification"]) for a in raised])

    # Each route's receivers get their indicator's alerts, and only those.
    want_recon, want_rest = keys_of(mine, "recon-hook"), keys_of(theirs, "rest-hook")
    harness.wait_for(lambda: {k for k in recon.ok if not is_repeat(k)} >= want_recon, 40,
                     "every reconsideration state at its receiver")
    harness.wait_for(lambda: {k for k in rest.ok if not is_repeat(k)} >= want_rest, 40,
                     "every rejection state at the other receiver")
    check({k for k in recon.ok if not is_repeat(k)} == want_recon,
          "the reconsideration receiver also got %s" % sorted({k for k in recon.ok
                                                                if not is_repeat(k)} - want_recon))
    check({k for k in rest.ok if not is_repeat(k)} == want_rest,
          "the other receiver also got %s" % sorted({k for k in rest.ok if not is_repeat(k)} - want_rest))
    check(not recon.bad and not rest.bad and not recon.dups and not rest.dups,
          "bad %s %s, twice %s %s" % (recon.bad, rest.bad, recon.dups, rest.dups))
    check_bodies(recon, rest, d)
    want_mail = {(a["alert_id"], seq) for a in mine for seq in range(1, a["seq"] + 1)}
    harness.wait_for(lambda: {(a, int(s)) for m in mail.messages for a, s in ALERT_LINE.findall(
        email.message_from_bytes(m["data"], policy=email.policy.default).get_content())} >= want_mail,
        40, "every reconsideration state by mail")
    check_mail(mail, want_mail)

    # Both routes repeat their firing alerts.
    harness.wait_for(lambda: any(is_repeat(k) for k in recon.ok) and any(is_repeat(k) for k in rest.ok),
                     20, "repeats on both routes")

    # A silence on the indicator: its alerts are held back, rejection's are not.
    s, _, out = d.request("POST", "/v1/silences", token=WRITE_TOKEN, body={
        "matchers": {"indicator": NAME}, "ends_at": "2099-01-01T00:00:00Z",
        "comment": "reconsideration campaign under review"})
    check(s == 201, "POST /v1/silences: %s %s" % (s, out))
    sid = json.loads(out)["id"]
    now = alerts(d, "?status=firing")
    check(all(a["silenced_by"] == sid for a in now if a.get("indicator") == NAME) and
          any(a.get("indicator") == NAME for a in now),
          "reconsideration alerts not silenced: %r" % [(a["alert_id"], a["silenced_by"]) for a in now])
    check(all(a["silenced_by"] is None for a in now if "indicator" not in a),
          "rejection alerts silenced: %r" % [(a["alert_id"], a["silenced_by"]) for a in now
                                             if "indicator" not in a])
    time.sleep(2.5)     # a repeat under way when the silence came has arrived
    n_recon = len(recon.ok)
    n_rest = len(rest.ok)
    time.sleep(5.0)
    check(len(recon.ok) == n_recon, "repeats to the silenced indicator's receiver went on: %s"
          % sorted(recon.ok)[n_recon:])
    check(len(rest.ok) > n_rest, "rejection's repeats stopped under a silence of another indicator")


if __name__ == "__main__":
    harness.main(test, "indicator_routes")
