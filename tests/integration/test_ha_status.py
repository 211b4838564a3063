#!/usr/bin/env python3
"""Two instances see each other through the heartbeats (issue 14): both
up in GET /v1/status, the metrics and `stabilctl status`; B stopped with
SIGSTOP while decisions flow is shown behind, then down after
ha.peer_timeout, and `stabilctl status --check` exits 7; after SIGCONT the
two are up and agree again. A third daemon that takes A's name on another
host is refused and leaves A's entry alone."""

import os
import re
import signal
import subprocess
import time

import harness
import ha
from harness import check

CTL = os.path.join(harness.BUILD, "stabilctl")
PEER_TIMEOUT_S = 4


def ctl(d, *args):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "STABILD_TOKEN": harness.READ_TOKEN}
    r = subprocess.run([CTL, "-u", "http://127.0.0.1:%d" % d.http_port] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                       timeout=30)
    return r.returncode, r.stdout, r.stderr


def ctl_until(d, args, ok, what, timeout=10):
    """Run stabilctl args until ok(rc, stdout); on timeout fail with the
    last run's output."""
    last = []

    def run():
        last[:] = ctl(d, *args)
        return ok(last[0], last[1])
    try:
        harness.wait_for(run, timeout, what)
    except harness.TestFailure as e:
        raise harness.TestFailure("%s: %r" % (e, last))


def peers(d):
    h = d.status()["ha"]
    return h, {p["instance"]: p for p in h["peers"]}


def both_up_and_agree(d, total=None):
    """Both peers up, at one position with the same alerts and nobody behind."""
    h, ps = peers(d)
    if set(ps) != {"a", "b"} or not h["agree"] or h["link"] != "up":
        return False
    a, b = ps["a"], ps["b"]
    if not (a["up"] and b["up"]) or a["behind_s"] != 0 or b["behind_s"] != 0:
        return False
    if a["applied"] != b["applied"] or a["alerts_digest"] != b["alerts_digest"]:
        return False
    if total is not None and a["applied"] == "0-0":
        return False
    return h


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    a, b = ha.ha_pair(w, redis, extra={"ha": {"peer_timeout": "%ds" % PEER_TIMEOUT_S}})
    w.add(a.stop)
    w.add(b.stop)
    a.start()
    b.start()

    # Both see both, each marking itself.
    for d, me in ((a, "a"), (b, "b")):
        h = harness.wait_for(lambda: both_up_and_agree(d), 15, "%s sees a and b up" % me)
        check(h["instance"] == me, "%s: instance %r" % (me, h["instance"]))
        ps = {p["instance"]: p for p in h["peers"]}
        check(ps[me]["self"] and not ps["b" if me == "a" else "a"]["self"],
              "%s: self marks %r" % (me, h["peers"]))
        for p in h["peers"]:
            check(p["config_same"] and not p["group_clash"], "%s: %r" % (me, p))
            check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", p["last_seen"]), p["last_seen"])
            check(re.match(r"^[0-9a-f]{64}$", p["alerts_digest"]), p["alerts_digest"])
            for k in ("host", "applied", "delivered", "by_peer", "repeats", "control_behind"):
                check(k in p, "%s: peer %s lacks %s" % (me, p["instance"], k))
    m = harness.get_metrics(a)
    check(m.get('stabild_ha_peer_up{instance="a"}') == 1 and
          m.get('stabild_ha_peer_up{instance="b"}') == 1, "peer_up: %r" %
          {k: v for k, v in m.items() if "peer" in k})
    check(m.get("stabild_ha_peers_agree") == 1, "peers_agree")
    check(m.get('stabild_ha_peer_behind_seconds{instance="b"}') == 0, "behind_seconds")
    # Polled: a tick one peer has applied and the other not yet puts the
    # other behind by the whole gap between the history's time and now,
    # for the half second until it reads the tick.
    ctl_until(a, ("status",), lambda rc, out: rc == 0 and all(
        re.search(r, out, re.M) for r in (
            r"^instance\s+a \(link up\)$",
            r"^peers\s+b up, 0 s behind$",
            r"^INSTANCE\s+HOST\s+STATE\s+BEHIND\s+APPLIED\s+DELIVERED\s+BY_PEER$",
            r"^a \*\s+\S+\s+up\s+0 s\s",
            r"^b\s+\S+\s+up\s+0 s\s")),
        "stabilctl status to show both up, 0 s behind")
    ctl_until(a, ("status", "--check"), lambda rc, out: rc == 0,
              "status --check with both up to exit 0")

    # A third daemon with A's name on another host is refused, and A's
    # entry stays A's.
    c = harness.Daemon(w.path, redis, conf_extra=ha.ha_conf("a"), name="a-elsewhere")
    env = dict(os.environ, STABILD_HA_HOST="elsewhere")
    r = subprocess.run([harness.STABILD, "-c", c.conf_path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=env, timeout=30)
    check(r.returncode != 0 and re.search(r"ha\.instance a is in use on \S+ \(pid %d\)" %
                                          a.proc.pid, r.stderr),
          "the second a: %s %r" % (r.returncode, r.stderr))
    entry = redis.call("HGET", "stabild:ha:peers", "a").decode()
    check('"pid":%d,' % a.proc.pid in entry, "a's entry was overwritten: %s" % entry)

    # Decisions flow; B stops.
    sim = harness.start_sim(redis, w.path, "--seed", 31, "--offices", 10, "--weeks", 4,
                            "--per-week", 1500, "--start", "2022-01-03", "--rate", 600)
    w.add(sim.stop)
    # As a sees it: b's beat carries a position (before it, b is behind
    # by the whole stream clock).
    harness.wait_for(lambda: all(p["applied"] != "0-0" and p["behind_s"] == 0
                                 for p in peers(a)[1].values()), 15, "both applying")
    b.send_signal(signal.SIGSTOP)
    stopped = time.monotonic()
    w.add(lambda: b.proc and b.send_signal(signal.SIGCONT))

    def b_behind():
        h, ps = peers(a)
        return ps["b"]["up"] and ps["b"]["behind_s"] > 0 and ps["b"]
    seen = harness.wait_for(b_behind, PEER_TIMEOUT_S, "a shows b behind while b is up")
    print("b behind %d s while up, %.1f s after SIGSTOP" %
          (seen["behind_s"], time.monotonic() - stopped))
    check(sim.running(), "the simulator ended before b was seen behind; slow it down")
    harness.wait_for(lambda: not peers(a)[1]["b"]["up"], PEER_TIMEOUT_S + 5,
                     "a shows b down")
    down_after = time.monotonic() - stopped
    check(down_after >= PEER_TIMEOUT_S - 0.5, "b down after %.1f s only" % down_after)
    print("b down %.1f s after SIGSTOP" % down_after)
    h, ps = peers(a)
    check(ps["a"]["up"] and ps["a"]["behind_s"] == 0, "a itself: %r" % ps["a"])
    m = harness.get_metrics(a)
    check(m.get('stabild_ha_peer_up{instance="b"}') == 0 and
          m.get('stabild_ha_peer_up{instance="a"}') == 1, "peer_up with b stopped")
    check(m.get('stabild_ha_peer_behind_seconds{instance="b"}') > 0, "b's behind_seconds")
    rc, out, err = ctl(a, "status", "--check")
    check(rc == 7, "status --check with b down: %d\n%s%s" % (rc, out, err))
    check(re.search(r"^check: peer b on \S+ is down, last seen \S+Z$", out, re.M), out)
    rc, out, err = ctl(a, "status")
    check(re.search(r"^peers\s+b down, [1-9]\d* s behind$", out, re.M), out)
    check(re.search(r"^b\s+\S+\s+down\s+[1-9]\d* s\s", out, re.M), out)

    # B goes on, catches up, and the two agree again.
    b.send_signal(signal.SIGCONT)
    truth = sim.wait(120)
    total = truth.totals["written"]
    a.wait_counted(total)
    b.wait_counted(total)
    for d, me in ((a, "a"), (b, "b")):
        h = harness.wait_for(lambda: both_up_and_agree(d, total), 20,
                             "%s sees a and b up, agreeing" % me)
    m = harness.get_metrics(a)
    check(m.get("stabild_ha_peers_agree") == 1 and
          m.get('stabild_ha_peer_up{instance="b"}') == 1, "peers_agree, b up again")
    rc, out, err = ctl(a, "status", "--check", "--behind", "1m")
    check(rc in (0, 2) and "peer" not in out, "status --check after SIGCONT: %d\n%s%s" %
          (rc, out, err))
    rc, out, err = ctl(a, "status", "--behind", "1m")
    check(rc == 1 and "--behind goes with --check" in err, "--behind alone: %d %r" % (rc, err))


if __name__ == "__main__":
    harness.main(test, "ha_status")
