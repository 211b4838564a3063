#!/usr/bin/env python3
"""Two instances (HA on) dead-letter the same malformed entries, and each
is written once even where neither can write it under its source id. The
dead-letter stream starts with an entry of an id later than any the
stream will have (as after a failover, when a later dead letter got in
first), so every dead letter is refused under its source id, and both
instances look for it and, not finding it, write it under a new id:
that look and write are one Redis script, so of two instances that both
find a dead letter missing only one writes it. Every malformed entry is
then on the dead-letter stream exactly once, with its source_id, and
both instances count what the simulator wrote."""

import harness
import ha
from harness import check

SEED_ID = "9999999999999-0"


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 19, "--weeks", 4, "--per-week", 1500,
                            "--start", "2023-03-06", "--malformed", 0.05)
    malformed = truth.totals["malformed"]
    check(malformed > 100, "simulator wrote %r" % truth.totals)
    redis.call("XADD", "stabild:deadletter", SEED_ID, "reason", "a later one", "source_id", SEED_ID)
    a, b = ha.ha_pair(w, redis)
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
    entries = [(eid, dict(p)) for eid, p in harness.xrange_all(redis, "stabild:deadletter")
               if eid != SEED_ID]
    sources = [p.get(b"source_id") for _, p in entries]
    where = {}
    for eid, p in entries:
        where.setdefault(p.get(b"source_id"), []).append(eid)
    twice = [v for v in where.values() if len(v) > 1]
    writes = [harness.get_metrics(d)["stabild_deadletter_writes_total"] for d in (a, b)]
    print("ha_deadletter: %d malformed, %d dead letters, %d distinct, %d under a new id; "
          "written by a %d, by b %d" % (
              malformed, len(entries), len(set(sources)),
              sum(1 for eid, p in entries if p.get(b"source_id") != eid.encode()),
              writes[0], writes[1]))
    check(not twice, "dead letters written twice, under ids %s" % twice[:5])
    check(sum(writes) == malformed, "the instances wrote %r dead letters, %d malformed" % (
        writes, malformed))
    check(len(entries) == malformed, "%d dead letters, %d malformed" % (len(entries), malformed))
    check(all(p.get(b"source_id") != eid.encode() for eid, p in entries),
          "a dead letter went in under its source id past the later one")
    check(all(p.get(b"reason") for _, p in entries), "a dead letter without its reason")
    for d in (a, b):
        check(d.stop() == 0, "%s: exit status on SIGTERM" % d.conf_path)


if __name__ == "__main__":
    harness.main(test, "ha_deadletter")
