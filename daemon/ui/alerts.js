/*
 * Alert history, newest first, filtered by status, classification, scope
 * and direction (the API's own filters); each alert links to its series.
 */
"use strict";

S.pages.alerts = (function () {
  var h = S.h;
  var FILTERS = [
    { name: "status", label: "Status", values: ["firing", "resolved"] },
    { name: "classification", label: "Classification", values: ["unexplained", "explained"] },
    { name: "scope", label: "Scope", values: ["office", "national"] },
    { name: "direction", label: "Direction", values: ["up", "down"] }
  ];

  function filters(query) {
    return h("form", { class: "filters", id: "alert-filters", "aria-label": "Filter alerts",
      onsubmit: function (e) { e.preventDefault(); } },
      FILTERS.map(function (f) {
        return h("div", { class: "field" },
          h("label", { for: "a-" + f.name }, f.label),
          h("select", { id: "a-" + f.name, name: f.name, onchange: function () {
            var q = {};
            FILTERS.forEach(function (g) { q[g.name] = document.getElementById("a-" + g.name).value; });
            location.hash = "#/alerts" + S.api.q(q);
          } }, [h("option", { value: "" }, "All")].concat(f.values.map(function (v) {
            return h("option", { value: v, selected: query[f.name] === v || null }, v);
          }))));
      }));
  }

  function table(alerts) {
    if (!alerts.length) return h("p", null, "No alerts match.");
    return S.charts.table("Alerts", [
      { title: "Series", value: function (a) {
        var s = a.series;
        return h("a", { href: S.seriesHref(s.office, s.benefit, s.kind) + "?alert=" + encodeURIComponent(a.alert_id) },
          S.seriesName(s.office, s.benefit, s.kind));
      } },
      { title: "Status", value: function (a) {
        var st = h("span", { class: "status status-" + a.status }, a.status);
        if (!a.silenced_by) return st;
        return h("span", null, st, " ", h("span", { class: "silenced", "data-silenced-by": a.silenced_by,
          title: "Notifications held back by silence " + a.silenced_by }, "silenced"));
      } },
      { title: "Classification", value: function (a) {
        /* Only a firing, unexplained alert is red: a resolved one is history. */
        var cls = a.status === "resolved" ? "resolved" : a.classification === "explained" ? "explained" : "drifting";
        return h("span", { class: "state state-" + cls,
          "data-alert": a.alert_id, "data-classification": a.classification }, a.classification);
      } },
      { title: "Direction", value: function (a) { return S.fmt.direction(a.direction); } },
      { title: "Onset", value: function (a) { return a.onset; } },
      { title: "Detected", value: function (a) { return S.fmt.time(a.detected_at); } },
      { title: "Odds ratio", num: true, value: function (a) {
        var ci = a.odds_ratio_ci || [];
        return S.fmt.num(a.odds_ratio) + (ci.length === 2 ? " (" + S.fmt.num(ci[0]) + "–" + S.fmt.num(ci[1]) + ")" : "");
      } },
      { title: "Rate at detection / expected", num: true, value: function (a) {
        return S.fmt.pct(a.current_rate) + " / " + S.fmt.pct(a.expected_rate);
      } },
      { title: "Rate now (13 weeks)", num: true, value: function (a) {
        return a.series_now ? S.fmt.pct(a.series_now.rejection_rate) : "–";
      } },
      { title: "Explanations", value: function (a) {
        var e = (a.explanations || []).join(", ");
        var c = (a.context || []).length ? " (context: " + a.context.join(", ") + ")" : "";
        return (e || "none") + c;
      } },
      { title: "Resolved", value: function (a) {
        return a.status === "resolved" ? S.fmt.time(a.resolved_at) + (a.note ? ": " + a.note : "") : "–";
      } }
    ], alerts);
  }

  function render(main, params) {
    var q = {};
    FILTERS.forEach(function (f) {
      if (f.values.indexOf(params.query[f.name]) >= 0) q[f.name] = params.query[f.name];
    });
    return S.api.get("/v1/alerts" + S.api.q(q)).then(function (res) {
      main.replaceChildren(
        h("h1", { tabindex: "-1" }, "Alerts"),
        filters(q),
        h("p", { class: "summary", role: "status" }, res.total + " alerts"),
        table(res.alerts));
    });
  }

  return { title: "Alerts", render: render };
})();
