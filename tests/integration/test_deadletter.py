#!/usr/bin/env python3
"""Dead-lettering: the simulator's malformed entries and hand-written bad
ones (missing id, unknown outcome, office "national", decided_at in the
future, binary bytes, bad UTF-8) end up in stabild:deadletter under their
own stream id, with a reason naming the broken field, source_id and the
original fields byte for byte; a valid entry with an unknown extra field
is counted. The counters in /v1/status and /metrics equal the number
injected, everything is acknowledged, and the valid counts equal the
truth. Then a kill -9 after dead-lettering but before any checkpoint: the
restarted daemon adds no second copy and the counts stay exact."""

import datetime
import re
import time

import harness
from harness import check

BENEFITS = ("sjukpenning", "rehabiliteringsersattning", "sjukersattning", "aktivitetsersattning")
ENUMS = {
    "kind": ("first", "ongoing"),
    "outcome": ("granted", "rejected", "partial", "dismissed"),
    "age_band": ("16-29", "30-39", "40-49", "50-59", "60-"),
    "sex": ("f", "m", "x"),
    "employment": ("employed", "unemployed", "self_employed", "student", "other"),
    "care": ("primary", "specialist"),
}
ORDER = ("id", "office", "benefit", "kind", "outcome", "decided_at", "age_band", "sex",
         "diagnosis", "case_day", "employment", "care", "region")
REQUIRED = ORDER[:6]
RFC3339 = re.compile(rb"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def time_ok(v, now):
    """Contract §1 decided_at, checked independently of the daemon."""
    if re.fullmatch(rb"\d{1,12}", v):
        t = int(v)
    else:
        m = RFC3339.match(v)
        if not m:
            return False
        y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
        try:
            base = datetime.datetime(y, mo, d, h, mi, min(s, 59), tzinfo=datetime.timezone.utc)
        except ValueError:
            return False
        off = m.group(8)
        sign = 0 if off in (b"Z", b"z") else (1 if off[:1] == b"+" else -1)
        secs = 0 if sign == 0 else int(off[1:3]) * 3600 + int(off[4:6]) * 60
        if not 1970 <= y <= 2200:
            return False
        t = int(base.timestamp()) - sign * secs
    return 0 <= t <= now + 86400


def first_bad_field(pairs, now):
    """The field a correct validator names first, or None if valid."""
    seen = {}
    for k, v in pairs:
        k = k.decode("latin-1")
        if k in ORDER:
            if k in seen:
                return k
            seen[k] = v
    for k in ORDER:
        v = seen.get(k)
        if v is None or v == b"":
            if k in REQUIRED:
                return k
            continue
        if k == "id" and not re.fullmatch(rb"[A-Za-z0-9._:-]{1,64}", v):
            return k
        if k == "office" and (not re.fullmatch(rb"[A-Za-z0-9._-]{1,32}", v) or v.lower() == b"national"):
            return k
        if k == "benefit" and v.decode("latin-1") not in BENEFITS:
            return k
        if k in ENUMS and v.decode("latin-1") not in ENUMS[k]:
            return k
        if k == "decided_at" and not time_ok(v, now):
            return k
        if k == "diagnosis" and (len(v) > 8 or not re.fullmatch(rb"[A-Z]([0-9]{2}(\.?[0-9A-Z]+)?)?", v)):
            return k
        if k == "case_day" and not (re.fullmatch(rb"[0-9]+", v) and 1 <= int(v) <= 3000):
            return k
        if k == "region":
            try:
                text = v.decode("utf-8")
            except UnicodeDecodeError:
                return k
            if len(v) > 32 or any(ord(c) < 0x21 or 0x7f <= ord(c) < 0xa0 for c in text):
                return k
    return None


def check_deadletter_stream(redis, bad_ids, source):
    """Each dead-letter entry: own id == source_id == a source entry's id,
    reason, then the source fields byte for byte. Returns {id: reason}."""
    source = dict(source)
    reasons = {}
    for eid, pairs in harness.xrange_all(redis, "stabild:deadletter"):
        check(len(pairs) >= 2 and pairs[0][0] == b"reason" and pairs[1][0] == b"source_id",
              "dead-letter %s starts with %r" % (eid, pairs[:2]))
        check(pairs[1][1].decode() == eid, "dead-letter %s has source_id %r" % (eid, pairs[1][1]))
        check(eid not in reasons, "dead-letter entry %s twice" % eid)
        check(eid in source, "dead-letter %s has no source entry" % eid)
        check(pairs[2:] == source[eid], "dead-letter %s fields differ from the source:\n%r\n%r" %
              (eid, pairs[2:], source[eid]))
        reasons[eid] = pairs[0][1].decode()
    check(set(reasons) == set(bad_ids), "dead-lettered ids differ: missing %s, extra %s" %
          (sorted(set(bad_ids) - set(reasons))[:5], sorted(set(reasons) - set(bad_ids))[:5]))
    return reasons


def part_malformed(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 11, "--weeks", 6, "--per-week", 2500,
                            "--start", "2023-01-02", "--malformed", 0.03)
    check(truth.totals["malformed"] > 100, "simulator wrote %r" % truth.totals)

    now = int(time.time())
    base = {"office": "K001", "benefit": "sjukpenning", "kind": "first", "outcome": "rejected",
            "decided_at": "2023-01-25T12:00:00+01:00"}
    future = str(now + 30 * 86400)
    hand_bad = [
        ([(k, v) for k, v in base.items()], "id: missing"),
        ([("id", "hand-bad-outcome")] + [(k, "approved" if k == "outcome" else v)
                                         for k, v in base.items()],
         "outcome: unknown value 'approved'"),
        ([("id", "hand-national")] + [(k, "national" if k == "office" else v) for k, v in base.items()],
         "office: 'national' is reserved"),
        ([("id", "hand-future")] + [(k, future if k == "decided_at" else v) for k, v in base.items()],
         "decided_at: in the future '%s'" % future),
        ([("id", "hand-junk")] + [(k, b"K0\x00\xff\xfe\r\n01" if k == "office" else v)
                                  for k, v in base.items()],
         "office: invalid character in 'K0\\x00\\xff\\xfe\\x0d\\x0a01'"),
        ([("id", "hand-utf8")] + list(base.items()) + [("region", b"\xc3\x28 bad")],
         "region: invalid character in '\\xc3( bad'"),
    ]
    bad_ids = {}
    for fields, reason in hand_bad:
        bad_ids[harness.xadd(redis, fields)] = reason
    # Valid, with a field the contract does not know: counted.
    valid_id = harness.xadd(redis, [("id", "hand-valid-1")] + list(base.items()) +
                            [("channel", "web"), (b"\xff\x00junk", b"\x00")])
    harness.truth_add(truth, "K001", "sjukpenning", "first",
                      harness.week_label(1674644400), "rejected")

    d = harness.Daemon(w.path, redis).start()
    w.add(d.stop)
    written = truth.totals["written"] + len(hand_bad) + 1
    harness.wait_processed(d, written, redis=redis)
    n_bad = truth.totals["malformed"] + len(hand_bad)

    # Every entry a correct validator refuses is dead-lettered, and only those.
    source = harness.xrange_all(redis, "stabild:decisions")
    check(len(source) == written, "stream holds %d entries, %d written" % (len(source), written))
    verdict = {eid: first_bad_field(pairs, now) for eid, pairs in source}
    should_fail = {eid for eid, f in verdict.items() if f is not None}
    check(valid_id not in should_fail and set(bad_ids) <= should_fail, "self-check of the validator")
    check(len(should_fail) == n_bad, "validator finds %d bad entries, %d injected" % (len(should_fail), n_bad))
    # Dead-letter writes are confirmed asynchronously: wait for all of them.
    harness.wait_for(lambda: redis.call("XLEN", "stabild:deadletter") >= n_bad, 10,
                     "%d dead-letter entries" % n_bad)
    reasons = check_deadletter_stream(redis, should_fail, source)
    for eid, reason in bad_ids.items():
        check(reasons[eid] == reason, "entry %s: reason %r, expected %r" % (eid, reasons[eid], reason))
    for eid, reason in reasons.items():
        check(reason.startswith(verdict[eid] + ": "),
              "entry %s: reason %r does not name the field %s" % (eid, reason, verdict[eid]))

    st = d.status()
    ev = st["events"]
    check(ev["deadlettered"] == n_bad, "status deadlettered %d, injected %d" % (ev["deadlettered"], n_bad))
    check(ev["counted"] == truth.totals["valid"] + 1, "counted %d, valid %d + 1" %
          (ev["counted"], truth.totals["valid"]))
    check(ev["duplicates"] == 0, "duplicates %d" % ev["duplicates"])
    m = harness.get_metrics(d)
    check(m["stabild_events_deadlettered_total"] == n_bad,
          "metric deadlettered %r, injected %d" % (m["stabild_events_deadlettered_total"], n_bad))
    check(m["stabild_deadletter_writes_total"] == n_bad,
          "confirmed dead-letter writes %r" % m["stabild_deadletter_writes_total"])
    check(m["stabild_events_counted_total"] == truth.totals["valid"] + 1, "metric counted")
    # The daemon goes on and acknowledges everything, the bad entries too.
    harness.wait_acked(redis)
    harness.compare_with_truth(d, truth)
    check(d.stop() == 0, "exit status on SIGTERM")


def part_kill9(w):
    redis = harness.Redis(w.path + "/k9").start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 12, "--weeks", 4, "--per-week", 2500,
                            "--start", "2023-03-06", "--malformed", 0.05)
    written, n_bad = truth.totals["written"], truth.totals["malformed"]
    check(n_bad > 50, "simulator wrote %r" % truth.totals)
    # No checkpoint can happen: nothing is acknowledged.
    d = harness.Daemon(w.path, redis, name="k9",
                       conf_extra={"state": {"checkpoint_interval": "10m",
                                             "checkpoint_events": "10000000"}}).start()
    w.add(d.stop)
    harness.wait_processed(d, written, redis=redis)
    harness.wait_for(lambda: redis.call("XLEN", "stabild:deadletter") >= n_bad, 10,
                     "%d dead-letter entries" % n_bad)
    check(harness.xpending_count(redis) == written, "entries were acknowledged without a checkpoint: "
          "%d pending of %d" % (harness.xpending_count(redis), written))
    check(d.status()["stream"]["checkpointed"] is None, "a checkpoint was written")
    d.kill9()

    d.sections["state"] = {"dir": d.state_dir, "checkpoint_interval": "200ms"}
    d.write_conf()
    d.start()
    harness.wait_processed(d, written, redis=redis)
    harness.wait_acked(redis)
    dl = harness.xrange_all(redis, "stabild:deadletter")
    ids = [eid for eid, _ in dl]
    check(len(ids) == n_bad and len(set(ids)) == n_bad,
          "dead-letter stream holds %d entries (%d distinct), %d injected" % (len(ids), len(set(ids)), n_bad))
    check(len({p[1][1] for _, p in dl}) == n_bad, "a source_id appears twice")
    source = harness.xrange_all(redis, "stabild:decisions")
    should_fail = {eid for eid, pairs in source if first_bad_field(pairs, int(time.time())) is not None}
    check_deadletter_stream(redis, should_fail, source)
    ev = d.status()["events"]
    check(ev["deadlettered"] == n_bad and ev["counted"] == truth.totals["valid"],
          "after kill -9: %r, truth %r" % (ev, truth.totals))
    m = harness.get_metrics(d)
    check(m["stabild_events_deadlettered_total"] == n_bad, "metric deadlettered after restart")
    check(m["stabild_deadletter_writes_total"] == 0,
          "second copies written: %r" % m["stabild_deadletter_writes_total"])
    check(not harness.log_lines(d, "<4>stream: dead-letter"), "dead-letter failures logged:\n%s" %
          "\n".join(harness.log_lines(d, "<4>stream: dead-letter")))
    harness.compare_with_truth(d, truth)
    check(d.stop() == 0, "exit status on SIGTERM")


def test(w):
    part_malformed(w)
    part_kill9(w)


if __name__ == "__main__":
    harness.main(test, "deadletter")
