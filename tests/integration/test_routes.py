#!/usr/bin/env python3
"""Routes, repeats, follow-ups and a hanging receiver, through real local
webhook receivers:
- alerts of office K024 go to one receiver, the rest to another (names
  of the longest length, alike but for the last character);
- alerts explained from the start (K031, by a configured explanation) are
  recorded only: no receiver hears of them;
- the first receiver hangs (longer than its timeout) for its first
  requests, then recovers: every state arrives, none twice;
- a K024 alert still firing is sent again after the repeat interval;
- explaining it afterwards tells that receiver, although explained alerts
  are otherwise recorded only; then the repeats stop."""

import datetime
import re
import time

import harness
from harness import WRITE_TOKEN, check
from webhook_sink import Sink


# Receiver names of the longest length, alike but for the last character:
# ids and follow-ups must keep them apart.
HOOK = "k024-hook-" + "x" * 53 + "a"
REST = "k024-hook-" + "x" * 53 + "b"


def monday(week_label):
    year, wk = week_label.split("-W")
    return datetime.date.fromisocalendar(int(year), int(wk), 1)


def alerts(d):
    s, body = d.get("/v1/alerts")
    check(s == 200, "GET /v1/alerts: %s" % s)
    return body["alerts"]


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    k024 = Sink(hang_first=2, hang_s=3.0).start()
    w.add(k024.stop)
    rest = Sink().start()
    w.add(rest.stop)
    start = datetime.date(2019, 1, 7)
    drift_from = start + datetime.timedelta(weeks=56)
    truth = harness.run_two_drifts(redis, w.path)
    d = harness.Daemon(w.path, redis, conf_extra={
        "alerts": {"historical_age": "50y", "retry_max": "1s"}})
    with open(d.conf_path, "a") as f:
        f.write("""
[explanation "k031-pilot"]
kind = legal_position
effective_from = %s
offices = K031
benefits = sjukpenning
reference = test

[receiver "%s"]
type = webhook
url = http://127.0.0.1:%d/hook
timeout = 1s

[receiver "%s"]
type = webhook
url = http://127.0.0.1:%d/hook

[route "explained"]
classifications = explained
receivers =

[route "k024"]
offices = K024
receivers = %s
repeat_interval = 3s

[route "rest"]
receivers = %s
""" % (drift_from.isoformat(), HOOK, k024.port, REST, rest.port, HOOK, REST))
    d.start()
    w.add(d.stop)
    d.wait_counted(truth.totals["written"], timeout=120)

    raised = alerts(d)
    mine = [a for a in raised if a["series"]["office"] == "K024"]
    theirs = [a for a in raised if a["series"]["office"] == "K031"]
    check(mine and theirs, "expected alerts in K024 and K031: %s" %
          [(a["alert_id"], a["classification"]) for a in raised])
    check(all(a["classification"] == "explained" for a in theirs),
          "K031 not explained: %s" % theirs)
    check(all(a["classification"] == "unexplained" and a["status"] == "firing" for a in mine),
          "K024 state: %s" % mine)
    want = {"%s.%d.%s" % (a["alert_id"], s, HOOK) for a in mine for s in range(1, a["seq"] + 1)}
    harness.wait_for(lambda: set(k024.ok) >= want, 40, "every K024 state at its receiver")
    check(k024.hung == 2, "the receiver hung %d times" % k024.hung)
    check(not k024.dups and not rest.dups, "states twice: %s %s" % (k024.dups, rest.dups))
    check(all(v["series"]["office"] == "K024" for v in k024.ok.values()),
          "another office at the K024 receiver")
    check(not any(v["series"]["office"] in ("K024", "K031") for v in rest.ok.values()),
          "K024 or K031 at the other receiver: %s" % list(rest.ok))
    others = {"%s.%d.%s" % (a["alert_id"], s, REST) for a in raised
              if a["series"]["office"] not in ("K024", "K031") and
              a["classification"] == "unexplained" for s in range(1, a["seq"] + 1)}
    harness.wait_for(lambda: set(rest.ok) >= others, 20, "other alerts at the other receiver")
    check(harness.wait_log(d, r"K031\.\S+ \(state 1\) matches no receiver"),
          "K031 not logged as recorded only")

    # Still firing: sent again after the repeat interval, same state.
    def repeats():
        return sorted(k for k in k024.ok if re.search(r"\.r\d+$", k))
    harness.wait_for(lambda: repeats(), 10, "a repeat of a firing K024 alert")
    first = repeats()[0]
    check(k024.ok[first]["status"] == "firing" and first.endswith(".r1"),
          "repeat %s: %s" % (first, k024.ok[first]["status"]))

    # Explained after the fact: the route says record only, but the
    # receiver that heard it fire hears that it is explained.
    target = mine[0]
    expl = {"id": "k024-note", "kind": "legislation",
            "effective_from": monday(target["onset"]).isoformat(),
            "benefits": ["sjukpenning"], "kinds": [], "offices": ["K024"],
            "reference": "test", "description": "explained afterwards"}
    s, _, raw = d.request("POST", "/v1/explanations", token=WRITE_TOKEN, body=expl)
    check(s == 201, "POST explanation: %s %s" % (s, raw))
    after = {a["alert_id"]: a for a in alerts(d) if a["series"]["office"] == "K024"}
    follow = {"%s.%d.%s" % (i, a["seq"], HOOK) for i, a in after.items()}
    harness.wait_for(lambda: set(k024.ok) >= follow, 20, "the explained follow-ups")
    for k in follow:
        check(k024.ok[k]["classification"] == "explained", "%s: %s" % (k, k024.ok[k]))
    time.sleep(0.5)
    n = len(repeats())
    time.sleep(4.0)
    check(len(repeats()) == n, "repeats went on after the alert was explained")
    check(not any(k.endswith(REST) and "K024" in k for k in rest.ok),
          "the follow-up went to the other receiver")


if __name__ == "__main__":
    harness.main(test, "routes")
