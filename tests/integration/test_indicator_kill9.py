#!/usr/bin/env python3
"""Exactly once across crashes with mixed events and a side stream: the
simulator writes decisions (with malformed entries and resent duplicates)
on the decision stream while a writer of this test puts reconsiderations
on a stream of their own (without `event`; some with an outcome of
another kind, some resent) and assessments among the decisions (with
`event`, some resent, some without their checkpoint). stabild, configured
with the reconsideration and timeliness indicators (reconsiderations read
from their stream), is killed with SIGKILL 10 times at random moments,
each 20-400 ms after it was started again. After the last start it runs
to the end; then the counters equal what was written, every rejection
series and week equals the simulator's truth, each bad entry is
dead-lettered exactly once (the side stream's with source_stream),
nothing stays pending on either stream, and the records hold every
counted event once: decisions by cell as the truth, reconsiderations and
assessments by office, kind, outcome and detail as written.

STABILD_KILL9_SEED=N repeats it with another kill schedule."""

import collections
import os
import random
import signal
import socket
import threading
import time

import harness
import indicators
from harness import check

SEED_ENV = "STABILD_KILL9_SEED"
DEFAULT_SEED = 20250301
KILLS = 10
STREAM = "stabild:decisions"
SIDE = "stabild:reconsiderations"
DEADLETTER = "stabild:deadletter"
BENEFITS = ["sjukpenning", "rehabiliteringsersattning", "sjukersattning",
            "aktivitetsersattning"]
KINDS = ["first", "ongoing"]
OFFICES = ["K%03d" % (i + 1) for i in range(8)]
RECORD_SIZE = 16
START = 1451862000          # 2016-01-04, the simulator's start
WEEKS = 16
EVENT = {"decision": 0, "reconsideration": 1, "appeal": 2, "assessment": 3}
OUTCOME = {"changed": 4, "unchanged": 5, "on_time": 6, "late": 7}
CHECKPOINT = {"90": 1, "180": 2, "365": 3}


class SideWriter:
    """Writes reconsiderations on SIDE and assessments on STREAM, in
    pipelined batches at about `rate` entries a second, and keeps what
    it wrote: valid events by (event, office, kind, outcome, detail), bad
    ones and resends per stream."""

    def __init__(self, port, seed, n, rate):
        self.port = port
        self.rnd = random.Random(seed)
        self.n = n
        self.rate = rate
        self.valid = collections.Counter()
        self.bad = collections.Counter()        # stream -> entries
        self.resent = collections.Counter()     # stream -> entries
        self.written = collections.Counter()    # stream -> entries
        self.done = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def entries(self):
        """(stream, fields) in the order written."""
        for i in range(self.n):
            t = START + int(i * WEEKS * 7 * 86400 / self.n)
            office = self.rnd.choice(OFFICES)
            benefit = self.rnd.choice(BENEFITS)
            kind = self.rnd.choice(KINDS)
            common = [("office", office), ("benefit", benefit), ("kind", kind),
                      ("decided_at", str(t))]
            if i % 3 == 0:
                stream = STREAM
                cp = self.rnd.choice(["90", "180", "365"])
                out = "late" if self.rnd.random() < 0.2 else "on_time"
                fields = [("id", "a%d" % i), ("event", "assessment"), ("outcome", out)] + common
                bad = self.rnd.random() < 0.01          # no checkpoint
                if not bad:
                    fields.append(("checkpoint", cp))
                    self.valid[("assessment", office, kind, out, cp)] += 1
            else:
                stream = SIDE
                out = "changed" if self.rnd.random() < 0.12 else "unchanged"
                bad = self.rnd.random() < 0.01
                if bad:
                    out = "granted"                     # a decision's outcome
                else:
                    self.valid[("reconsideration", office, kind, out, None)] += 1
                # The id of a decision: another kind, not a duplicate.
                fields = [("id", "d%d" % i), ("outcome", out)] + common
            if bad:
                self.bad[stream] += 1
            self.written[stream] += 1
            yield stream, fields
            if not bad and self.rnd.random() < 0.01:
                self.resent[stream] += 1
                self.written[stream] += 1
                yield stream, fields

    def run(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
                f = sock.makefile("rb")
                batch, t0, k = [], time.monotonic(), 0
                for stream, fields in self.entries():
                    args = [b"XADD", stream.encode(), b"*"]
                    for name, v in fields:
                        args += [name.encode(), v.encode()]
                    batch.append(b"*%d\r\n" % len(args) +
                                 b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
                    k += 1
                    if len(batch) == 200:
                        self.flush(sock, f, batch)
                        batch = []
                        ahead = k / self.rate - (time.monotonic() - t0)
                        if ahead > 0:
                            time.sleep(ahead)
                self.flush(sock, f, batch)
        except Exception as e:          # reported by the test
            self.error = e
        finally:
            self.done.set()

    @staticmethod
    def flush(sock, f, batch):
        if not batch:
            return
        sock.sendall(b"".join(batch))
        for _ in batch:
            harness._resp_read(f)

    def running(self):
        return not self.done.is_set()

    def wait(self, timeout):
        check(self.done.wait(timeout), "the side writer did not finish")
        check(self.error is None, "side writer: %s" % self.error)


def pending(redis, stream):
    """The group's pending entries, or '-' before it exists."""
    try:
        return harness.xpending_count(redis, stream)
    except harness.RespError:
        return "-"


def records(state_dir):
    """The records: decisions by (benefit, kind, outcome) cell, other
    events by (event, office, kind, outcome, detail) indexes."""
    data = harness.records_data(state_dir)
    check(len(data) % RECORD_SIZE == 0, "records hold %d bytes" % len(data))
    cells, events = collections.Counter(), collections.Counter()
    for i in range(0, len(data), RECORD_SIZE):
        b7 = data[i + 7]
        ev, kind, detail = b7 >> 4, b7 & 1, (b7 >> 1) & 3
        if ev == 0:
            cells[(data[i + 6], kind, data[i + 8])] += 1
        else:
            events[(ev, data[i + 4] | data[i + 5] << 8, kind, data[i + 8], detail)] += 1
    return len(data) // RECORD_SIZE, cells, events


def test(w):
    seed = int(os.environ.get(SEED_ENV, DEFAULT_SEED))
    print("indicator_kill9: kill schedule seed %d (%s=N for another)" % (seed, SEED_ENV),
          flush=True)
    rnd = random.Random(seed)

    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    sim = harness.start_sim(redis, w.path, "--seed", 13, "--offices", len(OFFICES),
                            "--weeks", WEEKS, "--per-week", 4000, "--start", "2016-01-04",
                            "--malformed", 0.005, "--duplicates", 0.005, "--rate", 12000)
    w.add(sim.stop)
    side = SideWriter(redis.port, seed, 24000, 4000).start()
    harness.wait_for(lambda: redis.call("XLEN", STREAM) >= 10000 or not sim.running(), 30,
                     "a backlog of 10000 entries")
    check(sim.running(), "the simulator finished before the first kill; raise the volume")

    conf = indicators.sections("reconsideration", stream=SIDE)
    conf.update(indicators.sections("timeliness"))
    conf["redis"] = {"batch": "100"}
    conf["state"] = {"checkpoint_interval": "100ms", "checkpoint_events": "2000"}
    d = harness.Daemon(w.path, redis, conf)
    w.add(d.stop)

    # Every other run is killed at once (while it loads or reads its
    # pending lists), the others once it answers (while it counts).
    with_work = 0
    for i in range(KILLS):
        delay = rnd.uniform(0.020, 0.400)
        d.start(wait=i % 2 == 1)
        time.sleep(delay)
        rc = d.kill9()
        check(rc == -signal.SIGKILL, "run %d: stabild exited with %s before it was killed; "
              "log:\n%s" % (i + 1, rc, d.log()[-3000:]))
        p = (pending(redis, STREAM), pending(redis, SIDE))
        working = sim.running() or side.running() or any(x not in ("-", 0) for x in p)
        with_work += working and i % 2 == 1
        print("  kill %2d %3d ms after %s: writers %s; pending %s + %s" % (
            i + 1, delay * 1000, "it answered" if i % 2 else "the start",
            "running" if sim.running() or side.running() else "done", p[0], p[1]), flush=True)
    check(with_work >= KILLS // 2 - 1, "only %d kills landed while it counted" % with_work)

    d.start()
    truth = sim.wait(timeout=120)
    side.wait(timeout=120)
    dec_total = truth.totals["written"]
    total = dec_total + sum(side.written.values())
    valid = truth.totals["valid"] + sum(side.valid.values())
    bad = truth.totals["malformed"] + sum(side.bad.values())
    dups = truth.totals["duplicates"] + sum(side.resent.values())
    print("indicator_kill9: %d entries: %d valid, %d bad, %d resent (side writer: %s valid)"
          % (total, valid, bad, dups, sum(side.valid.values())), flush=True)
    harness.wait_processed(d, total, redis=redis, stream=STREAM, stall=30, limit=300)
    harness.wait_acked(redis, timeout=30, stream=STREAM)
    harness.wait_acked(redis, timeout=30, stream=SIDE)

    ev = d.status()["events"]
    check(ev["counted"] == valid, "counted %d, written valid %d" % (ev["counted"], valid))
    check(ev["deadlettered"] == bad, "dead-lettered %d, written bad %d" % (ev["deadlettered"], bad))
    check(ev["duplicates"] == dups, "duplicates %d, resent %d" % (ev["duplicates"], dups))
    harness.compare_with_truth(d, truth)

    # Each bad entry dead-lettered once; the side stream's marked.
    dl = harness.xrange_all(redis, DEADLETTER)
    check(len(dl) == bad, "dead-letter stream has %d entries, %d bad written" % (len(dl), bad))
    keys = collections.Counter()
    for eid, pairs in dl:
        f = {}
        for k, v in pairs:
            f.setdefault(k.decode(), v.decode(errors="replace"))
        check(f.get("reason"), "dead letter %s has no reason" % eid)
        keys[(f.get("source_id"), f.get("source_stream"))] += 1
    twice = [k for k, n in keys.items() if n > 1]
    check(not twice, "dead-lettered more than once: %s" % twice[:5])
    check(sum(1 for (_, s) in keys if s == SIDE) == side.bad[SIDE],
          "side dead letters %d, %d written" % (sum(1 for (_, s) in keys if s == SIDE),
                                                side.bad[SIDE]))

    # A clean stop, then the records.
    check(d.stop() == 0, "exit status on SIGTERM")
    n, cells, events = records(d.state_dir)
    check(n == valid, "records hold %d events, %d counted" % (n, valid))
    for bi, benefit in enumerate(BENEFITS):
        for ki, kind in enumerate(KINDS):
            weeks = truth.weeks.get(("national", benefit, kind), {})
            nn = sum(r[0] for r in weeks.values())
            rej = sum(r[1] for r in weeks.values())
            part = sum(r[2] for r in weeks.values())
            dis = sum(r[3] for r in weeks.values())
            want = (nn - rej - part, rej, part, dis)
            got = tuple(cells.get((bi, ki, o), 0) for o in range(4))
            check(got == want, "decision records of %s/%s %s, truth %s"
                  % (benefit, kind, got, want))
    # Office indexes follow first appearance: compare by office totals.
    want = collections.Counter()
    for (event, office, kind, out, cp), c in side.valid.items():
        want[(EVENT[event], KINDS.index(kind), OUTCOME[out],
              CHECKPOINT[cp] if cp else 0)] += c
    got = collections.Counter()
    for (e, _office, kind, out, detail), c in events.items():
        got[(e, kind, out, detail)] += c
    check(got == want, "event records %s, written %s" % (sorted(got.items())[:6],
                                                         sorted(want.items())[:6]))
    per_office = sorted(collections.Counter(
        o for (e, o, _, _, _), c in events.items() for _ in range(c)).values())
    want_office = sorted(collections.Counter(
        o for (_, o, _, _, _), c in side.valid.items() for _ in range(c)).values())
    check(per_office == want_office, "event records per office %s, written %s"
          % (per_office, want_office))

    errors = [l for l in harness.log_lines(d) if l[:3] in ("<0>", "<1>", "<2>", "<3>")]
    check(not errors, "errors logged: %s" % errors[:5])


if __name__ == "__main__":
    harness.main(test, "indicator_kill9")
