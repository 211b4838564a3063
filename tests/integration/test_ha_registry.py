#!/usr/bin/env python3
"""Shared registries (issue 14) on two instances fed a small scenario with
one drift. An explanation POSTed on A covering the drift's onset is listed
by B within a second (measured; asserted at 2 s) and re-classifies the
alert on both with the same seq; a DELETE on B makes it unexplained on
both again, and that state is silenced on A by a silence POSTed on B.
Writes go through one Redis script: stored with by and log_id, logged
with at; of two concurrent POSTs of one id one wins, the other is 409;
deleting an absent id is 404. A refit and a (refused) rebaseline go
through the log to both. Peers that have applied a change at
different times are never reported to disagree. B restarted on an empty state directory
catches up and agrees; an instance that ran without HA with an
explanation in its explanations.json imports it at its first HA start,
and A lists it. With Redis stopped a write is 503 and nothing changes."""

import datetime
import json
import os
import shutil
import threading
import time

import harness
import ha
from harness import check, WRITE_TOKEN

START = "2023-01-02"                  # a Monday
WEEKS = 18
PER_WEEK = 2000
SHIFT_WEEK = 14
MORE_WEEKS = 2
OFFICE = "K002"
HASH = "stabild:ha:explanations"
LOG = "stabild:ha:log"
CONF = {"detector": {"min_reference_weeks": "13"},
        "alerts": {"historical_age": "50y"}}


_lap = [time.monotonic()]


def lap(what):
    """Print how long the step just done took."""
    now = time.monotonic()
    print("ha_registry: %s: %.1f s" % (what, now - _lap[0]), flush=True)
    _lap[0] = now


def monday(week):
    return datetime.date.fromisoformat(START) + datetime.timedelta(weeks=week)


def post(d, path, body):
    s, h, raw = d.request("POST", path, token=WRITE_TOKEN, body=body)
    return s, h, json.loads(raw) if raw else None


def delete(d, path):
    s, h, raw = d.request("DELETE", path, token=WRITE_TOKEN)
    return s, h, json.loads(raw) if raw else None


def listed(d, what="explanations"):
    s, body = d.get("/v1/" + what)
    check(s == 200, "GET /v1/%s: %s %r" % (what, s, body))
    return {x["id"]: x for x in body[what]}


def drift_alert(d):
    """The drifting office's rejection alerts: {alert_id: alert}."""
    return {a["alert_id"]: a for a in ha.alerts(d)["alerts"]
            if a["series"]["office"] == OFFICE and "indicator" not in a}


def settled(d):
    st = d.status()
    return not st["detector_busy"] and drift_alert(d)


def classified(d, ids, want):
    """Every alert of ids has classification want on d."""
    got = drift_alert(d)
    return all(got[i]["classification"] == want for i in ids)


def log_entries(redis):
    """[(id, {field: value})] of the control log."""
    return [(i, {k.decode(): v.decode() for k, v in zip(f[::2], f[1::2])})
            for i, f in redis.call("XRANGE", LOG, "-", "+")]


def last_id(redis, key="stabild:decisions"):
    info = redis.call("XINFO", "STREAM", key)
    return dict(zip(info[::2], info[1::2]))[b"last-generated-id"].decode()


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)

    # C runs without HA first, with an explanation in its own files.
    c = harness.Daemon(w.path, redis, conf_extra=CONF, name="c")
    w.add(c.stop)
    c.start()
    old = {"id": "old-ruling", "kind": "court_ruling", "effective_from": "2020-01-01",
           "description": "from before HA"}
    s, _, old_posted = post(c, "/v1/explanations", old)
    check(s == 201, "c without HA: %s %r" % (s, old_posted))
    s, _, old_sil = post(c, "/v1/silences", {"matchers": {"benefit": "sjukersattning"},
                                             "ends_at": "2098-01-01T00:00:00Z",
                                             "comment": "from before HA"})
    check(s == 201, "c's silence without HA: %s %r" % (s, old_sil))
    c.stop()

    t0 = time.monotonic()
    truth = harness.run_sim(redis, w.path, "--seed", 5, "--offices", 3, "--weeks", WEEKS,
                            "--per-week", PER_WEEK, "--start", START,
                            "--drift", "%s:sjukpenning:*:%d:3.0" % (OFFICE, SHIFT_WEEK))
    total = truth.totals["written"]
    print("ha_registry: %d entries written in %.1f s" % (total, time.monotonic() - t0),
          flush=True)

    a, b = ha.ha_pair(w, redis, extra=CONF)
    for d in (a, b):
        w.add(d.stop)
    lap("c without HA, the simulator")
    a.start(wait=False)
    b.start(wait=False)

    for d in (a, b):
        harness.wait_processed(d, total, stall=20, limit=120)
    harness.wait_for(lambda: settled(a) and settled(b), 60, "the drift's alert on both")
    lap("both drained and settled")
    la = ha.same_alerts(a, b)
    alerts = drift_alert(a)
    check(alerts, "no alert for %s: %s" % (OFFICE, la))
    ids = sorted(alerts)
    check(all(x["classification"] == "unexplained" for x in alerts.values()),
          "before: %r" % [(x["alert_id"], x["classification"]) for x in alerts.values()])
    year, week = min(x["onset"] for x in alerts.values()).split("-W")
    onset = datetime.date.fromisocalendar(int(year), int(week), 1).isoformat()
    seq0 = {i: alerts[i]["seq"] for i in ids}

    # An explanation on A covering the onset: listed on B within a second.
    expl = {"id": "law-2023", "kind": "legislation", "effective_from": onset,
            "benefits": ["sjukpenning"], "offices": [OFFICE], "description": "a new law"}
    t1 = time.monotonic()
    s, h, body = post(a, "/v1/explanations", expl)
    check(s == 201 and h.get("X-Stabild-Applied") == "yes", "POST on a: %s %r %r" % (s, h, body))
    check(h.get("Location") == "/v1/explanations/law-2023", "Location: %r" % h)
    while "law-2023" not in listed(b):
        check(time.monotonic() - t1 < 2, "b does not list the explanation after 2 s")
        time.sleep(0.005)
    lag = time.monotonic() - t1
    print("ha_registry: the explanation was listed on b %.0f ms after the POST on a"
          % (lag * 1000), flush=True)
    check(listed(a)["law-2023"] == listed(b)["law-2023"], "a and b list it differently")

    stored = json.loads(redis.call("HGET", HASH, "law-2023"))
    check(stored["by"] == "a" and stored["description"] == "a new law",
          "the stored explanation: %r" % stored)
    entries = [(i.decode(), f) for i, f in log_entries(redis)
               if f.get("kind") == "explanation"]
    check(len(entries) == 1, "the log holds %d explanations" % len(entries))
    lid, f = entries[0]
    check(f["op"] == "put" and f["id"] == "law-2023" and f["by"] == "a" and
          f["at"] == last_id(redis),
          "the log entry: %r" % f)
    check(stored["log_id"] == lid, "log_id %s, the log has %s" % (stored["log_id"], lid))

    # Both re-classify the alert, with the same seq.
    harness.wait_for(lambda: classified(a, ids, "explained") and classified(b, ids, "explained"),
                     10, "explained on both")
    la = ha.same_alerts(a, b)
    now = drift_alert(a)
    check(all(now[i]["seq"] == seq0[i] + 1 for i in ids),
          "seq %r, before %r" % ({i: now[i]["seq"] for i in ids}, seq0))
    print("ha_registry: %d alerts explained on both, seq %s" % (len(ids),
          [now[i]["seq"] for i in ids]), flush=True)

    # The same id on B: the shared registry refuses it.
    s, h, body = post(b, "/v1/explanations", expl)
    check(s == 409 and "already exists" in body["message"], "b: %s %r" % (s, body))

    # A silence POSTed on B: listed on A, and it holds the next state there.
    s, h, sil = post(b, "/v1/silences", {"matchers": {"alert_id": ids[0]},
                                         "ends_at": "2099-01-01T00:00:00Z",
                                         "comment": "maintenance"})
    check(s == 201 and sil["id"].startswith("s-"), "silence: %s %r" % (s, sil))
    check(h.get("Location") == "/v1/silences/" + sil["id"], "Location: %r" % h)
    check(h.get("X-Stabild-Applied") == "yes", "X-Stabild-Applied: %r" % h)
    check(redis.call("HEXISTS", "stabild:ha:silences", sil["id"]), "the silence is not in the hash")
    harness.wait_for(lambda: sil["id"] in listed(a, "silences"), 2, "the silence on a")
    check(listed(a, "silences")[sil["id"]] == listed(b, "silences")[sil["id"]],
          "a and b list the silence differently")

    # DELETE on B: unexplained again on both, and that state silenced.
    marks = [len(d.log()) for d in (a, b)]
    s, h, body = delete(b, "/v1/explanations/law-2023")
    check(s == 204 and h.get("X-Stabild-Applied") == "yes", "DELETE on b: %s %r" % (s, h))
    harness.wait_for(lambda: "law-2023" not in listed(a), 2, "the delete on a")
    check(not redis.call("HEXISTS", HASH, "law-2023"), "still in the hash")
    harness.wait_for(lambda: classified(a, ids, "unexplained") and
                     classified(b, ids, "unexplained"), 10, "unexplained on both")
    ha.same_alerts(a, b)
    now = drift_alert(a)
    check(all(now[i]["seq"] == seq0[i] + 2 for i in ids), "seq %r" % {i: now[i]["seq"]
                                                                     for i in ids})
    line = "deliver: %s (state %d, firing) silenced by %s" % (ids[0], seq0[ids[0]] + 2,
                                                              sil["id"])
    for d, m in zip((a, b), marks):
        harness.wait_for(lambda: line in d.log()[m:], 5, "%r in %s" % (line, d.log_path))

    # Two concurrent POSTs of one new id: one 201, one 409.
    other = dict(expl, id="court-1", kind="court_ruling")
    results = []

    def one(d):
        results.append(post(d, "/v1/explanations", other)[0])
    ts = [threading.Thread(target=one, args=(d,)) for d in (a, b)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(sorted(results) == [201, 409], "concurrent POSTs: %s" % results)
    harness.wait_for(lambda: classified(a, ids, "explained") and classified(b, ids, "explained"),
                     10, "explained by court-1 on both")

    # Deleting an absent id: 404 from the script, on either instance.
    for d in (a, b):
        s, h, raw = d.request("DELETE", "/v1/explanations/nothing", token=WRITE_TOKEN)
        check(s == 404, "DELETE absent: %s %r" % (s, raw))
        s, h, raw = d.request("DELETE", "/v1/silences/s-0000000000000000", token=WRITE_TOKEN)
        check(s == 404, "DELETE absent silence: %s %r" % (s, raw))

    lap("the writes and their checks")

    # More decisions after the changes, so that the log's entries lie
    # between decisions, not only at the end.
    more = harness.run_sim(redis, w.path, "--seed", 6, "--offices", 3, "--weeks", MORE_WEEKS,
                           "--per-week", PER_WEEK, "--start",
                           monday(WEEKS).isoformat(),
                           "--drift", "%s:sjukpenning:*:0:3.0" % OFFICE)
    total += more.totals["written"]
    for d in (a, b):
        harness.wait_processed(d, total, stall=20, limit=120)
    harness.wait_for(lambda: settled(a) and settled(b) and ha.alerts(a) == ha.alerts(b), 30,
                     "the same alerts after %d more entries" % more.totals["written"])
    lap("%d more entries on both" % more.totals["written"])
    la = ha.same_alerts(a, b)

    # A refit through the log (after the last week close, so that no fit
    # runs in this test): the answer as without HA, requested on both.
    marks = [len(d.log()) for d in (a, b)]
    s, h, body = post(b, "/v1/model/sjukpenning/first/refit", {})
    check(s == 202 and body == {"benefit": "sjukpenning", "kind": "first",
                                "refit": "at the next week close"}, "refit: %s %r" % (s, body))
    for d, m in zip((a, b), marks):
        harness.wait_for(lambda: "ha: refit of rejection/sjukpenning/first requested (by b)"
                         in d.log()[m:], 5, "the refit on %s" % d.log_path)
    # A rebaseline of a stable series is refused where it applies: 409
    # on the writer, a logged no-op on both.
    marks = [len(d.log()) for d in (a, b)]
    s, h, body = post(a, "/v1/series/K001/sjukpenning/first/rebaseline", {})
    check(s == 409 and "not drifting" in body["message"], "rebaseline: %s %r" % (s, body))
    for d, m in zip((a, b), marks):
        harness.wait_for(lambda: "rebaseline of rejection/K001/sjukpenning/first not done"
                         in d.log()[m:], 5, "the refused rebaseline on %s" % d.log_path)

    # B again from an empty state directory (and a new group): it applies
    # the log while it replays the stream, and agrees.
    b.kill9()
    shutil.rmtree(b.state_dir)
    redis.call("XGROUP", "DESTROY", "stabild:decisions", "stabild-b")
    b.start()
    harness.wait_processed(b, total, stall=20, limit=120)
    harness.wait_for(lambda: settled(b) and ha.alerts(b) == la, 30,
                     "b's alerts after catching up")
    check(listed(a) == listed(b), "the explanations differ after b's catch-up")
    check(listed(a, "silences") == listed(b, "silences"), "the silences differ")
    lap("b caught up from an empty state directory")

    # A registry change reaches the peers at different times: their
    # heartbeats at one decision position but another control position
    # are no disagreement.
    for d in (a, b):
        check("report different alerts" not in d.log(), "%s: a false disagreement" % d.log_path)

    # C switches to HA: its file's explanation goes to Redis, and A lists it.
    c2 = harness.Daemon(w.path, redis, conf_extra=dict(ha.ha_conf("c"), **CONF), name="c")
    w.add(c2.stop)
    c2.start()
    # imported:c is set once every entry is in.
    harness.wait_for(lambda: redis.call("GET", "stabild:ha:imported:c") is not None, 10,
                     "the import in redis")
    check(json.loads(redis.call("HGET", HASH, "old-ruling"))["by"] == "c", "imported by c")
    check(redis.call("HEXISTS", "stabild:ha:silences", old_sil["id"]), "the silence not imported")
    harness.wait_for(lambda: "old-ruling" in listed(a) and "old-ruling" in listed(b) and
                     old_sil["id"] in listed(b, "silences"), 2, "the import on a and b")
    check(listed(a)["old-ruling"] == old_posted, "imported as %r, posted as %r"
          % (listed(a)["old-ruling"], old_posted))
    check(listed(a, "silences")[old_sil["id"]] == old_sil, "imported as %r, posted as %r"
          % (listed(a, "silences")[old_sil["id"]], old_sil))
    c2.kill9()
    lap("c with HA")

    # The state directory's files mirror the shared registries.
    def mirrored():
        with open(os.path.join(a.state_dir, "explanations.json")) as f:
            ids = {x["id"] for x in json.load(f)}
        with open(os.path.join(a.state_dir, "silences.json")) as f:
            sids = {x["id"] for x in json.load(f)["silences"]}
        return ids == set(listed(a)) and sids == set(listed(a, "silences"))
    harness.wait_for(mirrored, 3, "a's files mirroring the registries")

    # Redis stopped: 503, and nothing written locally.
    before = listed(a)
    redis.stop()
    s, h, body = post(a, "/v1/explanations", dict(expl, id="while-down"))
    check(s == 503 and "unreachable" in body["message"], "redis down: %s %r" % (s, body))
    check(listed(a) == before, "a write changed the local registry")


if __name__ == "__main__":
    harness.main(test, "ha_registry")
