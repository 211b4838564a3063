/*
 * One series: its control chart (weekly observed rate against the rate the
 * detector expects, with the band of ordinary variation), its CUSUMs
 * against the threshold, markers for alerts and explanations, a monthly
 * view, and the decomposition and strata of an alert.
 */
"use strict";

S.pages.series = (function () {
  var h = S.h, C = S.charts.COLORS;
  var WEEKS = [26, 52, 104, 156];

  /* Does an explanation's scope take in this series (of the current indicator)? (empty lists: all) */
  function inScope(e, office, benefit, kind) {
    var b = e.benefits || [], k = e.kinds || [], o = e.offices || [], i = e.indicators || [];
    return (i.length === 0 || i.indexOf(S.api.indicator()) >= 0) &&
      (b.length === 0 || b.indexOf(benefit) >= 0) &&
      (k.length === 0 || k.indexOf(kind) >= 0) &&
      (office === "national" ? o.length === 0 : (o.length === 0 || o.indexOf(office) >= 0));
  }

  function markers(labels, alerts, explanations) {
    var items = [];
    function at(week) { return week ? labels.indexOf(week) : -1; }
    alerts.forEach(function (a) {
      var arrow = a.direction === "up" ? "↑" : "↓";
      items.push({ index: at(a.onset), label: "onset " + arrow, color: C.onset, dash: [2, 3] });
      items.push({ index: at(a.detected_week), label: "detected " + arrow, color: C.detected });
      if (a.resolved_week)
        items.push({ index: at(a.resolved_week), label: "resolved", color: C.resolved, dash: [6, 3] });
    });
    explanations.forEach(function (e) {
      items.push({ index: at(S.fmt.isoWeek(e.effective_from)),
        label: (e.kind === "context" ? "context " : "explanation ") + e.id,
        color: e.kind === "context" ? C.context : C.explanation, dash: [8, 4] });
    });
    return items;
  }

  /*
   * The detector's regimes in the window: where the expected level moves
   * (a new regime for an explained change, its level learnt, an
   * explanation withdrawn) and the stretches in which a new level is
   * being learnt, during which the detector raises no alarm.
   */
  function regimeMarks(control) {
    var labels = control.weeks.map(function (w) { return w.week; });
    var items = [], spans = [], last = labels[labels.length - 1];
    (control.regimes || []).forEach(function (r) {
      var i = labels.indexOf(r.week), by = (r.explanations || []).join(", ");
      if (r.reason === "new_regime") {
        items.push({ index: i, label: "new regime" + (by ? " (" + by + ")" : ""), color: C.regime });
        var to = r.learning_until && r.learning_until < last ? r.learning_until : last;
        spans.push({ from: i, to: labels.indexOf(to), color: C.learningText, fill: C.learning,
          week: r.week, until: r.learning_until,
          label: "learning the new level" + (r.learning_until ? " until " + r.learning_until : "") });
      } else if (r.reason === "level_learnt") {
        items.push({ index: i, label: "new level learnt", color: C.regime });
      } else if (r.reason === "explanation_withdrawn") {
        items.push({ index: i, label: "explanation withdrawn", color: C.regime, dash: [4, 2] });
      } else if (r.reason === "regime") {
        items.push({ index: i, label: "regime", color: C.regime });
      }
    });
    return { items: items, spans: spans };
  }

  var RESTART = {
    alarm: "↺", new_regime: "↺ new regime", level_learnt: "↺ level learnt", resolved: "↺ resolved",
    explanation_withdrawn: "↺ explanation withdrawn", regime: "↺ regime", watching: "↺ refit"
  };
  var RESTART_WHY = {
    alarm: "after crossing the threshold", new_regime: "a new regime starts (explained change)",
    level_learnt: "the new level is learnt; watching resumes", resolved: "the alert is resolved",
    explanation_withdrawn: "the explanation was withdrawn", regime: "a new regime starts",
    watching: "watching starts again after a model fit"
  };

  /* Where the CUSUMs start again from 0, as the detector's chart does. */
  function restarts(control) {
    var seen = false, out = [];
    control.weeks.forEach(function (w, i) {
      var r = w.cusum_restart;
      /* Inside a learning stretch nothing is watched, so nothing restarts. */
      if (r && (r !== "watching" || seen) && RESTART[r] && (w.phase !== "learning" || r === "new_regime"))
        out.push({ index: i, week: w.week, reason: r, label: RESTART[r], color: C.restart, dash: [1, 3] });
      if (w.monitored) seen = true;
    });
    return out;
  }

  /* No CUSUM is run while a new level is learnt: none is drawn. */
  function watched(w, v) {
    return w.phase === "learning" ? null : v;
  }

  function pctAxis(title) {
    return { title: { display: true, text: title },
      ticks: { callback: function (v) { return (100 * v).toFixed(1) + "%"; } } };
  }

  function controlChart(control, items) {
    var w = control.weeks, labels = w.map(function (x) { return x.week; });
    var rg = regimeMarks(control);
    /* Stepped: each week's expected level is its own; a regime's move is a step. */
    S.charts.make("control-chart", {
      type: "line",
      data: {
        labels: labels,
        datasets: [
          { label: "Band of ordinary variation (95%)", data: w.map(function (x) { return x.band_high; }),
            borderWidth: 0, pointRadius: 0, backgroundColor: C.band, fill: "+1", stepped: "middle" },
          { label: "band low", data: w.map(function (x) { return x.band_low; }),
            borderWidth: 0, pointRadius: 0, backgroundColor: C.band, fill: false, stepped: "middle" },
          { label: "Expected by the detector", data: w.map(function (x) { return x.baseline_rate; }),
            borderColor: C.baseline, borderWidth: 2, pointRadius: 0, stepped: "middle" },
          { label: "Case mix alone", data: w.map(function (x) { return x.expected_rate; }),
            borderColor: C.casemix, borderDash: [5, 4], borderWidth: 1.5, pointRadius: 0 },
          { label: "Observed", data: w.map(function (x) { return x.rejection_rate; }),
            borderColor: C.observed, backgroundColor: C.observed, borderWidth: 1.5, pointRadius: 2 }
        ]
      },
      options: {
        interaction: { mode: "index", intersect: false },
        plugins: {
          markers: { items: items.concat(rg.items), spans: rg.spans },
          legend: { labels: { filter: function (it) { return it.text !== "band low"; } } },
          tooltip: { callbacks: { label: function (c) {
            return c.dataset.label + ": " + S.fmt.pct(c.parsed.y, 2);
          } } }
        },
        /* Headroom for the labels at the top. */
        scales: { x: { ticks: { maxTicksLimit: 14 } }, y: Object.assign(pctAxis(S.api.words().Rate), { grace: "12%" }) }
      }
    });
  }

  function cusumChart(control, items) {
    var w = control.weeks, labels = w.map(function (x) { return x.week; });
    var hth = control.threshold;
    var hdn = control.threshold_down === undefined ? hth : control.threshold_down;
    var rg = regimeMarks(control), rs = restarts(control);
    var chart = S.charts.make("cusum-chart", {
      type: "line",
      data: {
        labels: labels,
        datasets: [
          { label: "CUSUM up (" + S.api.words().more + ")", data: w.map(function (x) { return watched(x, x.cusum_up); }),
            borderColor: C.up, backgroundColor: C.up, borderWidth: 2, pointRadius: 1.5 },
          { label: "CUSUM down (" + S.api.words().fewer + "), drawn below 0",
            data: w.map(function (x) { return x.cusum_down === null ? null : watched(x, -x.cusum_down); }),
            borderColor: C.down, backgroundColor: C.down, borderWidth: 2, pointRadius: 1.5 },
          { label: "Threshold", data: w.map(function () { return hth; }), borderColor: C.threshold,
            borderDash: [6, 4], borderWidth: 1, pointRadius: 0 },
          { label: "Threshold (down)", data: w.map(function () { return hdn === null ? null : -hdn; }),
            borderColor: C.threshold, borderDash: [6, 4], borderWidth: 1, pointRadius: 0 }
        ]
      },
      options: {
        interaction: { mode: "index", intersect: false },
        plugins: {
          markers: { items: items.concat(rg.items.filter(function (m) {
            /* The restart marker says it on this chart. */
            return !rs.some(function (r) { return r.index === m.index; });
          }), rs), spans: rg.spans },
          legend: { labels: { filter: function (it) { return it.text !== "Threshold (down)"; } } }
        },
        scales: { x: { ticks: { maxTicksLimit: 14 } },
          y: { title: { display: true, text: "Log-likelihood ratio" }, grace: "30%" } }
      }
    });
    if (chart) chart.$restarts = rs.map(function (r) { return { week: r.week, reason: r.reason }; });
  }

  function monthChart(history) {
    S.charts.make("month-chart", {
      type: "line",
      data: {
        labels: history.map(function (m) { return m.period; }),
        datasets: [
          { label: "Observed", data: history.map(function (m) { return m.rejection_rate; }),
            borderColor: C.observed, backgroundColor: C.observed, pointRadius: 2 },
          { label: "Case mix alone", data: history.map(function (m) { return m.expected_rate; }),
            borderColor: C.casemix, borderDash: [5, 4], pointRadius: 0 }
        ]
      },
      options: { interaction: { mode: "index", intersect: false },
        scales: { y: pctAxis(S.api.words().Rate) } }
    });
  }

  var PHASE = {
    unwatched: "not watched", watched: "watched", drifting: "drifting (after an alarm)",
    learning: "learning the new level"
  };

  /* The weekly rows; a week without data says why (S.gaps). */
  function weekTable(control) {
    function note(w) {
      var n = w.missing || w.note;
      return n ? h("span", { class: w.missing ? "gap" : "gap-partial", "data-week": w.week,
        "data-missing": n.code }, (w.missing ? "missing: " : "") + n.text) : "";
    }
    return S.charts.table("Weekly control chart data", [
      { title: "Week", value: function (w) { return w.week; } },
      { title: S.api.words().Events, num: true, value: function (w) { return S.fmt.int(w.decisions); } },
      { title: S.api.words().Yes, num: true, value: function (w) { return S.fmt.int(w.rejected); } },
      { title: "Observed", num: true, value: function (w) { return S.fmt.pct(w.rejection_rate, 2); } },
      { title: "Expected by the detector", num: true, value: function (w) { return S.fmt.pct(w.baseline_rate, 2); } },
      { title: "Band (95%)", num: true, value: function (w) {
        return S.fmt.pct(w.band_low, 2) + " – " + S.fmt.pct(w.band_high, 2);
      } },
      { title: "Case mix alone", num: true, value: function (w) { return S.fmt.pct(w.expected_rate, 2); } },
      { title: "Detector", value: function (w) { return PHASE[w.phase] || "–"; } },
      { title: "CUSUM up", num: true, value: function (w) { return S.fmt.num(w.cusum_up); } },
      { title: "CUSUM down", num: true, value: function (w) { return S.fmt.num(w.cusum_down); } },
      { title: "CUSUM restarts", value: function (w) {
        return w.cusum_restart ? "from 0: " + (RESTART_WHY[w.cusum_restart] || w.cusum_restart) : "";
      } },
      { title: "Note", value: note }
    ], control.weeks.slice().reverse());
  }

  /* "ID (description)" for each explanation id; the description when known. */
  function explainedBy(ids, explanations) {
    return ids.map(function (id) {
      var e = explanations.filter(function (x) { return x.id === id; })[0];
      return id + (e && e.description ? " (“" + e.description + "”)" : "");
    }).join(", ");
  }

  function detectedText(a, explanations) {
    var ids = a.explanations || [];
    if (a.classification === "explained" && a.explained_at)
      return "Detected: " + a.alert_id + ", detected unexplained, explained on " + S.fmt.day(a.explained_at) +
        " by " + explainedBy(ids, explanations);
    if (a.classification === "explained")
      return "Detected: " + a.alert_id + ", explained at detection by " + explainedBy(ids, explanations);
    return "Detected: " + a.alert_id + ", " + a.classification;
  }

  function eventTable(alerts, explanations, regimes) {
    var rows = [];
    alerts.forEach(function (a) {
      rows.push({ week: a.onset, what: "Onset of " + a.alert_id + " (" + S.fmt.direction(a.direction) + ")" });
      rows.push({ week: a.detected_week, what: detectedText(a, explanations), alert: a.alert_id, kind: "detected" });
      if (a.resolved_week) rows.push({ week: a.resolved_week, what: "Resolved: " + a.alert_id });
    });
    explanations.forEach(function (e) {
      rows.push({ week: S.fmt.isoWeek(e.effective_from), what: (e.kind === "context" ? "Context " : "Explanation ") +
        e.id + " (" + e.kind + (e.reference ? ", " + e.reference : "") + "), effective from " + e.effective_from +
        (e.description ? ": " + e.description : "") });
    });
    (regimes || []).forEach(function (r) {
      var by = (r.explanations || []).join(", ");
      if (r.reason === "new_regime")
        rows.push({ week: r.week, kind: "regime", what: "New regime" + (by ? " (" + by + ")" : "") +
          ": the expected level moves; the detector learns the new level" +
          (r.learning_until ? " until " + r.learning_until : "") + " and raises no alarm meanwhile" });
      else if (r.reason === "level_learnt")
        rows.push({ week: r.week, kind: "regime", what: "New level learnt: the expected level is set " +
          "from the weeks since the new regime; the CUSUMs restart" });
      else if (r.reason === "explanation_withdrawn")
        rows.push({ week: r.week, kind: "regime", what: "Explanation withdrawn: the old level applies again" });
    });
    rows.sort(function (a, b) { return a.week < b.week ? -1 : a.week > b.week ? 1 : 0; });
    if (!rows.length) return h("p", { class: "muted" }, "No alerts or explanations concern this series.");
    return h("div", { id: "event-table" }, S.charts.table("Events on the charts", [
      { title: "Week", value: function (r) { return r.week || "–"; } },
      { title: "Event", value: function (r) {
        return r.alert ? h("span", { "data-event": r.kind, "data-event-alert": r.alert }, r.what) :
          r.kind ? h("span", { "data-event": r.kind }, r.what) : r.what;
      } }
    ], rows));
  }

  function alertDetail(a) {
    if (!a) return h("p", { class: "muted" }, "This series has had no alert.");
    var d = a.decomposition || {};
    var ci = a.odds_ratio_ci || [];
    var total = a.current_rate - a.baseline_rate;
    function bar(x) {
      var width = Math.min(100, Math.abs(x) / Math.max(Math.abs(total), Math.abs(d.case_mix || 0), Math.abs(d.practice || 0), 1e-9) * 100);
      return h("span", { class: "bar-track", "aria-hidden": "true" },
        h("span", { class: "bar " + (x >= 0 ? "bar-up" : "bar-down"), "data-width": width.toFixed(0) }));
    }
    var decomposition = S.charts.table("Decomposition of the change since the baseline", [
      { title: "Part", value: function (r) { return r.name; } },
      { title: "Change", num: true, value: function (r) { return S.fmt.pp(r.value); } },
      { title: "", value: function (r) { return bar(r.value); } }
    ], [
      { name: "Case mix (expected − baseline)", value: d.case_mix },
      { name: "Practice (current − expected)", value: d.practice },
      { name: "Total (current − baseline)", value: total }
    ]);
    var strata = (a.strata || []).length ? S.charts.table("Strata contributing most", [
      { title: "Stratum", value: function (s) { return s.stratum; } },
      { title: "Excess " + S.api.words().yeses, num: true, value: function (s) { return S.fmt.num(s.excess, 1); } },
      { title: "Share of the excess", num: true, value: function (s) { return S.fmt.pct(s.share, 0); } },
      { title: "Observed / expected", num: true, value: function (s) { return S.fmt.num(s.odds_ratio); } }
    ], a.strata) : h("p", { class: "muted" }, "No strata recorded.");
    return h("div", { class: "alert-detail", id: "alert-detail", "data-alert": a.alert_id },
      h("dl", { class: "facts" },
        h("dt", null, "Alert"), h("dd", null, h("code", null, a.alert_id)),
        h("dt", null, "Status"), h("dd", null, a.status + ", " + a.classification),
        h("dt", null, "Direction"), h("dd", null, S.fmt.direction(a.direction)),
        h("dt", null, "Onset"), h("dd", null, a.onset),
        h("dt", null, "Detected"), h("dd", null, S.fmt.time(a.detected_at)),
        h("dt", null, "Odds ratio"), h("dd", null, S.fmt.num(a.odds_ratio) +
          (ci.length === 2 ? " (95% " + S.fmt.num(ci[0]) + "–" + S.fmt.num(ci[1]) + ")" : "")),
        h("dt", null, "Rates at detection"), h("dd", null, "baseline " + S.fmt.pct(a.baseline_rate) + ", expected " +
          S.fmt.pct(a.expected_rate) + ", observed " + S.fmt.pct(a.current_rate)),
        h("dt", null, "Rate now"), h("dd", { id: "alert-now" }, a.series_now ?
          S.fmt.pct(a.series_now.rejection_rate) + " over the 13 weeks through " + a.series_now.through +
          (a.series_now.expected_rate !== null && a.series_now.expected_rate !== undefined ?
            " (expected " + S.fmt.pct(a.series_now.expected_rate) + ")" : "") : "–"),
        h("dt", null, S.api.words().Events + " since onset"), h("dd", null, S.fmt.int(a.decisions_since_onset)),
        h("dt", null, "Explanations"), h("dd", null, (a.explanations || []).length ?
          a.explanations.join(", ") : "none"),
        h("dt", null, "Context"), h("dd", null, (a.context || []).length ? a.context.join(", ") : "none"),
        a.note ? h("dt", null, "Note") : null, a.note ? h("dd", null, a.note) : null),
      h("h3", null, "Case mix or practice"), decomposition,
      h("h3", null, "Top strata"), strata);
  }

  function applyBars(root) {
    Array.prototype.forEach.call(root.querySelectorAll(".bar[data-width]"), function (b) {
      b.style.width = b.dataset.width + "%";
    });
  }

  function render(main, params) {
    var office = params.path[0], benefit = params.path[1], kind = params.path[2];
    var weeks = parseInt(params.query.weeks, 10) || 104;
    var monthly = params.query.view === "month";
    var base = "/v1/series/" + encodeURIComponent(office) + "/" + encodeURIComponent(benefit) +
      "/" + encodeURIComponent(kind);
    var W = S.api.words(), ind = S.api.indicator();
    if (!office || !benefit || !kind)
      return Promise.reject(new S.api.ApiError(404, "not_found", "no series named in the address"));
    return Promise.all([
      S.api.get(S.api.withIndicator(base + "/control?weeks=" + weeks)),
      S.api.get(S.api.withIndicator(base)),
      S.api.get("/v1/alerts" + S.api.q({ office: office })),
      S.api.get("/v1/explanations"),
      monthly ? S.api.get(S.api.withIndicator(base + "?period=month")) : Promise.resolve(null),
      S.api.peek("/v1/status").catch(function () { return null; })
    ]).then(function (res) {
      var det = res[1].detector || {}, current = det.alert ? res[2].alerts.filter(function (a) {
        return a.alert_id === det.alert;
      })[0] : null;
      /* The silence that holds the series' alert, for its end and comment. */
      return (current && current.silenced_by ? S.api.get("/v1/silences/" + encodeURIComponent(current.silenced_by))
        .catch(function () { return null; }) : Promise.resolve(null)).then(function (silence) {
        return res.concat([silence]);
      });
    }).then(function (res) {
      var control = res[0], one = res[1], det = one.detector || {};
      var gaps = S.gaps.fill(control, one.history, res[5], weeks);
      control.weeks = gaps.weeks;
      /* The office's alerts of every indicator: this series' are of this one. */
      var alerts = res[2].alerts.filter(function (a) {
        return a.series.benefit === benefit && a.series.kind === kind && (a.indicator || S.api.REJECTION) === ind;
      });
      var expl = res[3].explanations.filter(function (e) { return inScope(e, office, benefit, kind); });
      var labels = control.weeks.map(function (w) { return w.week; });
      var items = markers(labels, control.alerts, expl).concat(S.gaps.markers(control.weeks));
      var chosen = params.query.alert || (det.alert || (alerts[0] && alerts[0].alert_id));
      var selected = alerts.filter(function (a) { return a.alert_id === chosen; })[0] || alerts[0];
      function here(q) { return S.seriesHref(office, benefit, kind, q); }
      var detailBox = h("div", { id: "alert-box" }, alertDetail(selected));
      var head = { office: office, benefit: benefit, kind: kind, det: det, control: control, gaps: gaps,
        alert: det.alert ? alerts.filter(function (a) { return a.alert_id === det.alert; })[0] :
          alerts[0] || null,
        silence: res[6], registry: res[3].explanations, rolling: (one.rolling || {})["13w"] };
      head.alertBrief = head.alert ? control.alerts.filter(function (a) {
        return a.alert_id === head.alert.alert_id;
      })[0] : null;

      main.replaceChildren(
        h("h1", { tabindex: "-1" }, S.seriesName(office, benefit, kind) +
          (ind === S.api.REJECTION ? "" : " · " + W.rate)),
        S.app.lastMessage(h("p", { id: "series-message", role: "status", "aria-live": "polite" })),
        S.seriesHead.plain(head),
        S.seriesHead.technical(head),
        S.seriesHead.actions(head),
        h("nav", { class: "views", "aria-label": "Period" },
          h("a", { href: here({ weeks: weeks }), "aria-current": monthly ? null : "page" }, "Weekly"),
          h("a", { href: here({ view: "month" }), "aria-current": monthly ? "page" : null }, "Monthly"),
          monthly ? null : h("span", { class: "weeks" }, "Show ", WEEKS.map(function (n) {
            return h("a", { href: here({ weeks: n }), "aria-current": n === weeks ? "true" : null },
              n + " weeks");
          }))),
        monthly ? h("section", { "aria-labelledby": "h-month" },
          h("h2", { id: "h-month" }, "Monthly " + W.rate),
          S.charts.figure("month-chart", "Monthly " + W.rate + " of " + S.seriesName(office, benefit, kind) +
            " against the rate its case mix predicts",
            S.charts.table("Monthly rates", [
              { title: "Month", value: function (m) { return m.period; } },
              { title: W.Events, num: true, value: function (m) { return S.fmt.int(m.decisions); } },
              { title: W.Yes, num: true, value: function (m) { return S.fmt.int(m.rejected); } },
              { title: "Observed", num: true, value: function (m) { return S.fmt.pct(m.rejection_rate, 2); } },
              { title: "Case mix alone", num: true, value: function (m) { return S.fmt.pct(m.expected_rate, 2); } },
              { title: "Complete", value: function (m) { return m.closed ? "yes" : "no"; } }
            ], res[4].history.slice().reverse()), "tall"),
          h("p", { class: "muted" }, "Case-mix expectations exist from the first model fit on; " +
            "the month of the fit has them for part of its " + W.events + " only.")) :
          h("section", { "aria-labelledby": "h-control" },
            h("h2", { id: "h-control" }, "Control chart"),
            S.charts.figure("control-chart", "Weekly " + W.rate + " of " + S.seriesName(office, benefit, kind) +
              " against the rate the detector expects, with the 95% band of ordinary variation", weekTable(control), "tall"),
            h("h2", null, "CUSUM"),
            S.charts.figure("cusum-chart", "CUSUM up and down of " + S.seriesName(office, benefit, kind) +
              " against the threshold " + S.fmt.num(control.threshold), h("p", { class: "muted" },
                "The CUSUM values are in the weekly table above."), "medium"),
            h("p", { class: "muted" }, "The CUSUMs are recomputed from the detector's weekly increments; " +
              "they restart at zero (↺) after crossing the threshold and at each regime change. While a new " +
              "level is learnt (shaded) the detector watches nothing, so no CUSUM is drawn.")),
        h("section", { "aria-labelledby": "h-events" },
          h("h2", { id: "h-events" }, "Alerts and explanations"), eventTable(control.alerts, expl, control.regimes)),
        h("section", { "aria-labelledby": "h-alert" },
          h("h2", { id: "h-alert" }, "Alert"),
          alerts.length > 1 ? h("div", { class: "field" },
            h("label", { for: "alert-select" }, "Alert shown"),
            h("select", { id: "alert-select", onchange: function (e) {
              var a = alerts.filter(function (x) { return x.alert_id === e.target.value; })[0];
              detailBox.replaceChildren(alertDetail(a));
              applyBars(detailBox);
            } }, alerts.map(function (a) {
              return h("option", { value: a.alert_id, selected: a === selected || null },
                a.alert_id + " (" + a.status + ")");
            }))) : null,
          detailBox));
      applyBars(detailBox);
      if (monthly) monthChart(res[4].history);
      else {
        controlChart(control, items);
        cusumChart(control, items);
      }
    });
  }

  return { title: "Series", render: render };
})();
