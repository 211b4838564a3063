#!/usr/bin/env python3
"""Indicators in the HTTP API, on a daemon with the four shipped
indicators: GET /v1/indicators (definitions, national states), the
indicator parameter of every series, alert, funnel and model endpoint
(default, all, 400 naming the valid ones, part of the answer cache's
key), the indicator matcher of silences, /v1/status (by_event, streams,
detector_memory_bytes) and the metrics lines."""

import json
import time

import harness
import indicators
from harness import check, READ_TOKEN, WRITE_TOKEN

NAMES = ["rejection", "reconsideration", "appeal", "timeliness", "supplement"]
BENEFITS = ["sjukpenning", "rehabiliteringsersattning", "sjukersattning",
            "aktivitetsersattning"]
OFFICE, BENEFIT, KIND = "K003", "sjukpenning", "first"
SERIES = "/v1/series/%s/%s/%s" % (OFFICE, BENEFIT, KIND)


def get(d, path):
    s, body = d.get(path)
    check(s == 200, "GET %s: %s %r" % (path, s, body))
    return body


def raw(d, path):
    s, _, body = d.request("GET", path)
    check(s == 200, "GET %s: %s %r" % (path, s, body[:200]))
    return body


def expect_400(d, method, path, words, token=READ_TOKEN, body=None):
    s, _, out = d.request(method, path, token=token, body=body)
    check(s == 400, "%s %s: %s, expected 400 (%r)" % (method, path, s, out[:200]))
    msg = json.loads(out)["message"]
    for word in words:
        check(word in msg, "%s %s: %r does not say %r" % (method, path, msg, word))
    return msg


def check_indicators(d, written):
    body = get(d, "/v1/indicators")
    got = body["indicators"]
    check([i["name"] for i in got] == NAMES, "indicators %r" % [i["name"] for i in got])
    rej, rec, app, tim, sup = got
    check(rej["builtin"] is True and all(i["builtin"] is False for i in got[1:]),
          "builtin: %r" % [i["builtin"] for i in got])
    check((rej["event"], rej["field"], rej["yes"], rej["no"], rej["label"]) ==
          ("decision", "outcome", ["rejected"], ["granted", "partial"], "rejection rate"),
          "rejection: %r" % rej)
    check((rec["event"], rec["yes"], rec["no"], rec["label"]) ==
          ("reconsideration", ["changed"], ["unchanged"], "change rate at reconsideration"),
          "reconsideration: %r" % rec)
    check(app["design_or_office"] == 2.0 and app["design_or_national"] == 1.2 and
          app["label"] == "change rate in court", "appeal: %r" % app)
    check((tim["event"], tim["yes"], tim["no"], tim["filter"]) ==
          ("assessment", ["late"], ["on_time"], {}), "timeliness: %r" % tim)
    check((sup["event"], sup["field"], sup["yes"], sup["no"]) ==
          ("decision", "supplement_requested", ["yes"], ["no"]), "supplement: %r" % sup)
    for i in got:
        check(i["alerts"] is True and i["budget_weight"] == 1.0, "%s: alerts %r weight %r"
              % (i["name"], i["alerts"], i["budget_weight"]))
        check(i["stream"] == "stabild:decisions", "%s: stream %r" % (i["name"], i["stream"]))
        want = indicators.SHIPPED.get(i["name"], {}).get("description")
        check(i["description"] == want, "%s: description %r, configured %r" % (
            i["name"], i["description"], want))
        check([(n["benefit"], n["kind"]) for n in i["national"]] ==
              [(b, k) for b in BENEFITS for k in ("first", "ongoing")],
              "%s: national %r" % (i["name"], i["national"]))
    # Rejection's national strip agrees with the series it summarises.
    series = {(s["benefit"], s["kind"]): s
              for s in get(d, "/v1/series?office=national")["series"]}
    check(rej["series"] == get(d, "/v1/series?limit=0")["total"],
          "rejection series %r" % rej["series"])
    n13 = 0
    for n in rej["national"]:
        s = series[(n["benefit"], n["kind"])]
        check(n["state"] == s["state"], "national %s/%s state %r, series %r"
              % (n["benefit"], n["kind"], n["state"], s["state"]))
        check(n["n_13w"] == s["rolling"]["13w"]["decisions"] and
              n["rate_13w"] == s["rolling"]["13w"]["rejection_rate"],
              "national %s/%s: %r against %r" % (n["benefit"], n["kind"], n,
                                                 s["rolling"]["13w"]))
        n13 += n["n_13w"]
    check(0 < n13 <= written, "national 13-week decisions %d of %d" % (n13, written))
    # Answered from the cache the second time, the same bytes. A kept answer
    # is dropped by any step of the daemon's own (a tick, a fit applied) and
    # at the turn of a second, so a pair may legally miss; five may not.
    tries = []
    for _ in range(5):
        before = harness.get_metrics(d)["stabild_http_answer_cache_hits_total"]
        check(raw(d, "/v1/indicators") == raw(d, "/v1/indicators"), "/v1/indicators differs")
        after = harness.get_metrics(d)["stabild_http_answer_cache_hits_total"]
        tries.append((before, after))
        if after >= before + 1:
            break
    check(tries[-1][1] >= tries[-1][0] + 1, "/v1/indicators not cached: hits %r" % tries)


def check_parameter(d):
    valid = ["rejection, reconsideration, appeal, timeliness, supplement"]
    # Where all is allowed the message says so.
    for path in ("/v1/series?indicator=rejections", "/v1/alerts?indicator=x",
                 "/v1/model?indicator=Rejection"):
        msg = expect_400(d, "GET", path, valid)
        check(msg.endswith("supplement, all)"), "%s: %r" % (path, msg))
    for path in (SERIES + "?indicator=all", SERIES + "?indicator=nope",
                 SERIES + "/control?indicator=all",
                 "/v1/funnel/%s/%s?indicator=nope" % (BENEFIT, KIND)):
        msg = expect_400(d, "GET", path, valid + ["unknown indicator"])
        check(msg.endswith("supplement)"), "%s: %r" % (path, msg))
    for path in ("/v1/model/%s/%s/refit?indicator=nope" % (BENEFIT, KIND),
                 SERIES + "/rebaseline?indicator=all"):
        expect_400(d, "POST", path, valid, token=WRITE_TOKEN, body={})

    # Series endpoints default to rejection, byte for byte.
    for path in (SERIES, SERIES + "/control", "/v1/funnel/%s/%s" % (BENEFIT, KIND),
                 "/v1/series?office=" + OFFICE):
        sep = "&" if "?" in path else "?"
        check(raw(d, path) == raw(d, path + sep + "indicator=rejection"),
              "%s differs from indicator=rejection" % path)
        check(b'"indicator"' not in raw(d, path), "%s names an indicator" % path)
    # All: rejection's series and the others', which say whose they are.
    rej = get(d, "/v1/series")
    every = get(d, "/v1/series?indicator=all")
    mine = [s for s in every["series"] if "indicator" not in s]
    check(mine == rej["series"], "indicator=all: rejection's %d series, not %d"
          % (len(mine), rej["total"]))
    check(all(s["indicator"] in NAMES[1:] for s in every["series"] if "indicator" in s),
          "indicator=all: %r" % sorted({s.get("indicator", "") for s in every["series"]}))
    check(every["total"] == len(every["series"]), "indicator=all total %r" % every["total"])
    # Each indicator's list holds its own series only.
    total = 0
    for name in NAMES:
        part = get(d, "/v1/series?indicator=" + name)
        check(all(s.get("indicator", "rejection") == name for s in part["series"]),
              "indicator=%s lists others" % name)
        total += part["total"]
    check(total == every["total"], "per indicator %d, all %d" % (total, every["total"]))
    # The indicator is part of the cache key: asked in between, the
    # answers stay each indicator's own.
    for _ in range(2):
        check(get(d, "/v1/series?indicator=reconsideration")["total"] ==
              get(d, "/v1/series?indicator=reconsideration&limit=1000")["total"],
              "reconsideration totals differ")
        check(get(d, "/v1/series") == rej, "the rejection list changed")

    # Alerts and models: every indicator's unless one is asked for.
    alerts = get(d, "/v1/alerts")
    check(alerts["total"] > 0, "no alerts")
    per = sum(get(d, "/v1/alerts?indicator=" + n)["total"] for n in NAMES)
    check(per == alerts["total"], "alerts per indicator %d, all %d" % (per, alerts["total"]))
    check(get(d, "/v1/alerts?indicator=all") == alerts, "alerts: all differs from default")
    only = get(d, "/v1/alerts?indicator=rejection")["alerts"]
    check(only == [a for a in alerts["alerts"] if "indicator" not in a],
          "rejection's alerts")
    models = get(d, "/v1/model")["models"]
    check(get(d, "/v1/model?indicator=rejection")["models"] ==
          [m for m in models if "indicator" not in m], "rejection's models")
    check(len([m for m in models if "indicator" not in m]) == 8,
          "rejection models: %d" % len(models))


def check_silence(d):
    body = {"matchers": {"indicator": "reconsiderations"}, "ends_at": "2099-01-01T00:00:00Z",
            "comment": "typo"}
    expect_400(d, "POST", "/v1/silences", ["unknown indicator 'reconsiderations'",
                                           "rejection, reconsideration"],
               token=WRITE_TOKEN, body=body)
    body["matchers"] = {"office": OFFICE, "indicator": "reconsideration"}
    s, _, out = d.request("POST", "/v1/silences", token=WRITE_TOKEN, body=body)
    check(s == 201, "silence on an indicator: %s %r" % (s, out))
    stored = json.loads(out)
    check(list(stored["matchers"].items()) ==
          [("office", OFFICE), ("indicator", "reconsideration")],
          "stored matchers %r" % stored["matchers"])
    # It matches no rejection alert.
    for a in get(d, "/v1/alerts?indicator=rejection")["alerts"]:
        check(a["silenced_by"] != stored["id"], "%s silenced by %s" % (a["alert_id"],
                                                                     stored["id"]))
    s, _, _ = d.request("DELETE", "/v1/silences/" + stored["id"], token=WRITE_TOKEN)
    check(s == 204, "delete: %s" % s)


def check_status_metrics(d, written):
    st = d.status()
    by = st["events"]["by_event"]
    check(sorted(by) == sorted(["decision", "reconsideration", "appeal", "assessment"]),
          "by_event %r" % by)
    check(by["decision"] == st["events"]["counted"] == written,
          "by_event %r, counted %r, written %d" % (by, st["events"]["counted"], written))
    check(by["reconsideration"] == by["appeal"] == by["assessment"] == 0, "by_event %r" % by)
    check([s["key"] for s in st["streams"]] == ["stabild:decisions"], "streams %r" % st["streams"])
    check(st["streams"][0]["last_applied"] == st["stream"]["last_applied"] and
          st["streams"][0]["lag"] == st["stream"]["lag"], "streams %r against stream %r"
          % (st["streams"], st["stream"]))
    check(isinstance(st["detector_memory_bytes"], int) and st["detector_memory_bytes"] > 0,
          "detector_memory_bytes %r" % st["detector_memory_bytes"])
    # New members come after every member of before.
    keys = list(st)
    check(keys[-2:] == ["streams", "detector_memory_bytes"], "status members %r" % keys)

    m = harness.get_metrics(d)
    check(m['stabild_events_total{event="decision"}'] == written, "events_total %r"
          % m.get('stabild_events_total{event="decision"}'))
    check(m['stabild_events_total{event="appeal"}'] == 0, "appeal events")
    series = {i["name"]: i["series"] for i in get(d, "/v1/indicators")["indicators"]}
    firing = {n: 0 for n in NAMES}
    for a in get(d, "/v1/alerts?status=firing")["alerts"]:
        firing[a.get("indicator", "rejection")] += 1
    for name in NAMES:
        check(m['stabild_indicator_series{indicator="%s"}' % name] == series[name],
              "%s series metric" % name)
        both = (m['stabild_alerts_firing{indicator="%s",classification="explained"}' % name] +
                m['stabild_alerts_firing{indicator="%s",classification="unexplained"}' % name])
        check(both == firing[name], "%s firing %r, alerts %r" % (name, both, firing[name]))
    check(m["stabild_series"] == sum(series.values()), "stabild_series %r" % m["stabild_series"])
    check(not any(k.startswith("stabild_stream_lag{") or k.startswith("stabild_stream_reader_")
                  for k in m), "a per-stream lag with one stream")


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 3, "--offices", 6, "--weeks", 30,
                            "--per-week", 3000, "--start", "2023-01-02",
                            "--drift", "%s:%s:*:20:4.0" % (OFFICE, BENEFIT))
    written = truth.totals["written"]
    conf = {"detector": {"min_reference_weeks": "13"},
            "alerts": {"historical_age": "50y"}}
    conf.update(indicators.sections())
    d = harness.Daemon(w.path, redis, conf_extra=conf)
    d.start()
    w.add(d.stop)
    d.wait_counted(written, timeout=60)
    harness.wait_for(lambda: get(d, "/v1/alerts")["total"] > 0 and
                     not d.status()["detector_busy"], 60, "an alert")
    time.sleep(0.3)
    check_indicators(d, written)
    check_parameter(d)
    check_silence(d)
    check_status_metrics(d, written)


if __name__ == "__main__":
    harness.main(test, "indicator_api")
