#!/usr/bin/env python3
"""Two instances (HA on) dead-letter the same malformed entries, and each
is written once even where neither can write it under its source id. The
dead-letter stream starts with more entries than one script looks
through (2 000), of ids later than any the stream will have (as after a
failover, when later dead letters got in first), so every dead letter is
refused under its source id, and both instances look for it, in parts,
and, not finding it, write it under a new id: each part and the write
are one Redis script, so of two instances that both find a dead letter
missing only one writes it. Every malformed entry is then on the
dead-letter stream exactly once, with its source_id, its reason and the
source's fields byte for byte, and both instances count what the
simulator wrote."""

import re

import harness
import ha
from harness import check

SEED_MS = "9999999999999"
SCAN = 2000                   # dead letters one script looks through


def test(w):
    # One later dead letter: both instances look at once, and race.
    scenario(w, "race", seeds=1, per_week=1500)
    # More than one script looks through: each look in two parts.
    scenario(w, "parts", seeds=SCAN + 100, per_week=500)


def scenario(w, name, seeds, per_week):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 19, "--weeks", 4, "--per-week", per_week,
                            "--start", "2023-03-06", "--malformed", 0.05)
    malformed = truth.totals["malformed"]
    check(malformed > 50, "simulator wrote %r" % truth.totals)
    redis.call("EVAL", "for i = 0, %d do redis.call('XADD', KEYS[1], '%s-' .. i, 'reason', "
               "'a later one', 'source_id', 'seed-' .. i) end return 1" % (seeds - 1, SEED_MS),
               1, "stabild:deadletter")
    # Started together on a full stream, both take the same entries at
    # about the same time.
    a, b = ha_pair_named(w, redis, name)
    w.add(a.stop)
    w.add(b.stop)
    a.start(wait=False)
    b.start(wait=False)
    for d in (a, b):
        harness.wait_for(lambda: d.alive_http(), 15, "%s /healthz" % d.conf_path)
    for d in (a, b):
        d.wait_counted(truth.totals["written"], timeout=60)
        ev = d.status()["events"]
        check(ev["counted"] == truth.totals["valid"] and ev["deadlettered"] == malformed,
              "%s: %r, truth %r" % (d.conf_path, ev, truth.totals))
    # An entry is acknowledged only once its dead letter is settled, so
    # with nothing pending in either group both have written or found
    # every one.
    groups = [dict(zip(g[0::2], g[1::2])) for g in
              redis.call("XINFO", "GROUPS", "stabild:decisions")]
    check(len(groups) == 2, "consumer groups %r" % groups)
    for g in groups:
        harness.wait_acked(redis, timeout=30, group=g[b"name"].decode())
    source = dict(harness.xrange_all(redis, "stabild:decisions"))
    raw = [(eid, p) for eid, p in harness.xrange_all(redis, "stabild:deadletter")
           if not dict(p).get(b"source_id", b"").startswith(b"seed-")]
    for eid, p in raw:
        sid = p[1][1].decode() if len(p) > 1 else None
        check(len(p) > 2 and p[0][0] == b"reason" and p[1][0] == b"source_id" and
              p[2:] == source.get(sid), "dead letter %s: %r, source %r" % (eid, p[:4], sid))
    entries = [(eid, dict(p)) for eid, p in raw]
    sources = [p.get(b"source_id") for _, p in entries]
    where = {}
    for eid, p in entries:
        where.setdefault(p.get(b"source_id"), []).append(eid)
    twice = [v for v in where.values() if len(v) > 1]
    writes = [harness.get_metrics(d)["stabild_deadletter_writes_total"] for d in (a, b)]
    # Each instance looks for each, in 1 + seeds // SCAN scripts.
    stats = redis.call("INFO", "commandstats").decode()
    evals = int(re.search(r"cmdstat_eval:calls=(\d+)", stats).group(1))
    print("ha_deadletter %s: %d malformed, %d dead letters, %d distinct, %d under a new id; "
          "written by a %d, by b %d; %d scripts" % (
              name, malformed, len(entries), len(set(sources)),
              sum(1 for eid, p in entries if p.get(b"source_id") != eid.encode()),
              writes[0], writes[1], evals))
    check(evals >= 2 * (1 + seeds // SCAN) * malformed, "%d scripts for %d dead letters on two "
          "instances" % (evals, malformed))
    check(not twice, "dead letters written twice, under ids %s" % twice[:5])
    check(sum(writes) == malformed, "the instances wrote %r dead letters, %d malformed" % (
        writes, malformed))
    check(len(entries) == malformed, "%d dead letters, %d malformed" % (len(entries), malformed))
    check(all(p.get(b"source_id") != eid.encode() for eid, p in entries),
          "a dead letter went in under its source id past the later one")
    check(all(p.get(b"reason") for _, p in entries), "a dead letter without its reason")
    for d in (a, b):
        check(d.stop() == 0, "%s: exit status on SIGTERM" % d.conf_path)
    redis.stop()


def ha_pair_named(w, redis, name):
    """ha.ha_pair, its state and files under name, apart from the other
    scenario's."""
    daemons = []
    for inst in ("a", "b"):
        daemons.append(harness.Daemon(w.path, redis, conf_extra=ha.ha_conf(inst),
                                      name="%s-%s" % (name, inst)))
    return daemons[0], daemons[1]


if __name__ == "__main__":
    harness.main(test, "ha_deadletter")
