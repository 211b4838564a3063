#!/usr/bin/env python3
"""The dashboard in a real browser: headless chromium driven through
chromedriver (W3C WebDriver over HTTP), against a daemon fed with an
office drift and a lawful national change explained in the configuration.

A missing or wrong token is refused and the page says so; with a read
token the overview shows the drifting office as drifting; its control
chart and CUSUM are drawn with every closed week and markers for the
alert; the funnel names the office outside its limits; the alert list
filters; registering an explanation through the form re-classifies the
alert (in the API and on the page) and deleting it undoes that; a read
token cannot write. With Redis stopped every page shows a stale-data
banner (since when, the last entry applied, the reconnection), which goes
when Redis returns. A silenced alert is marked on the alerts page. Times are in Stockholm time although the browser runs
in another zone. Screenshots of every page go to BUILDDIR/artefacts/.

Skips (exit 0, with the reason) only when chromium and chromedriver are
missing and cannot be installed."""

import datetime
import json
import os
import sys
import zoneinfo

import harness
import webdriver
from harness import READ_TOKEN, WRITE_TOKEN, check

ARTEFACTS = os.path.join(harness.BUILD, "artefacts")
OFFICE, BENEFIT, KIND = harness.SCENARIO_SERIES
CELL = '#office-grid td[data-office="%s"][data-benefit="%s"][data-kind="%s"]' % (OFFICE, BENEFIT, KIND)
ENTER = "\ue007"


def shot(b, name):
    os.makedirs(ARTEFACTS, exist_ok=True)
    path = os.path.join(ARTEFACTS, "dashboard-%s.png" % name)
    n = b.screenshot(path)
    check(n > 10000, "screenshot %s has only %d bytes" % (name, n))


def open_page(b, d, hash_, page):
    b.get("http://127.0.0.1:%d/ui/%s" % (d.http_port, hash_))
    return b.wait_ready(page)


def set_token(b, token):
    b.clear("#token")
    b.type("#token", token)
    b.click("#token-form button[type=submit]")


def chart_lengths(b, canvas_id):
    """Per dataset: (label, number of points, number of non-null points)."""
    return b.execute("""
        var c = Chart.getChart(document.getElementById(arguments[0]));
        if (!c) return null;
        return c.data.datasets.map(function (d) {
          return [d.label, d.data.length, d.data.filter(function (v) {
            return v !== null && v !== undefined; }).length];
        });""", canvas_id)


def no_page_errors(b):
    errors = b.execute("return S.app.errors;")
    check(errors == [], "the page reported errors: %s" % errors)


def firing_alert(d):
    s, body = d.get("/v1/alerts?status=firing&office=" + OFFICE)
    check(s == 200, "GET /v1/alerts: %s" % s)
    mine = [a for a in body["alerts"] if a["series"]["benefit"] == BENEFIT and a["series"]["kind"] == KIND]
    check(len(mine) == 1, "firing alerts of %s/%s/%s: %s" % (OFFICE, BENEFIT, KIND, [a["alert_id"] for a in mine]))
    return mine[0]


def stockholm(iso):
    t = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(
        zoneinfo.ZoneInfo("Europe/Stockholm"))
    return t.strftime("%d %b %Y, %H:%M"), t.tzname()


def test(w):
    chromium, driver = webdriver.find_browser()
    if chromium is None:
        print("SKIP test_dashboard: %s" % driver)
        return

    redis, d, _ = harness.start_scenario(w)
    s, status = d.get("/v1/status")
    closed = status["closed_through"]
    alert = firing_alert(d)
    check(alert["classification"] == "unexplained", "alert before any explanation: %r" % alert)

    # The browser runs in New York time; the page must still show Stockholm time.
    os.environ["TZ"] = "America/New_York"
    b = webdriver.Browser(w.path, chromium, driver)
    w.add(b.quit)

    # No token, then a wrong one: refused, and the page says why.
    check(open_page(b, d, "", "overview") == "error", "overview without a token was drawn")
    check(b.execute("return location.hash;") == "#/overview", "/ui/ did not go to #/overview")
    check(b.execute("return document.getElementById('page-error').dataset.status;") == "401",
          "no 401 shown without a token")
    set_token(b, "wrong-token-0123456789abcdef")
    b.wait_ready("overview")
    err = b.text("#page-error")
    check("401" in err and "not valid" in err and "token" in err.lower(), "wrong token: page shows %r" % err)
    check("refused the token" in b.text("#notice"), "wrong token: notice %r" % b.text("#notice"))
    check(b.execute("return sessionStorage.getItem('stabild.token');") == "wrong-token-0123456789abcdef",
          "the token is not kept in sessionStorage")
    shot(b, "token-refused")

    # Overview with a read token: the drifting office, the national trends.
    set_token(b, READ_TOKEN)
    check(b.wait_ready("overview") == "ok", "overview with the read token: %s" % b.execute(
        "return document.getElementById('main').innerText;"))
    check(b.execute("return document.getElementById('notice').innerText;") == "", "notice left after a good token")
    # One definition of "unexplained firing", the one stabilctl counts.
    s, st = d.get("/v1/status")
    check(b.text("#unexplained-count") == "%d unexplained" % st["firing_unexplained"] and
          b.text("#firing-count") == "%d firing alerts" % st["firing_alerts"] and
          st["firing_unexplained"] == len([a for a in d.get("/v1/alerts?status=firing&classification=unexplained")[1]["alerts"]]),
          "overview counts %r %r, status %r" % (b.text("#firing-count"), b.text("#unexplained-count"), st))
    state = b.execute("var c = document.querySelector(arguments[0]); return c && [c.dataset.state, c.innerText];",
                      CELL)
    check(state is not None and state[0] == "drifting" and "drifting" in state[1],
          "grid cell of %s/%s/%s: %r" % (OFFICE, BENEFIT, KIND, state))
    nrows = b.execute("return document.querySelectorAll('#office-grid tbody tr').length;")
    check(nrows == 58, "grid rows: %d" % nrows)
    spark = b.wait("var c = document.getElementById('spark-%s-%s'); var ch = c && Chart.getChart(c);"
                   " return ch && ch.data.datasets[0].data.length;" % harness.SCENARIO_NATIONAL[1:], 15,
                   "the national sparkline")
    check(spark == 26, "sparkline points: %r" % spark)
    national = b.execute("return document.querySelector('a[href=\"#/series/national/%s/%s\"]')"
                         ".closest('li').innerText;" % harness.SCENARIO_NATIONAL[1:])
    check("explained" in national, "national card: %r" % national)
    shot(b, "overview")

    # Keyboard: sort by office descending with Enter, then filter.
    b.execute("document.querySelector('#office-grid th button.sort').focus();")
    b.keys(ENTER)
    first = b.execute("return [document.querySelector('#office-grid thead th').getAttribute('aria-sort'),"
                      " document.querySelector('#office-grid tbody tr th').innerText,"
                      " document.activeElement.className];")
    check(first == ["descending", "K058", "sort"], "sort by office with the keyboard: %r" % first)
    b.type("#f-office", OFFICE)
    rows = b.execute("return Array.prototype.map.call(document.querySelectorAll('#office-grid tbody tr'),"
                     " function (r) { return r.dataset.office; });")
    check(rows == [OFFICE], "office filter: %r" % rows)
    b.clear("#f-office")
    b.execute("var s = document.getElementById('f-state'); s.value = 'drifting';"
              " s.dispatchEvent(new Event('change'));")
    rows = b.execute("return Array.prototype.map.call(document.querySelectorAll('#office-grid tbody tr'),"
                     " function (r) { return r.dataset.office; });")
    check(OFFICE in rows and len(rows) < 58, "state filter: %r" % rows)

    # The series: control chart and CUSUM with every closed week.
    b.click(CELL + " a")
    check(b.wait_ready("series") == "ok", "series page: %s" % b.text("main"))
    s, control = d.get("/v1/series/%s/%s/%s/control" % harness.SCENARIO_SERIES)
    nweeks = len(control["weeks"])
    check(nweeks == harness.SCENARIO_WEEKS - 1 and control["weeks"][-1]["week"] == closed,
          "control weeks: %d to %s" % (nweeks, control["weeks"][-1]["week"]))
    lengths = {l: (n, k) for l, n, k in chart_lengths(b, "control-chart")}
    check(lengths["Observed"] == (nweeks, nweeks), "observed points: %r" % (lengths["Observed"],))
    # Every week but the one open at the model fit, which has partial expected sums.
    check(lengths["Expected by the detector"][1] == nweeks - 1, "expected points: %r" % lengths)
    check(lengths["Band of ordinary variation (95%)"][1] == nweeks - 1, "band points: %r" % lengths)
    cusum = chart_lengths(b, "cusum-chart")
    up = [x for x in cusum if x[0].startswith("CUSUM up")][0]
    check(up[1] == nweeks and up[2] >= 8, "CUSUM up points: %r" % (up,))
    top = b.execute("var c = Chart.getChart(document.getElementById('cusum-chart'));"
                    " return [Math.max.apply(null, c.data.datasets[0].data.filter(function (v) {"
                    " return v !== null; })), c.data.datasets[2].data[0]];")
    check(top[0] > top[1] > 0, "CUSUM up never crosses the threshold: %r" % top)
    marks = b.execute("return Chart.getChart(document.getElementById('control-chart')).$markers;")
    check("onset ↑" in marks and "detected ↑" in marks, "control chart markers: %r" % marks)
    detail = b.execute("return document.getElementById('alert-detail').dataset.alert;")
    check(detail == alert["alert_id"], "alert shown: %r" % detail)
    text = b.text("#alert-detail")
    check("Practice (current − expected)" in text and "Top strata" in b.text("main"), "decomposition: %r" % text)
    # Figures frozen at detection say so; the series' rate now is beside them.
    s, now = d.get("/v1/alerts/" + alert["alert_id"])
    want_now = "%.1f%%" % (100 * now["series_now"]["rejection_rate"])
    check("Rates at detection" in text and now["series_now"]["through"] in b.text("#alert-now")
          and b.text("#alert-now").startswith(want_now),
          "at detection / now: %r, %r" % (text, now["series_now"]))
    shot(b, "series")
    open_page(b, d, "#/series/%s/%s/%s?view=month" % harness.SCENARIO_SERIES, "series")
    months = chart_lengths(b, "month-chart")
    check(months and months[0][1] >= 14, "monthly points: %r" % months)
    shot(b, "series-month")

    # The funnel names the office outside its limits.
    check(open_page(b, d, "#/funnel/%s/%s?weeks=13" % (BENEFIT, KIND), "funnel") == "ok", "funnel page")
    outside = b.execute("var c = Chart.getChart(document.getElementById('funnel-chart'));"
                        " return [c.data.datasets[1].data.map(function (p) { return p.name; }), c.$labels];")
    check(OFFICE in outside[0] and OFFICE in outside[1], "funnel outside/labels: %r" % outside)
    row = b.execute("var name = arguments[0];"
                    " var a = Array.prototype.filter.call(document.querySelectorAll('main table.data tbody tr'),"
                    " function (r) { return r.cells[0].textContent === name; })[0];"
                    " return a && a.textContent;", OFFICE)
    check(row is not None and "outside above" in row, "funnel table row: %r" % row)
    shot(b, "funnel")

    # Alerts, filtered; times in Stockholm.
    check(open_page(b, d, "#/alerts?status=firing&scope=office", "alerts") == "ok", "alerts page")
    cls = b.execute("var e = document.querySelector('[data-alert=\"' + arguments[0] + '\"]');"
                    " return e && [e.dataset.classification, e.closest('tr').innerText];", alert["alert_id"])
    check(cls is not None and cls[0] == "unexplained", "alert on the alerts page: %r" % cls)
    when, zone = stockholm(alert["detected_at"])
    check(when in cls[1] and zone in cls[1], "detected time %r %s not in %r" % (when, zone, cls[1]))
    national_rows = b.execute("return document.querySelectorAll('main table.data tbody tr').length;")
    b.execute("var s = document.getElementById('a-scope'); s.value = 'national';"
              " s.dispatchEvent(new Event('change'));")
    b.wait_ready("alerts")
    check("scope=national" in b.execute("return location.hash;"), "scope filter not in the address")
    shot(b, "alerts")

    # Explanations: the configured one covers the national alert.
    check(open_page(b, d, "#/explanations", "explanations") == "ok", "explanations page")
    cfg = b.execute("var e = document.querySelector('[data-explanation=\"%s\"]');"
                    " return e && e.closest('tr').innerText;" % harness.SCENARIO_EXPLANATION)
    check(cfg is not None and "configuration" in cfg and "national.sjukersattning.ongoing" in cfg,
          "configured explanation row: %r" % cfg)

    # A read token cannot register one.
    onset = alert["onset"]
    monday = harness.scenario_monday(harness.SCENARIO_SHIFT_WEEK).isoformat()

    def fill():
        b.type("#x-id", "reorg-" + OFFICE.lower())
        b.execute("document.getElementById('x-kind').value = 'legal_position';"
                  " document.getElementById('x-from').value = arguments[0];", monday)
        b.click("#x-benefits-%s" % BENEFIT)
        b.click("#x-kinds-%s" % KIND)
        b.type("#x-offices", OFFICE)
        b.type("#x-reference", "Dnr 2020/4711")
        b.type("#x-description", "New legal position on work capacity from the office's review")
        b.click("#explanation-form button[type=submit]")

    fill()
    msg = b.wait("var m = document.getElementById('form-message'); return m && m.innerText;", 10, "a message")
    check("403" in msg and "write role" in msg, "read token registering: %r" % msg)

    # The write token registers it; the alert becomes explained.
    set_token(b, WRITE_TOKEN)
    b.wait_ready("explanations")
    fill()
    b.wait("var m = document.getElementById('form-message');"
           " return m && m.innerText.indexOf('registered') >= 0;", 10,
           "the registration message")
    b.wait_ready("explanations")
    s, after = d.get("/v1/alerts/" + alert["alert_id"])
    check(after["classification"] == "explained" and after["explanations"] == ["reorg-" + OFFICE.lower()],
          "alert after the explanation (onset %s, effective %s): %r" % (onset, monday, after))
    covered = b.execute("var e = document.querySelector('[data-explanation=\"reorg-%s\"]');"
                        " return e && e.closest('tr').querySelector('[data-alert]').dataset.alert;" % OFFICE.lower())
    check(covered == alert["alert_id"], "covered alert on the page: %r" % covered)
    shot(b, "explanations")
    open_page(b, d, "#/alerts?status=firing&scope=office", "alerts")
    cls = b.execute("return document.querySelector('[data-alert=\"' + arguments[0] + '\"]')"
                    ".dataset.classification;", alert["alert_id"])
    check(cls == "explained", "alerts page after the explanation: %r" % cls)

    # Deleting it (two presses: the second confirms) makes it unexplained again.
    open_page(b, d, "#/explanations", "explanations")
    sel = "button[data-delete=\"reorg-%s\"]" % OFFICE.lower()
    b.click(sel)
    check(b.text(sel) == "Confirm delete", "delete asks for confirmation")
    b.click(sel)
    b.wait("var m = document.getElementById('form-message');"
           " return m && m.innerText.indexOf('deleted') >= 0;", 10,
           "the deletion message")
    s, again = d.get("/v1/alerts/" + alert["alert_id"])
    check(again["classification"] == "unexplained", "after deleting the explanation: %r" % again)

    # A silence on the alert: the alerts page marks it as silenced.
    s, _, raw = d.request("POST", "/v1/silences", token=WRITE_TOKEN, body={
        "matchers": {"alert_id": alert["alert_id"]}, "ends_at": "2099-01-01T00:00:00Z",
        "comment": "in review"})
    check(s == 201, "silence for the alert: %s %s" % (s, raw))
    sid = json.loads(raw)["id"]
    open_page(b, d, "#/alerts?status=firing", "alerts")
    marked = b.execute("return Array.prototype.map.call(document.querySelectorAll('[data-silenced-by]'),"
                       " function (e) { return [e.closest('tr').querySelector('[data-alert]').dataset.alert,"
                       " e.dataset.silencedBy, e.innerText]; });")
    check(marked == [[alert["alert_id"], sid, "silenced"]], "silenced marks: %r" % marked)
    shot(b, "alerts-silenced")
    s, _, _ = d.request("DELETE", "/v1/silences/" + sid, token=WRITE_TOKEN)
    check(s == 204, "DELETE the silence: %s" % s)

    # Redis stops: every page says the data are stale, since when, and
    # what the daemon is doing; the banner goes when Redis returns.
    open_page(b, d, "#/overview", "overview")
    check(b.execute("return document.getElementById('stale').innerText;") == "",
          "a stale banner while Redis is up")
    redis.stop()
    banner = b.wait("var e = document.getElementById('stale-banner'); return e && e.innerText;", 20,
                    "the stale banner")
    check("Data are stale" in banner and "down since" in banner and "Last entry applied" in banner
          and ("reconnecting" in banner or "connecting now" in banner), "stale banner: %r" % banner)
    shot(b, "stale")
    open_page(b, d, "#/alerts", "alerts")
    b.wait("return !!document.getElementById('stale-banner');", 10, "the banner on the alerts page")
    redis.start()
    b.wait("return !document.getElementById('stale-banner');", 30, "the banner to go")
    no_page_errors(b)


if __name__ == "__main__":
    harness.main(test, "dashboard")
    sys.exit(0)
