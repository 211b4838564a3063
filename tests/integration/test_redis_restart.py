#!/usr/bin/env python3
"""Redis restarts. (1) A persistent Redis is stopped while stabild is in
the middle of the stream: the daemon stays up, the API answers with the
stream not "reading" and stabild_stream_connected 0; Redis comes back on
the same port with its data, and stabild resumes: every count equals the
truth, each bad entry is dead-lettered once, one reconnect is counted, the
loss and the return are logged once each, and nothing stays pending.
(2) Redis is down when stabild starts: the API answers, the stream is not
connected, one warning is logged however often it retries, and once Redis
is up the events are counted."""

import time

import harness
from harness import check


def processed(d):
    ev = d.status()["events"]
    return ev["counted"] + ev["deadlettered"] + ev["duplicates"]


def stream_log(d):
    """Warning and notice lines of the stream module, in order."""
    return [l for l in harness.log_lines(d) if l[:3] in ("<4>", "<5>") and l[3:].startswith("stream:")]


def check_down(d, what):
    """The daemon lives and says the stream is not connected."""
    check(d.proc.poll() is None, "stabild exited while Redis was away (%s); log:\n%s" % (what, d.log()))
    state = d.status()["stream"]["state"]
    check(state in ("disconnected", "connecting"), "stream state %r while Redis is away (%s)" % (state, what))
    m = harness.get_metrics(d)
    check(m["stabild_stream_connected"] == 0, "stabild_stream_connected %r while Redis is away (%s)" %
          (m["stabild_stream_connected"], what))
    return m


def outage_mid_stream(w):
    redis = harness.Redis(w.path + "/persistent", persistent=True).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 41, "--weeks", 10, "--per-week", 15000,
                            "--start", "2022-08-01", "--malformed", 0.005)
    written = truth.totals["written"]
    d = harness.Daemon(w.path, redis).start()
    w.add(d.stop)
    harness.wait_for(lambda: processed(d) >= 15000, 20, "stabild to get going")
    redis.stop()
    at_stop = processed(d)
    check(at_stop < written, "stabild had finished (%d of %d) before Redis was stopped; the test "
          "needs a longer stream" % (at_stop, written))
    time.sleep(1.0)
    m = check_down(d, "mid-stream")
    check(processed(d) < written, "all entries counted with Redis away")
    check(m["stabild_redis_reconnects_total"] == 0, "reconnects %r before Redis is back" %
          m["stabild_redis_reconnects_total"])

    harness.restart_redis(redis)    # same port, same directory: the data comes back
    check(redis.call("XLEN", "stabild:decisions") == written, "Redis lost entries across its restart")
    harness.wait_processed(d, written, redis=redis)
    harness.wait_acked(redis)
    st = d.status()
    ev = st["events"]
    check(st["stream"]["state"] == "reading", "stream state %r" % st["stream"]["state"])
    check(ev["counted"] == truth.totals["valid"] and ev["deadlettered"] == truth.totals["malformed"]
          and ev["duplicates"] == 0, "after the outage: %r, truth %r" % (ev, truth.totals))
    harness.compare_with_truth(d, truth)
    dl = [p[1][1] for _, p in harness.xrange_all(redis, "stabild:deadletter")]
    check(len(dl) == len(set(dl)) == truth.totals["malformed"],
          "dead-letter stream: %d entries, %d distinct, %d malformed" %
          (len(dl), len(set(dl)), truth.totals["malformed"]))
    m = harness.get_metrics(d)
    check(m["stabild_stream_connected"] == 1, "stabild_stream_connected %r" % m["stabild_stream_connected"])
    check(m["stabild_redis_reconnects_total"] == 1, "stabild_redis_reconnects_total %r after one outage" %
          m["stabild_redis_reconnects_total"])

    # One line when the link goes, one when it is back; retries in between
    # repeat no warning.
    lines = stream_log(d)
    lost = [l for l in lines if "link lost" in l]
    conn = [l for l in lines if "connected to redis" in l]
    check(len(lost) == 1 and lost[0].startswith("<4>"), "link lost lines: %r" % lost)
    check(len(conn) == 2 and all(l.startswith("<5>") for l in conn), "connected lines: %r" % conn)
    down = lines[lines.index(lost[0]):lines.index(conn[1])]
    warnings = [l for l in down if l.startswith("<4>")]
    check(len(warnings) == len(set(warnings)) and len(warnings) <= 3,
          "warnings while Redis was away repeat:\n%s" % "\n".join(warnings))
    errors = harness.log_lines(d, "<3>") + harness.log_lines(d, "<2>")
    check(not errors, "errors logged:\n%s" % "\n".join(errors))
    check(d.stop() == 0, "exit status on SIGTERM")


def down_at_start(w):
    redis = harness.Redis(w.path + "/late")       # not started yet
    w.add(redis.stop)
    d = harness.Daemon(w.path, redis, name="cold").start()
    w.add(d.stop)
    # Let it fail a few times (backoff 100 ms, 200 ms, ...).
    harness.wait_for(lambda: harness.get_metrics(d)["stabild_redis_errors_total"] >= 3, 10,
                     "several failed connects")
    m = check_down(d, "at start")
    check(m["stabild_redis_reconnects_total"] == 0, "reconnects %r" % m["stabild_redis_reconnects_total"])
    check(d.status()["events"]["counted"] == 0, "counted without Redis")

    redis.start()
    truth = harness.run_sim(redis, w.path, "--seed", 42, "--weeks", 3, "--per-week", 3000,
                            "--start", "2023-09-04")
    d.wait_counted(truth.totals["written"], timeout=30)
    st = d.status()
    check(st["stream"]["state"] == "reading", "stream state %r" % st["stream"]["state"])
    check(st["events"]["counted"] == truth.totals["valid"], "counted %r, truth %r" %
          (st["events"], truth.totals))
    harness.compare_with_truth(d, truth)
    harness.wait_acked(redis)
    m = harness.get_metrics(d)
    check(m["stabild_stream_connected"] == 1, "stabild_stream_connected %r" % m["stabild_stream_connected"])
    check(m["stabild_redis_reconnects_total"] == 0, "the first connect counted as a reconnect: %r" %
          m["stabild_redis_reconnects_total"])
    lines = stream_log(d)
    unavailable = [l for l in lines if "unavailable" in l]
    conn = [l for l in lines if "connected to redis" in l]
    check(len(unavailable) == 1 and unavailable[0].startswith("<4>"),
          "expected one warning for the failing connects, got:\n%s" % "\n".join(unavailable))
    check(not [l for l in lines if "link lost" in l], "a link that never was is reported lost")
    check(len(conn) == 1, "connected lines: %r" % conn)
    check(d.stop() == 0, "exit status on SIGTERM")


def test(w):
    outage_mid_stream(w)
    down_at_start(w)


if __name__ == "__main__":
    harness.main(test, "redis_restart")
