#!/usr/bin/env python3
"""The series page in a real browser (headless chromium through
chromedriver): its plain line, its actions and its missing weeks, against
a daemon fed with sjukpenning decisions, two office drifts (K024 up,
K031 down) and a week in which no decision was made.

The plain line says the direction, the onset week and the odds ratio with
its interval as the API's alert has them; a read token sees no action
form; a write token explains the alert from the page (the alert is then
explained in the API and on the page), silences it (silenced in the API
and on the page) and ends the silence, and accepts the new level of the
other drifting series (its alert resolves). The week without decisions is
a row of the weekly table and a point of the charts' axis, marked with
its reason, though the API has no row for it. Screenshots go to
BUILDDIR/artefacts/dashboard-series-*.png.

Skips (exit 0, with the reason) only when chromium and chromedriver are
missing and cannot be installed."""

import datetime
import os
import sys

import harness
import webdriver
from harness import READ_TOKEN, WRITE_TOKEN, check

ARTEFACTS = os.path.join(harness.BUILD, "artefacts")
UP = harness.SCENARIO_SERIES                   # K024 sjukpenning first, odds ratio 2.5
DOWN = ("K031", "sjukpenning", "first")        # odds ratio 0.4
GAP = 30                                       # 0-based week without decisions
PER_WEEK = 10000


def shot(b, name):
    os.makedirs(ARTEFACTS, exist_ok=True)
    n = b.screenshot(os.path.join(ARTEFACTS, "dashboard-series-%s.png" % name))
    check(n > 10000, "screenshot %s has only %d bytes" % (name, n))


def scenario(w):
    """The harness's scenario for sjukpenning only, in two runs of the
    simulator with a week between them in which nothing is decided;
    (redis, daemon) once all is counted."""
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    shift = harness.SCENARIO_SHIFT_WEEK - GAP - 1
    # Distinct seeds (the simulator's event ids follow the seed) and no
    # office effects, which a new seed would draw afresh.
    common = ["--per-week", PER_WEEK, "--office-sd", 0, "--benefits", "sjukpenning"]
    runs = [
        harness.run_sim(redis, w.path, *common, "--seed", 7, "--weeks", GAP,
                        "--start", harness.SCENARIO_START),
        harness.run_sim(redis, w.path, *common, "--seed", 9, "--weeks", harness.SCENARIO_WEEKS - GAP - 1,
                        "--start", harness.scenario_monday(GAP + 1).isoformat(),
                        "--drift", "%s:%s:%s:%d:2.5" % (UP + (shift,)),
                        "--drift", "%s:%s:%s:%d:0.4" % (DOWN + (shift,))),
    ]
    d = harness.Daemon(w.path, redis, conf_extra={
        "detector": {"min_reference_weeks": "52"}, "alerts": {"historical_age": "50y"}})
    d.start()
    w.add(d.stop)
    d.wait_counted(sum(t.totals["written"] for t in runs), timeout=120)
    return redis, d


def sig2(x):
    """An odds ratio to two significant places, as the page writes it."""
    if abs(x) >= 99.5:
        return str(round(x))
    return ("%#.2g" % x).rstrip(".")


def series_path(s):
    return "/v1/series/%s/%s/%s" % s


def firing(d, s):
    st, body = d.get("/v1/alerts?status=firing&office=" + s[0])
    check(st == 200, "GET /v1/alerts: %s" % st)
    mine = [a for a in body["alerts"] if (a["series"]["benefit"], a["series"]["kind"]) == s[1:]]
    check(len(mine) == 1, "firing alerts of %s: %r" % ("/".join(s), [a["alert_id"] for a in mine]))
    return mine[0]


def open_series(b, d, s):
    b.get("http://127.0.0.1:%d/ui/#/series/%s/%s/%s" % ((d.http_port,) + s))
    check(b.wait_ready("series") == "ok", "series page %s: %s" % ("/".join(s), b.text("main")))


def set_token(b, token, role, page):
    b.clear("#token")
    b.type("#token", token)
    b.click("#token-form button[type=submit]")
    b.wait("return document.body.getAttribute('data-role') === arguments[0];", 10,
           "the %s role on the page" % role, role)
    return b.wait_ready(page)


def shown(b, css):
    return b.execute("var e = document.querySelector(arguments[0]);"
                     " return !!e && e.getClientRects().length > 0;", css)


def message(b, word):
    return b.wait("var m = document.getElementById('series-message');"
                  " return m && m.innerText.indexOf(arguments[0]) >= 0 && m.innerText;", 15,
                  "a message with %r" % word, word)


def test(w):
    chromium, driver = webdriver.find_browser()
    if chromium is None:
        print("SKIP test_dashboard_series: %s" % driver)
        return

    redis, d = scenario(w)
    alert = firing(d, UP)
    check(alert["classification"] == "unexplained" and alert["direction"] == "up", "alert: %r" % alert)
    st, det = d.get(series_path(UP))
    check(det["detector"]["state"] == "drifting", "K024 state: %r" % det["detector"])
    gap = "%04d-W%02d" % harness.scenario_monday(GAP).isocalendar()[:2]
    st, control = d.get(series_path(UP) + "/control?weeks=104")
    weeks = [x["week"] for x in control["weeks"]]
    check(gap not in weeks and weeks[0] < gap < weeks[-1], "the API has a row for %s: %r" % (gap, weeks))
    check(gap not in [p["period"] for p in det["history"]], "the history has %s" % gap)

    b = webdriver.Browser(w.path, chromium, driver, height=1300)
    w.add(b.quit)
    b.get("http://127.0.0.1:%d/ui/#/overview" % d.http_port)
    b.wait_ready("overview")
    set_token(b, READ_TOKEN, "read", "overview")

    # The plain line: direction, onset, odds ratio [interval] and class.
    open_series(b, d, UP)
    lo, hi = alert["odds_ratio_ci"]
    want = "Drifting up since %s, odds ratio %s [%s–%s], unexplained." % (
        alert["onset"], sig2(alert["odds_ratio"]), sig2(lo), sig2(hi))
    plain = b.execute("var e = document.getElementById('series-plain');"
                      " return [e.dataset.state, e.innerText];")
    check(plain == ["drifting", "drifting " + want], "plain line %r, want %r" % (plain, want))
    tech = b.text("#series-technical")
    check("τ²" in tech and "design odds ratio 1.50" in tech and "threshold h" in tech
          and b.execute("return document.querySelectorAll('#series-technical abbr[title]').length;") >= 6,
          "technical line: %r" % tech)

    # A read token sees no action form.
    check(b.execute("return !!document.getElementById('series-actions');"), "no actions on the page")
    check(not shown(b, "#series-actions") and not shown(b, "#series-explain-form")
          and not shown(b, "#series-rebaseline"), "a read token sees the actions")

    # The week without decisions: a table row and a point of the charts, with its reason.
    row = b.execute("var e = document.querySelector('[data-week=\"' + arguments[0] + '\"]');"
                    " return e && [e.dataset.missing, e.closest('tr').cells[0].textContent, e.textContent];", gap)
    check(row is not None and row[0] == "none" and row[1] == gap and "no decisions" in row[2],
          "table row of %s: %r" % (gap, row))
    chart = b.execute("var c = Chart.getChart(document.getElementById('control-chart'));"
                      " var i = c.data.labels.indexOf(arguments[0]);"
                      " return [i, c.data.datasets.every(function (s) { return s.data[i] === null; }),"
                      " c.$markers];", gap)
    check(chart[0] > 0 and chart[1] and any(m.startswith("no data") for m in chart[2]),
          "control chart at %s: %r" % (gap, chart))
    cusum = b.execute("var c = Chart.getChart(document.getElementById('cusum-chart'));"
                      " return c.data.labels.indexOf(arguments[0]) >= 0;", gap)
    check(cusum, "the CUSUM chart lacks %s" % gap)
    summary = b.text("#series-headline")
    check(gap + " (no decisions were recorded in this week)" in summary, "summary: %r" % summary)
    shot(b, "read")

    # The write token: explain the alert from the page.
    check(set_token(b, WRITE_TOKEN, "write", "series") == "ok", "series page with the write token")
    check(shown(b, "#series-actions"), "the write token sees no actions")
    b.click("#act-explain summary")
    expl_id = "reorg-k024"
    b.clear("#e-id")
    b.type("#e-id", expl_id)
    b.execute("document.getElementById('e-kind').value = 'legal_position';")
    b.type("#e-reference", "Dnr 2020/4711")
    b.type("#e-description", "New legal position on work capacity")
    shot(b, "actions")
    b.click("#series-explain-form button[type=submit]")
    message(b, "registered")
    b.wait_ready("series")
    st, after = d.get("/v1/alerts/" + alert["alert_id"])
    check(after["classification"] == "explained" and after["explanations"] == [expl_id],
          "alert after explaining it from the page: %r" % after)
    st, e = d.get("/v1/explanations/" + expl_id)
    year, week = alert["onset"].split("-W")
    monday = datetime.date.fromisocalendar(int(year), int(week), 1).isoformat()
    check(st == 200 and e["offices"] == [UP[0]] and e["benefits"] == [UP[1]] and e["kinds"] == [UP[2]]
          and e["kind"] == "legal_position" and e["reference"] == "Dnr 2020/4711"
          and e["effective_from"] == monday, "the explanation (onset %s): %r" % (alert["onset"], e))
    plain = b.execute("var e = document.getElementById('series-plain'); return [e.dataset.state, e.innerText];")
    st, det = d.get(series_path(UP))
    check(plain[0] == det["detector"]["state"] and "covered by " + expl_id in plain[1]
          and "unexplained" not in plain[1], "plain line after explaining: %r (API %r)" % (plain, det["detector"]))
    check(not shown(b, "#act-explain"), "explain offered for an explained alert")
    shot(b, "explained")

    # Silence it from the page, then end the silence.
    b.click("#act-silence summary")
    b.type("#s-comment", "in review with the office")
    b.click("#series-silence-form button[type=submit]")
    message(b, "silenced until")
    b.wait_ready("series")
    st, after = d.get("/v1/alerts/" + alert["alert_id"])
    st, sil = d.get("/v1/silences")
    mine = [s for s in sil["silences"] if s["matchers"] == {"alert_id": alert["alert_id"]}]
    check(len(mine) == 1 and after["silenced_by"] == mine[0]["id"] and mine[0]["comment"] == "in review with the office",
          "silence from the page: %r, %r" % (after.get("silenced_by"), sil))
    headline = b.text("#series-headline")
    check("Silenced until" in headline and mine[0]["id"] in headline, "headline when silenced: %r" % headline)
    shot(b, "silenced")
    b.click("#act-silence summary")
    b.click("#series-unsilence")
    message(b, "ended")
    b.wait_ready("series")
    st, after = d.get("/v1/alerts/" + alert["alert_id"])
    check(after["silenced_by"] is None and "Silenced" not in b.text("#series-headline"),
          "after ending the silence: %r" % after.get("silenced_by"))

    # Accept the new level of the other series: two presses; its alert resolves.
    other = firing(d, DOWN)
    open_series(b, d, DOWN)
    check(b.execute("return document.getElementById('series-plain').innerText;").startswith(
        "drifting Drifting down since %s, odds ratio %s [" % (other["onset"], sig2(other["odds_ratio"]))),
        "plain line of %s: %r" % ("/".join(DOWN), b.text("#series-plain")))
    b.click("#act-rebaseline summary")
    b.click("#series-rebaseline")
    st, still = d.get("/v1/alerts/" + other["alert_id"])
    check(still["status"] == "firing" and b.text("#series-rebaseline").startswith("Confirm"),
          "one press accepted the level: %r" % still["status"])
    b.click("#series-rebaseline")
    message(b, "New level accepted")
    b.wait_ready("series")
    st, done = d.get("/v1/alerts/" + other["alert_id"])
    st, det = d.get(series_path(DOWN))
    check(done["status"] == "resolved" and done["note"] and det["detector"]["state"] == "stable",
          "after accepting the level: %r, %r" % (done, det["detector"]))
    plain = b.text("#series-plain")
    # The badge shows the series' flag (outlier) when it has one.
    check(" Stable since " in plain and other["alert_id"] in plain and done["note"] in plain,
          "plain line after accepting: %r" % plain)
    check(not shown(b, "#series-actions"), "actions offered for a resolved alert")
    shot(b, "accepted")
    stray = b.execute("return Array.prototype.filter.call(document.getElementById('main').childNodes,"
                      " function (n) { return n.nodeType === 3 && n.textContent.trim(); })"
                      ".map(function (n) { return n.textContent; });")
    check(stray == [], "stray text on the page: %r" % stray)
    errors = b.execute("return S.app.errors;")
    check(errors == [], "the page reported errors: %s" % errors)


if __name__ == "__main__":
    harness.main(test, "dashboard_series")
    sys.exit(0)
