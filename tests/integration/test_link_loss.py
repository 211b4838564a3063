#!/usr/bin/env python3
"""A Redis link that breaks while a batch is being handled, many times in
a row. The simulator writes a steady stream with malformed entries and
resent duplicates; stabild reads it in small batches, so it is nearly
always counting a batch, dead-lettering one of its entries, waiting for a
dead-letter XADD or an XACK, or re-reading its pending list; meanwhile
its connection is killed from the Redis side (CLIENT KILL ID) every
50-250 ms, each time once it is past AUTH and XGROUP again. The daemon
must live through every kill (under ASan a use of the freed context is a
report and a death) and end with every count equal to the simulator's
truth, every malformed entry in the dead-letter stream exactly once with
a reason naming its broken field, nothing pending, and no error logged.

STABILD_LINK_KILLS=N kills at least N times (default 30) over a stream
long enough for them (make soak)."""

import os
import random
import time

import harness
from harness import check
import test_deadletter

KILLS = int(os.environ.get("STABILD_LINK_KILLS", "30"))
STREAM = "stabild:decisions"
DEADLETTER = "stabild:deadletter"
RATE = 8000
# Commands the daemon sends before it reads: a kill then is a failed
# connect, not a lost link, and is not what this test is after.
PREPARING = ("NULL", "auth", "xgroup", "xgroup|create", "client", "hello")


def clients(conn):
    """CLIENT LIST as a list of {field: value}."""
    out = []
    for line in conn.call("CLIENT", "LIST").decode().splitlines():
        out.append(dict(kv.split("=", 1) for kv in line.split(" ") if "=" in kv))
    return out


class Killer:
    """Kills the daemon's connections (every client but the simulator's
    and its own) from a connection of its own."""

    def __init__(self, redis, spare):
        self.conn = redis.client()
        self.own = self.conn.call("CLIENT", "ID")
        self.spare = set(spare) | {str(self.own)}
        self.kills = 0
        self.at = {}      # the daemon's last command when it was killed

    def target(self):
        """The daemon's connection once it reads, or None."""
        for c in clients(self.conn):
            if c["id"] not in self.spare and c.get("cmd") not in PREPARING:
                return c
        return None

    def kill(self):
        c = self.target()
        if c is None:
            return False
        try:
            n = self.conn.call("CLIENT", "KILL", "ID", c["id"])
        except harness.RespError:
            return False    # gone by itself in between
        if n == 1:
            self.kills += 1
            self.at[c.get("cmd")] = self.at.get(c.get("cmd"), 0) + 1
        return n == 1

    def close(self):
        self.conn.close()


def test(w):
    seed = 20261205
    rnd = random.Random(seed)
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    # About 9 seconds of stream at RATE for 30 kills, longer for more.
    weeks = max(12, 12 * KILLS // 30)
    sim = harness.start_sim(redis, w.path, "--seed", 23, "--offices", 20, "--weeks", weeks,
                            "--per-week", 6000, "--start", "2021-01-04", "--malformed", 0.03,
                            "--duplicates", 0.01, "--rate", RATE)
    w.add(sim.stop)
    harness.wait_for(lambda: redis.call("XLEN", STREAM) > 0, 10, "the simulator's first entries")
    probe = redis.client()
    sim_ids = [c["id"] for c in clients(probe)]
    probe.close()
    killer = Killer(redis, sim_ids)
    w.add(killer.close)

    d = harness.Daemon(w.path, redis, {
        "redis": {"batch": "50", "reconnect_max": "200ms"},
        "state": {"checkpoint_interval": "100ms", "checkpoint_events": "500"},
    })
    d.start()
    w.add(d.stop)

    t0 = time.monotonic()
    while killer.kills < KILLS:
        time.sleep(rnd.uniform(0.05, 0.25))
        check(d.proc.poll() is None, "stabild died after %d kills; log:\n%s" %
              (killer.kills, d.log()[-3000:]))
        killer.kill()
        check(time.monotonic() - t0 < 60 + KILLS, "only %d kills in %.0f s" %
              (killer.kills, time.monotonic() - t0))
    sim_running = sim.running()
    killed_for = time.monotonic() - t0
    truth = sim.wait()
    check(sim_running, "the simulator finished before the last of %d kills; raise the volume" % KILLS)

    written = truth.totals["written"]
    n_bad = truth.totals["malformed"]
    harness.wait_processed(d, written, redis=redis)
    harness.wait_for(lambda: redis.call("XLEN", DEADLETTER) >= n_bad, 15,
                     "%d dead-letter entries" % n_bad)
    harness.wait_acked(redis, timeout=15)
    check(d.proc.poll() is None, "stabild died; log:\n%s" % d.log()[-3000:])

    st = d.status()
    ev = st["events"]
    check(st["stream"]["state"] == "reading", "stream state %r" % st["stream"]["state"])
    check(ev["counted"] == truth.totals["valid"] and ev["deadlettered"] == n_bad and
          ev["duplicates"] == truth.totals["duplicates"],
          "after %d kills: %r, truth %r" % (killer.kills, ev, truth.totals))
    harness.compare_with_truth(d, truth)

    # Every malformed entry once, under its own id, with a reason naming
    # the field a correct validator refuses, and its fields unchanged.
    source = harness.xrange_all(redis, STREAM)
    now = int(time.time())
    bad = {eid for eid, pairs in source if test_deadletter.first_bad_field(pairs, now) is not None}
    check(len(bad) == n_bad, "validator finds %d bad entries, simulator wrote %d" % (len(bad), n_bad))
    test_deadletter.check_deadletter_stream(redis, bad, source)

    m = harness.get_metrics(d)
    lost = harness.log_lines(d, "<4>stream: redis link lost")
    check(len(lost) == killer.kills, "%d kills, %d lost links logged" % (killer.kills, len(lost)))
    check(m["stabild_redis_reconnects_total"] == killer.kills,
          "%d kills, %r reconnects" % (killer.kills, m["stabild_redis_reconnects_total"]))
    errors = harness.log_lines(d, "<3>") + harness.log_lines(d, "<2>")
    check(not errors, "errors logged:\n%s" % "\n".join(errors[:10]))
    rc = d.stop()
    check(rc == 0, "exit status %s on SIGTERM; log:\n%s" % (rc, d.log()[-3000:]))
    print("link_loss: %d kills in %.1f s (daemon's last command: %s); %d entries, %d malformed, "
          "%d duplicates, all exact" % (killer.kills, killed_for,
                                         ", ".join("%s %d" % kv for kv in sorted(killer.at.items())),
                                         written, n_bad, truth.totals["duplicates"]), flush=True)


if __name__ == "__main__":
    harness.main(test, "link_loss")
