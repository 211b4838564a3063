#!/usr/bin/env python3
"""The answer cache never shows a stale answer: the heavy GET answers
(series, control chart, funnel, alerts, models) come from the cache when
asked again (stabild_http_answer_cache_hits_total), yet a write through
the API (a silence, a rebaseline) and a decision counted from the stream
are visible at once on the next GET of a cached URL; so is a silence that
ends by time."""

import datetime
import time

import harness
from harness import WRITE_TOKEN, check

OFFICE, BENEFIT, KIND = "K001", "sjukpenning", "first"
SERIES = "/v1/series/%s/%s/%s" % (OFFICE, BENEFIT, KIND)


def hits(d):
    m = harness.get_metrics(d)
    return (m["stabild_http_answer_cache_hits_total"],
            m["stabild_http_answer_cache_misses_total"])


def get(d, path):
    s, body = d.get(path)
    check(s == 200, "GET %s: %s %r" % (path, s, body))
    return body


def cached(d, path):
    """GET path twice; the second must come from the cache. The body."""
    get(d, path)
    h0, m0 = hits(d)
    body = get(d, path)
    h1, m1 = hits(d)
    # /metrics is not cached: the two counters move by the GET alone,
    # unless a step of the daemon's own changed its state between.
    check(h1 == h0 + 1 or m1 == m0 + 1, "GET %s: hits %d->%d, misses %d->%d"
          % (path, h0, h1, m0, m1))
    return body


def utc(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def silenced(d, path, alert_id):
    body = get(d, path)
    items = body["alerts"] if "alerts" in body else [body]
    return [a["silenced_by"] for a in items if a["alert_id"] == alert_id][0]


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 3, "--offices", 6, "--weeks", 30,
                            "--per-week", 3000, "--start", "2023-01-02",
                            "--drift", "%s:%s:*:20:4.0" % (OFFICE, BENEFIT))
    d = harness.Daemon(w.path, redis, conf_extra={
        "detector": {"min_reference_weeks": "13"},
        "alerts": {"historical_age": "50y"},
        # Quiet between the GETs: the stream idles, no checkpoint runs.
        "state": {"checkpoint_interval": "5m"},
        "redis": {"block": "5s"}})
    d.start()
    w.add(d.stop)
    d.wait_counted(truth.totals["written"], timeout=60)
    time.sleep(0.5)

    # Repeated GETs hit the cache; the answer is the same bytes.
    for path in (SERIES, SERIES + "?period=month", SERIES + "/control",
                 "/v1/funnel/%s/%s" % (BENEFIT, KIND), "/v1/series?office=" + OFFICE,
                 "/v1/alerts", "/v1/model"):
        first = get(d, path)
        check(cached(d, path) == first, "GET %s changed with nothing counted" % path)
    h0, _ = hits(d)
    for _ in range(20):
        get(d, SERIES)
    h1, _ = hits(d)
    check(h1 >= h0 + 15, "20 GETs of %s: %d hits" % (SERIES, h1 - h0))

    # A write through the API: seen at once by the cached list and alert.
    firing = [a for a in get(d, "/v1/alerts?status=firing")["alerts"]
              if a["series"]["office"] == OFFICE]
    check(firing, "no firing alert for %s" % OFFICE)
    aid = firing[0]["alert_id"]
    one = "/v1/alerts/" + aid
    for path in ("/v1/alerts", one):
        cached(d, path)
        check(silenced(d, path, aid) is None, "%s silenced before any silence" % path)
    s, _, raw = d.request("POST", "/v1/silences", token=WRITE_TOKEN, body={
        "matchers": {"office": OFFICE}, "ends_at": utc(time.time() + 3600),
        "comment": "cache test", "created_by": "test"})
    check(s == 201, "POST silence: %s %s" % (s, raw))
    sid = __import__("json").loads(raw)["id"]
    for path in ("/v1/alerts", one):
        check(silenced(d, path, aid) == sid, "%s right after the silence: %r"
              % (path, silenced(d, path, aid)))
    s, _, raw = d.request("DELETE", "/v1/silences/" + sid, token=WRITE_TOKEN)
    check(s == 204, "DELETE silence: %s %s" % (s, raw))
    for path in ("/v1/alerts", one):
        check(silenced(d, path, aid) is None, "%s right after the delete" % path)

    # A silence that ends by time: no GET after its end shows it.
    ends = int(time.time()) + 2
    s, _, raw = d.request("POST", "/v1/silences", token=WRITE_TOKEN, body={
        "matchers": {"office": OFFICE}, "ends_at": utc(ends), "comment": "short",
        "created_by": "test"})
    check(s == 201, "POST short silence: %s %s" % (s, raw))
    sid = __import__("json").loads(raw)["id"]
    seen = set()
    while time.time() < ends + 1.5:
        asked = time.time()
        got = silenced(d, "/v1/alerts", aid)
        seen.add(got)
        # time() in C reads a clock that may lag a tick behind Python's.
        if asked >= ends + 0.05:
            check(got is None, "silence %s shown %.3f s after its end" % (got, asked - ends))
        time.sleep(0.02)
    check(seen == {sid, None}, "the short silence was seen as %r" % seen)

    # A rebaseline: the cached series and its control chart show it.
    before = cached(d, SERIES)["detector"]
    s, _, raw = d.request("POST", SERIES + "/rebaseline", token=WRITE_TOKEN)
    check(s == 200, "POST rebaseline: %s %s" % (s, raw))
    after = get(d, SERIES)["detector"]
    check(after != before, "the series' detector unchanged by the rebaseline: %r" % after)
    check(after == __import__("json").loads(raw), "series detector %r, rebaseline answered %r"
          % (after, raw))

    # Ingest: one decision more is in the next GET of every cached view.
    detail, month = cached(d, SERIES), cached(d, SERIES + "?period=month")
    listed = cached(d, "/v1/series?office=" + OFFICE)
    counted = d.status()["events"]["counted"]
    last = detail["history"][-1]
    decided = int(datetime.datetime.fromisoformat(last["start"].replace("Z", "+00:00"))
                  .timestamp()) + 3600
    harness.xadd(redis, {"id": "cache-extra-1", "office": OFFICE, "benefit": BENEFIT,
                         "kind": KIND, "outcome": "rejected", "decided_at": str(decided)})
    harness.wait_for(lambda: d.status()["events"]["counted"] == counted + 1, 10, "the extra decision")
    now = get(d, SERIES)
    check(now["total"]["decisions"] == detail["total"]["decisions"] + 1,
          "series total %d after one more, %d before" % (now["total"]["decisions"],
                                                          detail["total"]["decisions"]))
    check(now["history"][-1]["rejected"] == last["rejected"] + 1, "last week %r, before %r"
          % (now["history"][-1], last))
    check(get(d, SERIES + "?period=month")["total"]["decisions"] == month["total"]["decisions"] + 1,
          "month view missed the decision")
    item = [s for s in get(d, "/v1/series?office=" + OFFICE)["series"]
            if s["benefit"] == BENEFIT and s["kind"] == KIND][0]
    was = [s for s in listed["series"] if s["benefit"] == BENEFIT and s["kind"] == KIND][0]
    check(item["total"]["decisions"] == was["total"]["decisions"] + 1,
          "series list missed the decision")


if __name__ == "__main__":
    harness.main(test, "test_answer_cache")
