#!/usr/bin/env python3
"""Expired notifications are kept within bounds: an outbox holding
notifications older than alerts.delivery_expiry (a daemon that was down
for days, its receiver too) expires them at their first failed attempt,
keeps alerts.expired_keep of them for inspection, drops the rest (and any
kept past alerts.expired_max_age), each logged and counted; the files go
with them, a restart keeps the bound, and new alerts are still taken and
delivered once the receiver is back, the expired ones never."""

import re
import time

import harness
import outbox_files
from harness import check
from webhook_sink import Sink

KEEP = 10
STALE = 30      # waiting, created two days ago: they expire at their next failure
OLD = 5         # expired long ago: beyond the age kept


def metrics(d):
    return harness.get_metrics(d)


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    sink = Sink()            # its port, nothing listening yet: the receiver is down
    w.add(sink.stop)
    d = harness.Daemon(w.path, redis, conf_extra={
        "alerts": {"historical_age": "50y", "retry_max": "1s", "expired_keep": str(KEEP),
                   "expired_max_age": "1h"},
        "detector": {"min_reference_weeks": "13"}})
    with open(d.conf_path, "a") as f:
        f.write('\n[receiver "ops"]\ntype = webhook\nurl = http://127.0.0.1:%d/hook\n'
                'timeout = 1s\nconnect_timeout = 1s\n' % sink.port)
    now = int(time.time() * 1000)
    two_days = 2 * 86400 * 1000
    seeded = set()
    for i in range(STALE):
        nid = "stale-%02d.1.ops" % i
        outbox_files.write(d.state_dir, nid, "ops", now - two_days + i, now - 1000 + i,
                           state="retry", attempts=7, last_error="HTTP 503")
        seeded.add(nid)
    for i in range(OLD):
        nid = "old-%02d.1.ops" % i
        outbox_files.write(d.state_dir, nid, "ops", now - 3 * two_days + i,
                           now - two_days + i, state="expired", attempts=40,
                           last_error="connection refused")
        seeded.add(nid)
    d.start()
    w.add(d.stop)

    def settled():
        m = metrics(d)
        return (m["stabild_notifications_expired_total"] == STALE and
                m["stabild_outbox_expired"] == KEEP and m) or False
    m = harness.wait_for(settled, 30, "%d expired, %d kept" % (STALE, KEEP))
    dropped = STALE + OLD - KEEP
    check(m["stabild_notifications_dropped_total"] == dropped,
          "dropped %r, want %d" % (m["stabild_notifications_dropped_total"], dropped))
    check(m["stabild_outbox_pending"] == 0, "pending %r" % m["stabild_outbox_pending"])
    # The files go off the loop, soon after.
    harness.wait_for(lambda: outbox_files.count(d.state_dir) == KEEP, 10,
                     "%d files in the outbox" % KEEP)
    log = d.log()
    lines = re.findall(r"^<\d>spool: dropped expired (\S+) for ops \(([^)]*)\)", log, re.M)
    check(len(lines) == dropped, "%d drop lines, want %d" % (len(lines), dropped))
    by_age = {nid for nid, why in lines if why == "kept long enough"}
    check(by_age == {"old-%02d.1.ops" % i for i in range(OLD)},
          "dropped for their age: %s" % sorted(by_age))
    check(re.search(r"deliver: dropped \d+ expired notifications; %d kept" % KEEP, log),
          "no summary line")
    s, dl = d.get("/v1/deliveries")
    check(s == 200, "GET /v1/deliveries: %s" % s)
    kept = dl["deliveries"]
    check(len(kept) == KEEP and all(x["state"] == "expired" and x["expired_at"] and
                                    x["next_at"] is None and x["id"].startswith("stale-")
                                    for x in kept), "kept %r" % kept[:2])
    check(dl["since_start"]["dropped"] == dropped, "since_start %r" % dl["since_start"])

    # A restart with a smaller bound drops down to it.
    d.stop()
    d.sections["alerts"]["expired_keep"] = "4"
    d.write_conf()
    with open(d.conf_path, "a") as f:
        f.write('\n[receiver "ops"]\ntype = webhook\nurl = http://127.0.0.1:%d/hook\n'
                'timeout = 1s\nconnect_timeout = 1s\n' % sink.port)
    d.start()
    harness.wait_for(lambda: metrics(d)["stabild_outbox_expired"] == 4, 15, "4 kept")
    harness.wait_for(lambda: outbox_files.count(d.state_dir) == 4, 10, "4 files")
    check(metrics(d)["stabild_notifications_dropped_total"] == KEEP - 4,
          "dropped after the restart %r" % metrics(d)["stabild_notifications_dropped_total"])

    # The receiver is back; new alerts go out, the expired ones do not.
    sink.start()
    truth = harness.run_sim(redis, w.path, "--seed", 5, "--weeks", 22, "--per-week", 5000,
                            "--start", "2019-01-07", "--drift", "K024:sjukpenning:*:17:3")
    d.wait_counted(truth.totals["written"], timeout=120)
    s, body = d.get("/v1/alerts")
    check(s == 200 and body["alerts"], "no alerts were raised")
    keys = {"%s.%d.ops" % (a["alert_id"], q) for a in body["alerts"] for q in range(1, a["seq"] + 1)}
    harness.wait_for(lambda: set(sink.ok) >= keys, 30, "the new alerts at the receiver")
    check(not (set(sink.ok) & seeded), "expired notifications were sent: %s"
          % sorted(set(sink.ok) & seeded)[:3])
    check(not sink.dups, "sent twice: %s" % sink.dups[:3])
    m = metrics(d)
    check(m["stabild_outbox_expired"] == 4 and m["stabild_outbox_pending"] == 0,
          "outbox expired %r pending %r" % (m["stabild_outbox_expired"],
                                            m["stabild_outbox_pending"]))


if __name__ == "__main__":
    harness.main(test, "outbox_expiry")
