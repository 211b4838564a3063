#!/usr/bin/env python3
"""An indicator's events on a stream of their own: reconsiderations come on
stabild:reconsiderations without an `event` field, decisions on the
decision stream. The daemon reads both (one group on each), counts every
entry once, acknowledges both streams, and dead-letters a bad entry of
each; the side stream's dead letter carries source_stream, and although
the two bad entries have the same stream id, both are kept. The side
stream starts an hour behind the decisions and after they were drained:
nothing of it is lost or refused. A restart reads on from each stream's
own position (nothing counted twice); a kill -9 before a checkpoint
counts what was lost once, and dead-letters nothing twice. The records
hold each event once, with its kind.

Then, in a Redis and daemon of their own, a decision stream with a backlog
behind a side stream that is ahead: after downtime the side stream's
short backlog of recent reconsiderations is drained first, while four
weeks of decisions are still being read. The side stream must not move
the watermark past the decisions: none of them counts as late, and every
event is counted once."""

import collections
import os
import time

import harness
import indicators
from harness import check

DECISIONS = "stabild:decisions"
SIDE = "stabild:reconsiderations"
DEADLETTER = "stabild:deadletter"
RECORD_SIZE = 16
OFFICES = ("K001", "K002", "K003")


def decision(i, t, outcome=None):
    return {"id": "d%d" % i, "office": OFFICES[i % 3], "benefit": "sjukpenning",
            "kind": "first" if i % 2 else "ongoing",
            "outcome": outcome or ("rejected" if i % 4 == 0 else "granted"),
            "decided_at": str(t)}


def reconsideration(i, t, outcome=None):
    # The decision's own id: another kind, so not a duplicate of it.
    return {"id": "d%d" % i, "office": OFFICES[i % 3], "benefit": "sjukpenning",
            "kind": "first" if i % 2 else "ongoing",
            "outcome": outcome or ("changed" if i % 5 == 0 else "unchanged"),
            "decided_at": str(t)}


def records_by_event(state_dir):
    """Counter of (event, outcome) over the records."""
    data = harness.records_data(state_dir)
    check(len(data) % RECORD_SIZE == 0, "records hold %d bytes" % len(data))
    return collections.Counter((data[i + 7] >> 4, data[i + 8])
                               for i in range(0, len(data), RECORD_SIZE))


def deadletters(redis):
    out = []
    for eid, pairs in harness.xrange_all(redis, DEADLETTER):
        f = {}
        for k, v in pairs:
            f.setdefault(k.decode(), v.decode(errors="replace"))
        out.append((eid, f))
    return out


def wait_both_acked(redis):
    harness.wait_acked(redis, timeout=20, stream=DECISIONS)
    harness.wait_acked(redis, timeout=20, stream=SIDE)


def check_stream_metrics(d, lengths):
    """Each stream's figures in families of their own, beside the
    unlabelled totals, so that summing a family counts an entry once."""
    def figures():
        m = harness.get_metrics(d)
        return m, {k: m.get('stabild_stream_reader_length{stream="%s"}' % k) for k in lengths}
    harness.wait_for(lambda: figures()[1] == lengths, 15, "stream lengths %r" % lengths)
    m, _ = figures()
    for what in ("lag", "pending", "length"):
        total = "stabild_stream_" + what
        check(not any(k.startswith(total + "{") for k in m),
              "%s has labelled samples beside its total: %r" % (total, sorted(k for k in m if k.startswith(total))))
        readers = {k: v for k, v in m.items() if k.startswith("stabild_stream_reader_%s{" % what)}
        check(len(readers) == len(lengths), "%s per stream: %r" % (what, readers))
        check(sum(readers.values()) == m[total], "%s per stream %r, total %r" % (what, readers, m[total]))
    check(m["stabild_stream_length"] == sum(lengths.values()), "stream length %r" % m["stabild_stream_length"])


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    conf = indicators.sections("reconsideration", stream=SIDE)
    conf["state"] = {"checkpoint_interval": "200ms"}
    d = harness.Daemon(w.path, redis, conf)
    w.add(d.stop)

    # One bad entry on each stream under the same id, before the rest.
    harness.xadd(redis, decision(900, int(time.time()) - 86400, outcome="changed"),
                 entry_id="1000-1", stream=DECISIONS)
    harness.xadd(redis, reconsideration(900, int(time.time()) - 86400, outcome="rejected"),
                 entry_id="1000-1", stream=SIDE)
    d.start()

    t0 = int(time.time()) - 2 * 86400
    n_dec = 300
    for i in range(n_dec):
        harness.xadd(redis, decision(i, t0 + i * 60), stream=DECISIONS)
    harness.wait_processed(d, n_dec + 2, redis=redis, stream=DECISIONS)
    # Drained and idle for a while before the side stream has anything.
    time.sleep(1.0)
    check(d.status()["events"]["counted"] == n_dec, "counted %d decisions, sent %d"
          % (d.status()["events"]["counted"], n_dec))

    # Reconsiderations an hour behind the last decision.
    n_rec = 120
    for i in range(n_rec):
        harness.xadd(redis, reconsideration(i, t0 + n_dec * 60 - 3600 + i), stream=SIDE)
    harness.wait_processed(d, n_dec + n_rec + 2, redis=redis, stream=SIDE)
    ev = d.status()["events"]
    check(ev["counted"] == n_dec + n_rec, "counted %d, sent %d valid" % (ev["counted"], n_dec + n_rec))
    check(ev["deadlettered"] == 2, "dead-lettered %d, 2 expected" % ev["deadlettered"])
    check(ev["duplicates"] == 0, "duplicates %d" % ev["duplicates"])
    wait_both_acked(redis)
    check_stream_metrics(d, {DECISIONS: n_dec + 1, SIDE: n_rec + 1})

    # The dead letters: one of each stream, the side stream's marked.
    dl = deadletters(redis)
    check(len(dl) == 2, "dead-letter stream holds %d entries: %s" % (len(dl), dl))
    by_source = {f.get("source_stream"): (eid, f) for eid, f in dl}
    check(set(by_source) == {None, SIDE}, "dead letters' source_stream: %s" % list(by_source))
    eid, f = by_source[None]
    check(eid == "1000-1" and f["source_id"] == "1000-1", "decision dead letter %s %s" % (eid, f))
    check("outcome" in f["reason"], "decision dead letter's reason: %s" % f["reason"])
    eid, f = by_source[SIDE]
    check(f["source_id"] == "1000-1", "side dead letter's source_id %s" % f)
    check(eid != "1000-1", "side dead letter kept under a new id, not %s" % eid)
    check("reconsideration" in f["reason"], "side dead letter's reason: %s" % f["reason"])

    # A restart reads on from each stream's own position.
    check(d.stop() == 0, "exit status on SIGTERM")
    d.start()
    more_dec, more_rec = 50, 40
    t1 = t0 + n_dec * 60
    for i in range(n_dec, n_dec + more_dec):
        harness.xadd(redis, decision(i, t1 + i), stream=DECISIONS)
    for i in range(n_rec, n_rec + more_rec):
        harness.xadd(redis, reconsideration(i, t1 + i), stream=SIDE)
    total = n_dec + n_rec + more_dec + more_rec
    harness.wait_processed(d, total + 2, redis=redis, stream=SIDE)
    wait_both_acked(redis)
    ev = d.status()["events"]
    check(ev["counted"] == total, "after a restart counted %d, sent %d" % (ev["counted"], total))

    # A kill -9 with entries of both streams after the last checkpoint:
    # a long checkpoint interval, so that they are lost and read again.
    check(d.stop() == 0, "exit status on SIGTERM")
    d.sections["state"]["checkpoint_interval"] = "10m"
    d.sections["state"]["checkpoint_events"] = "1000000"
    d.write_conf()
    d.start()
    t2 = t1 + 3600
    harness.xadd(redis, decision(901, t2, outcome="late"), stream=DECISIONS)
    harness.xadd(redis, reconsideration(901, t2, outcome="granted"), stream=SIDE)
    for i in range(n_dec + more_dec, n_dec + more_dec + 30):
        harness.xadd(redis, decision(i, t2 + i), stream=DECISIONS)
        harness.xadd(redis, reconsideration(i, t2 + i), stream=SIDE)
    total += 60
    harness.wait_processed(d, total + 4, redis=redis, stream=SIDE)
    check(harness.xpending_count(redis, DECISIONS) > 0, "decisions acknowledged before a checkpoint")
    check(harness.xpending_count(redis, SIDE) > 0, "reconsiderations acknowledged before a checkpoint")
    d.kill9()
    d.sections["state"]["checkpoint_interval"] = "200ms"
    d.sections["state"]["checkpoint_events"] = "2000"
    d.write_conf()
    d.start()
    harness.wait_processed(d, total + 4, redis=redis, stream=SIDE)
    wait_both_acked(redis)
    ev = d.status()["events"]
    check(ev["counted"] == total, "after kill -9 counted %d, sent %d" % (ev["counted"], total))
    check(ev["deadlettered"] == 4, "after kill -9 dead-lettered %d, 4 expected" % ev["deadlettered"])
    dl = deadletters(redis)
    check(len(dl) == 4, "dead-letter stream holds %d entries after kill -9" % len(dl))
    check(sum(1 for _, f in dl if f.get("source_stream") == SIDE) == 2,
          "side dead letters: %s" % dl)
    check(len({(f["source_id"], f.get("source_stream")) for _, f in dl}) == 4,
          "a dead letter written twice: %s" % dl)

    # The records: every event once, with its kind.
    check(d.stop() == 0, "exit status on SIGTERM")
    rec = records_by_event(d.state_dir)
    n_d = n_dec + more_dec + 30
    n_r = n_rec + more_rec + 30
    check(sum(v for (e, _), v in rec.items() if e == 0) == n_d,
          "decision records %s, %d sent" % (rec, n_d))
    check(sum(v for (e, _), v in rec.items() if e == 1) == n_r,
          "reconsideration records %s, %d sent" % (rec, n_r))
    changed = sum(1 for i in range(n_r) if i % 5 == 0)
    check(rec[(1, 4)] == changed and rec[(1, 5)] == n_r - changed,
          "reconsideration outcomes %s, %d changed expected" % (rec, changed))
    check(set(e for e, _ in rec) == {0, 1}, "records of other kinds: %s" % rec)

    errors = [l for l in harness.log_lines(d) if l[:3] in ("<0>", "<1>", "<2>", "<3>")]
    check(not errors, "errors logged: %s" % errors[:5])


def test_backlog(w):
    path = os.path.join(w.path, "backlog")
    os.mkdir(path)
    redis = harness.Redis(path).start()
    w.add(redis.stop)
    d = harness.Daemon(path, redis, indicators.sections("reconsideration", stream=SIDE))
    w.add(d.stop)
    c = redis.client()
    now = int(time.time())
    day = 86400

    # Before the downtime: a week of decisions, counted and checkpointed.
    n0 = 300
    for i in range(n0):
        c.call("XADD", DECISIONS, "*", *sum(decision(i, now - 35 * day + i * 7 * day // n0).items(), ()))
    d.start()
    d.wait_counted(n0)
    check(d.stop() == 0, "exit status on SIGTERM")

    # The downtime's backlog: four weeks of decisions in order, and on the
    # side stream twenty reconsiderations of an hour ago.
    n1, n_rec = 3000, 20
    for i in range(n0, n0 + n1):
        c.call("XADD", DECISIONS, "*",
               *sum(decision(i, now - 28 * day + (i - n0) * 28 * day // n1).items(), ()))
    for i in range(n_rec):
        c.call("XADD", SIDE, "*", *sum(reconsideration(i, now - 3600).items(), ()))
    d.start()
    d.wait_counted(n0 + n1 + n_rec)
    harness.wait_acked(redis, timeout=20, stream=DECISIONS)
    harness.wait_acked(redis, timeout=20, stream=SIDE)
    ev = d.status()["events"]
    check(ev["late"] == 0, "%d of %d events counted as late behind the side stream"
          % (ev["late"], ev["counted"]))
    check(ev["counted"] == n0 + n1 + n_rec, "counted %d, sent %d" % (ev["counted"], n0 + n1 + n_rec))
    check(ev["by_event"]["decision"] == n0 + n1 and ev["by_event"]["reconsideration"] == n_rec,
          "by event %s" % ev["by_event"])
    rejected = sum(1 for i in range(n0 + n1) if i % 4 == 0)
    check(ev["rejected"] == rejected and ev["granted"] == n0 + n1 - rejected,
          "outcomes %s, %d rejected expected" % (ev, rejected))
    check(ev["deadlettered"] == 0 and ev["duplicates"] == 0, "events %s" % ev)
    errors = [l for l in harness.log_lines(d) if l[:3] in ("<0>", "<1>", "<2>", "<3>")]
    check(not errors, "errors logged: %s" % errors[:5])


def run(w):
    test(w)
    test_backlog(w)


if __name__ == "__main__":
    harness.main(run, "indicator_streams")
