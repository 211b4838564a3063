#!/usr/bin/env python3
"""Two instances against one Redis deliver every alert state once: both
queue every notification, a claim in Redis decides who sends it, and the
other records it as delivered by its peer. A random instance is killed
with SIGKILL after the receiver's k-th request (so during delivery) and
restarted; then every expected notification has reached both receivers,
none under two keys, and the same-key repeats (a transfer cut short by
the kill and taken over) are few and counted.

STABILD_HA_KILLS (default 3) kills; STABILD_HA_SEED fixes the seed."""

import json
import os
import random
import signal
import threading
import time

import ha
import harness
from harness import check
from webhook_sink import Sink

SECRET = "ha-webhook-secret-0123456789"
RECEIVERS = ("ops", "desk")


def run(w, kills, weeks=62, per_week=3000, redis_stop=False):
    seed = int(os.environ.get("STABILD_HA_SEED", random.randrange(1 << 30)))
    print("seed %d, %d kills" % (seed, kills))
    rng = random.Random(seed)

    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    # Drifts in several offices, some of them over before the end, so
    # that alerts fire and resolve: a few dozen notifications.
    drifts = []
    for office, ratio, start, end in (("K024", 3.0, 8, 0), ("K031", 0.3, 8, 0),
                                      ("K005", 4.0, 8, 3), ("K010", 4.0, 8, 3),
                                      ("K040", 0.2, 7, 2), ("K017", 4.0, 7, 0),
                                      ("K001", 4.0, 8, 4), ("K002", 0.2, 8, 0),
                                      ("K003", 4.0, 8, 0), ("K004", 4.0, 8, 0),
                                      ("K006", 0.2, 8, 0), ("K007", 4.0, 8, 0)):
        spec = "%s:sjukpenning:*:%d:%s" % (office, weeks - start, ratio)
        drifts += ["--drift", spec + (":%d" % (weeks - end) if end else "")]
    truth = harness.run_sim(redis, w.path, "--seed", 5, "--weeks", weeks, "--per-week", per_week,
                            "--start", "2019-01-07", *drifts)
    secret_path = harness.secret_file(w.path, "hook.secret", SECRET + "\n")

    trigger = threading.Event()
    state = {"next": rng.randint(2, 4), "kills": 0, "victim": None}

    def on_request(n, sender):
        # The sink's thread: the test's thread kills the sender of this
        # request while the sink holds it.
        if state["kills"] < kills and n >= state["next"] and not trigger.is_set():
            state["victim"] = sender
            trigger.set()

    sinks = {}
    for name in RECEIVERS:
        sinks[name] = Sink(secret=SECRET, delay_s=0.25, on_request=on_request).start()
        w.add(sinks[name].stop)
    extra = {"alerts": {"historical_age": "50y", "max_inflight": "2"}}
    if redis_stop:
        extra["ha"] = {"unclaimed_after": "1s"}
    a, b = ha.ha_pair(w, redis, extra=extra)
    daemons = {"a": a, "b": b}
    for d in (a, b):
        with open(d.conf_path, "a") as f:
            for name in RECEIVERS:
                f.write('\n[receiver "%s"]\ntype = webhook\nurl = http://127.0.0.1:%d/hook\n'
                        'secret_file = %s\n' % (name, sinks[name].port, secret_path))
        d.start()
        w.add(d.stop)

    total = truth.totals["written"]
    deadline = time.monotonic() + 240
    stopped_redis = False
    while state["kills"] < kills and time.monotonic() < deadline:
        if not trigger.wait(0.1):
            if all(d.get("/v1/status")[1]["events"]["counted"] >= total for d in (a, b)) and \
                    all(not d.get("/v1/deliveries")[1]["deliveries"] for d in (a, b)):
                break     # all delivered before every kill was used
            continue
        name = state["victim"] if state["victim"] in daemons else rng.choice("ab")
        victim = daemons[name]
        victim.stop(signal.SIGKILL)
        pause = rng.uniform(0.2, 1.0)
        print("kill %d of %s after request %d; restart in %.2f s" %
              (state["kills"] + 1, name, sum(len(s.requests) for s in sinks.values()), pause))
        if redis_stop and not stopped_redis and state["kills"] == kills // 2:
            # Redis away for 3 s during delivery: the survivor sends
            # unclaimed after ha.unclaimed_after.
            redis.stop()
            time.sleep(3)
            redis.start()
            stopped_redis = True
        time.sleep(pause)
        victim.start()
        state["kills"] += 1
        state["next"] = sum(len(s.requests) for s in sinks.values()) + rng.randint(1, 3)
        trigger.clear()

    for d in (a, b):
        d.wait_counted(total, timeout=120)

    def drained():
        return all(not d.get("/v1/deliveries")[1]["deliveries"] for d in (a, b))
    harness.wait_for(drained, 60, "both outboxes empty")

    expected = {}
    for name in RECEIVERS:
        ka, alerts = harness.expected_keys(a, name)
        kb, _ = harness.expected_keys(b, name)
        check(ka == kb, "%s: the instances expect different keys: %s" % (name, sorted(ka ^ kb)[:5]))
        check(alerts, "no alerts were raised")
        expected[name] = ka

    repeats, sent = 0, 0
    for name, sink in sinks.items():
        check(not sink.bad, "%s: bad signatures or headers: %s" % (name, sink.bad[:3]))
        check(set(sink.ok) >= expected[name], "%s: not delivered: %s" %
              (name, sorted(expected[name] - set(sink.ok))[:5]))
        check(set(sink.ok) <= expected[name], "%s: unexpected keys: %s" %
              (name, sorted(set(sink.ok) - expected[name])[:5]))
        by_state, bodies = {}, {}
        for req in sink.requests:
            body = json.loads(req["body"])
            by_state.setdefault((body["alert_id"], body["seq"]), set()).add(req["key"])
            h = req["stabild"]
            check("X-Stabild-Instance" in h and h["X-Stabild-Instance"] in daemons,
                  "%s: no instance header: %r" % (req["key"], h))
            if not redis_stop:
                check(int(h.get("X-Stabild-Fence", "0")) > 0,
                      "%s: no fencing token: %r" % (req["key"], h))
            # A repeat carries the same alert state; status_url names the
            # sender (the instances share no http.public_url here), and
            # raised_at is the sender's until the stream clock sets it.
            body.pop("raised_at", None)
            body.pop("status_url", None)
            first = bodies.setdefault(req["key"], body)
            check(first == body, "%s: a repeat with another body:\n%s\n%s" %
                  (req["key"], first, body))
        two = {k: v for k, v in by_state.items() if len(v) > 1}
        check(not two, "%s: one alert state under two keys: %s" % (name, list(two.items())[:3]))
        sent += len(sink.requests)
        repeats += len(sink.requests) - len(set(r["key"] for r in sink.requests))
    print("%d requests for %d notifications; %d same-key repeats after %d kills" %
          (sent, sum(len(k) for k in expected.values()), repeats, state["kills"]))
    check(state["kills"] >= 1, "no kill happened during delivery")
    check(repeats <= 2 * state["kills"] + (4 if redis_stop else 0),
          "%d same-key repeats after %d kills" % (repeats, state["kills"]))

    m = [harness.get_metrics(d) for d in (a, b)]

    def total_of(key):
        return sum(x.get(key, 0) for x in m)
    takeovers = total_of("stabild_ha_takeovers_total")
    by_peer = total_of("stabild_ha_delivered_by_peer_total")
    print("takeovers %d, delivered by peer %d, repeats seen %d, unclaimed %d" %
          (takeovers, by_peer, total_of("stabild_ha_repeats_total"),
           total_of("stabild_ha_unclaimed_total")))
    check(takeovers > 0, "no claim was taken over")
    check(by_peer > 0, "no notification was recorded as delivered by the peer")
    if redis_stop:
        check(total_of("stabild_ha_unclaimed_total") > 0, "nothing was sent unclaimed")
    for d in (a, b):
        s, dl = d.get("/v1/deliveries")
        check(s == 200 and dl.get("recent"), "%s: no recent deliveries: %r" % (d.conf_path, dl))
        for r in dl["recent"]:
            check(r["outcome"] in ("delivered", "by_peer", "unclaimed", "repeat") and
                  r["by"] in daemons, "a recent entry: %r" % r)


def test(w):
    run(w, int(os.environ.get("STABILD_HA_KILLS", "3")))


if __name__ == "__main__":
    harness.main(test, "ha_delivery")
