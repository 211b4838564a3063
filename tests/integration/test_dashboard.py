#!/usr/bin/env python3
"""The dashboard in a real browser: headless chromium driven through
chromedriver (W3C WebDriver over HTTP), against a daemon fed with an
office drift and a lawful national change explained in the configuration.

Before a token is given the page asks for one, calmly, without a
refusal; a wrong token is refused and the page says so; with a read
token the overview shows the drifting office as drifting, its firing
alert first among the cards (needs attention first, the sort shown and
changeable) with direction and size, and sparklines with a scale in %;
its control chart and CUSUM are drawn with every closed week and
markers for the alert; the funnel names the office outside its limits,
draws odds ratio 1 and keeps its y ticks apart at 4, 13 and 52 weeks;
the alert list filters by office, benefit and kind (the API's own
filters), says how long each alert has been firing, draws status as its
own pill (a resolved one grey) and keeps week labels on one line; a read
token sees no write form or action, a write token does; registering an
explanation through the form re-classifies the alert (in the API and on
the page) and deleting it undoes that; silencing the alert from its row
marks it as silenced. With Redis stopped every page shows a stale-data
banner (since when, the last entry applied, the reconnection), which goes
when Redis returns. Dates are ISO (YYYY-MM-DD, times YYYY-MM-DD HH:MM in
Stockholm time although the browser runs in another zone). Screenshots
of every page go to BUILDDIR/artefacts/.

Skips (exit 0, with the reason) only when chromium and chromedriver are
missing and cannot be installed."""

import datetime
import json
import os
import re
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
    """An instant as the dashboard writes it, in Stockholm time: "2020-02-10 00:00"."""
    t = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(
        zoneinfo.ZoneInfo("Europe/Stockholm"))
    return t.strftime("%Y-%m-%d %H:%M")


def span(secs):
    """A duration as the dashboard writes it: its largest unit and the next."""
    units = [("w", 604800), ("d", 86400), ("h", 3600), ("min", 60)]
    secs = int(secs)
    i = 0
    while i < len(units) - 1 and secs < units[i][1]:
        i += 1
    n = secs // units[i][1]
    if n == 0:
        return "under 1 min"
    rest = secs % units[i][1] // units[i + 1][1] if i + 1 < len(units) else 0
    return "%d %s" % (n, units[i][0]) + (" %d %s" % (rest, units[i + 1][0]) if rest else "")


# Dates the way a locale writes them ("10 Feb 2020", "Feb 10", "10/02/2020"): none may show.
LOCALE_DATE = r"\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b|" \
    r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"


def iso_dates_only(b, page):
    text = b.execute("return document.body.innerText;")
    bad = re.search(LOCALE_DATE, text)
    check(bad is None, "%s page shows a date not in ISO form: %r" % (page, bad and bad.group(0)))


def choose(b, page, select_id, value):
    """Choose a value in a select that routes anew; wait for the new page."""
    b.execute("document.body.removeAttribute('data-ready');"
              " var s = document.getElementById(arguments[0]); s.value = arguments[1];"
              " s.dispatchEvent(new Event('change'));", select_id, value)
    return b.wait_ready(page)


def write_forms(b):
    """(write-only elements on the page, those of them displayed)."""
    return b.execute("var all = document.querySelectorAll('.write-only');"
                     " return [all.length, Array.prototype.filter.call(all, function (e) {"
                     " return e.getClientRects().length > 0; }).length];")


def colour(b, css):
    """The background of the first element matching css, as (r, g, b)."""
    rgb = b.execute("var e = document.querySelector(arguments[0]);"
                    " return e && getComputedStyle(e).backgroundColor;", css)
    check(rgb is not None, "no element %s" % css)
    return tuple(int(x) for x in re.findall(r"\d+", rgb)[:3])


def funnel_ticks(b):
    """The funnel's y ticks: (values, labels, smallest gap in pixels)."""
    return b.execute("var c = Chart.getChart(document.getElementById('funnel-chart')), y = c.scales.y;"
                     " var px = y.ticks.map(function (t) { return y.getPixelForValue(t.value); });"
                     " var gap = Infinity;"
                     " for (var i = 1; i < px.length; i++) gap = Math.min(gap, Math.abs(px[i] - px[i - 1]));"
                     " return [y.ticks.map(function (t) { return t.value; }),"
                     " y.ticks.map(function (t) { return t.label; }), gap];")


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

    # The API's alert filters: benefit and kind narrow, unknown names are errors.
    s, body = d.get("/v1/alerts?benefit=%s&kind=%s" % (BENEFIT, KIND))
    check(s == 200 and body["alerts"] and body["total"] == len(body["alerts"]) and
          all((a["series"]["benefit"], a["series"]["kind"]) == (BENEFIT, KIND) for a in body["alerts"]),
          "alerts of %s/%s: %s %r" % (BENEFIT, KIND, s, body))
    s, every = d.get("/v1/alerts")
    check(len(every["alerts"]) > len(body["alerts"]), "the benefit/kind filter left out nothing: %r" % every)
    for q, want in (("benefit=nope", 400), ("kind=sometimes", 400), ("office=K999&benefit=" + BENEFIT, 404)):
        s, body = d.get("/v1/alerts?" + q)
        check(s == want, "GET /v1/alerts?%s: %s %r, want %d" % (q, s, body, want))

    # Another office's alert resolves (its new level accepted): drawn grey.
    other = [a for a in every["alerts"] if a["status"] == "firing" and a["scope"] == "office"
             and a["alert_id"] != alert["alert_id"]]
    check(other, "no second office alert to resolve: %r" % [a["alert_id"] for a in every["alerts"]])
    gone = other[0]
    s, _, raw = d.request("POST", "/v1/series/%s/%s/%s/rebaseline" % (
        gone["series"]["office"], gone["series"]["benefit"], gone["series"]["kind"]), token=WRITE_TOKEN, body={})
    check(s == 200, "rebaseline of %s: %s %s" % (gone["alert_id"], s, raw))

    # The browser runs in New York time; the page must still show Stockholm time.
    os.environ["TZ"] = "America/New_York"
    b = webdriver.Browser(w.path, chromium, driver)
    w.add(b.quit)

    # No token yet: the page asks for one, without a refusal.
    check(open_page(b, d, "", "overview") == "token", "overview without a token: %s" % b.text("main"))
    check(b.execute("return location.hash;") == "#/overview", "/ui/ did not go to #/overview")
    asked = b.execute("return [!!document.getElementById('token-needed'), !!document.getElementById('page-error'),"
                      " document.getElementById('notice').innerText, document.querySelector('main h1').innerText];")
    check(asked == [True, False, "", "Enter a token to read"], "no token: %r" % (asked,))
    body_text = b.execute("return document.body.innerText;")
    check("refused" not in body_text.lower() and "401" not in body_text, "a refusal before any token: %r" % body_text)
    shot(b, "token-needed")
    check(open_page(b, d, "#/alerts", "alerts") == "token", "alerts without a token")

    # A wrong token: refused, and the page says why.
    set_token(b, "wrong-token-0123456789abcdef")
    b.wait_ready("alerts")
    err = b.text("#page-error")
    check("401" in err and "not valid" in err and "token" in err.lower(), "wrong token: page shows %r" % err)
    check("refused the token" in b.text("#notice"), "wrong token: notice %r" % b.text("#notice"))
    check(b.execute("return sessionStorage.getItem('stabild.token');") == "wrong-token-0123456789abcdef",
          "the token is not kept in sessionStorage")
    shot(b, "token-refused")

    # Overview with a read token: the drifting office, the national trends.
    open_page(b, d, "#/overview", "overview")
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
    # Needs attention first: the firing, unexplained alert leads the cards and
    # the grid, and its card says direction and size.
    cards = b.execute("return Array.prototype.map.call(document.querySelectorAll('#attention-cards li'),"
                      " function (c) { return [c.dataset.series, c.dataset.rank, c.innerText]; });")
    name = "%s · %s · %s" % harness.SCENARIO_SERIES
    check(cards and cards[0][0] == name and cards[0][1] == "0", "first card: %r" % (cards,))
    check([int(c[1]) for c in cards] == sorted(int(c[1]) for c in cards), "cards not by attention: %r" % (cards,))
    want = "%s, odds ratio %.2f since %s" % ("↑ up" if alert["odds_ratio"] >= 1 else "↓ down",
                                             alert["odds_ratio"], alert["onset"])
    check(want in cards[0][2] and "firing" in cards[0][2], "first card says %r, not %r" % (cards[0][2], want))
    check(b.execute("return document.getElementById('card-sort').value;") == "attention", "card sort not shown")
    b.execute("var s = document.getElementById('card-sort'); s.value = 'name'; s.dispatchEvent(new Event('change'));")
    named = b.execute("return Array.prototype.map.call(document.querySelectorAll('#attention-cards li'),"
                      " function (c) { return c.dataset.series; });")
    check(sorted(named) == sorted(c[0] for c in cards), "sorting lost cards: %r" % named)
    b.execute("var s = document.getElementById('card-sort'); s.value = 'attention'; s.dispatchEvent(new Event('change'));")
    first_row = b.execute("return [document.querySelector('#office-grid tbody tr').dataset.office,"
                          " document.getElementById('grid-sorted').innerText];")
    check(first_row == [OFFICE, "needs attention, most first"], "grid's first row: %r" % (first_row,))
    spark = b.wait("var c = document.getElementById('spark-%s-%s'); var ch = c && Chart.getChart(c);"
                   " return ch && ch.data.datasets[0].data.length;" % harness.SCENARIO_NATIONAL[1:], 15,
                   "the national sparkline")
    check(spark == 26, "sparkline points: %r" % spark)
    scale = b.execute("var ch = Chart.getChart(document.getElementById('spark-%s-%s'));"
                      " return [ch.scales.y.ticks.map(function (t) { return t.label; }),"
                      " Math.min.apply(null, ch.data.datasets[0].data), Math.max.apply(null, ch.data.datasets[0].data)];"
                      % harness.SCENARIO_NATIONAL[1:])
    check(len(scale[0]) == 2 and all(re.fullmatch(r"\d+\.\d%", t) for t in scale[0]) and
          float(scale[0][0][:-1]) <= 100 * scale[1] + 0.05 and float(scale[0][1][:-1]) >= 100 * scale[2] - 0.05,
          "sparkline scale: %r" % (scale,))
    national = b.execute("return document.querySelector('a[href=\"#/series/national/%s/%s\"]')"
                         ".closest('li').innerText;" % harness.SCENARIO_NATIONAL[1:])
    check("explained" in national and "odds ratio" in national, "national card: %r" % national)
    iso_dates_only(b, "overview")
    shot(b, "overview")

    # Keyboard: sort by office with Enter (A to Z, then Z to A), then filter.
    b.execute("document.querySelector('#office-grid th button.sort').focus();")
    b.keys(ENTER)
    b.keys(ENTER)
    first = b.execute("return [document.querySelector('#office-grid thead th').getAttribute('aria-sort'),"
                      " document.querySelector('#office-grid tbody tr th').innerText,"
                      " document.activeElement.className, document.getElementById('f-sort').value];")
    check(first == ["descending", "K058", "sort", "office"], "sort by office with the keyboard: %r" % first)
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

    # The funnel names the office outside its limits, marks odds ratio 1,
    # and keeps its y ticks readable whatever the window.
    check(open_page(b, d, "#/funnel/%s/%s?weeks=13" % (BENEFIT, KIND), "funnel") == "ok", "funnel page")
    outside = b.execute("var c = Chart.getChart(document.getElementById('funnel-chart'));"
                        " return [c.data.datasets[1].data.map(function (p) { return p.name; }), c.$labels];")
    check(OFFICE in outside[0] and OFFICE in outside[1], "funnel outside/labels: %r" % outside)
    row = b.execute("var name = arguments[0];"
                    " var a = Array.prototype.filter.call(document.querySelectorAll('main table.data tbody tr'),"
                    " function (r) { return r.cells[0].textContent === name; })[0];"
                    " return a && a.textContent;", OFFICE)
    check(row is not None and "outside above" in row, "funnel table row: %r" % row)
    one = b.execute("var c = Chart.getChart(document.getElementById('funnel-chart'));"
                    " var d = c.data.datasets.filter(function (x) { return x.oddsRatioOne; })[0];"
                    " return d && [d.label, d.data.map(function (p) { return p.y; }),"
                    " d.data[0].x <= c.scales.x.min && d.data[1].x >= c.scales.x.max, c.height];")
    check(one is not None and one[1] == [1, 1] and one[2] and "1" in one[0], "funnel line at odds ratio 1: %r" % one)
    check(one[3] >= 500, "funnel plot only %r px high" % one[3])
    for weeks in (13, 4, 52):
        if weeks != 13:
            open_page(b, d, "#/funnel/%s/%s?weeks=%d" % (BENEFIT, KIND, weeks), "funnel")
        values, labels, gap = funnel_ticks(b)
        check(1 in values and len(set(labels)) == len(labels) and 3 <= len(labels) <= 20 and gap >= 20 and
              all(re.fullmatch(r"\d+(\.\d{1,2})?", t) for t in labels),
              "funnel y ticks at %d weeks: %r %r, %.1f px apart" % (weeks, values, labels, gap))
        if weeks == 13:
            shot(b, "funnel")

    # Alerts, filtered; status its own pill; how long each has fired; ISO
    # times in Stockholm; week labels on one line.
    check(open_page(b, d, "#/alerts?status=firing&scope=office", "alerts") == "ok", "alerts page")
    cls = b.execute("var e = document.querySelector('[data-alert=\"' + arguments[0] + '\"]');"
                    " return e && [e.dataset.classification, e.closest('tr').innerText,"
                    " e.closest('tr').querySelector('[data-status]').dataset.status];", alert["alert_id"])
    check(cls is not None and cls[0] == "unexplained" and cls[2] == "firing", "alert on the alerts page: %r" % cls)
    when = stockholm(alert["detected_at"])
    check(when in cls[1], "detected time %r not in %r" % (when, cls[1]))
    s, st = d.get("/v1/status")
    fired = (datetime.datetime.fromisoformat(st["watermark"].replace("Z", "+00:00")) -
             datetime.datetime.fromisoformat(alert["detected_at"].replace("Z", "+00:00"))).total_seconds()
    shown = b.execute("var e = document.querySelector('[data-alert=\"' + arguments[0] + '\"]')"
                      ".closest('tr').querySelector('.firing-for'); return e && e.innerText;", alert["alert_id"])
    check(fired > 7 * 86400 and shown == span(fired), "firing for: %r, want %r" % (shown, span(fired)))
    onset = b.execute("var e = document.querySelector('[data-alert=\"' + arguments[0] + '\"]')"
                      ".closest('tr').querySelector('.week');"
                      " return [e.innerText, e.getClientRects().length, e.getBoundingClientRect().height,"
                      " parseFloat(getComputedStyle(e).lineHeight)];", alert["alert_id"])
    check(onset[0] == alert["onset"] and onset[1] == 1 and onset[2] < 1.5 * onset[3],
          "the onset week wraps: %r" % (onset,))
    iso_dates_only(b, "alerts")
    choose(b, "alerts", "a-scope", "national")
    check("scope=national" in b.execute("return location.hash;"), "scope filter not in the address")
    # Every alert: the resolved one grey, apart from the red of a firing one.
    open_page(b, d, "#/alerts", "alerts")
    res = b.execute("var e = document.querySelector('[data-alert=\"' + arguments[0] + '\"]').closest('tr');"
                    " return [e.querySelector('[data-status]').dataset.status, e.querySelector('.firing-for')];",
                    gone["alert_id"])
    check(res == ["resolved", None], "resolved alert: %r" % (res,))
    grey = colour(b, 'main table [data-alert-status="%s"]' % gone["alert_id"])
    red = colour(b, 'main table [data-alert-status="%s"]' % alert["alert_id"])
    check(max(grey) - min(grey) <= 8 and min(grey) >= 150, "resolved pill is not grey: %r" % (grey,))
    check(red[0] > 150 and red[1] < 80 and red[2] < 80, "firing pill is not red: %r" % (red,))
    check(write_forms(b)[1] == 0 and write_forms(b)[0] > 0, "a read token sees write forms on the alerts page: %r"
          % write_forms(b))
    shot(b, "alerts")

    # Office (typed), benefit and kind (chosen): only that series is left.
    b.execute("document.body.removeAttribute('data-ready');")
    b.type("#a-office", OFFICE + ENTER)
    b.wait_ready("alerts")
    choose(b, "alerts", "a-benefit", BENEFIT)
    choose(b, "alerts", "a-kind", KIND)
    hash_ = b.execute("return location.hash;")
    check(all(x in hash_ for x in ("office=" + OFFICE, "benefit=" + BENEFIT, "kind=" + KIND)),
          "filters not in the address: %r" % hash_)
    listed = b.execute("return Array.prototype.map.call(document.querySelectorAll('main [data-alert]'),"
                       " function (e) { return e.dataset.alert; });")
    check(listed == [alert["alert_id"]], "office, benefit and kind filter: %r" % listed)
    check(open_page(b, d, "#/alerts?office=K999", "alerts") == "ok" and
          'no office "K999"' in b.text("#filter-error") and b.execute("return !!document.getElementById('a-office');"),
          "unknown office on the alerts page")
    # Explanations: the configured one covers the national alert; a read
    # token sees neither the form nor a delete button.
    check(open_page(b, d, "#/explanations", "explanations") == "ok", "explanations page")
    cfg = b.execute("var e = document.querySelector('[data-explanation=\"%s\"]');"
                    " return e && e.closest('tr').innerText;" % harness.SCENARIO_EXPLANATION)
    check(cfg is not None and "configuration" in cfg and "national.sjukersattning.ongoing" in cfg,
          "configured explanation row: %r" % cfg)
    forms = write_forms(b)
    check(forms[0] >= 2 and forms[1] == 0 and
          b.execute("return document.getElementById('explanation-form').getClientRects().length;") == 0,
          "a read token sees write forms on the explanations page: %r" % forms)
    iso_dates_only(b, "explanations")
    onset = alert["onset"]
    monday = harness.scenario_monday(harness.SCENARIO_SHIFT_WEEK).isoformat()

    def fill():
        b.type("#x-id", "reorg-" + OFFICE.lower())
        b.execute("document.getElementById('x-kind').value = 'legal_position';")
        b.type("#x-from", monday)
        b.click("#x-benefits-%s" % BENEFIT)
        b.click("#x-kinds-%s" % KIND)
        b.type("#x-offices", OFFICE)
        b.type("#x-reference", "Dnr 2020/4711")
        b.type("#x-description", "New legal position on work capacity from the office's review")
        b.click("#explanation-form button[type=submit]")

    # The write token sees the form and registers it; the alert becomes explained.
    set_token(b, WRITE_TOKEN)
    b.wait_ready("explanations")
    forms = write_forms(b)
    check(forms[0] == forms[1] and forms[0] >= 2, "a write token does not see the write forms: %r" % forms)
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
    cls = b.execute("var e = document.querySelector('[data-alert=\"' + arguments[0] + '\"]');"
                    " return [e.dataset.classification, e.closest('tr').querySelector('[data-status]').dataset.status];",
                    alert["alert_id"])
    check(cls == ["explained", "explained"], "alerts page after the explanation: %r" % cls)

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

    # The write token silences the alert from its row: marked as silenced.
    open_page(b, d, "#/alerts?status=firing", "alerts")
    forms = write_forms(b)
    check(forms[0] == forms[1] and forms[0] >= 2, "a write token does not see the silence actions: %r" % forms)
    row = '[data-silence-for="%s"]' % alert["alert_id"]
    b.click(row + " summary")
    b.type(row + " input[name=comment]", "in review")
    b.click(row + " button[type=submit]")
    b.wait("var m = document.getElementById('alert-message');"
           " return m && m.innerText.indexOf('silenced by') >= 0 && document.body.dataset.ready === 'ok';", 10,
           "the silence message")
    marked = b.execute("return Array.prototype.map.call(document.querySelectorAll('main table [data-silenced-by]'),"
                       " function (e) { return [e.closest('tr').querySelector('[data-alert]').dataset.alert,"
                       " e.dataset.silencedBy, e.querySelector('[data-status]').dataset.status]; });")
    s, sil = d.get("/v1/silences")
    mine = [x for x in sil["silences"] if x["matchers"] == {"alert_id": alert["alert_id"]}]
    check(len(mine) == 1 and mine[0]["comment"] == "in review", "the silence stored: %r" % sil)
    sid = mine[0]["id"]
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
