#!/usr/bin/env python3
"""Exactly once across crashes: the simulator writes about 230 000 events
(with malformed entries and resent duplicates) at a steady rate, after a
backlog, while stabild -- small batches, a checkpoint every 100 ms or 2000
entries -- is killed with SIGKILL 25 times at random moments, each time
20-400 ms after it was started again on the same state directory. Kills
thus land while it loads its checkpoint, re-reads its pending list,
counts, writes checkpoints, dead-letters and acknowledges. After the last
restart it runs to the end, and then every series and week must equal the
simulator's ground truth, the counters its totals, the dead-letter stream
must hold each malformed entry exactly once, nothing may stay pending, and
the records file must hold each counted decision exactly once. The test
prints, for each kill, how far the group had got; a kill counts as one
"while work remained" if the simulator was still writing or the group had
entries not yet delivered or not yet acknowledged, and at least 20 must.

The kill schedule comes from a fixed seed; STABILD_KILL9_SEED=N repeats
the test with another one (the seed is printed). STABILD_KILL9_KILLS=N
kills N times instead, over a stream long enough for them (make sim)."""

import collections
import json
import os
import random
import signal
import threading
import time
import urllib.request

import harness
from harness import check

SEED_ENV = "STABILD_KILL9_SEED"
DEFAULT_SEED = 20240917
KILLS = int(os.environ.get("STABILD_KILL9_KILLS", "25"))
MIN_KILLS_WITH_WORK = KILLS * 4 // 5
WEEKS = max(40, 40 * KILLS // 25)
STREAM = "stabild:decisions"
DEADLETTER = "stabild:deadletter"
BENEFITS = ["sjukpenning", "rehabiliteringsersattning", "sjukersattning",
            "aktivitetsersattning"]
KINDS = ["first", "ongoing"]
RECORD_SIZE = 16


def quick_status(d, timeout):
    """/v1/status within timeout seconds, or None (not up, or busy)."""
    req = urllib.request.Request("http://127.0.0.1:%d/v1/status" % d.http_port)
    req.add_header("Authorization", "Bearer " + harness.READ_TOKEN)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None


def group_state(redis):
    """(delivered to the group, pending, lag, stream length) right now."""
    xlen = redis.call("XLEN", STREAM)
    try:
        g = harness.xinfo_group(redis, STREAM)
    except harness.RespError:
        g = None
    if g is None:
        return 0, 0, xlen, xlen
    read = g.get("entries-read")
    lag = g.get("lag")
    if lag is None and read is not None:
        lag = xlen - read
    return read, g["pending"], lag, xlen


def records_by_cell(state_dir):
    """Counts of the records by (benefit, kind, outcome) indexes."""
    cells = collections.Counter()
    offices = set()
    data = harness.records_data(state_dir)
    for i in range(0, len(data) - len(data) % RECORD_SIZE, RECORD_SIZE):
        offices.add(data[i + 4] | data[i + 5] << 8)
        cells[(data[i + 6], data[i + 7], data[i + 8])] += 1
    return len(data), cells, offices


def test(w):
    seed = int(os.environ.get(SEED_ENV, DEFAULT_SEED))
    print("kill9: kill schedule seed %d (%s=N for another)" % (seed, SEED_ENV), flush=True)
    rnd = random.Random(seed)

    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    sim = harness.start_sim(redis, w.path, "--seed", 11, "--offices", 20, "--weeks", WEEKS,
                            "--per-week", 6000, "--start", "2016-01-04",
                            "--malformed", 0.005, "--duplicates", 0.005, "--rate", 30000)
    w.add(sim.stop)
    # A backlog first, so that early runs read full batches.
    harness.wait_for(lambda: redis.call("XLEN", STREAM) >= 30000 or not sim.running(), 30,
                     "a backlog of 30000 entries")
    check(sim.running(), "the simulator finished before the first kill; raise the volume")

    d = harness.Daemon(w.path, redis, {
        "redis": {"batch": "100"},
        "state": {"checkpoint_interval": "100ms", "checkpoint_events": "2000"},
    })
    w.add(d.stop)

    t_start = time.monotonic()
    kills = []
    for i in range(KILLS):
        delay = rnd.uniform(0.020, 0.400)
        peek = rnd.uniform(0.0, delay)
        d.start(wait=False)
        t0 = time.monotonic()
        time.sleep(peek)
        st = quick_status(d, timeout=max(0.01, delay - (time.monotonic() - t0)))
        rest = delay - (time.monotonic() - t0)
        if rest > 0:
            time.sleep(rest)
        sim_running = sim.running()
        rc = d.kill9()
        check(rc == -signal.SIGKILL, "run %d: stabild exited with %s before it was killed; log:\n%s"
              % (i + 1, rc, d.log()[-3000:]))
        read, pending, lag, xlen = group_state(redis)
        counted = None if st is None else st["events"]["counted"]
        kills.append((delay, sim_running, read, pending, lag, xlen, counted))
    kill_phase = time.monotonic() - t_start

    print("kill9: %d kills in %.1f s" % (len(kills), kill_phase))
    with_work = 0
    for n, (delay, sim_running, read, pending, lag, xlen, counted) in enumerate(kills, 1):
        remained = sim_running or (lag or 0) > 0 or (pending or 0) > 0
        with_work += remained
        print("  kill %2d after %3d ms: %s; group read %s of %s (lag %s), pending %s, "
              "last status counted %s" % (n, delay * 1000, "work remained" if remained else "DRAINED",
                                          read, xlen, lag, pending,
                                          "-" if counted is None else counted))
    print("kill9: %d of %d kills landed while work remained" % (with_work, len(kills)), flush=True)
    check(with_work >= MIN_KILLS_WITH_WORK, "only %d kills landed before ingest completed"
          % with_work)

    # The last start: let it finish. Its status is watched too: a start
    # slowed by a busy machine may answer no peek of the kill phase.
    d.start()
    seen = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            st = quick_status(d, timeout=1)
            if st is not None:
                seen.append(st["events"]["counted"])
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    truth = sim.wait(timeout=120)
    total = truth.totals["written"]
    print("kill9: stream of %d entries (valid %d, malformed %d, duplicates %d)"
          % (total, truth.totals["valid"], truth.totals["malformed"], truth.totals["duplicates"]),
          flush=True)
    harness.wait_processed(d, total, redis=redis, stream=STREAM)
    stop.set()
    watcher.join()
    partial = [k[6] for k in kills if k[6] is not None and 0 < k[6] < truth.totals["valid"]]
    partial += [n for n in seen if 0 < n < truth.totals["valid"]]
    print("kill9: the API showed a partly ingested state %d times (%d in the kill phase)"
          % (len(partial), sum(1 for k in kills if k[6] is not None and 0 < k[6] < truth.totals["valid"])))
    check(partial, "the API never showed a partly ingested state")
    harness.wait_for(lambda: harness.xpending_count(redis) == 0, 20, "no pending entries")

    # Counters: exactly the truth.
    ev = d.status()["events"]
    check(ev["counted"] == truth.totals["valid"], "counted %d, truth valid %d"
          % (ev["counted"], truth.totals["valid"]))
    check(ev["deadlettered"] == truth.totals["malformed"], "dead-lettered %d, truth malformed %d"
          % (ev["deadlettered"], truth.totals["malformed"]))
    check(ev["duplicates"] == truth.totals["duplicates"], "duplicates %d, truth %d"
          % (ev["duplicates"], truth.totals["duplicates"]))

    # Every series and week.
    harness.compare_with_truth(d, truth)

    # The dead-letter stream: each malformed entry once, under its own id.
    dl = harness.xrange_all(redis, DEADLETTER)
    check(len(dl) == truth.totals["malformed"], "dead-letter stream has %d entries, truth %d"
          % (len(dl), truth.totals["malformed"]))
    sources = []
    c = redis.client()
    try:
        for eid, pairs in dl:
            f = {}
            for k, v in pairs:
                f.setdefault(k.decode(), v.decode(errors="replace"))
            sid = f.get("source_id")
            check(sid == eid, "dead-letter entry %s has source_id %r" % (eid, sid))
            check(f.get("reason"), "dead-letter entry %s has no reason" % eid)
            check(len(c.call("XRANGE", STREAM, sid, sid)) == 1,
                  "dead-letter source %s is not in the stream" % sid)
            sources.append(sid)
    finally:
        c.close()
    dup = [s for s, n in collections.Counter(sources).items() if n > 1]
    check(not dup, "source ids dead-lettered more than once: %s" % dup[:5])

    check(harness.xpending_count(redis) == 0, "entries still pending")

    # A clean stop, then the records file: one record per counted decision.
    check(d.stop() == 0, "exit status on SIGTERM")
    size, cells, offices = records_by_cell(d.state_dir)
    check(size == truth.totals["valid"] * RECORD_SIZE, "records hold %d bytes, %d records "
          "expected" % (size, truth.totals["valid"]))
    check(len(offices) == 20, "records name %d offices, 20 expected" % len(offices))
    for bi, benefit in enumerate(BENEFITS):
        for ki, kind in enumerate(KINDS):
            weeks = truth.weeks.get(("national", benefit, kind), {})
            n = sum(r[0] for r in weeks.values())
            rej = sum(r[1] for r in weeks.values())
            part = sum(r[2] for r in weeks.values())
            dis = sum(r[3] for r in weeks.values())
            want = (n - rej - part, rej, part, dis)
            got = tuple(cells.get((bi, ki, o), 0) for o in range(4))
            check(got == want, "records of %s/%s by outcome %s, truth %s" % (benefit, kind, got, want))

    # No error was logged in any of the runs.
    errors = [l for l in harness.log_lines(d) if l[:3] in ("<0>", "<1>", "<2>", "<3>")]
    check(not errors, "errors logged: %s" % errors[:5])


if __name__ == "__main__":
    harness.main(test, "kill9")
