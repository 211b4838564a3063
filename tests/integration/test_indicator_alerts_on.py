#!/usr/bin/env python3
"""An indicator watched with `alerts = off` keeps its alerts and sends
none; switched on by a reload (SIGHUP), its firing alerts are handed on
at once, each once, and not its resolved ones. The rejection alerts go
out all along."""

import signal
import time

import harness
import indicators
from harness import check
from webhook_sink import Sink

NAME, DRIFTING = "reconsideration", "K002"


def alerts(d):
    s, body = d.get("/v1/alerts")
    check(s == 200, "GET /v1/alerts: %s %r" % (s, body))
    return body["alerts"]


def settled(d):
    """The detector idle and the drift's alert raised."""
    if d.status()["detector_busy"]:
        return False
    return any(a.get("indicator") == NAME and a["series"]["office"] == DRIFTING
               for a in alerts(d))


def mine(keys):
    return {k for k in keys if k.startswith(NAME + ":")}


def write_conf(d, text, alerts_on):
    with open(d.conf_path, "w") as f:
        f.write(text if alerts_on else text.replace("alerts = on", "alerts = off"))


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    hook = Sink().start()
    w.add(hook.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 5, "--offices", 3, "--weeks", 30,
                            "--per-week", 20000, "--start", "2023-01-02", "--events", "all",
                            "--drift", "%s:*:*:16:4.0@%s" % (DRIFTING, NAME))
    conf = {"detector": {"min_reference_weeks": "13"},
            "alerts": {"historical_age": "50y", "retry_max": "1s"}}
    conf.update(indicators.sections(NAME))
    conf['indicator "%s"' % NAME]["alerts"] = "on"
    d = harness.Daemon(w.path, redis, conf_extra=conf)
    with open(d.conf_path, "a") as f:
        f.write('\n[receiver "hook"]\ntype = webhook\nurl = http://127.0.0.1:%d/hook\n'
                % hook.port)
    with open(d.conf_path) as f:
        text = f.read()
    check(text.count("alerts = on") == 1, "one alerts key in:\n%s" % text)
    write_conf(d, text, alerts_on=False)
    d.start()
    w.add(d.stop)
    d.wait_counted(truth.totals["written"], timeout=120)
    harness.wait_for(lambda: settled(d), 120, "the reconsideration drift's alert")

    # Kept, shown, not sent; rejection's own alerts still are.
    kept = [a for a in alerts(d) if a.get("indicator") == NAME]
    rejection = [a for a in alerts(d) if "indicator" not in a]
    want_rejection = {"%s.%d.hook" % (a["alert_id"], a["seq"]) for a in rejection}
    harness.wait_for(lambda: want_rejection <= set(hook.ok), 40,
                     "the rejection alerts' last states at the receiver")
    check(not mine(hook.ok), "sent while alerts = off: %s" % sorted(mine(hook.ok)))

    # Switched on: each firing one once, at its current state.
    write_conf(d, text, alerts_on=True)
    since = len(d.log())
    d.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: "alerts of %s switched on" % NAME in d.log()[since:], 20,
                     "the reload's log line")
    firing = [a for a in alerts(d) if a.get("indicator") == NAME and a["status"] == "firing"]
    check(any(a["series"]["office"] == DRIFTING for a in firing),
          "the drift's alert is firing: %s" % [(a["alert_id"], a["status"]) for a in kept])
    want = {"%s.%d.hook" % (a["alert_id"], a["seq"]) for a in firing}
    harness.wait_for(lambda: mine(hook.ok) >= want, 40, "the firing alerts at the receiver")
    check(mine(hook.ok) == want, "also sent: %s" % sorted(mine(hook.ok) - want))
    for key in want:
        check(hook.ok[key].get("indicator") == NAME, "%s carries its indicator" % key)

    # A second reload with alerts still on sends nothing again.
    since = len(d.log())
    d.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: "reload: reading" in d.log()[since:], 20, "the second reload")
    time.sleep(2)           # a delivery would be on its way by now
    check(mine(hook.ok) == want, "sent again on a reload: %s" % sorted(mine(hook.ok) - want))


if __name__ == "__main__":
    harness.main(test, "indicator_alerts_on")
