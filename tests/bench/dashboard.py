#!/usr/bin/env python3
"""make bench: how long the dashboard takes to load and draw on loopback,
and how many bytes it moves, for the full Swedish set: 58 offices, every
configured benefit, both kinds, 64 weeks with a fitted detector. Measured
by headless chromium's Performance API (navigation and resource timing,
and the mark the page sets once it has drawn): cold (empty cache) for the
overview, then warm (files revalidated by ETag) for each page, the median
of five loads."""

import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402
import webdriver  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_DASHBOARD_ROUNDS", "5"))

MEASURE = """
var page = arguments[0];
var nav = performance.getEntriesByType('navigation')[0];
var all = [nav].concat(performance.getEntriesByType('resource'));
var mark = performance.getEntriesByName('stabild:ready:' + page)[0];
function sum(list, f) { return list.reduce(function (a, e) { return a + (f(e) || 0); }, 0); }
function part(test) { return all.filter(function (e) { return test(new URL(e.name).pathname); }); }
var api = part(function (p) { return p.indexOf('/v1/') === 0; });
var chart = part(function (p) { return p === '/ui/chart.js'; });
return {
  ready: mark ? mark.startTime : null,
  requests: all.length,
  transfer: sum(all, function (e) { return e.transferSize; }),
  api: sum(api, function (e) { return e.transferSize; }),
  api_requests: api.length,
  chart: sum(chart, function (e) { return e.transferSize; }),
  errors: S.app.errors.length
};
"""


def load(b, base, hash_, page):
    b.get("about:blank")
    b.get(base + "/ui/" + hash_)
    if b.wait_ready(page, timeout=60) != "ok":
        raise SystemExit("bench: the %s page did not draw: %s" % (page, b.text("main")))
    m = b.execute(MEASURE, page)
    if m["ready"] is None or m["errors"]:
        raise SystemExit("bench: %s: no ready mark or page errors: %r" % (page, m))
    return m


def line(name, ms):
    r = statistics.median(m["ready"] for m in ms)
    m = ms[0]
    return ("dashboard: %-22s ready in %4.0f ms, %2d requests, %7.1f kB transferred "
            "(API %5.1f kB in %d requests, Chart.js %5.1f kB)" %
            (name, r, m["requests"], m["transfer"] / 1000, m["api"] / 1000, m["api_requests"],
             m["chart"] / 1000))


def main():
    chromium, driver = webdriver.find_browser()
    if chromium is None:
        raise SystemExit("bench: %s" % driver)
    w = harness.Workdir("bench-dashboard")
    ok = False
    try:
        _, d, _ = harness.start_scenario(w)
        s, lst = d.get("/v1/series?limit=10000")
        print("dashboard: %d series (%d offices), %d weeks, detector fitted" % (
            lst["total"], d.status()["offices"], harness.SCENARIO_WEEKS))
        b = webdriver.Browser(w.path, chromium, driver)
        w.add(b.quit)
        base = "http://127.0.0.1:%d" % d.http_port
        # The token first, on the same origin, without loading the dashboard.
        b.get(base + "/healthz")
        b.execute("sessionStorage.setItem('stabild.token', arguments[0]);", harness.READ_TOKEN)
        series = "#/series/%s/%s/%s" % harness.SCENARIO_SERIES
        funnel = "#/funnel/%s/%s" % harness.SCENARIO_SERIES[1:]
        print(line("overview, cold cache", [load(b, base, "#/overview", "overview")]))
        for name, hash_, page in (("overview, warm", "#/overview", "overview"),
                                  ("series, warm", series, "series"),
                                  ("funnel, warm", funnel, "funnel"),
                                  ("alerts, warm", "#/alerts", "alerts")):
            print(line(name, [load(b, base, hash_, page) for _ in range(ROUNDS)]))
        ok = True
    finally:
        w.close(ok)
    return 0


if __name__ == "__main__":
    sys.exit(main())
