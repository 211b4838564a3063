/*
 * Funnel plot per benefit and kind: every office's odds ratio against the
 * nation (case mix adjusted) over a window of weeks, by its expected count,
 * with control limits that narrow with volume and are widened for the
 * week-to-week wobble (tau²). Offices outside the 99.8% limits are named.
 */
"use strict";

S.pages.funnel = (function () {
  var h = S.h, C = S.charts.COLORS;
  var WINDOWS = [4, 13, 26, 52];
  var ONE = "#1d232b";

  /* The next round odds ratio below (dir -1) or above (dir 1) x. */
  var LADDER = [0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 2, 2.5, 3,
    4, 5, 6, 8, 10, 15, 20, 50, 100];
  function nice(x, dir) {
    var i;
    if (dir < 0) {
      for (i = LADDER.length - 1; i >= 0; i--) if (LADDER[i] <= x) return LADDER[i];
      return x;
    }
    for (i = 0; i < LADDER.length; i++) if (LADDER[i] >= x) return LADDER[i];
    return x;
  }

  /* A tick's label: as few decimals as it needs ("0.5", "1", "1.25"). */
  function tickLabel(v) {
    return String(Number(Number(v).toFixed(2)));
  }

  /*
   * Round odds ratios for the y axis between lo and hi, 1 always among
   * them, and no two closer than MIN_TICK_PX on a log axis of height px:
   * the roundest first (1, 2, 0.5, ...), the others where there is room,
   * so that any window reads the same way.
   */
  var MIN_TICK_PX = 26;
  var TICK_PRIORITY = [1, 2, 0.5, 5, 0.2, 10, 0.1, 20, 0.05, 50, 100, 1.5, 0.8, 3, 0.3, 1.25, 0.9,
    0.7, 0.6, 0.4, 0.25, 2.5, 4, 6, 8, 15];
  function orTicks(lo, hi, px) {
    var gap = MIN_TICK_PX * Math.log(hi / lo) / Math.max(px, 100);
    var out = [];
    TICK_PRIORITY.forEach(function (v) {
      if ((v < lo || v > hi) && v !== 1) return;
      if (out.every(function (t) { return Math.abs(Math.log(v / t)) >= gap; })) out.push(v);
    });
    return out.sort(function (x, y) { return x - y; });
  }

  function draw(f) {
    var inside = [], outside = [];
    f.offices.forEach(function (o) {
      var p = { x: o.expected, y: o.odds_ratio, name: o.office };
      (o.outside ? outside : inside).push(p);
    });
    function curve(key) {
      return f.curve.map(function (c) { return { x: c.expected, y: c[key] }; });
    }
    /* The axis spans the offices and the limits where offices are, not the far ends. */
    var xs = f.offices.map(function (o) { return o.expected; });
    var lo = Math.min.apply(null, xs), hi = Math.max.apply(null, xs), ys = [];
    /* The axis always shows odds ratio 1, the nation's level. */
    ys.push(1);
    f.offices.forEach(function (o) { ys.push(o.odds_ratio); });
    f.curve.forEach(function (c) { if (c.expected >= lo) ys.push(c.low998, c.high998); });
    var ymin = nice(Math.min.apply(null, ys) / 1.05, -1), ymax = nice(Math.max.apply(null, ys) * 1.05, 1);
    S.charts.make("funnel-chart", {
      type: "scatter",
      data: {
        datasets: [
          { label: "Offices within the limits", data: inside, backgroundColor: C.inside,
            borderColor: C.inside, pointRadius: 3.5 },
          { label: "Offices outside the 99.8% limits", data: outside, backgroundColor: C.outside,
            borderColor: C.outside, pointRadius: 5, pointStyle: "triangle", labelled: true },
          { label: "95% limits", data: curve("high95"), showLine: true, borderColor: C.limit95,
            borderDash: [5, 4], borderWidth: 1, pointRadius: 0 },
          { label: "95% limits (low)", data: curve("low95"), showLine: true, borderColor: C.limit95,
            borderDash: [5, 4], borderWidth: 1, pointRadius: 0 },
          { label: "99.8% limits", data: curve("high998"), showLine: true, borderColor: C.limit998,
            borderWidth: 1.5, pointRadius: 0 },
          { label: "99.8% limits (low)", data: curve("low998"), showLine: true, borderColor: C.limit998,
            borderWidth: 1.5, pointRadius: 0 },
          { label: "Odds ratio 1 (the nation)", data: [{ x: lo / 1.3, y: 1 }, { x: hi * 1.3, y: 1 }],
            showLine: true, borderColor: ONE, borderWidth: 2, pointRadius: 0, pointHitRadius: 0,
            order: 1, oddsRatioOne: true }
        ]
      },
      options: {
        plugins: {
          legend: { labels: { filter: function (it) { return it.text.indexOf("(low)") < 0; } } },
          tooltip: { callbacks: { label: function (c) {
            var p = c.raw;
            return (p.name ? p.name + ": " : "") + "odds ratio " + S.fmt.num(p.y) +
              ", expected " + S.fmt.num(p.x, 0);
          } } }
        },
        scales: {
          x: { type: "logarithmic", min: lo / 1.3, max: hi * 1.3,
            title: { display: true, text: "Expected " + S.api.words().yeses + " in the window (log scale)" } },
          y: { type: "logarithmic", min: ymin, max: ymax,
            title: { display: true, text: "Odds ratio against the nation (log scale)" },
            afterBuildTicks: function (axis) {
              axis.ticks = orTicks(ymin, ymax, axis.maxHeight || axis.chart.height)
                .map(function (v) { return { value: v }; });
            },
            ticks: { autoSkip: false, callback: function (v) { return tickLabel(v); } },
            grid: { color: function (c) { return c.tick && c.tick.value === 1 ? "#9aa3ad" : "rgba(0, 0, 0, 0.08)"; } } }
        }
      }
    });
  }

  function officeTable(f) {
    var rows = f.offices.slice().sort(function (a, b) { return Math.abs(b.z) - Math.abs(a.z); });
    return S.charts.table("Offices against the nation", [
      { title: "Office", value: function (o) {
        return h("a", { href: S.seriesHref(o.office, f.benefit, f.kind) }, o.office);
      } },
      { title: S.api.words().Events, num: true, value: function (o) { return S.fmt.int(o.decisions); } },
      { title: S.api.words().Yes, num: true, value: function (o) { return S.fmt.int(o.rejected); } },
      { title: "Expected", num: true, value: function (o) { return S.fmt.num(o.expected, 1); } },
      { title: "Odds ratio", num: true, value: function (o) { return S.fmt.num(o.odds_ratio); } },
      { title: "99.8% limits", num: true, value: function (o) {
        return S.fmt.num(o.low998) + " – " + S.fmt.num(o.high998);
      } },
      { title: "z", num: true, value: function (o) { return S.fmt.num(o.z, 1); } },
      { title: "Position", value: function (o) {
        return o.outside ? h("strong", { class: "state state-outlier" }, "outside " + (o.z > 0 ? "above" : "below")) :
          o.outside95 ? "outside 95% only" : "within";
      } }
    ], rows);
  }

  function render(main, params) {
    return S.api.groups().then(function (groups) {
      if (!groups.length) throw new S.api.ApiError(503, "unavailable", "no benefits are configured");
      var benefit = params.path[0] || groups[0].benefit;
      var kind = params.path[1] || groups[0].kind;
      var weeks = parseInt(params.query.weeks, 10) || 13;
      return S.api.get(S.api.withIndicator("/v1/funnel/" + encodeURIComponent(benefit) + "/" + encodeURIComponent(kind) +
        "?weeks=" + weeks)).then(function (f) {
        function go(b, k, w) {
          location.hash = "#/funnel/" + encodeURIComponent(b) + "/" + encodeURIComponent(k) + S.withIndicator({ weeks: w });
        }
        var out = f.offices.filter(function (o) { return o.outside; });
        var choices = h("form", { class: "filters", "aria-label": "Choose the funnel",
          onsubmit: function (e) { e.preventDefault(); } },
          h("div", { class: "field" }, h("label", { for: "funnel-group" }, "Benefit and kind"),
            h("select", { id: "funnel-group", onchange: function (e) {
              var p = e.target.value.split("/");
              go(p[0], p[1], weeks);
            } }, groups.map(function (g) {
              var v = g.benefit + "/" + g.kind;
              return h("option", { value: v, selected: (g.benefit === benefit && g.kind === kind) || null },
                g.benefit + " · " + g.kind);
            }))),
          h("div", { class: "field" }, h("label", { for: "funnel-weeks" }, "Window"),
            h("select", { id: "funnel-weeks", onchange: function (e) { go(benefit, kind, e.target.value); } },
              WINDOWS.map(function (n) {
                return h("option", { value: String(n), selected: n === weeks || null }, n + " weeks");
              }))));
        main.replaceChildren(
          h("h1", { tabindex: "-1" }, "Funnel: " + benefit + " · " + kind +
            (S.api.indicator() === S.api.REJECTION ? "" : " · " + S.api.rateName())),
          choices,
          h("p", { class: "summary" }, "Weeks ", f.from || "–", " to ", f.to || "–", " · τ² ",
            S.fmt.num(f.tau2, 4), " · ", f.offices.length, " offices · ",
            h("strong", null, out.length + " outside the 99.8% limits"),
            out.length ? ": " + out.map(function (o) { return o.office; }).join(", ") : ""),
          f.offices.length ?
            S.charts.figure("funnel-chart", "Funnel plot of " + benefit + " " + kind + ", " + weeks +
              " weeks: odds ratio of each office against the nation by expected " + S.api.words().yeses + "; " +
              (out.length ? "outside the limits: " + out.map(function (o) { return o.office; }).join(", ") :
                "no office outside the limits") + "; the dark line is odds ratio 1, the nation's level",
              officeTable(f), "funnel") :
            h("p", null, f.fitted ? "No office has data in this window." :
              "No case-mix model yet: the funnel needs the reference window."),
          h("p", { class: "muted" }, "Limits: ±1.96 and ±3.09 standard errors of the log odds ratio, " +
            "whose variance is 1/V + τ²/k for an office with information V over k weeks."));
        if (f.offices.length) draw(f);
      });
    });
  }

  return { title: "Funnel", render: render };
})();
