#!/usr/bin/env python3
"""Two instances against one Redis deliver every alert state once: both
queue every notification, a claim in Redis decides who sends it, and the
other records it as delivered by its peer. Seventeen alerts go to four
webhook receivers, each holding every request 0.3 s, so that delivery
takes seconds. The sender of a request is killed with SIGKILL while the
receiver holds it (after a random number of requests) and restarted
after 0.2-1 s, three times; then every expected notification has reached
every receiver, none under two keys, the same-key repeats (transfers cut
short by a kill and taken over) are few and counted, and the two
instances list the same alerts and series states.

STABILD_HA_KILLS (default 3) kills; STABILD_HA_SEED fixes the seed."""

import json
import os
import random
import re
import signal
import threading
import time

import ha
import harness
from harness import check
from webhook_sink import Sink

SECRET = "ha-webhook-secret-0123456789"
RECEIVERS = ("ops", "desk", "audit", "pager")

# Drifts in all ten offices (each large enough to be found within the
# last eight weeks), up and down, both kinds: 17 alerts, so 68
# notifications, which take the two instances seconds to deliver.
OFFICES = 10
DRIFTS = (("K001", 4.0), ("K002", 0.25), ("K003", 4.0), ("K004", 0.25), ("K005", 4.0),
          ("K006", 0.25), ("K007", 4.0), ("K008", 0.25), ("K009", 4.0), ("K010", 0.25))


def log_count(daemons, pattern):
    """Lines matching pattern in the logs of every run of daemons."""
    rx = re.compile(pattern)
    return sum(len(rx.findall(d.log())) for d in daemons)


def restart_redis(redis):
    """Start redis again; it answers LOADING while it reads its
    append-only file back."""
    try:
        redis.start()
    except harness.RespError as e:
        check(str(e).startswith("LOADING"), "redis after its restart: %s" % e)

        def loaded():
            try:
                return redis.ping()
            except harness.RespError as e:
                if str(e).startswith("LOADING"):
                    return False
                raise
        harness.wait_for(loaded, 30, "redis loading its data")


def run(w, kills, weeks=62, per_week=1500, receivers=RECEIVERS, delay_s=0.3,
        max_inflight=2, redis_stop=False):
    seed = int(os.environ.get("STABILD_HA_SEED", random.randrange(1 << 30)))
    print("seed %d, %d kills, %d receivers, sink delay %.2f s" %
          (seed, kills, len(receivers), delay_s), flush=True)
    rng = random.Random(seed)
    t0 = time.monotonic()

    # Stopping Redis must keep the stream: an append-only file.
    redis = harness.Redis(w.path, persistent=redis_stop).start()
    w.add(redis.stop)
    drifts = []
    for office, ratio in DRIFTS:
        drifts += ["--drift", "%s:sjukpenning:*:%d:%s" % (office, weeks - 8, ratio)]
    truth = harness.run_sim(redis, w.path, "--seed", 5, "--weeks", weeks, "--per-week", per_week,
                            "--offices", OFFICES, "--start", "2019-01-07", *drifts)
    secret_path = harness.secret_file(w.path, "hook.secret", SECRET + "\n")
    print("%d entries written in %.1f s" % (truth.totals["written"], time.monotonic() - t0),
          flush=True)

    trigger = threading.Event()
    state = {"next": rng.randint(2, 4), "kills": 0, "victim": None}
    lock = threading.Lock()

    def on_request(sender):
        # A sink's thread: the test's thread kills the sender of this
        # request while the sink holds it (delay_s).
        with lock:
            state["seen"] = state.get("seen", 0) + 1
            if state["kills"] < kills and state["seen"] >= state["next"] and \
                    not trigger.is_set():
                state["victim"] = sender
                trigger.set()

    sinks = {}
    for name in receivers:
        sinks[name] = Sink(secret=SECRET, delay_s=delay_s,
                           on_request=lambda n, sender: on_request(sender)).start()
        w.add(sinks[name].stop)
    extra = {"alerts": {"historical_age": "50y", "max_inflight": str(max_inflight)}}
    if redis_stop:
        extra["ha"] = {"unclaimed_after": "1s"}
    a, b = ha.ha_pair(w, redis, extra=extra)
    daemons = {"a": a, "b": b}
    for d in (a, b):
        with open(d.conf_path, "a") as f:
            for name in receivers:
                f.write('\n[receiver "%s"]\ntype = webhook\nurl = http://127.0.0.1:%d/hook\n'
                        'secret_file = %s\n' % (name, sinks[name].port, secret_path))
        d.start()
        w.add(d.stop)

    def requests():
        return sum(len(s.requests) for s in sinks.values())

    total = truth.totals["written"]
    deadline = time.monotonic() + (240 if kills <= 5 else 1800)
    stopped_redis = False
    first = None
    while state["kills"] < kills and time.monotonic() < deadline:
        if not trigger.wait(0.1):
            if all(d.get("/v1/status")[1]["events"]["counted"] >= total for d in (a, b)) and \
                    all(not d.get("/v1/deliveries")[1]["deliveries"] for d in (a, b)):
                break     # all delivered before every kill was used
            continue
        if first is None:
            first = time.monotonic()
            print("first kill at %.1f s" % (first - t0))
        name = state["victim"] if state["victim"] in daemons else rng.choice("ab")
        victim = daemons[name]
        victim.stop(signal.SIGKILL)
        pause = rng.uniform(0.2, 1.0)
        print("kill %d of %s after request %d; restart in %.2f s" %
              (state["kills"] + 1, name, requests(), pause), flush=True)
        if redis_stop and not stopped_redis and state["kills"] == kills // 2:
            # Redis away for 3 s during delivery: the survivor sends
            # unclaimed after ha.unclaimed_after.
            print("redis stopped for 3 s after request %d" % requests(), flush=True)
            redis.stop()
            time.sleep(3)
            restart_redis(redis)
            stopped_redis = True
        time.sleep(pause)
        victim.start()
        with lock:
            state["kills"] += 1
            state["next"] = state.get("seen", 0) + rng.randint(1, 3)
            trigger.clear()
    if first is not None:
        print("%d kills in %.1f s of delivery" % (state["kills"], time.monotonic() - first))

    for d in (a, b):
        d.wait_counted(total, timeout=120)

    def drained():
        return all(not d.get("/v1/deliveries")[1]["deliveries"] for d in (a, b))
    harness.wait_for(drained, 60, "both outboxes empty")
    print("drained at %.1f s" % (time.monotonic() - t0), flush=True)

    # The stream is drained: once both applied the same control entries
    # (ticks), they hold the same alerts and series states.
    harness.wait_for(lambda: ha.alerts(a) == ha.alerts(b), 30, "the same alerts on both")
    harness.wait_for(lambda: ha.series_states(a) == ha.series_states(b), 30,
                     "the same series states on both")
    la = ha.same_alerts(a, b)
    series = ha.same_series(a, b)
    print("%d alerts and %d series alike on both" % (len(la["alerts"]), len(series)))

    expected = {}
    for name in receivers:
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
            # A repeat carries the same alert state, raised_at included
            # (the stream's time); only status_url names the sender (the
            # instances share no http.public_url here).
            body.pop("status_url", None)
            first_body = bodies.setdefault(req["key"], body)
            check(first_body == body, "%s: a repeat with another body:\n%s\n%s" %
                  (req["key"], first_body, body))
        two = {k: v for k, v in by_state.items() if len(v) > 1}
        check(not two, "%s: one alert state under two keys: %s" % (name, list(two.items())[:3]))
        sent += len(sink.requests)
        repeats += len(sink.requests) - len(set(r["key"] for r in sink.requests))
    notifications = sum(len(k) for k in expected.values())
    unclaimed = log_count((a, b), r"sent without a claim")
    print("%d requests for %d notifications; %d same-key repeats after %d kills" %
          (sent, notifications, repeats, state["kills"]))
    check(state["kills"] == kills, "only %d of %d kills happened during delivery "
          "(%d notifications)" % (state["kills"], kills, notifications))
    # A kill cuts at most max_inflight transfers short, each repeated
    # once by whoever takes it over, and may fall between a transfer's
    # answer and its done marker (one more); a notification sent
    # unclaimed while Redis was away may repeat one its peer had sent.
    bound = (max_inflight + 1) * state["kills"] + unclaimed
    check(repeats <= bound, "%d same-key repeats after %d kills (%d sent unclaimed), "
          "over %d" % (repeats, state["kills"], unclaimed, bound))

    # Counted from the logs of every run: the metrics of a killed run
    # are gone.
    takeovers = log_count((a, b), r"ha_claim: \S+: taken over from ")
    by_peer = sum(len(re.findall(r"deliver: \S+ delivered by (?!%s\b)\w+" % n, d.log()))
                  for n, d in daemons.items())
    seen = log_count((a, b), r"delivered by another instance as well")
    print("takeovers %d, delivered by peer %d, repeats seen %d, unclaimed %d; %.1f s" %
          (takeovers, by_peer, seen, unclaimed, time.monotonic() - t0))
    # Each repeat a daemon noticed (its done marker was there already)
    # reached a receiver twice.
    check(seen <= repeats, "%d repeats noticed, %d seen by the receivers" % (seen, repeats))
    check(takeovers > 0, "no claim was taken over")
    check(by_peer > 0, "no notification was recorded as delivered by the peer")
    if redis_stop:
        check(unclaimed > 0, "nothing was sent unclaimed")
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
