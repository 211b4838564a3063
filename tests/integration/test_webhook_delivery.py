#!/usr/bin/env python3
"""Alerts reach a real local webhook receiver: signed (HMAC over the
timestamp and the body), with the bearer token and the extra headers from
their files, each alert state once, through a receiver that
answers 500 at first; and a notification queued while the receiver is
down survives a kill -9 of the daemon and is delivered after the restart."""

import datetime
import signal
import time

import harness
from harness import WRITE_TOKEN, check
from webhook_sink import Sink

SECRET = "webhook-secret-for-tests-0123456789"
TOKEN = "receiver-bearer-token-42"
ROUTE_KEY = "route-key-secret-7"



def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    sink = Sink(secret=SECRET, fail_first=2).start()
    w.add(sink.stop)
    secret_path = harness.secret_file(w.path, "ops.secret", SECRET + "\n")
    truth = harness.run_sim(redis, w.path, "--seed", 5, "--weeks", 64, "--per-week", harness.SCENARIO_PER_WEEK,
                            "--start", "2019-01-07", "--drift", "K024:sjukpenning:*:56:2.5")
    d = harness.Daemon(w.path, redis, conf_extra={"alerts": {"historical_age": "50y"}})
    token_path = harness.secret_file(w.path, "ops.token", TOKEN + "\n")
    headers_path = harness.secret_file(
        w.path, "ops.headers",
        "# sent with every request\nX-Tenant: fk-ops\n\nX-Route-Key: %s\n" % ROUTE_KEY)
    with open(d.conf_path, "a") as f:
        f.write('\n[receiver "ops"]\ntype = webhook\nurl = http://127.0.0.1:%d/hook\n'
                'secret_file = %s\nbearer_token_file = %s\nheaders_file = %s\n'
                % (sink.port, secret_path, token_path, headers_path))
    d.start()
    w.add(d.stop)
    d.wait_counted(truth.totals["written"], timeout=120)

    keys, alerts = harness.expected_keys(d)
    check(alerts, "no alerts were raised")
    harness.wait_for(lambda: set(sink.ok) >= keys, 30, "every alert state at the receiver")
    check(sink.failed == 2, "the receiver failed %d times" % sink.failed)
    check(not sink.bad, "bad signatures or headers: %s" % sink.bad[:3])
    check(not sink.dups, "states delivered twice: %s" % sink.dups[:3])
    check(set(sink.ok) == keys, "unexpected notifications: %s" % (set(sink.ok) - keys))
    one = sink.ok[sorted(keys)[0]]
    for field in ("version", "alert_id", "status", "classification", "scope", "direction",
                  "series", "detected_at", "onset", "baseline_rate", "current_rate",
                  "expected_rate", "odds_ratio", "method", "explanations", "status_url"):
        check(field in one, "payload lacks %s" % field)
    for key, h in sink.headers.items():
        check(h.get("Authorization") == "Bearer " + TOKEN and h.get("X-Tenant") == "fk-ops"
              and h.get("X-Route-Key") == ROUTE_KEY, "%s: headers %r" % (key, h))
    check(TOKEN not in d.log() and ROUTE_KEY not in d.log() and SECRET not in d.log(),
          "a secret reached the log")
    s, dl = d.get("/v1/deliveries")
    check(s == 200 and dl["deliveries"] == [], "outbox not empty: %r" % dl)

    # The receiver goes away; a new alert state waits in the outbox, the
    # daemon is killed, the receiver comes back, the daemon delivers it.
    sink.stop()
    target = alerts[0]
    year, wk = target["onset"].split("-W")
    monday = datetime.date.fromisocalendar(int(year), int(wk), 1)
    expl = {"id": "note-1", "kind": "legislation", "effective_from": monday.isoformat(),
            "benefits": [target["series"]["benefit"]], "kinds": [target["series"]["kind"]],
            "offices": [], "reference": "", "description": "test"}
    s, _, raw = d.request("POST", "/v1/explanations", token=WRITE_TOKEN, body=expl)
    check(s == 201, "POST explanation: %s %s" % (s, raw))
    new_key = "%s.%d.ops" % (target["alert_id"], target["seq"] + 1)

    def waiting():
        s, dl = d.get("/v1/deliveries")
        return any(x["id"] == new_key and x["attempts"] >= 1 for x in dl["deliveries"])
    harness.wait_for(waiting, 15, "a failed attempt of %s in /v1/deliveries" % new_key)
    time.sleep(0.6)   # a checkpoint of the re-classification
    d.stop(signal.SIGKILL)
    sink.fail_left = 0
    sink.start()          # the same port: the configuration stays
    d.start()
    harness.wait_for(lambda: new_key in sink.ok, 30, "%s delivered after the restart" % new_key)
    check(sink.ok[new_key]["classification"] == "explained", "state %r" % sink.ok[new_key])


if __name__ == "__main__":
    harness.main(test, "webhook_delivery")
