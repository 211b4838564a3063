#!/usr/bin/env python3
"""An old state directory carries on with indicators. The rejection-only
state of tests/data/checkpoint-v2 (written before indicators: INGS v1,
SERI v1, DETE v4) loads into today's daemon as it was configured; its
counts and alert answer as stored, and it goes on counting. Then two
indicators are appended (reconsideration, supplement): the state loads
with them, rejection's series answer exactly as before, and the new
indicators' events are counted and recorded beside the decisions. The
checkpoint now keeps the indicator list: a restart loads it; removing an
indicator, or defining one differently, is refused at start with a
message that says what to do, and the state is left as it was, so that
the right configuration loads it again."""

import collections
import os
import shutil
import time

import harness
import indicators
from harness import check

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "checkpoint-v2")
COUNTED = 18865
ALERT = "K001.sjukpenning.ongoing.2023-W15.up"
RECORD_SIZE = 16
SERIES = [("national", "sjukpenning", "first"), ("national", "sjukersattning", "ongoing"),
          ("K001", "sjukpenning", "ongoing"), ("K002", "rehabiliteringsersattning", "first")]
FIXTURE_CONF = {
    "state": {"checkpoint_interval": "200ms", "dedup_window": "100"},
    "detector": {"min_reference_weeks": "13"},
    "alerts": {"historical_age": "50y"},
    "periods": {"max_offices": "4"},
}


def history(d, office, benefit, kind):
    """Every week's counts of a series, as the API gives them."""
    s, one = d.get("/v1/series/%s/%s/%s?period=week&from=2023-W01&to=2023-W30"
                   % (office, benefit, kind))
    check(s == 200, "GET series %s/%s/%s: %s %s" % (office, benefit, kind, s, one))
    return [(h["period"], h["decisions"], h["rejected"], h["partial"], h["dismissed"])
            for h in one["history"]]


def alert_ids(d):
    s, body = d.get("/v1/alerts")
    check(s == 200, "GET /v1/alerts: %s" % s)
    return sorted(a["alert_id"] for a in body["alerts"])


def records_by_event(state_dir):
    data = harness.records_data(state_dir)
    check(len(data) % RECORD_SIZE == 0, "records hold %d bytes" % len(data))
    return collections.Counter(data[i + 7] >> 4 for i in range(0, len(data), RECORD_SIZE))


def entry(i, t, **extra):
    e = {"id": "u%d" % i, "office": "K00%d" % (1 + i % 3), "benefit": "sjukpenning",
         "kind": "first", "outcome": "granted" if i % 3 else "rejected", "decided_at": str(t)}
    e.update(extra)
    return e


def refused(d, why):
    """The daemon refuses to start, saying why."""
    size = os.path.getsize(d.log_path) if os.path.exists(d.log_path) else 0
    d.start(wait=False)
    try:
        rc = d.proc.wait(15)
    except Exception:
        d.kill9()
        raise harness.TestFailure("stabild started with a refused indicator list")
    d.stop()
    check(rc != 0, "exit status %s for a refused indicator list" % rc)
    with open(d.log_path, "rb") as f:
        f.seek(size)
        log = f.read().decode(errors="replace")
    check(why in log, "no %r in the log:\n%s" % (why, log))


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    d = harness.Daemon(w.path, redis, FIXTURE_CONF)
    w.add(d.stop)
    os.makedirs(d.state_dir)
    for name in os.listdir(FIXTURE):
        if name == "checkpoint" or name.startswith("records"):
            shutil.copy(os.path.join(FIXTURE, name), d.state_dir)

    # As it was: the stored counts and alert.
    d.start()
    ev = d.status()["events"]
    check(ev["counted"] == COUNTED, "the old state loaded with %d counted" % ev["counted"])
    check(ALERT in alert_ids(d), "alert %s not loaded: %s" % (ALERT, alert_ids(d)))
    before = {s: history(d, *s) for s in SERIES}
    check(all(before.values()), "empty series in the old state: %s" % before)
    check(records_by_event(d.state_dir) == {0: COUNTED}, "records of the old state: %s"
          % records_by_event(d.state_dir))

    # Indicators appended: the state loads with them and goes on.
    check(d.stop() == 0, "exit status on SIGTERM")
    for sec, kv in indicators.sections("reconsideration", "supplement").items():
        d.sections[sec] = kv
    d.write_conf()
    d.start()
    check(d.status()["events"]["counted"] == COUNTED, "counted changed with indicators added")
    for s in SERIES:
        check(history(d, *s) == before[s], "series %s changed with indicators added:\n%s\n%s"
              % (s, before[s], history(d, *s)))
    check(ALERT in alert_ids(d), "alert %s gone with indicators added" % ALERT)

    t = int(time.time()) - 86400
    n = 0
    for i in range(60):
        harness.xadd(redis, entry(i, t + i, supplement_requested="yes" if i % 2 else "no"))
        harness.xadd(redis, entry(i, t + i, event="reconsideration",
                                  outcome="changed" if i % 4 == 0 else "unchanged"))
        n += 2
    harness.wait_processed(d, COUNTED + n, redis=redis)
    harness.wait_acked(redis, timeout=20)
    ev = d.status()["events"]
    check(ev["counted"] == COUNTED + n, "counted %d, %d expected" % (ev["counted"], COUNTED + n))
    check(ev["deadlettered"] == 0, "dead-lettered %d" % ev["deadlettered"])
    for s in SERIES:
        check(history(d, *s) == before[s], "an old week of %s moved:\n%s\n%s"
              % (s, before[s], history(d, *s)))

    # The indicator list is kept: a restart loads it.
    check(d.stop() == 0, "exit status on SIGTERM")
    rec = records_by_event(d.state_dir)
    check(rec == {0: COUNTED + 60, 1: 60}, "records by event: %s" % rec)
    d.start()
    check(d.status()["events"]["counted"] == COUNTED + n, "counted after a restart")
    check(d.stop() == 0, "exit status on SIGTERM")

    # Removed: refused, with what to do.
    saved = dict(d.sections)
    del d.sections['indicator "reconsideration"']
    d.write_conf()
    refused(d, "checkpoint: indicator 'reconsideration' is no longer configured; indicators may "
            "only be appended (keep its section; alerts = off stops its alerts)")
    # Defined differently: refused too.
    d.sections = dict(saved)
    d.sections['indicator "reconsideration"'] = dict(saved['indicator "reconsideration"'],
                                                     yes="unchanged", no="changed")
    d.write_conf()
    refused(d, "indicator 'reconsideration' is defined differently now; keep the old "
            "definition and add the new one under a new name")

    # The right configuration finds the state as it was left.
    d.sections = saved
    d.write_conf()
    size = os.path.getsize(d.log_path)
    d.start()
    ev = d.status()["events"]
    check(ev["counted"] == COUNTED + n, "counted %d after the refusals, %d expected"
          % (ev["counted"], COUNTED + n))
    for s in SERIES:
        check(history(d, *s) == before[s], "series %s after the refusals" % (s,))
    check(d.stop() == 0, "exit status on SIGTERM")
    with open(d.log_path, "rb") as f:
        f.seek(size)
        last = f.read().decode(errors="replace").splitlines()
    errors = [l for l in last if l[:3] in ("<0>", "<1>", "<2>", "<3>")]
    check(not errors, "errors logged: %s" % errors[:5])


if __name__ == "__main__":
    harness.main(test, "indicator_upgrade")
