#!/usr/bin/env python3
"""Redis Sentinel without HA: redis.sentinels (a dead one listed first)
and redis.master_name instead of redis.host. Three data nodes and three
sentinels on loopback; a feeder copies the simulator's stream into the
master the sentinels name while stabild reads. During ingest the master
changes by SENTINEL FAILOVER and by SIGKILL (the feeder pauses around
each until the replicas hold every write, so that Redis itself loses no
decision), and the new master's group is then set back or destroyed, as
an asynchronous promotion may leave it. stabild follows each new master and counts every decision
exactly once: the counts equal the simulator's truth, nothing stays
pending on the last master, whose group stabild read to the end, no
dead letter is written twice, and each failover is counted once.

STABILD_SENTINEL_ROUNDS (default 1) repeats the pair of failovers and
STABILD_SENTINEL_WEEKS (default 4) sets the stream's length; the long
version (long_sentinel.py) runs more of both."""

import os
import time

import harness
import sentinel_harness
from harness import check


def processed(d):
    ev = d.status()["events"]
    return ev["counted"] + ev["deadlettered"] + ev["duplicates"]


def followed(d):
    return harness.get_metrics(d)["stabild_redis_failovers_total"]


def run(w, rounds, weeks, per_week):
    cluster = sentinel_harness.Cluster(w).start()
    source = harness.Redis(w.path + "/source").start()
    w.add(source.stop)
    truth = harness.run_sim(source, w.path, "--seed", 61, "--weeks", weeks, "--per-week", per_week,
                            "--start", "2022-03-07", "--malformed", 0.005)
    written = truth.totals["written"]

    d = harness.Daemon(w.path, cluster.nodes[0], conf_extra={
        "redis": {"sentinels": cluster.addresses(), "master_name": sentinel_harness.MASTER}})
    for k in ("host", "port"):
        del d.sections["redis"][k]
    d.write_conf()
    d.start()
    w.add(d.stop)

    feeder = sentinel_harness.Feeder(cluster, source, pace=0.02)
    w.add(feeder.stop)
    feeder.start()
    step = written // (2 * rounds + 1)
    last = 0
    for i in range(2 * rounds):
        # Mid-ingest: the feeder has written more, and stabild has
        # followed the last failover and read on from the new master (a
        # second failover before that would be followed in one move).
        harness.wait_for(lambda: feeder.written >= (i + 1) * step and processed(d) > max(i * step, last)
                         and followed(d) >= cluster.failovers,
                         60, "ingest to reach %d on the new master" % ((i + 1) * step))
        feeder.pause()
        old = cluster.master()
        try:
            harness.wait_for(lambda: cluster.in_sync(old), 20, "the replicas to catch up")
        except harness.TestFailure as e:
            raise harness.TestFailure("%s; %s: %s" % (e, old.name, old.info()))
        t0 = time.monotonic()
        new = cluster.failover() if i % 2 == 0 else cluster.kill_master()
        last = processed(d)
        print("failover %d (%s): %s -> %s in %.1f s, stabild at %d of %d" %
              (i + 1, "SENTINEL FAILOVER" if i % 2 == 0 else "SIGKILL", old.name, new.name,
               time.monotonic() - t0, last, written))
        # What an asynchronous promotion may leave behind, made certain:
        # the new master's group is behind stabild's checkpoint (its
        # position lost), or gone. stabild skips what it counted before.
        if i % 2 == 0:
            new.call("XGROUP", "SETID", "stabild:decisions", "stabild", "0")
        else:
            new.call("XGROUP", "DESTROY", "stabild:decisions", "stabild")
        if i % 2 == 1 and i + 1 < 2 * rounds:
            # The killed node comes back empty as a replica of the new
            # master, so that the next round has two replicas again.
            old.replicaof = new.port
            old.start()
            harness.wait_for(lambda: old.info().get("master_link_status") == "up", 20,
                             "%s to rejoin" % old.name)
        feeder.resume()
    feeder.finish()
    print("feeder: %d entries, %d batches resent" % (feeder.written, feeder.resends))

    master = cluster.master()
    d.wait_counted(written, timeout=60)
    st = d.status()
    ev = st["events"]
    check(ev["counted"] == truth.totals["valid"] and ev["deadlettered"] == truth.totals["malformed"]
          and ev["duplicates"] == 0, "after %d failovers: %r, truth %r" % (2 * rounds, ev, truth.totals))
    harness.compare_with_truth(d, truth)
    check(master.call("XLEN", "stabild:decisions") == written,
          "the last master holds %d entries, the source %d" %
          (master.call("XLEN", "stabild:decisions"), written))
    harness.wait_acked(master, timeout=20)
    last = master.call("XREVRANGE", "stabild:decisions", "+", "-", "COUNT", 1)[0][0].decode()
    g = harness.xinfo_group(master)
    check(g is not None and g["last-delivered-id"] == last,
          "stabild did not read the last master %s to its end: group %r, last entry %s" %
          (master.name, g, last))
    check(st["stream"]["state"] == "reading", "stream state %r" % st["stream"]["state"])

    dl = [p[1][1] for _, p in harness.xrange_all(master, "stabild:deadletter")]
    check(len(dl) == len(set(dl)), "dead letters written twice: %d entries, %d distinct" %
          (len(dl), len(set(dl))))
    print("dead letters on the last master: %d of %d malformed" % (len(dl), truth.totals["malformed"]))

    # Sentinel may fail over once more by itself (a master slow to
    # answer on a busy machine): every switch it made, and stabild
    # followed at least those the test made, each counted once.
    switches = cluster.switches()
    m = harness.get_metrics(d)
    moved = [l for l in harness.log_lines(d, "<5>") if "master moved" in l]
    check(cluster.failovers <= m["stabild_redis_failovers_total"] == len(moved) <= switches,
          "stabild_redis_failovers_total %r, %d notices, after %d failovers (%d by Sentinel)" %
          (m["stabild_redis_failovers_total"], len(moved), cluster.failovers, switches))
    check(m["stabild_stream_replayed_total"] > 0, "no entry was replayed after the group was set back")
    print("failovers: %d made, %d by Sentinel, %d followed; replayed entries skipped: %d" %
          (cluster.failovers, switches, len(moved), m["stabild_stream_replayed_total"]))
    errors = harness.log_lines(d, "<3>") + harness.log_lines(d, "<2>")
    check(not errors, "errors logged:\n%s" % "\n".join(errors))
    check(d.stop() == 0, "exit status on SIGTERM")


def test(w):
    rounds = int(os.environ.get("STABILD_SENTINEL_ROUNDS", "1"))
    weeks = int(os.environ.get("STABILD_SENTINEL_WEEKS", "4"))
    run(w, rounds, weeks=weeks, per_week=5000)


if __name__ == "__main__":
    harness.main(test, "sentinel")
