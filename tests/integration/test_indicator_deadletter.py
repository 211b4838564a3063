#!/usr/bin/env python3
"""Dead-lettering of the other event kinds (README, Events): the
simulator's broken events of every kind (an unknown event, an outcome of
another kind, an assessment without or with a bad checkpoint, a bad
supplement_requested) and hand-written ones end up in stabild:deadletter
once each, under their own stream id, with a reason naming the field
(exact reasons for the hand-written ones), and only those; then a kill -9
before any checkpoint adds no second copy.

Valid events of kinds no indicator watches (appeals and assessments here,
with only the reconsideration indicator configured) are counted, not
dead-lettered. The hand-written ones have ids of their own, so they are
counted exactly whatever the duplicate rule; the simulator's other events
reuse their decision's id, which the ingest of this commit still takes
for a repeat (the per-kind rule comes with the counting per indicator), so
for them the test asserts that every valid entry is either counted or a
duplicate, and that the rejection series equal the truth exactly."""

import re
import time

import harness
import indicators
from harness import check
from test_deadletter import time_ok

BENEFITS = ("sjukpenning", "rehabiliteringsersattning", "sjukersattning", "aktivitetsersattning")
OUTCOMES = {
    "decision": ("granted", "rejected", "partial", "dismissed"),
    "reconsideration": ("changed", "unchanged"),
    "appeal": ("changed", "unchanged"),
    "assessment": ("on_time", "late"),
}
OWN = {"decision": "supplement_requested", "reconsideration": "changed_to",
       "appeal": "court", "assessment": "checkpoint"}
OWN_VALUES = {"supplement_requested": ("yes", "no"), "changed_to": ("granted", "partial", "rejected"),
              "checkpoint": ("90", "180", "365")}
COMMON = ("id", "office", "benefit", "kind", "outcome", "decided_at")


def first_bad_field(pairs):
    """The field a correct validator names for an entry of the simulator
    (whose common fields are well formed unless a decision's defect broke
    one), or None if valid. Independent of the daemon's code."""
    f = {}
    for k, v in pairs:
        f.setdefault(k.decode("latin-1"), v.decode("utf-8", "replace"))
    event = f.get("event", "") or "decision"
    if event not in OUTCOMES:
        return "event"
    for k in COMMON:
        if not f.get(k):
            return k
    if not re.fullmatch(r"[A-Za-z0-9._:-]{1,64}", f["id"]):
        return "id"
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,32}", f["office"]):
        return "office"
    if f["benefit"] not in BENEFITS:
        return "benefit"
    if f["kind"] not in ("first", "ongoing"):
        return "kind"
    if f["outcome"] not in OUTCOMES[event]:
        return "outcome"
    if not time_ok(f["decided_at"].encode(), int(time.time())):
        return "decided_at"
    cd = f.get("case_day", "")
    if cd and not (cd.isdigit() and 1 <= int(cd) <= 3000):
        return "case_day"
    own = OWN[event]
    value = f.get(own, "")
    if own == "checkpoint" and not value:
        return own
    if value and own in OWN_VALUES and value not in OWN_VALUES[own]:
        return own
    if value and own == "court" and len(value.encode()) > 64:
        return own
    return None


def hand_entries():
    """(fields, reason or None) of hand-written events, ids of their own."""
    base = [("office", "K001"), ("benefit", "sjukpenning"), ("kind", "first"),
            ("decided_at", "2023-01-25T12:00:00+01:00")]

    def entry(i, event, outcome, *extra):
        ev = [("event", event)] if event is not None else []
        return [("id", "hand-%d" % i)] + ev + base + [("outcome", outcome)] + list(extra)

    bad = [
        (entry(1, "ruling", "changed"), "event: unknown value 'ruling'"),
        (entry(2, "Reconsideration", "changed"), "event: unknown value 'Reconsideration'"),
        (entry(3, "reconsideration", "granted"),
         "outcome: unknown value 'granted' for a reconsideration (changed, unchanged)"),
        (entry(4, "appeal", "late"), "outcome: unknown value 'late' for an appeal (changed, unchanged)"),
        (entry(5, "assessment", "changed", ("checkpoint", "90")),
         "outcome: unknown value 'changed' for an assessment (on_time, late)"),
        (entry(6, None, "changed"), "outcome: unknown value 'changed'"),
        (entry(7, "assessment", "late"), "checkpoint: missing"),
        (entry(8, "assessment", "late", ("checkpoint", "100")), "checkpoint: unknown value '100'"),
        (entry(9, "assessment", "late", ("checkpoint", "")), "checkpoint: empty"),
        (entry(10, None, "granted", ("supplement_requested", "maybe")),
         "supplement_requested: unknown value 'maybe'"),
        (entry(11, "reconsideration", "changed", ("changed_to", "dismissed")),
         "changed_to: unknown value 'dismissed'"),
        (entry(12, "appeal", "changed", ("court", "x" * 65)),
         "court: longer than 64 bytes '%s'..." % ("x" * 32)),
    ]
    good = [
        # Kinds no configured indicator watches: counted all the same.
        entry(20, "appeal", "changed", ("court", "Förvaltningsrätten i Stockholm")),
        entry(21, "assessment", "on_time", ("checkpoint", "180")),
        # A field of another kind is ignored, even when it would be bad.
        entry(22, "assessment", "late", ("checkpoint", "365"), ("supplement_requested", "maybe")),
        entry(23, "reconsideration", "unchanged", ("checkpoint", "100")),
        entry(24, None, "rejected", ("supplement_requested", "yes")),
        entry(25, "decision", "granted", ("court", "x" * 100)),
    ]
    return bad, good


def check_deadletters(redis, should_fail, source):
    """Each dead-letter entry once, under its source's id, with its fields
    byte for byte; exactly the entries that should fail. {id: reason}."""
    source = dict(source)
    reasons = {}
    for eid, pairs in harness.xrange_all(redis, "stabild:deadletter"):
        check(pairs[0][0] == b"reason" and pairs[1] == (b"source_id", eid.encode()),
              "dead-letter %s starts with %r" % (eid, pairs[:2]))
        check(eid not in reasons, "dead-letter entry %s twice" % eid)
        check(eid in source and pairs[2:] == source[eid], "dead-letter %s differs from its source" % eid)
        reasons[eid] = pairs[0][1].decode()
    check(set(reasons) == set(should_fail), "dead-lettered ids differ: missing %s, extra %s" %
          (sorted(set(should_fail) - set(reasons))[:5], sorted(set(reasons) - set(should_fail))[:5]))
    return reasons


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 13, "--weeks", 5, "--per-week", 2500,
                            "--start", "2023-01-02", "--malformed", 0.04, "--events", "all")
    check(truth.totals["malformed"] > 100, "simulator wrote %r" % truth.totals)
    bad, good = hand_entries()
    bad_ids = {harness.xadd(redis, fields): reason for fields, reason in bad}
    good_ids = [harness.xadd(redis, fields) for fields in good]
    for fields in good:
        f = dict(fields)
        if f.get("event", "decision") == "decision":
            harness.truth_add(truth, "K001", "sjukpenning", "first",
                              harness.week_label(1674644400), f["outcome"])
    written = truth.totals["written"] + len(bad) + len(good)

    # Only reconsiderations are watched; nothing is checkpointed, so the
    # kill -9 below comes before any acknowledgement.
    d = harness.Daemon(w.path, redis, conf_extra=dict(
        indicators.sections("reconsideration"),
        state={"checkpoint_interval": "10m", "checkpoint_events": "10000000"})).start()
    w.add(d.stop)
    harness.wait_processed(d, written, redis=redis)

    source = harness.xrange_all(redis, "stabild:decisions")
    check(len(source) == written, "stream holds %d entries, %d written" % (len(source), written))
    verdict = {eid: first_bad_field(pairs) for eid, pairs in source}
    should_fail = {eid for eid, v in verdict.items() if v is not None}
    n_bad = truth.totals["malformed"] + len(bad)
    check(set(bad_ids) <= should_fail and not set(good_ids) & should_fail, "self-check of the validator")
    check(len(should_fail) == n_bad, "validator finds %d bad entries, %d written" % (len(should_fail), n_bad))
    kinds = {}
    for eid in should_fail:
        kinds[verdict[eid]] = kinds.get(verdict[eid], 0) + 1
    for field in ("event", "outcome", "checkpoint", "supplement_requested"):
        check(kinds.get(field, 0) >= 3, "few broken %s fields: %r" % (field, kinds))
    harness.wait_for(lambda: redis.call("XLEN", "stabild:deadletter") >= n_bad, 10,
                     "%d dead-letter entries" % n_bad)
    reasons = check_deadletters(redis, should_fail, source)
    for eid, reason in bad_ids.items():
        check(reasons[eid] == reason, "entry %s: reason %r, expected %r" % (eid, reasons[eid], reason))
    for eid, reason in reasons.items():
        check(reason.startswith(verdict[eid] + ": "),
              "entry %s: reason %r does not name %s" % (eid, reason, verdict[eid]))

    ev = d.status()["events"]
    check(ev["deadlettered"] == n_bad, "deadlettered %d, %d broken" % (ev["deadlettered"], n_bad))
    valid = written - n_bad
    check(ev["counted"] + ev["duplicates"] == valid,
          "counted %d + duplicates %d, %d valid entries" % (ev["counted"], ev["duplicates"], valid))
    # At least every decision and every hand-written event: the kinds no
    # indicator watches are counted, not dropped.
    decisions = sum(row[0] + row[3] for key, weeks in truth.weeks.items() if key[0] != "national"
                    for row in weeks.values())
    others = sum(1 for fields in good if dict(fields).get("event", "decision") != "decision")
    check(ev["counted"] >= decisions + others,
          "counted %d, %d decisions and %d other events" % (ev["counted"], decisions, others))
    if "by_event" in ev:
        for kind in ("appeal", "assessment"):
            check(ev["by_event"].get(kind, 0) >= 1, "by_event %r" % ev["by_event"])
    harness.compare_with_truth(d, truth)
    before = dict(ev)
    d.kill9()

    # Restarted from nothing checkpointed: every entry is read again, no
    # dead letter is written twice, and the counts come out the same.
    d.sections["state"] = {"dir": d.state_dir, "checkpoint_interval": "200ms"}
    d.write_conf()
    d.start()
    harness.wait_processed(d, written, redis=redis)
    harness.wait_acked(redis)
    check_deadletters(redis, should_fail, source)
    ev = d.status()["events"]
    for k in ("counted", "deadlettered", "duplicates"):
        check(ev[k] == before[k], "%s %d after kill -9, %d before" % (k, ev[k], before[k]))
    m = harness.get_metrics(d)
    check(m["stabild_deadletter_writes_total"] == 0,
          "second copies written: %r" % m["stabild_deadletter_writes_total"])
    harness.compare_with_truth(d, truth)

    # Valid events of the unwatched kinds, ids of their own: each counted.
    more = [[("id", "late-%d" % i), ("event", event), ("office", "K002"), ("benefit", "sjukpenning"),
             ("kind", "ongoing"), ("outcome", outcome), ("decided_at", "2023-01-26T10:00:00+01:00")] + extra
            for i, (event, outcome, extra) in enumerate([
                ("appeal", "unchanged", []), ("assessment", "late", [("checkpoint", "90")]),
                ("assessment", "on_time", [("checkpoint", "365"), ("case_day", "370")])])]
    for fields in more:
        harness.xadd(redis, fields)
    harness.wait_processed(d, written + len(more), redis=redis)
    ev = d.status()["events"]
    check(ev["counted"] == before["counted"] + len(more) and ev["deadlettered"] == before["deadlettered"]
          and ev["duplicates"] == before["duplicates"],
          "after %d valid appeals and assessments: %r, before %r" % (len(more), ev, before))
    check(d.stop() == 0, "exit status on SIGTERM")


if __name__ == "__main__":
    harness.main(test, "indicator_deadletter")
