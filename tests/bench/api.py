#!/usr/bin/env python3
"""make bench, the API under load: p50 and p99 latency of each endpoint the
dashboard uses, on kept-alive connections at a fixed 1,000 requests a
second (wrk, paced by pace.lua), while the simulator feeds Redis and
stabild ingests; the heavy answers come from the answer cache, which
every batch counted invalidates. The series detail is measured whole
(about 24 KB) and cut to about 8 KB side by side: an answer over 16 KB
used to wait 40 ms for the client's delayed ACK (Nagle), one under did
not. Goal: p99 under 5 ms."""

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402

PACE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pace.lua")
START = datetime.date(2019, 1, 7)
WEEKS = 96              # of history: the series detail grows to about 24 KB
PER_WEEK = 6000         # national decisions a week
FEED_RATE = 2000        # decisions a second while measuring
CONNS = 10              # kept-alive connections...
PACE_MS = 10            # ...each waiting this long after an answer: 1000/s
GOAL_P99_MS = 5.0


def get(d, path):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (d.http_port, path))
    req.add_header("Authorization", "Bearer " + harness.READ_TOKEN)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read()


def wrk(d, path, seconds):
    """(requests, rate/s, p50 ms, p99 ms, max ms, errors) of one paced run."""
    cmd = ["wrk", "-t1", "-c%d" % CONNS, "-d%ds" % seconds, "--timeout", "2s",
           "-H", "Authorization: Bearer " + harness.READ_TOKEN, "-s", PACE,
           "http://127.0.0.1:%d%s" % (d.http_port, path), "--", str(PACE_MS)]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=seconds + 60)
    out = r.stdout.decode(errors="replace")
    m = re.search(r"pace: requests=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+) "
                  r"max_us=(\d+) errors=(\d+)", out)
    if r.returncode != 0 or not m:
        raise SystemExit("bench: wrk failed:\n%s" % out)
    n, us, p50, p99, mx, err = (int(x) for x in m.groups())
    return n, n / (us / 1e6), p50 / 1000, p99 / 1000, mx / 1000, err


def cache_counts(d):
    """(hits, misses) of the answer cache so far."""
    m = harness.parse_metrics(get(d, "/metrics").decode())
    return (m.get("stabild_http_answer_cache_hits_total", 0),
            m.get("stabild_http_answer_cache_misses_total", 0))


def counted(d):
    ev = json.loads(get(d, "/v1/status"))["events"]
    return ev["counted"] + ev["duplicates"] + ev["deadlettered"]


def main():
    if shutil.which("wrk") is None:
        raise SystemExit("bench: wrk not found (Debian package wrk)")
    seconds = int(os.environ.get("BENCH_API_SECONDS", "5"))
    work = tempfile.mkdtemp(prefix="stabild-bench-api-")
    redis = harness.Redis(work).start()
    d = feed = None
    try:
        harness.run_sim(redis, work, "--seed", 13, "--weeks", WEEKS, "--per-week", PER_WEEK,
                        "--start", START.isoformat(), "--drift", "K001:sjukpenning:*:80:2.0",
                        "--drift", "K002:*:*:84:0.5", truth=False)
        total = redis.call("XLEN", "stabild:decisions")
        d = harness.Daemon(work, redis, conf_extra={
            "redis": {"batch": "500", "block": "100ms"},
            "state": {"checkpoint_interval": "2s"},
            "log": {"level": "info"},     # for the loop's stalls
            "alerts": {"historical_age": "50y"},
        }).start()
        d.wait_counted(total, timeout=600)

        # The same series whole and cut to its last weeks.
        detail = "/v1/series/K001/sjukpenning/first"
        weeks = json.loads(get(d, detail))["history"]
        cut = detail + "?from=" + weeks[-len(weeks) // 3]["period"]
        endpoints = [
            ("status", "/v1/status"),
            ("series list", "/v1/series?office=K001"),
            ("series detail", detail),
            ("series detail cut", cut),
            ("control chart", detail + "/control"),
            ("funnel", "/v1/funnel/sjukpenning/first"),
            ("alerts", "/v1/alerts"),
            ("metrics", "/metrics"),
        ]
        sizes = {name: len(get(d, path)) for name, path in endpoints}

        # Ingest goes on while the API is measured.
        feed_start = START + datetime.timedelta(weeks=WEEKS)
        feed = subprocess.Popen([harness.SIM, "--port", str(redis.port), "--seed", "14",
                                 "--weeks", "52", "--per-week", str(PER_WEEK),
                                 "--start", feed_start.isoformat(), "--rate", str(FEED_RATE)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wrk(d, "/healthz", 1)   # warm up
        log_from = len(d.log())
        before = counted(d)
        cache_before = cache_counts(d)
        t0 = datetime.datetime.now()
        results = {}
        for name, path in endpoints:
            results[name] = wrk(d, path, seconds)
        elapsed = (datetime.datetime.now() - t0).total_seconds()
        ingested = counted(d) - before
        hits, misses = (b - a for a, b in zip(cache_before, cache_counts(d)))
        stalls = {}
        for ms, step in re.findall(r"loop: stalled ([\d.]+) ms; longest step (.+?) \(",
                                   d.log()[log_from:]):
            stalls.setdefault(step, []).append(float(ms))
        if feed.poll() is not None:
            raise SystemExit("bench: the simulator stopped early (%s)" % feed.returncode)

        print("api: %d decisions of history; ingest of %d decisions/s ran alongside "
              "(%d counted in %.0f s)" % (total, ingested / elapsed, ingested, elapsed))
        print("api: %d kept-alive connections, %d ms between answers each, %d s an endpoint"
              % (CONNS, PACE_MS, seconds))
        missed = []
        for name, _ in endpoints:
            n, rate, p50, p99, mx, err = results[name]
            print("api: %-18s %7d B  %5.0f req/s  p50 %6.2f ms  p99 %6.2f ms  max %6.1f ms"
                  "%s" % (name, sizes[name], rate, p50, p99, mx,
                          "  %d errors" % err if err else ""))
            if p99 >= GOAL_P99_MS or err:
                missed.append(name)
        print("api: answer cache: %d hits, %d misses (%.1f%% hits; every batch counted "
              "invalidates it)" % (hits, misses, 100.0 * hits / max(1, hits + misses)))
        whole, part = results["series detail"], results["series detail cut"]
        print("api: series detail %d B against %d B: p50 ratio %.2f, p99 ratio %.2f "
              "(Nagle made the first 40 ms slower)" % (
                  sizes["series detail"], sizes["series detail cut"],
                  whole[2] / part[2], whole[3] / part[3]))
        for step, ms in sorted(stalls.items(), key=lambda x: -max(x[1])):
            print("api: loop stalls over the run, longest step %s: %d, longest %.0f ms" % (
                step, len(ms), max(ms)))
        print("api: goal p99 < %.0f ms: %s" % (
            GOAL_P99_MS, "met by every endpoint" if not missed else
            "missed by " + ", ".join(missed)))
    finally:
        if feed is not None and feed.poll() is None:
            feed.terminate()
            feed.wait()
        if d is not None:
            d.stop()
        redis.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
