#!/usr/bin/env python3
"""Two instances (HA on, each with its own consumer group) on one Redis
compute the same state. The stream holds two drifts written office by
office, so that most of it is late history which only the idle replay
(started by the control log's ticks) evaluates. The instances differ in
checkpoint interval and batch size; B starts late and is killed with
SIGKILL and restarted during its ingest (STABILD_HA_TWINS_KILLS times,
2 by default; the long variant kills either instance). Each kill comes
at a random point of the work the victim has left (once it has counted
5-25 % of what it had left when it answered), so never after it drained
(checked at the kill; the test fails when no instance has entries left:
a stream too short for its kills would test nothing). Once both are drained: ticks are in
the control log, and both list the same alerts (with the two drifts
among them), the same series states and the same counters and
watermark, equal to the simulator's truth."""

import os
import random
import re
import time

import harness
import ha
from harness import check

KILLS_ENV = "STABILD_HA_TWINS_KILLS"
SEED_ENV = "STABILD_HA_TWINS_SEED"
BOTH_ENV = "STABILD_HA_TWINS_BOTH"     # kill either instance, not only B
PER_WEEK_ENV = "STABILD_HA_TWINS_PER_WEEK"
PER_WEEK = 2500
LOG = "stabild:ha:log"
DRIFT_OFFICES = ("K024", "K031")


def counted(d):
    """counted + dead-lettered + duplicates, or None while not answering."""
    try:
        s, body = d.get("/v1/status")
    except OSError:
        return None
    if s != 200:
        return None
    ev = body["events"]
    return ev["counted"] + ev["deadlettered"] + ev["duplicates"]


def alive(d, what):
    if d.proc.poll() is not None:
        raise harness.TestFailure("%s died (%s):\n%s" % (what, d.proc.returncode,
                                                           d.log()[-3000:]))


def answering(d, what, limit=30):
    deadline = time.monotonic() + limit
    while counted(d) is None:
        alive(d, what)
        check(time.monotonic() < deadline, "%s: not answering after %d s" % (what, limit))
        time.sleep(0.01)


def pick_victim(a, b, first, both, rnd, total, what, stall=20):
    """Kill an instance at a random point of the work it has left: first
    (or the other, when either may be killed and first has drained),
    once it answers, when it has counted a random 5-25 %
    of what is left beyond where it stands then. Returns it and how far
    it got; fails when no candidate has entries left."""
    order = [first, b if first is a else a] if both else [b]
    share = rnd.uniform(0.05, 0.25)
    for d in order:
        answering(d, what)
        n = counted(d)
        if n is not None and n < total:
            break
    else:
        raise harness.TestFailure(
            "%s: no instance to kill has entries left (of %d): the stream is too short for "
            "the kills" % (what, total))
    target = n + max(1, int(share * (total - n)))
    last, since = n, time.monotonic()
    while True:
        alive(d, what)
        n = counted(d)
        if n is not None and n >= target:
            check(n < total, "%s: %s drained (%d) before the kill point %d: polled too slowly"
                  % (what, d.conf_path, n, target))
            return d, n
        if n is not None and n != last:
            last, since = n, time.monotonic()
        check(time.monotonic() - since < stall, "%s: %s stuck at %s of %d" %
              (what, d.conf_path, last, total))
        time.sleep(0.005)


def log_kinds(redis):
    kinds = {}
    for _, pairs in harness.xrange_all(redis, LOG):
        f = {k.decode(): v.decode() for k, v in pairs}
        kinds[f.get("kind")] = kinds.get(f.get("kind"), 0) + 1
    return kinds


def state(d):
    st = d.status()
    keep = {k: st.get(k) for k in ("events", "watermark", "closed_through", "late")
            if k in st}
    return keep


def drift_alerts(alerts):
    """The drifting offices among the alerts listed."""
    return {a["series"]["office"] for a in alerts["alerts"]
            if a["series"]["office"] in DRIFT_OFFICES}


def converged(a, b):
    """Both list the same alerts, the drifts among them."""
    la, lb = ha.alerts(a), ha.alerts(b)
    return la == lb and drift_alerts(la) == set(DRIFT_OFFICES)


def side_stream_refused(w, redis):
    """An indicator on a stream of its own is refused with HA on: its
    interleaving with the decisions depends on read timing."""
    d = harness.Daemon(w.path, redis, name="side", conf_extra=dict(
        ha.ha_conf("side"), **{'indicator "appeal"': {
            "event": "appeal", "yes": "changed", "no": "unchanged",
            "stream": "stabild:appeals"}}))
    r = harness.run_stabild("-t", "-c", d.conf_path)
    check(r.returncode != 0, "a side stream with HA on was accepted")
    check(re.search(r"side\.conf:\d+: indicator \"appeal\": a stream of its own", r.stderr),
          "unexpected error: %r" % r.stderr)


def test(w):
    kills = int(os.environ.get(KILLS_ENV, "2"))
    seed = int(os.environ.get(SEED_ENV, "1"))
    both = os.environ.get(BOTH_ENV) == "1"
    per_week = int(os.environ.get(PER_WEEK_ENV, str(PER_WEEK)))
    rnd = random.Random(seed)
    print("ha_twins: %d kills, seed %d (%s=N)" % (kills, seed, SEED_ENV), flush=True)

    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    side_stream_refused(w, redis)
    t0 = time.monotonic()
    truth = harness.run_sim(redis, w.path, "--seed", 5, "--weeks", 64, "--per-week", per_week,
                            "--start", "2019-01-07", "--order", "office",
                            "--drift", "K024:sjukpenning:*:56:2.5",
                            "--drift", "K031:sjukpenning:*:56:0.4")
    total = truth.totals["written"]
    print("ha_twins: %d entries written in %.1f s" % (total, time.monotonic() - t0), flush=True)

    a, b = ha.ha_pair(w, redis,
                      extra_a={"state": {"checkpoint_interval": "100ms"},
                               "redis": {"batch": "100"}},
                      extra_b={"state": {"checkpoint_interval": "1s"},
                               "redis": {"batch": "500"}})
    w.add(a.stop)
    w.add(b.stop)
    t0 = time.monotonic()
    a.start(wait=False)
    time.sleep(1)
    b.start(wait=False)

    # Kills at random points of the victim's remaining ingest (or of its
    # replay after the last kill), each followed by a restart after
    # 0.2-1 s.
    turn = rnd.randrange(2)
    for i in range(kills):
        # Either instance in turn, from a seeded one, when both may be.
        first = (a, b)[(i + turn) % 2] if both else b
        victim, n = pick_victim(a, b, first, both, rnd, total, "kill %d" % (i + 1))
        rc = victim.kill9()
        check(rc == -9, "kill %d: %s exited with %s" % (i + 1, victim.conf_path, rc))
        print("ha_twins: killed %s at %d of %d, %.1f s after the start" %
              (os.path.basename(victim.conf_path), n, total, time.monotonic() - t0), flush=True)
        time.sleep(rnd.uniform(0.2, 1.0))
        victim.start(wait=False)

    for d in (a, b):
        harness.wait_processed(d, total, stall=20, limit=120)
    print("ha_twins: both drained %.1f s after the start" % (time.monotonic() - t0), flush=True)

    # Ticks start the idle replay of the late history on both: one is
    # written once both streams have been quiet for tick_interval.
    harness.wait_for(lambda: log_kinds(redis).get("tick", 0) >= 1, 15,
                     "a tick in the control log")
    harness.wait_for(lambda: converged(a, b), 60, "the same alerts on both, with the drifts")
    print("ha_twins: converged %.1f s after the start; control log %r"
          % (time.monotonic() - t0, log_kinds(redis)), flush=True)

    la = ha.same_alerts(a, b)
    n_alerts = len(la["alerts"])
    series = ha.same_series(a, b)
    sa, sb = state(a), state(b)
    check(sa == sb, "the instances' state differs:\na: %s\nb: %s" % (sa, sb))
    check(sa["events"]["counted"] == truth.totals["valid"], "counted %d, truth %d"
          % (sa["events"]["counted"], truth.totals["valid"]))
    harness.compare_with_truth(a, truth)
    harness.compare_with_truth(b, truth)
    for d in (a, b):
        m = harness.get_metrics(d)
        check(m.get("stabild_ha_control_invalid_total", 0) == 0,
              "%s skipped control entries" % d.conf_path)
    print("ha_twins: %d alerts and %d series alike on both" % (n_alerts, len(series)))


if __name__ == "__main__":
    harness.main(test, "ha_twins")
