#!/usr/bin/env python3
"""The data behind the dashboard's charts, and the dashboard's files, on a
daemon fed with an office drift (the dashboard scenario):

- GET /v1/series/{office}/{benefit}/{kind}/control: one row per closed week
  ingested, counts equal to the simulator's truth, the band around the
  expected rate, a CUSUM that crosses the threshold once the drift starts,
  the series' alerts; weeks limits the window;
- GET /v1/funnel/{benefit}/{kind}: the drifted office's odds ratio above 1
  and outside its limits, every office's z equal to the detector's own
  13-week funnel score and its outlier flag, limits that narrow with volume;
- /, /ui, /ui/ and its files: redirect, types, ETag and 304, the security
  headers, no token needed; Chart.js from http.chartjs_dir, read again when
  the file changes and refused (404, logged once) when it is gone."""

import http.client
import math
import os
import shutil
import signal

import harness
from harness import check

OFFICE, BENEFIT, KIND = harness.SCENARIO_SERIES
SYSTEM_CHARTJS = "/usr/share/javascript/chart.js/chart.min.js"


def get(d, path, token=harness.READ_TOKEN, headers=None, method="GET"):
    """One request without following redirects: (status, headers, body)."""
    c = http.client.HTTPConnection("127.0.0.1", d.http_port, timeout=10)
    try:
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        c.request(method, path, headers=h)
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def control_checks(d, truth, closed):
    path = "/v1/series/%s/%s/%s/control" % harness.SCENARIO_SERIES
    s, c = d.get(path)
    check(s == 200, "GET %s: %s %r" % (path, s, c))
    weeks = c["weeks"]
    want = sorted(w for w in truth.weeks[harness.SCENARIO_SERIES] if w <= closed)
    check([w["week"] for w in weeks] == want,
          "control weeks %s..%s (%d), truth %s..%s (%d)" % (weeks[0]["week"], weeks[-1]["week"],
                                                           len(weeks), want[0], want[-1], len(want)))
    check(len(weeks) == harness.SCENARIO_WEEKS - 1, "%d weeks for %d ingested, the last one open"
          % (len(weeks), harness.SCENARIO_WEEKS))
    for w in weeks:
        n, rej, _, _ = truth.weeks[harness.SCENARIO_SERIES][w["week"]]
        check(w["decisions"] == n and w["rejected"] == rej, "week %s: %r, truth %r" % (w["week"], w, (n, rej)))
        check(abs(w["rejection_rate"] - rej / n) < 1e-9, "rate of %s" % w["week"])
        if w["baseline_rate"] is not None:
            check(w["band_low"] <= w["baseline_rate"] <= w["band_high"], "band of %s: %r" % (w["week"], w))
            check(0 < w["band_high"] - w["band_low"] < 0.25, "band width of %s: %r" % (w["week"], w))
    # One week, open when the model was fitted, has no expectation.
    check(sum(w["baseline_rate"] is None for w in weeks) == 1, "weeks without a baseline: %s" %
          [w["week"] for w in weeks if w["baseline_rate"] is None])
    monitored = [w for w in weeks if w["monitored"]]
    check(monitored and all(w["cusum_up"] is not None for w in monitored)
          and all(w["cusum_up"] is None for w in weeks if not w["monitored"]), "CUSUM only where monitored")
    check(53 <= len(weeks) - len(monitored) <= 54, "%d weeks before monitoring" % (len(weeks) - len(monitored)))

    # The drift: the CUSUM crosses the threshold in the week the alert was detected.
    alerts = c["alerts"]
    check(alerts and all(a["direction"] == "up" for a in alerts), "series alerts %r" % alerts)
    first = alerts[0]
    shift = "%04d-W%02d" % harness.scenario_monday(harness.SCENARIO_SHIFT_WEEK).isocalendar()[:2]
    # The onset is estimated (the CUSUM's last zero), so a noisy week
    # just before the shift may be taken in; never more than one.
    earliest = "%04d-W%02d" % harness.scenario_monday(harness.SCENARIO_SHIFT_WEEK - 1).isocalendar()[:2]
    check(first["onset"] >= earliest and first["detected_week"] >= shift
          and first["detected_week"] >= first["onset"], "first alert %r (shift %s)" % (first, shift))
    # The week whose look alarmed (its commit may fall in the next week,
    # the detected one).
    check(first["onset"] <= first["alarm_week"] <= first["detected_week"], "alarm week of %r" % first)
    row = [w for w in weeks if w["week"] == first["alarm_week"]][0]
    check(row["cusum_up"] > c["threshold"] > 0, "CUSUM %r at the alarm, threshold %r" % (row["cusum_up"],
                                                                                        c["threshold"]))
    before = [w["cusum_up"] for w in monitored if w["week"] < shift]
    check(max(before) < c["threshold"], "CUSUM crossed before the drift: %r" % before)
    s, listed = d.get("/v1/alerts?office=" + OFFICE)
    ids = sorted(a["alert_id"] for a in listed["alerts"]
                 if a["series"]["benefit"] == BENEFIT and a["series"]["kind"] == KIND)
    check(sorted(a["alert_id"] for a in alerts) == ids, "control alerts %r, /v1/alerts %r" % (alerts, ids))
    check(c["state"] == "drifting" and c["office"] == OFFICE and c["closed_through"] == closed, "header %r"
          % {k: v for k, v in c.items() if k != "weeks"})

    # The national series, a window, and bad requests.
    s, nat = d.get("/v1/series/%s/%s/%s/control?weeks=13" % harness.SCENARIO_NATIONAL)
    check(s == 200 and len(nat["weeks"]) == 13 and nat["weeks"][-1]["week"] == closed, "national, 13 weeks")
    n, rej, _, _ = truth.weeks[harness.SCENARIO_NATIONAL][closed]
    check(nat["weeks"][-1]["decisions"] == n and nat["weeks"][-1]["rejected"] == rej, "national counts")
    for q in ("?weeks=0", "?weeks=157", "?weeks=x", "?week=3"):
        s, body = d.get(path + q)
        check(s == 400 and body["error"] == "bad_request", "%s: %s" % (q, s))
    for p, code in (("/v1/series/K999/sjukpenning/first/control", 404),
                    ("/v1/series/K024/nothing/first/control", 400)):
        s, body = d.get(p)
        check(s == code, "%s: %s" % (p, s))
    s, _ = d.get(path, token=None)
    check(s == 401, "control without a token: %s" % s)


def funnel_checks(d, truth, closed):
    s, f = d.get("/v1/funnel/%s/%s" % (BENEFIT, KIND))
    check(s == 200 and f["weeks"] == 13 and f["to"] == closed and f["weeks_with_data"] == 13,
          "funnel: %s %r" % (s, {k: v for k, v in f.items() if k not in ("offices", "curve")}))
    offices = {o["office"]: o for o in f["offices"]}
    check(len(offices) == 58, "%d offices" % len(offices))
    k = offices[OFFICE]
    check(k["odds_ratio"] > 1.5 and k["outside"] and k["odds_ratio"] > k["high998"] and k["z"] > 3.09,
          "drifted office in the funnel: %r" % k)
    # The counts of the window are the truth's.
    window = sorted(w for w in truth.weeks[harness.SCENARIO_SERIES] if w <= closed)[-13:]
    check(k["decisions"] == sum(truth.weeks[harness.SCENARIO_SERIES][w][0] for w in window) and
          k["rejected"] == sum(truth.weeks[harness.SCENARIO_SERIES][w][1] for w in window),
          "funnel counts of %s" % OFFICE)
    # Each office's z is the detector's own funnel score; outside is its outlier flag.
    s, lst = d.get("/v1/series?benefit=%s&kind=%s&limit=10000" % (BENEFIT, KIND))
    for it in lst["series"]:
        if it["office"] == "national":
            continue
        o, det = offices[it["office"]], it["detector"]
        check(abs(o["z"] - det["funnel_z13"]) < 1e-6, "%s: z %r, detector %r" % (it["office"], o["z"],
                                                                                 det["funnel_z13"]))
        check(o["outside"] == ("outlier" in det["flags"]), "%s: outside %r, flags %r" % (it["office"],
                                                                                       o["outside"], det["flags"]))
        check(o["low998"] < o["low95"] < 1 < o["high95"] < o["high998"], "%s limits %r" % (it["office"], o))
        check(abs(math.log(o["odds_ratio"]) / o["se"] - o["z"]) < 1e-6, "%s: z from OR and se" % it["office"])
    # Limits narrow with volume.
    curve = f["curve"]
    check(len(curve) > 10 and all(a["expected"] < b["expected"] and a["high998"] > b["high998"] and
                                   a["low998"] < b["low998"] for a, b in zip(curve, curve[1:])),
          "the limits do not narrow with volume")
    s, f4 = d.get("/v1/funnel/%s/%s?weeks=4" % (BENEFIT, KIND))
    k4 = [o for o in f4["offices"] if o["office"] == OFFICE][0]
    check(f4["weeks"] == 4 and k4["decisions"] < k["decisions"] and k4["se"] > k["se"], "4-week funnel %r" % k4)
    for p, code in (("/v1/funnel/%s/%s?weeks=0" % (BENEFIT, KIND), 400), ("/v1/funnel/x/first", 400),
                    ("/v1/funnel/%s/sometimes" % BENEFIT, 400), ("/v1/funnel/%s" % BENEFIT, 404)):
        s, _ = d.get(p)
        check(s == code, "%s: %s, expected %d" % (p, s, code))


def ui_checks(d, chartjs_dir):
    s, h, _ = get(d, "/", token=None)
    check(s == 302 and h.get("Location") == "/ui/", "GET /: %s %r" % (s, h.get("Location")))
    s, h, _ = get(d, "/ui", token=None)
    check(s == 302 and h.get("Location") == "/ui/", "GET /ui: %s" % s)
    s, h, page = get(d, "/ui/", token=None)
    check(s == 200 and h["Content-Type"] == "text/html; charset=utf-8" and b"<script src=\"app.js\"" in page,
          "GET /ui/: %s %r" % (s, h.get("Content-Type")))
    check(h.get("Cache-Control") == "no-cache" and h.get("ETag", "").startswith('"'), "caching of /ui/: %r" % h)
    csp = h.get("Content-Security-Policy", "")
    check("default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp,
          "CSP %r" % csp)
    with open(os.path.join(harness.ROOT, "daemon", "ui", "index.html"), "rb") as f:
        check(page == f.read(), "/ui/ is not daemon/ui/index.html")
    etag = h["ETag"]
    s, h2, body = get(d, "/ui/", token=None, headers={"If-None-Match": etag})
    check(s == 304 and body == b"" and h2.get("ETag") == etag, "conditional GET: %s" % s)
    s, _, _ = get(d, "/ui/", token=None, headers={"If-None-Match": '"other"'})
    check(s == 200, "If-None-Match with another tag: %s" % s)
    for name, ctype in (("app.js", "text/javascript; charset=utf-8"), ("style.css", "text/css; charset=utf-8"),
                        ("index.html", "text/html; charset=utf-8")):
        s, h, _ = get(d, "/ui/" + name, token=None)
        check(s == 200 and h["Content-Type"] == ctype, "/ui/%s: %s %r" % (name, s, h.get("Content-Type")))
    s, h, body = get(d, "/ui/app.js", token=None, method="HEAD")
    check(s == 200 and body == b"" and int(h["Content-Length"]) > 1000, "HEAD /ui/app.js: %s %r" % (s, h))
    for p, code in (("/ui/nope.js", 404), ("/ui/a/b", 404), ("/ui/?x=1", 400)):
        s, _, _ = get(d, p, token=None)
        check(s == code, "%s: %s, expected %d" % (p, s, code))
    s, h, _ = d.request("POST", "/ui/", token=None, body=b"{}")
    check(s == 405 and h.get("Allow") == "GET, HEAD", "POST /ui/: %s %r" % (s, h.get("Allow")))

    # Chart.js from the configured directory, followed when it changes.
    s, h, js = get(d, "/ui/chart.js", token=None)
    with open(SYSTEM_CHARTJS, "rb") as f:
        check(s == 200 and js == f.read() and h["Content-Type"] == "text/javascript; charset=utf-8",
              "/ui/chart.js: %s" % s)
    tag = h["ETag"]
    s, _, _ = get(d, "/ui/chart.js", token=None, headers={"If-None-Match": tag})
    check(s == 304, "chart.js revalidation: %s" % s)
    target = os.path.join(chartjs_dir, "chart.min.js")
    with open(target, "ab") as f:
        f.write(b"\n/* updated */\n")
    os.utime(target, (1, 1))
    s, h, js2 = get(d, "/ui/chart.js", token=None, headers={"If-None-Match": tag})
    check(s == 200 and js2.endswith(b"/* updated */\n") and h["ETag"] != tag, "changed chart.js: %s" % s)
    os.unlink(target)
    for _ in range(3):
        s, _, _ = get(d, "/ui/chart.js", token=None)
        check(s == 404, "chart.js gone: %s" % s)
    logged = [l for l in harness.log_lines(d) if "ui: cannot read" in l]
    check(len(logged) == 1, "the missing chart.js logged %d times" % len(logged))

    # A reload may point elsewhere: the system's copy again.
    d.sections["http"]["chartjs_dir"] = os.path.dirname(SYSTEM_CHARTJS)
    d.write_conf()
    since = len(d.log())
    d.send_signal(signal.SIGHUP)
    harness.wait_log(d, r"reload: done", since=since)
    s, _, js3 = get(d, "/ui/chart.js", token=None)
    check(s == 200 and js3 == js, "chart.js after the reload: %s" % s)


def test(w):
    chartjs_dir = os.path.join(w.path, "chartjs")
    os.makedirs(chartjs_dir)
    shutil.copy(SYSTEM_CHARTJS, chartjs_dir)
    _, d, truth = harness.start_scenario(w, conf_extra={"http": {"chartjs_dir": chartjs_dir}})
    closed = d.status()["closed_through"]
    control_checks(d, truth, closed)
    funnel_checks(d, truth, closed)
    ui_checks(d, chartjs_dir)


if __name__ == "__main__":
    harness.main(test, "chart_api")
