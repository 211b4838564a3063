#!/usr/bin/env python3
"""The dashboard's indicators in a real browser (headless chromium, as in
test_dashboard.py), on a daemon with the four shipped indicators fed a
mixed stream in which one office's reconsiderations are changed far more
often from a given week.

The header's indicator selector lists every configured indicator with its
label; the overview's strip shows every indicator's national state (the
API's states, 13-week rates and firing counts) and choosing a row selects
the indicator, kept in the address (#/overview?indicator=reconsideration)
and in the pages' links. Selected, reconsideration's overview names its
rate and shows the drifting office's alert card; its series page draws
the control chart labelled with the change rate at reconsideration and
names its events; the funnel asks for that indicator. The alerts page
marks each alert with its indicator and filters by it; the explanations
form offers the indicators. No script errors anywhere; screenshots go to
BUILDDIR/artefacts/.

Skips (exit 0, with the reason) only when chromium and chromedriver are
missing and cannot be installed."""

import os

import harness
import indicators
import webdriver
from harness import READ_TOKEN, WRITE_TOKEN, check

ARTEFACTS = os.path.join(harness.BUILD, "artefacts")
NAMES = ["rejection", "reconsideration", "appeal", "timeliness", "supplement"]
LABEL = "change rate at reconsideration"
OFFICE, BENEFIT, KIND = "K002", "sjukpenning", "first"
DRIFT_WEEK = 16


def shot(b, name):
    os.makedirs(ARTEFACTS, exist_ok=True)
    path = os.path.join(ARTEFACTS, "dashboard-indicator-%s.png" % name)
    n = b.screenshot(path)
    check(n > 10000, "screenshot %s has only %d bytes" % (name, n))


def open_page(b, d, hash_, page):
    b.get("http://127.0.0.1:%d/ui/%s" % (d.http_port, hash_))
    return b.wait_ready(page)


def set_token(b, token):
    b.execute("document.body.removeAttribute('data-ready');")
    b.clear("#token")
    b.type("#token", token)
    b.click("#token-form button[type=submit]")


def no_page_errors(b):
    errors = b.execute("return S.app.errors;")
    check(errors == [], "the page reported errors: %s" % errors)


def get(d, path):
    s, body = d.get(path)
    check(s == 200, "GET %s: %s %r" % (path, s, body))
    return body


def drift_alert(d):
    """The firing reconsideration alert of OFFICE/BENEFIT/KIND, once the
    detector has settled."""
    def found():
        if d.status()["detector_busy"]:
            return None
        alerts = get(d, "/v1/alerts?status=firing&indicator=reconsideration&office=" + OFFICE)["alerts"]
        mine = [a for a in alerts if (a["series"]["benefit"], a["series"]["kind"]) == (BENEFIT, KIND)]
        return mine[0] if mine else None
    return harness.wait_for(found, 120, "the reconsideration alert of %s/%s/%s" % (OFFICE, BENEFIT, KIND))


def selector(b):
    return b.execute("var f = document.getElementById('indicator-form'), s = document.getElementById('indicator');"
                     " return [f.hidden, f.getClientRects().length > 0, s.value,"
                     " Array.prototype.map.call(s.options, function (o) { return [o.value, o.text]; })];")


def nav_links(b):
    return b.execute("return Array.prototype.map.call(document.querySelectorAll('nav.pages a'),"
                     " function (a) { return a.getAttribute('href'); });")


def choose_indicator(b, page, name):
    """Choose in the header's selector; wait for the page drawn anew."""
    b.execute("document.body.removeAttribute('data-ready');"
              " var s = document.getElementById('indicator'); s.value = arguments[0];"
              " s.dispatchEvent(new Event('change'));", name)
    return b.wait_ready(page)


def check_strip(b, d):
    """One row per indicator, each cell the API's national state and rate."""
    api = get(d, "/v1/indicators")["indicators"]
    rows = b.execute("""
        return Array.prototype.map.call(document.querySelectorAll('#indicator-strip tbody tr'), function (r) {
          return [r.dataset.indicator, r.querySelector('th').innerText,
            Array.prototype.map.call(r.querySelectorAll('td[data-benefit]'), function (c) {
              return [c.dataset.benefit, c.dataset.kind, c.dataset.state, c.innerText]; }),
            r.querySelector('td[data-firing]').dataset.firing];
        });""")
    check([r[0] for r in rows] == NAMES, "strip rows: %r" % [r[0] for r in rows])
    for ind, row in zip(api, rows):
        check(ind["label"][0].upper() + ind["label"][1:] in row[1] and ind["name"] in row[1],
              "strip row %s says %r" % (ind["name"], row[1]))
        check(row[3] == str(ind["firing"]), "strip %s firing %r, API %r" % (ind["name"], row[3], ind["firing"]))
        cells = {(c[0], c[1]): c for c in row[2]}
        for n in ind["national"]:
            c = cells.get((n["benefit"], n["kind"]))
            check(c is not None, "strip %s: no cell for %s/%s" % (ind["name"], n["benefit"], n["kind"]))
            check(c[2] == (n["state"] or "none"), "strip %s %s/%s state %r, API %r"
                  % (ind["name"], n["benefit"], n["kind"], c[2], n["state"]))
            if n["rate_13w"] is not None:
                want = "%.1f%%" % (100 * n["rate_13w"])
                check(want in c[3], "strip %s %s/%s says %r, not %s" % (ind["name"], n["benefit"],
                                                                      n["kind"], c[3], want))
    return api


def test(w):
    chromium, driver = webdriver.find_browser()
    if chromium is None:
        print("SKIP test_dashboard_indicator: %s" % driver)
        return

    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 5, "--offices", 3, "--weeks", 30,
                            "--per-week", 20000, "--start", "2023-01-02", "--events", "all",
                            "--drift", "%s:*:*:%d:4.0@reconsideration" % (OFFICE, DRIFT_WEEK))
    conf = {"detector": {"min_reference_weeks": "13"}, "alerts": {"historical_age": "50y"}}
    conf.update(indicators.sections())
    d = harness.Daemon(w.path, redis, conf_extra=conf)
    d.start()
    w.add(d.stop)
    d.wait_counted(truth.totals["written"], timeout=120)
    alert = drift_alert(d)
    check(alert["alert_id"].startswith("reconsideration:%s.%s.%s." % (OFFICE, BENEFIT, KIND)) and
          alert["indicator_label"] == LABEL, "the drift's alert: %r" % alert)

    b = webdriver.Browser(w.path, chromium, driver)
    w.add(b.quit)
    open_page(b, d, "", "overview")
    set_token(b, READ_TOKEN)
    check(b.wait_ready("overview") == "ok", "overview: %s" % b.text("main"))

    # The selector: every indicator, rejection chosen; the strip above the cards.
    hidden, shown, value, options = selector(b)
    check(not hidden and shown and value == "rejection", "selector hidden %r shown %r value %r"
          % (hidden, shown, value))
    api = check_strip(b, d)
    check(options == [[i["name"], "%s (%s)" % (i["name"], i["label"])] for i in api],
          "selector options %r" % options)
    check(b.execute("return document.querySelector('#indicator-strip tr[aria-current=\"true\"]')"
                    ".dataset.indicator;") == "rejection", "strip: rejection not marked as shown")
    order = b.execute("var ids = ['indicator-strip', 'attention-cards', 'national-cards'];"
                      " return ids.map(function (id) { var e = document.getElementById(id);"
                      " return e ? e.getBoundingClientRect().top : null; });")
    check(order[0] is not None and all(x is None or x > order[0] for x in order[1:]),
          "the strip is not above the cards: %r" % order)
    check(b.text("main h1") == "Overview", "rejection's heading %r" % b.text("main h1"))
    # Rejection's overview draws rejection's series only.
    figures = b.execute("return Array.prototype.map.call(document.querySelectorAll('#national-cards .figures'),"
                        " function (p) { return p.innerText; });")
    check(figures and all(" rejected; case mix alone" in f for f in figures), "rejection's cards: %r" % figures)
    no_page_errors(b)
    shot(b, "overview-rejection")

    # A click on the strip's reconsideration row selects it.
    b.execute("document.body.removeAttribute('data-ready');")
    b.click('#indicator-strip button[data-pick="reconsideration"]')
    check(b.wait_ready("overview") == "ok", "reconsideration's overview: %s" % b.text("main"))
    check(b.execute("return location.hash;") == "#/overview?indicator=reconsideration",
          "address %r" % b.execute("return location.hash;"))
    check(selector(b)[2] == "reconsideration", "selector %r" % (selector(b),))
    check(nav_links(b) == ["#/%s?indicator=reconsideration" % p for p in
                           ("overview", "funnel", "alerts", "explanations")], "nav links %r" % nav_links(b))
    check(b.text("main h1") == "Overview: " + LABEL, "heading %r" % b.text("main h1"))
    check(b.execute("return document.querySelector('#indicator-strip tr[aria-current=\"true\"]')"
                    ".dataset.indicator;") == "reconsideration", "strip: reconsideration not marked")
    # The drifting office's card, first, linking to its reconsideration series.
    cards = b.execute("return Array.prototype.map.call(document.querySelectorAll('#attention-cards li'),"
                      " function (c) { return [c.dataset.series, c.dataset.rank, c.innerText,"
                      " c.querySelector('h3 a').getAttribute('href')]; });")
    name = "%s · %s · %s" % (OFFICE, BENEFIT, KIND)
    mine = [c for c in cards if c[0] == name]
    check(mine and mine[0][1] == "0" and cards[0][1] == "0", "reconsideration's cards: %r" % (cards,))
    check(LABEL + ", expected" in mine[0][2] and "firing" in mine[0][2] and "↑ up" in mine[0][2],
          "the card says %r" % mine[0][2])
    check(mine[0][3] == "#/series/%s/%s/%s?indicator=reconsideration&alert=%s" % (
        OFFICE, BENEFIT, KIND, alert["alert_id"].replace(":", "%3A")), "card link %r" % mine[0][3])
    cell = b.execute("var c = document.querySelector(arguments[0]); return c && [c.dataset.state,"
                     " c.querySelector('a').getAttribute('aria-label')];",
                     '#office-grid td[data-office="%s"][data-benefit="%s"][data-kind="%s"]' % (OFFICE, BENEFIT, KIND))
    check(cell and cell[0] == "drifting" and ("higher " + LABEL) in cell[1], "grid cell %r" % (cell,))
    spark = b.wait("var c = document.querySelector('#national-cards canvas'); return c &&"
                   " c.getAttribute('aria-label').indexOf('(loading)') < 0 && c.getAttribute('aria-label');",
                   15, "a national sparkline")
    check(spark.startswith("Weekly %s of " % LABEL), "sparkline label %r" % spark)
    # The national series shown are reconsideration's own.
    s, control = d.get("/v1/series/national/%s/%s/control?indicator=reconsideration&weeks=26" % (BENEFIT, KIND))
    check(s == 200 and control["indicator"] == "reconsideration", "national control %s %r" % (s, control))
    drawn = b.execute("var ch = Chart.getChart(document.getElementById('spark-%s-%s'));"
                      " return ch && ch.data.datasets[0].data;" % (BENEFIT, KIND))
    check(drawn == [wk["rejection_rate"] for wk in control["weeks"][-26:]],
          "sparkline %r against %r" % (drawn, [wk["rejection_rate"] for wk in control["weeks"][-26:]]))
    no_page_errors(b)
    shot(b, "overview-reconsideration")

    # Its series: the chart and its axis name the change rate, the table its events.
    b.execute("document.body.removeAttribute('data-ready');")
    b.click('#attention-cards li[data-series="%s"] h3 a' % name)
    check(b.wait_ready("series") == "ok", "series page: %s" % b.text("main"))
    check(b.text("main h1") == "%s · %s" % (name, LABEL), "series heading %r" % b.text("main h1"))
    chart = b.execute("var c = Chart.getChart(document.getElementById('control-chart'));"
                      " return [c.options.scales.y.title.text, c.data.datasets[4].data,"
                      " document.getElementById('control-chart').getAttribute('aria-label')];")
    s, series_control = d.get("/v1/series/%s/%s/%s/control?indicator=reconsideration&weeks=104"
                              % (OFFICE, BENEFIT, KIND))
    check(chart[0] == "Change rate at reconsideration", "control chart axis %r" % chart[0])
    observed = [x["rejection_rate"] for x in series_control["weeks"]]
    check([v for v in chart[1] if v is not None] == [v for v in observed if v is not None],
          "control chart draws %r, the API says %r" % (chart[1], observed))
    headers = b.execute("return Array.prototype.map.call(document.querySelectorAll('main table thead th'),"
                        " function (t) { return t.textContent; });")
    check("Reconsiderations" in headers and "Changed" in headers, "weekly table headers %r" % headers)
    marks = b.execute("return Chart.getChart(document.getElementById('control-chart')).$markers;")
    check("onset ↑" in marks and "detected ↑" in marks, "control chart markers: %r" % marks)
    check(b.execute("return document.getElementById('alert-detail').dataset.alert;") == alert["alert_id"],
          "alert shown on the series page")
    plain = b.text("#series-plain")
    check(plain.startswith("drifting") and "Drifting up since" in plain, "plain line %r" % plain)
    check(chart[2].startswith("Weekly %s of %s" % (LABEL, name)), "control chart label %r" % chart[2])
    check(("Higher %s than the case mix" % LABEL) in b.text("#series-headline"),
          "headline %r" % b.text("#series-headline"))
    no_page_errors(b)
    shot(b, "series-reconsideration")

    # A link that names only the alert (as stabilctl prints it) shows the alert's indicator.
    check(open_page(b, d, "#/series/%s/%s/%s?alert=%s" % (OFFICE, BENEFIT, KIND, alert["alert_id"].replace(":", "%3A")),
                    "series") == "ok", "series by its alert: %s" % b.text("main"))
    check(b.text("main h1") == "%s · %s" % (name, LABEL) and
          b.execute("return document.getElementById('alert-detail').dataset.alert;") == alert["alert_id"],
          "series by its alert: %r" % b.text("main h1"))

    # The funnel of the indicator.
    check(open_page(b, d, "#/funnel/%s/%s?indicator=reconsideration&weeks=13" % (BENEFIT, KIND), "funnel") == "ok",
          "funnel page: %s" % b.text("main"))
    check(b.text("main h1") == "Funnel: %s · %s · %s" % (BENEFIT, KIND, LABEL), "funnel heading %r"
          % b.text("main h1"))
    no_page_errors(b)

    # Alerts: every indicator's, each badged; the filter narrows to one.
    check(open_page(b, d, "#/alerts", "alerts") == "ok", "alerts page")
    every = get(d, "/v1/alerts")
    badges = b.execute("return Array.prototype.map.call(document.querySelectorAll('main .indicator-badge'),"
                       " function (e) { return e.dataset.indicator; });")
    check(sorted(badges) == sorted(a.get("indicator", "rejection") for a in every["alerts"]),
          "badges %r" % badges)
    check("reconsideration" in badges and "rejection" in badges, "badges %r" % badges)
    check(selector(b)[2] == "all", "alerts page selector %r" % (selector(b),))
    b.execute("document.body.removeAttribute('data-ready');"
              " var s = document.getElementById('a-indicator'); s.value = 'reconsideration';"
              " s.dispatchEvent(new Event('change'));")
    check(b.wait_ready("alerts") == "ok", "filtered alerts")
    only = get(d, "/v1/alerts?indicator=reconsideration")
    badges = b.execute("return Array.prototype.map.call(document.querySelectorAll('main .indicator-badge'),"
                       " function (e) { return e.dataset.indicator; });")
    check(badges == ["reconsideration"] * only["total"] and only["total"] >= 1, "filtered badges %r" % badges)
    check(selector(b)[2] == "reconsideration", "selector follows the filter: %r" % (selector(b),))
    link = b.execute("return document.querySelector('main a[href^=\"#/series/%s/\"]').getAttribute('href');"
                     % OFFICE)
    check(link.startswith("#/series/%s/" % OFFICE) and "indicator=reconsideration" in link, "alert link %r" % link)
    no_page_errors(b)
    shot(b, "alerts")

    # The explanations form offers the indicators to a write token.
    check(open_page(b, d, "#/explanations", "explanations") == "ok", "explanations page")
    set_token(b, WRITE_TOKEN)
    check(b.wait_ready("explanations") == "ok", "explanations page with the write token")
    ticks = b.execute("return Array.prototype.map.call(document.querySelectorAll('input[name=\"indicators\"]'),"
                      " function (c) { return c.value; });")
    check(ticks == NAMES, "indicator ticks %r" % ticks)
    no_page_errors(b)

    # A series of a few appeals a year finds no change within the horizon:
    # the API says null (not 1e150), the page says so in words.
    tiny = [x for x in get(d, "/v1/series?indicator=appeal")["series"]
            if x["office"] != "national" and "underpowered" in x["detector"]["flags"] and
            x["detector"]["detectable_odds_ratio"] is None and
            x["detector"]["threshold"] is not None and (x["detector"]["weekly_weight"] or 0) > 0]
    check(tiny, "no appeal series without a detectable odds ratio")
    t = tiny[0]
    check(open_page(b, d, "#/series/%s/%s/%s?indicator=appeal" % (t["office"], t["benefit"], t["kind"]),
                    "series") == "ok", "appeal series page: %s" % b.text("main"))
    more = b.text("#series-headline")
    check("finds no change up to an odds ratio of 100" in more, "underpowered line %r" % more)
    check("detectable odds ratio none up to 100" in b.text("main"), "detectable term missing")
    no_page_errors(b)

    # An unknown indicator in the address is an error page, not rejection's data.
    check(open_page(b, d, "#/overview?indicator=nope", "overview") == "error", "unknown indicator")
    check("no indicator nope" in b.text("#page-error"), "error %r" % b.text("#page-error"))


if __name__ == "__main__":
    harness.main(test, "dashboard_indicator")
