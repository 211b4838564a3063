#!/usr/bin/env python3
"""Signals: SIGHUP reloads tokens, log level and http.auth, reports keys
that need a restart (and keeps using their running values), and keeps the
whole running configuration when the file or the tokens file is broken;
SIGUSR2 toggles debug logging; SIGTERM while ingesting checkpoints,
acknowledges and exits 0, and a restart then counts exactly; SIGTERM
soon after the stream has run dry, with the default BLOCK, leaves
nothing pending; a second SIGTERM exits at once."""

import os
import signal
import subprocess
import time

import harness
from harness import check

NEW_READ_TOKEN = "new-read-token-9876543210fedcba"
STREAM = "stabild:decisions"
OTHER_STREAM = "other:decisions"


class Events:
    """Valid decision events with fresh ids, XADDed one at a time."""

    def __init__(self, redis):
        self.redis = redis
        self.n = 0

    def add(self, stream=STREAM):
        self.n += 1
        return harness.xadd(self.redis, {
            "id": "sig-%d" % self.n, "office": "K001", "benefit": "sjukpenning",
            "kind": "first", "outcome": "rejected",
            "decided_at": "2023-03-%02dT10:00:00+01:00" % (1 + self.n % 28)}, stream=stream)


def status(d):
    """/v1/status with the write token, which every step here keeps."""
    s, body = d.get("/v1/status", token=harness.WRITE_TOKEN)
    check(s == 200, "GET /v1/status: %s %s" % (s, body))
    return body


def counted(d):
    return status(d)["events"]["counted"]


def expect_counted(d, want, what):
    """counted reaches want, and stays there."""
    harness.wait_for(lambda: counted(d) >= want, 10, "%s: counted %d" % (what, want))
    time.sleep(0.3)
    got = counted(d)
    check(got == want, "%s: counted %d, expected %d" % (what, got, want))


def hup(d, pattern):
    """SIGHUP and wait for a log line matching pattern after it; the match."""
    mark = len(d.log())
    d.send_signal(signal.SIGHUP)
    m = harness.wait_log(d, pattern, timeout=10, since=mark)
    check(d.proc.poll() is None, "stabild exited on SIGHUP; log:\n%s" % d.log()[-2000:])
    return m


def status_code(d, token, path="/v1/status", method="GET"):
    return d.request(method, path, token=token)[0]


def debug_lines_after(d, mark):
    return [l for l in d.log()[mark:].splitlines() if l.startswith("<7>")]


def test_reload(w, redis):
    ev = Events(redis)
    # A long BLOCK: the stop below then waits for it, which leaves room
    # for a second SIGTERM.
    d = harness.Daemon(w.path, redis, {"redis": {"block": "10s"}})
    d.start()
    w.add(d.stop)
    for _ in range(3):
        ev.add()
    expect_counted(d, 3, "start")
    check(status_code(d, harness.READ_TOKEN) == 200, "read token before the reload")
    check(not [l for l in d.log().splitlines() if l.startswith("<7>")],
          "debug lines at log level info")

    # New read token (the old one removed) and log level debug.
    d.write_tokens("read %s\nwrite %s\n" % (NEW_READ_TOKEN, harness.WRITE_TOKEN))
    d.sections["log"]["level"] = "debug"
    d.write_conf()
    mark = len(d.log())
    hup(d, r"^<5>reload: done \(2 tokens, log level debug\)$")
    check(status_code(d, NEW_READ_TOKEN) == 200, "new read token after the reload")
    s, h, body = d.request("GET", "/v1/status", token=harness.READ_TOKEN)
    check(s == 401 and b'"unauthorized"' in body, "old read token after the reload: %s %r" % (s, body))
    check(status_code(d, harness.WRITE_TOKEN, "/v1/checkpoint", "POST") == 200,
          "write token after the reload")
    check(debug_lines_after(d, mark), "no debug line after reloading with log level debug")
    check(not [l for l in harness.log_lines(d) if NEW_READ_TOKEN in l or harness.WRITE_TOKEN in l],
          "a token appears in the log")

    # A key that needs a restart: reported, and the old stream still read.
    d.sections["redis"]["stream"] = OTHER_STREAM
    d.sections["log"]["level"] = "info"
    d.write_conf()
    mark = len(d.log())
    hup(d, r"^<5>reload: done \(2 tokens, log level info\)$")
    harness.wait_log(d, r"^<4>reload: redis\.stream changed; it takes effect after a restart$",
                     since=mark)
    mark = len(d.log())
    check(status_code(d, NEW_READ_TOKEN) == 200, "status after the restart-key reload")
    check(not debug_lines_after(d, mark), "debug lines after reloading with log level info")
    ev.add()
    expect_counted(d, 4, "XADD to the running stream after redis.stream changed")
    ev.add(stream=OTHER_STREAM)
    time.sleep(0.5)
    check(counted(d) == 4, "an entry of the new stream was counted before a restart")
    check(redis.call("XINFO", "GROUPS", OTHER_STREAM) == [], "a group was created on the new stream")
    key = status(d)["stream"]["key"]
    check(key == STREAM, "status names another stream: %s" % key)

    # A broken file: nothing of it applies, not even the valid lines above
    # the bad one.
    good_sections = {k: dict(v) for k, v in d.sections.items()}
    d.sections["log"]["level"] = "error"
    d.sections["http"]["auth"] = "off"
    d.write_conf()
    text = open(d.conf_path).read().rstrip("\n") + "\n[http]\nno_such_key = 1\n"
    bad_line = text.count("\n")
    d.write_conf(text)
    m = hup(d, r"^<3>reload: (.*):(\d+): (.*)$")
    check(m.group(1) == d.conf_path and int(m.group(2)) == bad_line and "no_such_key" in m.group(3),
          "error line %r, expected %s:%d naming no_such_key" % (m.group(0), d.conf_path, bad_line))
    check(status_code(d, NEW_READ_TOKEN) == 200, "token after a broken reload")
    check(status_code(d, None) == 401, "http.auth = off above the bad line was applied")
    mark = len(d.log())
    check(status_code(d, None) == 401, "second request without a token")
    harness.wait_log(d, r"^<6>http: .* refused: no token", since=mark)   # still info, not error
    ev.add()
    expect_counted(d, 5, "XADD after a broken reload")

    # A broken tokens file: the running tokens stay.
    d.sections = good_sections
    d.write_conf()
    d.write_tokens("read short\n")
    m = hup(d, r"^<3>reload: (.*)$")
    check(d.tokens_path + ":1:" in m.group(1) and "shorter" in m.group(1),
          "error line for the tokens file: %r" % m.group(0))
    check(status_code(d, NEW_READ_TOKEN) == 200, "read token after a broken tokens file")
    check(status_code(d, harness.WRITE_TOKEN, "/v1/checkpoint", "POST") == 200,
          "write token after a broken tokens file")
    check(status_code(d, harness.READ_TOKEN) == 401, "the token removed earlier came back")
    ev.add()
    expect_counted(d, 6, "XADD after a broken tokens file")

    # http.auth on -> off: reads need no token; writes still do.
    d.write_tokens("read %s\nwrite %s\n" % (NEW_READ_TOKEN, harness.WRITE_TOKEN))
    d.sections["http"]["auth"] = "off"
    d.write_conf()
    hup(d, r"^<5>reload: done ")
    for path in ("/v1/status", "/v1/series", "/metrics"):
        check(status_code(d, None, path) == 200, "%s without a token after auth = off" % path)
    s, h, body = d.request("POST", "/v1/checkpoint", token=None)
    check(s == 401 and h.get("WWW-Authenticate") == "Bearer",
          "POST /v1/checkpoint without a token with auth = off: %s" % s)
    check(status_code(d, NEW_READ_TOKEN, "/v1/checkpoint", "POST") == 403,
          "POST /v1/checkpoint with the read token with auth = off")
    # ... and back on.
    d.sections["http"]["auth"] = "on"
    d.write_conf()
    hup(d, r"^<5>reload: done ")
    check(status_code(d, None) == 401, "no token after auth = on again")

    # SIGUSR2 toggles debug logging.
    mark = len(d.log())
    check(status_code(d, NEW_READ_TOKEN) == 200 and not debug_lines_after(d, mark),
          "debug line at log level info")
    d.send_signal(signal.SIGUSR2)
    harness.wait_log(d, r"^<5>stabild: log level now debug$", since=mark)
    mark = len(d.log())
    check(status_code(d, NEW_READ_TOKEN) == 200, "status with debug logging")
    harness.wait_log(d, r"^<7>http: 127\.0\.0\.1 GET /v1/status 200$", since=mark)
    d.send_signal(signal.SIGUSR2)
    harness.wait_log(d, r"^<5>stabild: log level now info$", since=mark)
    mark = len(d.log())
    check(status_code(d, NEW_READ_TOKEN) == 200, "status after debug logging")
    check(not debug_lines_after(d, mark), "debug lines after SIGUSR2 turned debug off: %s"
          % debug_lines_after(d, mark)[:3])

    # SIGTERM while XREADGROUP blocks for 10 s: a second SIGTERM exits at once.
    t0 = time.monotonic()
    d.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    if d.proc.poll() is None:
        d.send_signal(signal.SIGTERM)
        try:
            rc = d.proc.wait(2)
        except subprocess.TimeoutExpired:
            raise harness.TestFailure("stabild still runs 2 s after a second SIGTERM")
        harness.wait_log(d, r"^<5>stabild: second signal, exiting now$")
        print("signals: second SIGTERM exited after %.2f s" % (time.monotonic() - t0))
    else:
        rc = d.proc.returncode
        print("signals: the first SIGTERM already exited (%.2f s)" % (time.monotonic() - t0))
    check(rc == 0, "exit status %s after SIGTERM" % rc)
    harness.wait_log(d, r"^<5>stabild: stopped$")
    d.stop()


def test_term_while_ingesting(w, redis):
    stream, dls = "term:decisions", "term:deadletter"
    truth = harness.run_sim(redis, w.path, "--seed", 21, "--offices", 20, "--weeks", 30,
                            "--per-week", 5000, "--start", "2022-06-06",
                            "--malformed", 0.002, "--duplicates", 0.002, stream=stream)
    d = harness.Daemon(w.path, redis, {"redis": {"stream": stream, "deadletter": dls, "batch": "500"}},
                       name="term")
    d.start()
    w.add(d.stop)
    before = harness.wait_for(lambda: counted(d) >= 5000 and counted(d), 20, "5000 counted")
    rc = d.stop(signal.SIGTERM, timeout=15)
    check(rc == 0, "exit status %s after SIGTERM" % rc)
    log = d.log()
    check("<5>stabild: stopping (SIGTERM)" in log and "<5>stabild: stopped" in log,
          "no stop lines in the log:\n%s" % log[-2000:])
    check(os.path.isfile(os.path.join(d.state_dir, "checkpoint")), "no checkpoint file")
    g = harness.xinfo_group(redis, stream)
    xlen = redis.call("XLEN", stream)
    check(g["entries-read"] < xlen, "SIGTERM came after the whole stream was read (%s of %s)"
          % (g["entries-read"], xlen))
    pending = harness.xpending_count(redis, stream)
    print("signals: SIGTERM after %d counted; group read %d of %d; %d pending after exit"
          % (before, g["entries-read"], xlen, pending))

    # Start again, with smaller batches so that the pending list is read
    # back in several pages: the checkpoint holds at least what was counted
    # before the signal, and the rest is counted exactly once.
    d.sections["redis"]["batch"] = "100"
    d.write_conf()
    mark = len(d.log())
    d.start()
    m = harness.wait_log(d, r"^<6>state: checkpoint .* loaded: (\d+) counted$", since=mark)
    saved = int(m.group(1))
    check(before <= saved < truth.totals["valid"], "checkpoint holds %d counted; %d before "
          "SIGTERM, %d in all" % (saved, before, truth.totals["valid"]))
    harness.wait_processed(d, truth.totals["written"], redis=redis, stream=stream)
    ev = d.status()["events"]
    check((ev["counted"], ev["deadlettered"], ev["duplicates"]) ==
          (truth.totals["valid"], truth.totals["malformed"], truth.totals["duplicates"]),
          "events %r, truth %r" % (ev, truth.totals))
    harness.compare_with_truth(d, truth)
    check(redis.call("XLEN", dls) == truth.totals["malformed"], "dead-letter stream length")
    harness.wait_for(lambda: harness.xpending_count(redis, stream) == 0, 10, "no pending entries")
    check(d.stop() == 0, "exit status after the second run")


def test_term_after_drain(w, redis):
    """The reads for new entries sent while the stream ran dry block in
    Redis for up to redis.block each, and the acknowledgements at a stop
    queue behind them: every one must still be answered before the
    daemon exits."""
    stream = "drained:decisions"
    truth = harness.run_sim(redis, w.path, "--seed", 5, "--weeks", 4, "--per-week", 3000,
                            "--start", "2022-03-07", stream=stream)
    d = harness.Daemon(w.path, redis, {"redis": {"stream": stream, "deadletter": "drained:dl",
                                                 "batch": "500", "block": "2s"}},
                       name="drained")
    d.start()
    w.add(d.stop)
    d.wait_counted(truth.totals["written"])
    time.sleep(0.3)
    t0 = time.monotonic()
    rc = d.stop(signal.SIGTERM, timeout=15)
    took = time.monotonic() - t0
    pending = harness.xpending_count(redis, stream)
    print("signals: SIGTERM 0.3 s after the stream ran dry: stopped in %.2f s, %d pending"
          % (took, pending))
    check(rc == 0, "exit status %s after SIGTERM" % rc)
    check(pending == 0, "%d entries left pending by a stop after the stream ran dry" % pending)


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    test_reload(w, redis)
    test_term_while_ingesting(w, redis)
    test_term_after_drain(w, redis)


if __name__ == "__main__":
    harness.main(test, "signals")
