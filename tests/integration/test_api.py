#!/usr/bin/env python3
"""The HTTP API: tokens and roles (and http.auth = off on a second
daemon), JSON and metrics headers, Prometheus text, 404/405/400 answers,
the /v1/series filters and paging, one series by week and by month with
from/to, the national series as the sum of the offices, request limits
(body, headers), and HEAD on a keep-alive connection."""

import http.client
import json
import re
import time

import harness
from harness import check

UNKNOWN_TOKEN = "unknown-token-0123456789abcdef"
JSON_TYPE = "application/json; charset=utf-8"
METRICS_TYPE = "text/plain; version=0.0.4"
BENEFITS = ["sjukpenning", "rehabiliteringsersattning", "sjukersattning",
            "aktivitetsersattning"]
KINDS = ["first", "ongoing"]
EXTRA_OFFICE = "K999"       # counted once, for sjukpenning/first only
EXTRA_DECIDED_AT = 1676541600  # 2023-02-16T10:00:00Z


def call(d, method, path, token=harness.READ_TOKEN, body=None, headers=None):
    """One request; (status, headers, JSON body or raw bytes). JSON answers
    must carry the JSON type and no-store."""
    s, h, raw = d.request(method, path, token=token, body=body, headers=headers)
    if h.get("Content-Type", "").startswith("application/json"):
        check(h["Content-Type"] == JSON_TYPE, "%s %s: Content-Type %r" % (method, path, h["Content-Type"]))
        check(h.get("Cache-Control") == "no-store", "%s %s: Cache-Control %r"
              % (method, path, h.get("Cache-Control")))
        return s, h, json.loads(raw)
    return s, h, raw


def expect_error(d, method, path, code, error, token=harness.READ_TOKEN):
    s, h, body = call(d, method, path, token=token)
    check(s == code, "%s %s: %s, expected %d (%r)" % (method, path, s, code, body))
    check(h.get("Content-Type") == JSON_TYPE, "%s %s: error is not JSON: %r" % (method, path, h))
    check(isinstance(body, dict) and body.get("error") == error and body.get("message"),
          "%s %s: body %r, expected error %r with a message" % (method, path, body, error))
    return h, body


def get_json(d, path, token=harness.READ_TOKEN):
    s, h, body = call(d, "GET", path, token=token)
    check(s == 200, "GET %s: %s %r" % (path, s, body))
    check(h.get("Content-Type") == JSON_TYPE, "GET %s: Content-Type %r" % (path, h.get("Content-Type")))
    return body


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_prometheus(text):
    """Strict text exposition 0.0.4: {(name, labels): value}; every metric
    has # HELP and # TYPE before its samples."""
    helps, types, samples = set(), {}, {}
    check(text.endswith("\n"), "metrics do not end with a newline")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            parts = line.split(" ", 3)
            check(len(parts) == 4 and parts[3], "bad HELP line %r" % line)
            check(parts[2] not in helps, "two HELP lines for %s" % parts[2])
            helps.add(parts[2])
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            check(len(parts) == 4 and parts[3] in ("counter", "gauge", "histogram", "summary",
                                                    "untyped"), "bad TYPE line %r" % line)
            check(parts[2] not in types, "two TYPE lines for %s" % parts[2])
            types[parts[2]] = parts[3]
            continue
        check(line and not line.startswith("#"), "unexpected line %r" % line)
        m = SAMPLE.match(line)
        check(m is not None, "not a sample line: %r" % line)
        name, labels = m.group(1), ()
        if m.group(3):
            pairs = LABEL.findall(m.group(3))
            check("".join('%s="%s"%s' % p for p in pairs) == m.group(3), "bad labels in %r" % line)
            labels = tuple((k, v) for k, v, _ in pairs)
        check(name in helps and name in types, "sample of %s before its HELP and TYPE" % name)
        value = float(m.group(4))
        check((name, labels) not in samples, "sample %r twice" % line)
        samples[(name, labels)] = value
    check(set(types) == helps, "HELP without TYPE or TYPE without HELP: %s" % (set(types) ^ helps))
    return samples


def test_auth(d, last_id):
    # /healthz needs nothing.
    s, h, body = call(d, "GET", "/healthz", token=None)
    check(s == 200 and body == {"status": "ok"}, "GET /healthz: %s %r" % (s, body))

    # /v1/whoami names the token's role, never the token.
    for token, role, known in ((None, "none", False), (UNKNOWN_TOKEN, "none", False),
                               (harness.READ_TOKEN, "read", True),
                               (harness.WRITE_TOKEN, "write", True)):
        s, _, raw = d.request("GET", "/v1/whoami", token=token)
        body = json.loads(raw)
        check(s == 200 and body == {"role": role, "token_given": token is not None,
                                    "token_known": known, "read_needs_token": True},
              "GET /v1/whoami with %s: %s %r" % (token and token.split("-")[0], s, body))
        check(token is None or token.encode() not in raw, "/v1/whoami echoed the token")

    for path in ("/v1/status", "/v1/series", "/metrics"):
        for token, what in ((None, "no token"), (UNKNOWN_TOKEN, "an unknown token")):
            h, _ = expect_error(d, "GET", path, 401, "unauthorized", token=token)
            check(h.get("WWW-Authenticate") == "Bearer", "GET %s with %s: WWW-Authenticate %r"
                  % (path, what, h.get("WWW-Authenticate")))
        for token in (harness.READ_TOKEN, harness.WRITE_TOKEN):
            s, _, _ = call(d, "GET", path, token=token)
            check(s == 200, "GET %s with a %s token: %s" % (path, token.split("-")[0], s))
    # A token must be sent as Bearer.
    s, _, _ = call(d, "GET", "/v1/status", token=None,
                   headers={"Authorization": "Basic " + harness.READ_TOKEN})
    check(s == 401, "Basic credentials accepted: %s" % s)

    # Writes need the write role.
    expect_error(d, "POST", "/v1/checkpoint", 401, "unauthorized", token=None)
    expect_error(d, "POST", "/v1/checkpoint", 403, "forbidden", token=harness.READ_TOKEN)
    s, _, body = call(d, "POST", "/v1/checkpoint", token=harness.WRITE_TOKEN)
    st = get_json(d, "/v1/status")
    check(s == 200 and body.get("checkpointed") == last_id and body.get("counted") == st["events"]["counted"],
          "POST /v1/checkpoint: %s %r; last entry %s, counted %d" % (s, body, last_id, st["events"]["counted"]))
    check(st["stream"]["checkpointed"] == last_id, "status checkpointed %r, last entry %s"
          % (st["stream"]["checkpointed"], last_id))


def test_metrics(d):
    s, h, raw = call(d, "GET", "/metrics")
    check(s == 200 and h.get("Content-Type") == METRICS_TYPE, "GET /metrics: %s %r" % (s, h.get("Content-Type")))
    m = parse_prometheus(raw.decode())
    st = get_json(d, "/v1/status")
    ev = st["events"]
    for name in ("stabild_events_counted_total", "stabild_events_deadlettered_total",
                 "stabild_events_duplicate_total", "stabild_events_late_total",
                 "stabild_stream_lag", "stabild_stream_pending", "stabild_stream_length",
                 "stabild_stream_connected", "stabild_redis_reconnects_total",
                 "stabild_redis_errors_total", "stabild_checkpoints_total",
                 "stabild_checkpoint_failures_total", "stabild_series",
                 "stabild_watermark_seconds", "stabild_memory_bytes",
                 "stabild_http_unauthorized_total"):
        check((name, ()) in m, "metric %s missing" % name)
    check(m[("stabild_events_counted_total", ())] == ev["counted"],
          "stabild_events_counted_total %s, status counted %d" % (m[("stabild_events_counted_total", ())],
                                                                 ev["counted"]))
    check(m[("stabild_events_deadlettered_total", ())] == ev["deadlettered"], "dead-lettered metric")
    by_outcome = {k[1][0][1]: v for k, v in m.items() if k[0] == "stabild_decisions_total"}
    check(by_outcome == {o: ev[o] for o in ("granted", "rejected", "partial", "dismissed")},
          "stabild_decisions_total %r, status %r" % (by_outcome, ev))
    check(m[("stabild_series", ())] == st["series"], "stabild_series %s, status %d"
          % (m[("stabild_series", ())], st["series"]))
    check(m[("stabild_stream_connected", ())] == 1, "stream not connected")
    check(m[("stabild_stream_length", ())] == st["stream"]["length"], "stream length metric")
    check(m[("stabild_memory_bytes", ())] == st["memory_bytes"], "memory metric")
    codes = {k[1][0][1] for k in m if k[0] == "stabild_http_requests_total"}
    check({"2xx", "4xx"} <= codes, "stabild_http_requests_total codes %s" % codes)

    # The unauthorized counter moves with each refused request.
    before = m[("stabild_http_unauthorized_total", ())]
    before_4xx = m[("stabild_http_requests_total", (("code", "4xx"),))]
    call(d, "GET", "/v1/status", token=UNKNOWN_TOKEN)
    m = parse_prometheus(call(d, "GET", "/metrics")[2].decode())
    check(m[("stabild_http_unauthorized_total", ())] == before + 1,
          "stabild_http_unauthorized_total %s after a 401, %s before"
          % (m[("stabild_http_unauthorized_total", ())], before))
    check(m[("stabild_http_requests_total", (("code", "4xx"),))] == before_4xx + 1,
          "4xx responses not counted")


def test_errors(d):
    expect_error(d, "GET", "/nope", 404, "not_found")
    expect_error(d, "GET", "/v1/status/more", 404, "not_found")
    expect_error(d, "GET", "/v1/series/K001/sjukpenning", 404, "not_found")
    h, _ = expect_error(d, "POST", "/v1/status", 405, "method_not_allowed")
    check(h.get("Allow") == "GET, HEAD", "Allow on POST /v1/status: %r" % h.get("Allow"))
    h, _ = expect_error(d, "GET", "/v1/checkpoint", 405, "method_not_allowed",
                        token=harness.WRITE_TOKEN)
    check(h.get("Allow") == "POST", "Allow on GET /v1/checkpoint: %r" % h.get("Allow"))
    # An encoded '/' inside a segment does not split it.
    expect_error(d, "GET", "/v1/series/K%2F01/sjukpenning/first", 400, "bad_request")
    expect_error(d, "GET", "/v1/series/K001%2Fsjukpenning/first/x", 400, "bad_request")


def test_series_list(d, truth):
    full = get_json(d, "/v1/series?limit=10000")
    keys = [(x["office"], x["benefit"], x["kind"]) for x in full["series"]]
    check(full["total"] == len(keys) == len(truth.weeks) and set(keys) == set(truth.weeks),
          "GET /v1/series: total %d, %d items, truth %d" % (full["total"], len(keys), len(truth.weeks)))
    check(len(set(keys)) == len(keys), "a series listed twice")
    for x in full["series"]:
        check(x["state"] == "learning", "state %r" % x["state"])
        t = x["total"]
        want = [sum(r[i] for r in truth.weeks[(x["office"], x["benefit"], x["kind"])].values())
                for i in range(4)]
        check([t["decisions"], t["rejected"], t["partial"], t["dismissed"]] == want,
              "totals of %s/%s/%s: %r, truth %r" % (x["office"], x["benefit"], x["kind"], t, want))
        check(t["granted"] == t["decisions"] - t["rejected"] - t["partial"], "granted of %r" % t)
    st = get_json(d, "/v1/status")
    check(st["series"] == len(keys), "status series %d, listed %d" % (st["series"], len(keys)))
    check(st["offices"] == len({k[0] for k in keys}) - 1, "status offices %d" % st["offices"])

    def expect(query, pred):
        body = get_json(d, "/v1/series?limit=10000&" + query)
        got = [(x["office"], x["benefit"], x["kind"]) for x in body["series"]]
        want = [k for k in keys if pred(k)]
        check(got == want and body["total"] == len(want),
              "GET /v1/series?%s: total %d, %d items; %d expected" % (query, body["total"], len(got), len(want)))
        check(want or query.startswith("state="), "filter %s matched nothing" % query)

    expect("office=K001", lambda k: k[0] == "K001")
    expect("office=national", lambda k: k[0] == "national")
    expect("office=" + EXTRA_OFFICE, lambda k: k[0] == EXTRA_OFFICE)
    # An office never seen is not an empty list but an error.
    expect_error(d, "GET", "/v1/series?office=K404", 404, "not_found")
    expect_error(d, "GET", "/v1/series?office=k001", 404, "not_found")
    expect_error(d, "GET", "/v1/alerts?office=K404", 404, "not_found")
    expect("benefit=sjukpenning", lambda k: k[1] == "sjukpenning")
    expect("benefit=aktivitetsersattning", lambda k: k[1] == "aktivitetsersattning")
    expect("kind=first", lambda k: k[2] == "first")
    expect("kind=ongoing", lambda k: k[2] == "ongoing")
    expect("office=K003&benefit=sjukersattning&kind=ongoing",
           lambda k: k == ("K003", "sjukersattning", "ongoing"))
    expect("benefit=sjukpenning&kind=first", lambda k: k[1:] == ("sjukpenning", "first"))
    expect("state=learning", lambda k: True)
    expect("state=alerting", lambda k: False)

    # Paging: pages of 7 make up the whole list; total is always the whole.
    paged = []
    for offset in range(0, len(keys) + 7, 7):
        body = get_json(d, "/v1/series?limit=7&offset=%d" % offset)
        check(body["total"] == len(keys), "total %d on the page at %d" % (body["total"], offset))
        check(len(body["series"]) == max(0, min(7, len(keys) - offset)),
              "page at %d has %d items" % (offset, len(body["series"])))
        paged += [(x["office"], x["benefit"], x["kind"]) for x in body["series"]]
    check(paged == keys, "pages differ from the whole list")
    body = get_json(d, "/v1/series?limit=0")
    check(body["series"] == [] and body["total"] == len(keys), "limit=0: %r" % body)
    body = get_json(d, "/v1/series?benefit=sjukpenning&limit=3&offset=2")
    want = [k for k in keys if k[1] == "sjukpenning"]
    check([(x["office"], x["benefit"], x["kind"]) for x in body["series"]] == want[2:5]
          and body["total"] == len(want), "filtered page: %r" % body)

    for q in ("benefit=sjuk", "benefit=", "kind=second", "kind=FIRST", "limit=abc", "limit=-1",
              "limit=10001", "limit=", "offset=x", "offset=-3", "foo=1", "period=week",
              "office=K001&office=K002", "limit=5&limit=5", "kind=first&kind=first"):
        expect_error(d, "GET", "/v1/series?" + q, 400, "bad_request")
    return keys


def history(d, key, query=""):
    body = get_json(d, "/v1/series/%s/%s/%s%s" % (key + (query,)))
    check((body["office"], body["benefit"], body["kind"]) == key, "series %r answers %r"
          % (key, (body["office"], body["benefit"], body["kind"])))
    return body


def sums(rows):
    return [sum(r[f] for r in rows) for f in ("decisions", "rejected", "partial", "dismissed")]


def test_series_one(d, truth, keys):
    key = ("K002", "sjukpenning", "ongoing")
    weeks = sorted(truth.weeks[key])
    check(len(weeks) >= 12, "too few weeks in the truth: %d" % len(weeks))

    body = history(d, key, "?period=week")
    labels = [h["period"] for h in body["history"]]
    check(labels == weeks, "week labels %s, truth %s" % (labels[:3], weeks[:3]))
    check(body["period"] == "week", "period %r" % body["period"])
    check(history(d, key)["history"] == body["history"], "week is not the default period")
    week_sums = sums(body["history"])

    # By month: YYYY-MM labels, the same totals, ordered.
    months = history(d, key, "?period=month")
    mlabels = [h["period"] for h in months["history"]]
    check(months["period"] == "month" and mlabels and
          all(re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", m) for m in mlabels),
          "month labels %s" % mlabels)
    check(mlabels == sorted(mlabels) and len(set(mlabels)) == len(mlabels), "months out of order")
    check(sums(months["history"]) == week_sums, "months sum to %s, weeks to %s"
          % (sums(months["history"]), week_sums))
    check(len(mlabels) >= 3, "only %d months" % len(mlabels))

    # from/to narrow the range, both ends included.
    a, b = weeks[3], weeks[8]
    part = history(d, key, "?period=week&from=%s&to=%s" % (a, b))["history"]
    check([h["period"] for h in part] == weeks[3:9], "from %s to %s gave %s"
          % (a, b, [h["period"] for h in part]))
    check(sums(part) == [sum(truth.weeks[key][w][i] for w in weeks[3:9]) for i in range(4)],
          "the counts of weeks %s..%s" % (a, b))
    part = history(d, key, "?from=%s" % weeks[-2])["history"]
    check([h["period"] for h in part] == weeks[-2:], "from the last but one week: %s" % part)
    part = history(d, key, "?to=%s" % weeks[0])["history"]
    check([h["period"] for h in part] == weeks[:1], "to the first week: %s" % part)
    part = history(d, key, "?period=month&from=%s&to=%s" % (mlabels[1], mlabels[2]))["history"]
    check([h["period"] for h in part] == mlabels[1:3], "months %s..%s gave %s"
          % (mlabels[1], mlabels[2], [h["period"] for h in part]))
    check(sums(part) == sums(months["history"][1:3]), "month range counts")
    part = history(d, key, "?period=week&from=2010-W01&to=2010-W52")["history"]
    check(part == [], "weeks outside the data: %r" % part[:2])

    base = "/v1/series/%s/%s/%s" % key
    for q in ("?from=%s&to=%s" % (b, a), "?period=month&from=%s&to=%s" % (mlabels[2], mlabels[1]),
              "?period=month&from=%s" % a, "?period=month&to=2023-W05", "?period=week&from=2023-02",
              "?from=2023-W54", "?from=yesterday", "?period=day", "?period=", "?limit=5",
              "?from=%s&from=%s" % (a, a), "?from=%s%%00" % a):
        expect_error(d, "GET", base + q, 400, "bad_request")

    # Unknown office, a series never counted, bad benefit or kind.
    expect_error(d, "GET", "/v1/series/K404/sjukpenning/first", 404, "not_found")
    check((EXTRA_OFFICE, "sjukersattning", "ongoing") not in truth.weeks, "test data")
    expect_error(d, "GET", "/v1/series/%s/sjukersattning/ongoing" % EXTRA_OFFICE, 404, "not_found")
    history(d, (EXTRA_OFFICE, "sjukpenning", "first"))
    expect_error(d, "GET", "/v1/series/K001/sjukpeng/first", 400, "bad_request")
    expect_error(d, "GET", "/v1/series/K001/sjukpenning/last", 400, "bad_request")
    expect_error(d, "GET", "/v1/series/national/sjukpenning/second", 400, "bad_request")

    # The national series is the sum of the offices, week by week.
    for benefit in BENEFITS:
        for kind in KINDS:
            total = {}
            for office in sorted({k[0] for k in keys if k[0] != "national"}):
                if (office, benefit, kind) not in truth.weeks:
                    continue
                for h in history(d, (office, benefit, kind), "?period=week")["history"]:
                    cur = total.setdefault(h["period"], [0, 0, 0, 0])
                    for i, f in enumerate(("decisions", "rejected", "partial", "dismissed")):
                        cur[i] += h[f]
            nat = {h["period"]: [h["decisions"], h["rejected"], h["partial"], h["dismissed"]]
                   for h in history(d, ("national", benefit, kind), "?period=week")["history"]}
            check(nat == total, "national %s/%s differs from the sum of the offices in weeks %s"
                  % (benefit, kind, sorted(w for w in set(nat) | set(total)
                                           if nat.get(w) != total.get(w))[:5]))


def test_limits(d):
    # A body over http.max_body (1024 here) is refused by the server.
    s, _, _ = call(d, "POST", "/v1/checkpoint", token=harness.WRITE_TOKEN, body=b"x" * 4096)
    check(400 <= s < 500, "a 4 KiB body with max_body 1024: %s" % s)
    s, _, _ = call(d, "POST", "/v1/checkpoint", token=harness.WRITE_TOKEN, body=b"{}")
    check(s == 200, "a small body: %s" % s)
    # Headers: 4 KiB pass, more than 8 KiB do not.
    s, _, _ = call(d, "GET", "/v1/status", headers={"X-Padding": "p" * 4000})
    check(s == 200, "4 KiB of headers: %s" % s)
    s, _, _ = call(d, "GET", "/v1/status", headers={"X-Padding": "p" * 9000})
    check(400 <= s < 500, "9 KiB of headers: %s" % s)
    s, _, _ = call(d, "GET", "/v1/status", headers={"X-Pad-%d" % i: "p" * 100 for i in range(90)})
    check(400 <= s < 500, "90 headers of 100 bytes: %s" % s)
    check(d.alive_http(), "stabild answers after the refused requests")

    # HEAD: headers only, and the connection stays usable.
    auth = {"Authorization": "Bearer " + harness.READ_TOKEN}
    c = http.client.HTTPConnection("127.0.0.1", d.http_port, timeout=10)
    try:
        c.request("GET", "/v1/status", headers=auth)
        r = c.getresponse()
        get_len = len(r.read())
        check(r.status == 200, "GET /v1/status: %s" % r.status)
        port = c.sock.getsockname()[1]
        c.request("HEAD", "/v1/status", headers=auth)
        r = c.getresponse()
        body = r.read()
        check(r.status == 200 and body == b"", "HEAD /v1/status: %s, %d body bytes" % (r.status, len(body)))
        check(r.getheader("Content-Type") == JSON_TYPE, "HEAD Content-Type %r" % r.getheader("Content-Type"))
        clen = int(r.getheader("Content-Length", "-1"))
        check(abs(clen - get_len) <= 8, "HEAD Content-Length %d, GET body %d bytes" % (clen, get_len))
        check(not r.will_close and c.sock is not None, "the server closed the connection after HEAD")
        c.request("GET", "/v1/series?limit=1", headers=auth)
        r = c.getresponse()
        raw = r.read()
        check(r.status == 200 and json.loads(raw)["total"] > 0, "GET after HEAD: %s %r" % (r.status, raw[:80]))
        check(c.sock.getsockname()[1] == port, "GET after HEAD used a new connection")
    finally:
        c.close()


def test_auth_off(w, redis, written):
    d = harness.Daemon(w.path, redis, {
        "redis": {"group": "auth-off", "consumer": "auth-off-1", "deadletter": "auth-off:deadletter"},
        "http": {"auth": "off"},
    }, name="authoff")
    d.start()
    w.add(d.stop)
    # A series of an office not yet read is a 404: read the stream first.
    harness.wait_processed(d, written, token=None)
    for path in ("/v1/status", "/v1/series", "/metrics", "/v1/series/K001/sjukpenning/first"):
        s, _, _ = call(d, "GET", path, token=None)
        check(s == 200, "GET %s without a token, auth = off: %s" % (path, s))
    s, _, _ = call(d, "GET", "/v1/status", token=UNKNOWN_TOKEN)
    check(s == 200, "GET /v1/status with an unknown token, auth = off: %s" % s)
    for token, role in ((None, "read"), (UNKNOWN_TOKEN, "read"), (harness.WRITE_TOKEN, "write")):
        body = get_json(d, "/v1/whoami", token=token)
        check(body["role"] == role and body["read_needs_token"] is False,
              "GET /v1/whoami with auth = off: %r" % body)
    h, _ = expect_error(d, "POST", "/v1/checkpoint", 401, "unauthorized", token=None)
    check(h.get("WWW-Authenticate") == "Bearer", "WWW-Authenticate with auth = off")
    expect_error(d, "POST", "/v1/checkpoint", 403, "forbidden", token=harness.READ_TOKEN)
    s, _, body = call(d, "POST", "/v1/checkpoint", token=harness.WRITE_TOKEN)
    check(s == 200 and "checkpointed" in body, "POST /v1/checkpoint with write, auth = off: %s %r" % (s, body))
    check(d.stop() == 0, "exit status of the auth = off daemon")


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 9, "--offices", 10, "--weeks", 20,
                            "--per-week", 2000, "--start", "2023-01-02")
    harness.xadd(redis, {"id": "api-extra-1", "office": EXTRA_OFFICE, "benefit": "sjukpenning",
                         "kind": "first", "outcome": "rejected", "decided_at": str(EXTRA_DECIDED_AT)})
    harness.truth_add(truth, EXTRA_OFFICE, "sjukpenning", "first",
                      harness.week_label(EXTRA_DECIDED_AT), "rejected")
    written = truth.totals["written"] + 1
    last_id = redis.call("XREVRANGE", "stabild:decisions", "+", "-", "COUNT", 1)[0][0].decode()

    d = harness.Daemon(w.path, redis, {"http": {"max_body": "1024"}})
    d.start()
    w.add(d.stop)
    d.wait_counted(written)
    # The stream gauges come from a poll of Redis: wait for them.
    harness.wait_for(lambda: get_json(d, "/v1/status")["stream"]["lag"] == 0, 10, "lag 0")

    test_auth(d, last_id)
    test_metrics(d)
    test_errors(d)
    keys = test_series_list(d, truth)
    test_series_one(d, truth, keys)
    test_limits(d)
    harness.compare_with_truth(d, truth)
    check(d.stop() == 0, "exit status on SIGTERM")
    test_auth_off(w, redis, written)


if __name__ == "__main__":
    harness.main(test, "api")
