#!/usr/bin/env python3
"""make sim: Redis Sentinel with two HA instances. Three data nodes and
three sentinels on loopback; instances "a" and "b" (HA on, each in a
group of its own) find the master through redis.sentinels (a dead one
listed first) and redis.master_name, with the stream link and the second
link (control log writes, ticks, claims, heartbeats) both following it.
A feeder copies the simulator's stream (two drifts, malformed entries)
into the master while both read. During ingest the master changes again
and again, by SENTINEL FAILOVER and by SIGKILL, and with every other
SIGKILL one of the instances is killed too and restarted while the
sentinels elect. Around each failover the feeder pauses and the old
master's writes are paused (CLIENT PAUSE WRITE) until the replicas hold
all of them, so that Redis itself loses nothing, neither a decision nor
a control entry (an asynchronous promotion that drops a tick one
instance applied is the documented risk, not tested here). The new
master's groups are then set back (or one destroyed), as a promotion
may leave them.

Checks, once the feeder is done and both are drained: on each instance
the counts equal the simulator's truth (nothing lost, nothing doubled:
replayed entries skipped), the same alerts (with the drifts among them)
and series states on both, nothing pending in either group on the last
master, which both read to its end; no dead letter written twice; each
instance followed every failover the test made; and both links follow:
after the last failover each instance sees the other's fresh heartbeats
through its second link, and ticks are written to the last master.

STABILD_SENTINEL_ROUNDS (default 4: eight failovers, two instance kills)
and STABILD_SENTINEL_WEEKS (default 64, at 2500 a week: the models
need a year before the drifts of the last eight weeks) set the
length."""

import os
import time

import harness
import ha
import sentinel_harness
from harness import check

STREAM = "stabild:decisions"
LOG = "stabild:ha:log"
DRIFTS = (("K024", 4.0), ("K031", 0.2), ("K040", 0.2), ("K017", 4.0))


def processed(d):
    try:
        ev = d.status()["events"]
    except OSError:
        return -1
    return ev["counted"] + ev["deadlettered"] + ev["duplicates"]


def reading_from(node, groups):
    """Every group exists on node and has been read there."""
    for g in groups:
        info = harness.xinfo_group(node, group=g)
        if info is None or info["last-delivered-id"] == "0-0":
            return False
    return True


def pause_writes(node, ms=20000):
    """No write of any client (decisions, log entries, acks) reaches the
    master from now on: it can be failed over without losing one."""
    node.call("CLIENT", "PAUSE", ms, "WRITE")


def unpause(node):
    try:
        node.call("CLIENT", "UNPAUSE")
    except (OSError, harness.RespError):
        pass


def peers_fresh(d):
    """d sees both instances up, agreeing, through its second link."""
    h = d.status()["ha"]
    ps = {p["instance"]: p for p in h["peers"]}
    return (h["link"] == "up" and set(ps) == {"a", "b"} and
            all(p["up"] for p in ps.values()) and h["agree"])


def run(w, rounds, weeks, per_week):
    cluster = sentinel_harness.Cluster(w).start()
    source = harness.Redis(w.path + "/source").start()
    w.add(source.stop)
    drifts = []
    for office, ratio in DRIFTS:
        drifts += ["--drift", "%s:sjukpenning:*:%d:%s" % (office, weeks - 8, ratio)]
    truth = harness.run_sim(source, w.path, "--seed", 5, "--weeks", weeks, "--per-week", per_week,
                            "--start", "2019-01-07", "--malformed", 0.005, *drifts)
    written = truth.totals["written"]

    sentinels = {"sentinels": cluster.addresses(), "master_name": sentinel_harness.MASTER}
    a, b = ha.ha_pair(w, cluster.nodes[0], extra={"redis": sentinels},
                      extra_a={"redis": {"batch": "200"}},
                      extra_b={"state": {"checkpoint_interval": "1s"}})
    for d in (a, b):
        for k in ("host", "port"):
            del d.sections["redis"][k]
        d.write_conf()
        w.add(d.stop)
        d.start()
    groups = ["stabild-a", "stabild-b"]

    feeder = sentinel_harness.Feeder(cluster, source, pace=0.02)
    w.add(feeder.stop)
    feeder.start()
    step = written // (2 * rounds + 1)
    last = 0
    killed = 0
    restarted = set()
    for i in range(2 * rounds):
        by_kill = i % 2 == 1
        # Mid-ingest: the feeder has written more, and both instances
        # have followed the last failover and read on from the new
        # master (a second failover before that would be followed in
        # one move).
        harness.wait_for(lambda: feeder.written >= (i + 1) * step and
                         min(processed(a), processed(b)) > max(i * step, last) and
                         reading_from(cluster.master(), groups),
                         90, "ingest to reach %d on the new master" % ((i + 1) * step))
        feeder.pause()
        old = cluster.master()
        pause_writes(old)
        try:
            harness.wait_for(lambda: cluster.in_sync(old), 20, "the replicas to catch up")
        except harness.TestFailure as e:
            raise harness.TestFailure("%s; %s: %s" % (e, old.name, old.info()))
        t0 = time.monotonic()
        victim = None
        if by_kill and i % 4 == 1:
            victim = (a, b)[killed % 2]
            rc = victim.kill9()
            check(rc == -9, "%s exited with %s" % (victim.conf_path, rc))
            killed += 1
            restarted.add(victim)
        new = cluster.kill_master() if by_kill else cluster.failover()
        last = min(processed(d) for d in (a, b) if d is not victim)
        print("failover %d (%s%s): %s -> %s in %.1f s, instances at %d of %d" %
              (i + 1, "SIGKILL" if by_kill else "SENTINEL FAILOVER",
               ", and instance %s killed" % victim.sections["ha"]["instance"] if victim else "",
               old.name, new.name, time.monotonic() - t0, last, written), flush=True)
        # What an asynchronous promotion may leave behind, made certain:
        # the new master's groups behind the instances' checkpoints, or
        # (after a SIGKILL) one of them gone, pending list and all. Each
        # instance skips what it counted before. Not both gone: a dead
        # letter whose XADD was lost with the old master is written
        # again by an instance that reads its entry again, and one whose
        # group vanished reads nothing again.
        gone = groups[(i // 2) % 2] if by_kill else None
        for g in groups:
            if g == gone:
                new.call("XGROUP", "DESTROY", STREAM, g)
            else:
                new.call("XGROUP", "SETID", STREAM, g, "0")
        if victim is not None:
            victim.start(wait=False)
        if not by_kill:
            # The old master is a replica of the new one now.
            harness.wait_for(lambda: old.role() == "slave" and
                             old.info().get("master_link_status") == "up", 30,
                             "%s to follow %s" % (old.name, new.name))
            unpause(old)
        elif i + 1 < 2 * rounds:
            # The killed node comes back empty as a replica of the new
            # master, so that the next round has two replicas again.
            old.replicaof = new.port
            old.start()
            harness.wait_for(lambda: old.info().get("master_link_status") == "up", 20,
                             "%s to rejoin" % old.name)
        feeder.resume()
    t_last = time.time()
    feeder.finish()
    print("feeder: %d entries, %d batches resent" % (feeder.written, feeder.resends), flush=True)

    master = cluster.master()
    for d in (a, b):
        d.wait_counted(written, timeout=90)
    for d in (a, b):
        ev = d.status()["events"]
        check(ev["counted"] == truth.totals["valid"] and
              ev["deadlettered"] == truth.totals["malformed"] and ev["duplicates"] == 0,
              "%s after %d failovers: %r, truth %r" % (d.conf_path, 2 * rounds, ev, truth.totals))
        harness.compare_with_truth(d, truth)
    check(master.call("XLEN", STREAM) == written,
          "the last master holds %d entries, the source %d" % (master.call("XLEN", STREAM),
                                                              written))
    last_id = master.call("XREVRANGE", STREAM, "+", "-", "COUNT", 1)[0][0].decode()
    for g in groups:
        harness.wait_acked(master, timeout=30, group=g)
        info = harness.xinfo_group(master, group=g)
        check(info is not None and info["last-delivered-id"] == last_id,
              "group %s did not read the last master %s to its end: %r, last entry %s" %
              (g, master.name, info, last_id))

    # The same state on both, the drifts alarmed.
    seen = {}

    def converged():
        la, lb = ha.alerts(a), ha.alerts(b)
        offices = {x["series"]["office"] for x in la["alerts"]}
        seen["last"] = ("alike" if la == lb else "different", sorted(offices),
                        sorted({x["series"]["office"] for x in lb["alerts"]}))
        return la == lb and len(offices & {o for o, _ in DRIFTS}) >= 2
    try:
        harness.wait_for(converged, 60, "the same alerts on both, two drifts or more among them")
    except harness.TestFailure as e:
        raise harness.TestFailure("%s: alerts %s, offices a %s, b %s" % ((e,) + seen["last"]))
    n_alerts = len(ha.same_alerts(a, b)["alerts"])
    n_series = len(ha.same_series(a, b))

    dl_entries = harness.xrange_all(master, "stabild:deadletter")
    dl = [dict(p).get(b"source_id") for _, p in dl_entries]
    where = {}
    for eid, p in dl_entries:
        where.setdefault(dict(p).get(b"source_id"), []).append(eid)
    twice = sorted((v for v in where.values() if len(v) > 1), key=lambda v: v[0])
    check(len(dl) == len(set(dl)), "dead letters written twice: %d entries, %d distinct; "
          "under ids %s" % (len(dl), len(set(dl)), twice[:8]))
    check(len(dl) == truth.totals["malformed"], "%d dead letters on the last master, %d malformed"
          % (len(dl), truth.totals["malformed"]))

    # Both links follow: fresh heartbeats of both, seen by each through
    # its second link, and ticks written to the last master.
    for d in (a, b):
        harness.wait_for(lambda: peers_fresh(d), 30, "%s to see both peers up" % d.conf_path)
    harness.wait_for(lambda: any(
        int(eid.split("-")[0]) > t_last * 1000 and dict(f).get(b"kind") == b"tick"
        for eid, f in harness.xrange_all(master, LOG)), 30, "a tick on the last master")
    beats = master.call("HKEYS", "stabild:ha:peers")
    check(sorted(x.decode() for x in beats) == ["a", "b"],
          "heartbeats on the last master: %r" % beats)

    switches = cluster.switches()
    for d in (a, b):
        m = harness.get_metrics(d)
        # A restarted instance counts those after its start only.
        least = 0 if d in restarted else cluster.failovers
        check(least <= m["stabild_redis_failovers_total"] <= switches,
              "%s: stabild_redis_failovers_total %r after %d failovers (%d by Sentinel)" %
              (d.conf_path, m["stabild_redis_failovers_total"], cluster.failovers, switches))
        check(m.get("stabild_ha_control_invalid_total", 0) == 0,
              "%s skipped control entries" % d.conf_path)
        errors = harness.log_lines(d, "<3>") + harness.log_lines(d, "<2>")
        check(not errors, "%s logged errors:\n%s" % (d.conf_path, "\n".join(errors)))
    # Those a later one had got ahead of went in under new ids, after a
    # look that both instances make: each once all the same.
    moved = sum(1 for eid, p in dl_entries if dict(p).get(b"source_id") != eid.encode())
    print("sentinel HA: %d failovers made (%d by Sentinel), %d instance kills; %d alerts and "
          "%d series alike on both; %d dead letters, each once (%d under a new id)" %
          (cluster.failovers, switches, killed, n_alerts, n_series, len(dl), moved))
    for d in (a, b):
        m = harness.get_metrics(d)
        print("sentinel HA: %s followed %d failovers, skipped %d replayed entries" % (
            d.sections["ha"]["instance"], m["stabild_redis_failovers_total"],
            m["stabild_stream_replayed_total"]))
        check(d.stop() == 0, "%s: exit status on SIGTERM" % d.conf_path)


def test(w):
    rounds = int(os.environ.get("STABILD_SENTINEL_ROUNDS", "4"))
    weeks = int(os.environ.get("STABILD_SENTINEL_WEEKS", "64"))
    run(w, rounds, weeks=weeks, per_week=2500)


if __name__ == "__main__":
    harness.main(test, "sentinel_ha")
