#!/usr/bin/env python3
"""An explained series drawn against its new level, in a real browser.

The nation's sjukersattning/ongoing rejects more from week 56 of the
simulation (odds ratio 1.5). The detector alarms, unexplained; a
legislation explanation is registered afterwards through the API; more
weeks follow, long enough for the new regime to learn its level. Then:

- the control data (GET …/control) give the regimes: a new regime at the
  week after the explanation, learning until its end week, the level
  learnt the week after, and the alert explained after detection; the
  same after a restart (from the checkpoint);
- the control chart plots the API's expected level, which moves at the
  new regime away from the old level, and shades the learning stretch
  with its end week;
- the CUSUM chart restarts at the marked weeks, draws nothing while the
  level is learnt, and from the restart on equals the detector's own
  CUSUM;
- no two labels on either chart overlap (their boxes, each wide enough
  for its text);
- the events table says "detected unexplained, explained on DATE by ID"
  with the explanation's description.

Screenshots go to BUILDDIR/artefacts/dashboard-regime-*.png. Skips (exit
0, with the reason) only when chromium and chromedriver are missing and
cannot be installed."""

import datetime
import os
import sys
import zoneinfo

import harness
import webdriver
from harness import READ_TOKEN, WRITE_TOKEN, check

ARTEFACTS = os.path.join(harness.BUILD, "artefacts")
START = datetime.date(2019, 1, 7)   # a Monday
SHIFT = 56                          # 0-based week of the national change
FIRST_WEEKS = 64                    # fed before the explanation
MORE_WEEKS = 16                     # fed after it
BENEFIT, KIND = "sjukersattning", "ongoing"
SERIES = ("national", BENEFIT, KIND)
EXPLANATION = "lag-2020-02"
DESCRIPTION = "New rules for the assessment of work capacity"
WEEKS = 52                          # the chart's window


def shot(b, name, css):
    b.execute("document.querySelector(arguments[0]).scrollIntoView({block: 'start'});", css)
    os.makedirs(ARTEFACTS, exist_ok=True)
    n = b.screenshot(os.path.join(ARTEFACTS, "dashboard-regime-%s.png" % name))
    check(n > 10000, "screenshot %s has only %d bytes" % (name, n))


def feed(redis, w, seed, start, weeks, shift):
    return harness.run_sim(redis, w.path, "--seed", seed, "--weeks", weeks, "--per-week", 20000,
                           "--start", start.isoformat(), "--benefits", BENEFIT,
                           "--drift", "national:%s:%s:%d:1.5" % (BENEFIT, KIND, shift))


def chart(b, canvas):
    """What a chart plots: labels, datasets by label, markers, boxes."""
    return b.execute("""
        var c = Chart.getChart(document.getElementById(arguments[0]));
        if (!c) return null;
        var sets = {};
        c.data.datasets.forEach(function (d) { sets[d.label] = d.data; });
        var ctx = c.ctx;
        ctx.save(); ctx.font = "11px sans-serif";
        var boxes = (c.$markerBoxes || []).map(function (b) {
          return [b.label, b.x, b.y, b.w, b.h, ctx.measureText(b.label).width]; });
        ctx.restore();
        return {labels: c.data.labels, sets: sets, markers: c.$markers, boxes: boxes,
                spans: c.options.plugins.markers.spans.map(function (s) {
                  return [s.week, s.until, s.label]; }),
                restarts: c.$restarts || null};""", canvas)


def no_overlap(drawn, what):
    boxes = drawn["boxes"]
    check(len(boxes) == len(drawn["markers"]) and boxes, "%s: label boxes %r" % (what, boxes))
    for label, x, y, wd, ht, text in boxes:
        check(wd >= text and ht > 0, "%s: box of %r narrower than its text" % (what, label))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            apart = a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1] or a[2] + a[4] <= b[2] or b[2] + b[4] <= a[2]
            check(apart, "%s: labels %r and %r overlap" % (what, a, b))


def stockholm_day(iso):
    t = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return t.astimezone(zoneinfo.ZoneInfo("Europe/Stockholm")).date().isoformat()


def test(w):
    chromium, driver = webdriver.find_browser()
    if chromium is None:
        print("SKIP test_dashboard_regime: %s" % driver)
        return

    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    first = feed(redis, w, 7, START, FIRST_WEEKS, SHIFT)
    d = harness.Daemon(w.path, redis, conf_extra={"detector": {"min_reference_weeks": "52"},
                                                   "alerts": {"historical_age": "50y"}})
    d.start()
    w.add(d.stop)
    d.wait_counted(first.totals["written"], timeout=60)

    # Detected, unexplained: the series drifts against its old level.
    s, body = d.get("/v1/alerts?office=national")
    mine = [a for a in body["alerts"] if a["series"]["benefit"] == BENEFIT and a["series"]["kind"] == KIND]
    check(len(mine) == 1 and mine[0]["classification"] == "unexplained" and mine[0]["direction"] == "up",
          "national alert before the explanation: %r" % mine)
    alert_id = mine[0]["alert_id"]
    s, before = d.get("/v1/series/%s/%s/%s/control?weeks=%d" % (SERIES + (WEEKS,)))
    check(before["state"] == "drifting", "state before the explanation: %r" % before["state"])
    closed_then = before["closed_through"]

    # The explanation, registered afterwards, then the weeks that follow.
    s, _, raw = d.request("POST", "/v1/explanations", token=WRITE_TOKEN, body={
        "id": EXPLANATION, "kind": "legislation",
        "effective_from": (START + datetime.timedelta(weeks=SHIFT)).isoformat(),
        "benefits": [BENEFIT], "kinds": [KIND], "offices": [], "reference": "SFS 2020:12",
        "description": DESCRIPTION})
    check(s == 201, "POST /v1/explanations: %s %s" % (s, raw))
    more = feed(redis, w, 8, START + datetime.timedelta(weeks=FIRST_WEEKS), MORE_WEEKS, 0)
    d.wait_counted(first.totals["written"] + more.totals["written"], timeout=60)

    # The regimes as the API gives them.
    s, c = d.get("/v1/series/%s/%s/%s/control?weeks=%d" % (SERIES + (WEEKS,)))
    check(s == 200 and len(c["weeks"]) == WEEKS, "control: %s, %d weeks" % (s, len(c["weeks"])))
    weeks = {x["week"]: x for x in c["weeks"]}
    labels = [x["week"] for x in c["weeks"]]
    regimes = {r["reason"]: r for r in c["regimes"]}
    new, learnt = regimes.get("new_regime"), regimes.get("level_learnt")
    check(new and learnt, "regimes: %r" % c["regimes"])
    check(new["week"] > closed_then and new["explanations"] == [EXPLANATION] and new["alert_id"] == alert_id,
          "new regime %r (closed through %s at the explanation)" % (new, closed_then))
    check(labels.index(learnt["week"]) == labels.index(new["learning_until"]) + 1,
          "learning until %s, learnt at %s" % (new["learning_until"], learnt["week"]))
    check(learnt["week"] < c["closed_through"], "no watched week after the level was learnt: %r" % learnt)
    phases = [weeks[x]["phase"] for x in labels[labels.index(new["week"]):]]
    nlearn = labels.index(learnt["week"]) - labels.index(new["week"])
    check(phases == ["learning"] * nlearn + ["watched"] * (len(phases) - nlearn), "phases: %r" % phases)
    check(weeks[new["week"]]["cusum_restart"] == "new_regime" and
          weeks[learnt["week"]]["cusum_restart"] == "level_learnt", "restarts: %r" %
          [(x["week"], x["cusum_restart"]) for x in c["weeks"] if x["cusum_restart"]])
    alert = [a for a in c["alerts"] if a["alert_id"] == alert_id][0]
    check(alert["classification"] == "explained" and alert["explained_at"] and
          alert["explanations"] == [EXPLANATION], "alert after the explanation: %r" % alert)

    # Phases and the time of the explanation live through a restart.
    d.stop()
    d.start()
    s, again = d.get("/v1/series/%s/%s/%s/control?weeks=%d" % (SERIES + (WEEKS,)))
    check(again == c, "control data differ after a restart")

    os.environ["TZ"] = "America/New_York"
    b = webdriver.Browser(w.path, chromium, driver, height=1200)
    w.add(b.quit)
    b.get("http://127.0.0.1:%d/ui/" % d.http_port)
    b.execute("sessionStorage.setItem('stabild.token', arguments[0]);", READ_TOKEN)
    b.get("http://127.0.0.1:%d/ui/#/series/%s/%s/%s?weeks=%d" % ((d.http_port,) + SERIES + (WEEKS,)))
    check(b.wait_ready("series") == "ok", "series page: %s" % b.text("main"))
    errors = b.execute("return S.app.errors;")
    check(errors == [], "the page reported errors: %s" % errors)

    # The expected level: the API's, moved at the new regime.
    ctl = chart(b, "control-chart")
    check(ctl["labels"] == labels, "control chart weeks differ from the API's")
    plotted = ctl["sets"]["Expected by the detector"]
    for i, x in enumerate(c["weeks"]):
        want = x["baseline_rate"]
        check((plotted[i] is None and want is None) or abs(plotted[i] - want) < 1e-12,
              "expected level of %s: plotted %r, API %r" % (x["week"], plotted[i], want))
    at = labels.index(new["week"])
    old = [plotted[i] for i in range(at - 8, at)]
    after = plotted[at:]
    check(min(after) > max(old) + 0.02, "expected level after the explanation %r, before %r" % (after, old))
    observed = ctl["sets"]["Observed"]
    since = labels.index(learnt["week"])
    gap_new = abs(sum(after[since - at:]) - sum(observed[since:])) / len(observed[since:])
    gap_old = abs(sum(old) / len(old) - sum(observed[since:]) / len(observed[since:]))
    check(gap_new < gap_old / 2, "learnt level %.4f off the observed, the old one %.4f" % (gap_new, gap_old))
    span = "learning the new level until %s" % new["learning_until"]
    check([new["week"], new["learning_until"], span] in ctl["spans"] and span in ctl["markers"],
          "learning stretch: %r, labels %r" % (ctl["spans"], ctl["markers"]))
    for label in ("onset ↑", "detected ↑", "explanation " + EXPLANATION, "new regime (%s)" % EXPLANATION,
                  "new level learnt"):
        check(label in ctl["markers"], "control chart label %r missing: %r" % (label, ctl["markers"]))
    no_overlap(ctl, "control chart")

    # The CUSUM restarts at the marked weeks; nothing while the level is learnt.
    cs = chart(b, "cusum-chart")
    up, down = cs["sets"]["CUSUM up (more rejections)"], cs["sets"]["CUSUM down (fewer rejections), drawn below 0"]
    marked = {r["week"]: r["reason"] for r in cs["restarts"]}
    check(marked.get(new["week"]) == "new_regime" and marked.get(learnt["week"]) == "level_learnt",
          "restart markers %r" % cs["restarts"])
    check("↺ level learnt" in cs["markers"] and "↺ new regime" in cs["markers"], "CUSUM labels %r" % cs["markers"])
    check(all(up[i] is None and down[i] is None for i in range(at, since)), "CUSUM drawn while learning")
    row = weeks[learnt["week"]]
    check(up[since] == row["cusum_up"] and down[since] == -row["cusum_down"] and
          min(row["cusum_up"], row["cusum_down"]) == 0, "CUSUM at the restart: %r %r, API %r" %
          (up[since], down[since], row))
    s, one = d.get("/v1/series/%s/%s/%s" % SERIES)
    det = one["detector"]
    check(det["state"] == "stable" and abs(up[-1] - det["cusum_up"]) < 1e-9 and
          abs(-down[-1] - det["cusum_down"]) < 1e-9,
          "CUSUM since the restart %r/%r, the detector's %r/%r" % (up[-1], down[-1], det["cusum_up"],
                                                                 det["cusum_down"]))
    no_overlap(cs, "CUSUM chart")

    # The events table: detected unexplained, explained later, by whom.
    text = b.execute("var e = document.querySelector('#event-table [data-event=\"detected\"]"
                     "[data-event-alert=\"' + arguments[0] + '\"]'); return e && e.textContent;", alert_id)
    want = "Detected: %s, detected unexplained, explained on %s by %s (“%s”)" % (
        alert_id, stockholm_day(alert["explained_at"]), EXPLANATION, DESCRIPTION)
    check(text == want, "events table: %r, wanted %r" % (text, want))
    regime_row = b.execute("var e = document.querySelector('#event-table [data-event=\"regime\"]');"
                           " return e && e.closest('tr').textContent;")
    check(regime_row and new["week"] in regime_row and new["learning_until"] in regime_row,
          "regime row: %r" % regime_row)

    shot(b, "control", "#h-control")
    shot(b, "cusum", "#cusum-chart")
    shot(b, "events", "#h-events")


if __name__ == "__main__":
    harness.main(test, "dashboard_regime")
    sys.exit(0)
