/*
 * Alert history, newest first, filtered by the API's own filters (status,
 * classification, scope, direction, office, benefit, kind); each alert
 * links to its series. Status is drawn on its own (a pill: firing,
 * silenced, explained, resolved), apart from classification and
 * direction; a write token can silence an alert from its row.
 */
"use strict";

S.pages.alerts = (function () {
  var h = S.h;
  var FILTERS = [
    { name: "status", label: "Status", values: ["firing", "resolved"] },
    { name: "classification", label: "Classification", values: ["unexplained", "explained"] },
    { name: "scope", label: "Scope", values: ["office", "national"] },
    { name: "direction", label: "Direction", values: ["up", "down"] },
    { name: "benefit", label: "Benefit", values: [] },
    { name: "kind", label: "Kind", values: [] }
  ];
  /* The filters shown: with several indicators, the indicator first. */
  var shown = FILTERS;
  var SILENCE_FOR = [
    { label: "1 day", s: 86400 }, { label: "1 week", s: 7 * 86400 }, { label: "4 weeks", s: 28 * 86400 }
  ];

  function go() {
    var q = {};
    shown.forEach(function (g) { q[g.name] = document.getElementById("a-" + g.name).value; });
    q.office = document.getElementById("a-office").value.trim();
    location.hash = "#/alerts" + S.api.q(q);
  }

  function filters(query) {
    return h("form", { class: "filters", id: "alert-filters", "aria-label": "Filter alerts",
      onsubmit: function (e) { e.preventDefault(); go(); } },
      h("div", { class: "field" },
        h("label", { for: "a-office" }, "Office"),
        h("input", { id: "a-office", name: "office", type: "search", value: query.office || "",
          placeholder: "e.g. K017", size: "12", spellcheck: "false", onchange: go })),
      shown.map(function (f) {
        return h("div", { class: "field" },
          h("label", { for: "a-" + f.name }, f.label),
          h("select", { id: "a-" + f.name, name: f.name, onchange: go },
            [h("option", { value: "" }, "All")].concat(f.values.map(function (v) {
              return h("option", { value: v, selected: query[f.name] === v || null }, v);
            }))));
      }),
      Object.keys(query).length ? h("a", { href: "#/alerts", class: "clear" }, "Clear filters") : null);
  }

  function statusLegend() {
    return h("dl", { class: "legend", id: "status-legend" }, S.ALERT_STATUSES.map(function (s) {
      return [h("dt", null, S.statusBadge(statusExample(s.name))), h("dd", null, s.help)];
    }));
  }

  function statusExample(name) {
    return { status: name === "resolved" ? "resolved" : "firing", silenced_by: name === "silenced" ? "x" : null,
      classification: name === "explained" ? "explained" : "unexplained" };
  }

  /* A write token may hold back one firing alert's notifications from here. */
  function silenceAction(a, say) {
    if (a.status !== "firing") return null;
    if (a.silenced_by) {
      var armed = false;
      var b = h("button", { type: "button", class: "write-only", "data-unsilence": a.silenced_by,
        title: "Deletes silence " + a.silenced_by + ", which may cover other alerts too",
        onclick: function () {
          if (!armed) {
            armed = true;
            b.textContent = "Confirm: end " + a.silenced_by;
            return;
          }
          b.disabled = true;
          S.api.del("/v1/silences/" + encodeURIComponent(a.silenced_by)).then(function () {
            say("Silence " + a.silenced_by + " ended.", false);
            S.app.reload();
          }, function (err) {
            b.disabled = false;
            say("Cannot end silence " + a.silenced_by + ": " + err.toString(), true);
          });
        } }, "End silence");
      return b;
    }
    var id = "sil-" + a.alert_id.replace(/[^A-Za-z0-9_-]/g, "_");
    var f = h("form", { class: "silence-form", "aria-label": "Silence " + a.alert_id },
      h("label", { for: id + "-for" }, "for"),
      h("select", { id: id + "-for", name: "for" }, SILENCE_FOR.map(function (d, i) {
        return h("option", { value: String(d.s), selected: i === 1 || null }, d.label);
      })),
      h("label", { for: id + "-comment" }, "why"),
      h("input", { id: id + "-comment", name: "comment", required: true, maxlength: "1000", size: "16" }),
      h("button", { type: "submit" }, "Silence"));
    f.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var comment = f.elements.comment.value.trim();
      if (!comment) {
        say("A silence needs a comment: why are its notifications held back?", true);
        return;
      }
      var ends = new Date(Date.now() + 1000 * Number(f.elements["for"].value));
      S.api.post("/v1/silences", { matchers: { alert_id: a.alert_id },
        ends_at: ends.toISOString().replace(/\.\d+Z$/, "Z"), comment: comment }).then(function (sl) {
        say("Alert " + a.alert_id + " silenced by " + sl.id + " until " + S.fmt.time(sl.ends_at) + ".", false);
        S.app.reload();
      }, function (err) {
        say("Cannot silence " + a.alert_id + ": " + err.toString(), true);
      });
    });
    return h("details", { class: "write-only row-action", "data-silence-for": a.alert_id },
      h("summary", null, "Silence…"), f);
  }

  /* Whose alert it is: the indicator's name, its rate's name on hover. */
  function indicatorBadge(name) {
    return h("span", { class: "indicator-badge", "data-indicator": name, title: S.api.rateName(name) }, name);
  }

  function table(alerts, clock, say) {
    if (!alerts.length) return h("p", null, "No alerts match.");
    var at = clock ? new Date(clock).getTime() : NaN;
    return S.charts.table("Alerts", [
      { title: "Status", value: function (a) {
        return h("span", { "data-silenced-by": a.silenced_by || null }, S.statusBadge(a));
      } },
      { title: "Series", value: function (a) {
        var s = a.series, ind = a.indicator || S.api.REJECTION;
        return [S.api.manyIndicators() ? [indicatorBadge(ind), " "] : null,
          h("a", { class: "wrap", href: S.seriesHref(s.office, s.benefit, s.kind, { indicator: ind, alert: a.alert_id }) },
            S.seriesName(s.office, s.benefit, s.kind))];
      } },
      { title: h("span", { class: "write-only" }, "Action"), value: function (a) { return silenceAction(a, say); } },
      { title: "Direction, classification", value: function (a) {
        return [h("span", { class: "nowrap" }, S.fmt.direction(a.direction)), h("br"),
          h("span", { class: "classification", "data-alert": a.alert_id,
            "data-classification": a.classification }, a.classification)];
      } },
      { title: "Onset", value: function (a) { return h("span", { class: "week" }, a.onset); } },
      { title: "Detected", value: function (a) { return h("span", { class: "when" }, S.fmt.time(a.detected_at)); } },
      { title: "Firing for", num: true, value: function (a) {
        if (a.status !== "firing") return "–";
        var secs = (at - new Date(a.detected_at).getTime()) / 1000;
        return h("span", { class: "firing-for nowrap", "data-firing-for": isFinite(secs) ? String(Math.round(secs)) : null },
          S.fmt.span(secs));
      } },
      { title: "Odds ratio (95%)", num: true, value: function (a) {
        var ci = a.odds_ratio_ci || [];
        return h("span", { class: "nowrap" }, S.fmt.num(a.odds_ratio) +
          (ci.length === 2 ? " (" + S.fmt.num(ci[0]) + "–" + S.fmt.num(ci[1]) + ")" : ""));
      } },
      { title: "At detection: rate / expected", num: true, value: function (a) {
        return S.fmt.pct(a.current_rate) + " / " + S.fmt.pct(a.expected_rate);
      } },
      { title: "Rate now (13 w)", num: true, value: function (a) {
        return a.series_now ? S.fmt.pct(a.series_now.rejection_rate) : "–";
      } },
      { title: "Explanations", value: function (a) {
        var e = (a.explanations || []).join(", ");
        var c = (a.context || []).length ? " (context: " + a.context.join(", ") + ")" : "";
        return h("span", { class: "wrap" }, (e || "none") + c);
      } },
      { title: "Resolved", value: function (a) {
        return a.status === "resolved" ? h("span", { class: "wrap" }, h("span", { class: "when" }, S.fmt.time(a.resolved_at)),
          a.note ? ": " + a.note : "") : "–";
      } }
    ], alerts);
  }

  function render(main, params) {
    return Promise.all([S.api.groups(), S.api.indicators()]).then(function (got) {
      var groups = got[0];
      shown = got[1].length > 1 ? [{ name: "indicator", label: "Indicator", values: got[1].map(function (x) {
        return x.name;
      }) }].concat(FILTERS) : FILTERS;
      FILTERS.forEach(function (f) {
        if (f.name !== "benefit" && f.name !== "kind") return;
        f.values = [];
        groups.forEach(function (g) { if (f.values.indexOf(g[f.name]) < 0) f.values.push(g[f.name]); });
      });
      var q = {};
      shown.forEach(function (f) {
        if (f.values.indexOf(params.query[f.name]) >= 0) q[f.name] = params.query[f.name];
      });
      if (params.query.office) q.office = params.query.office;
      var message = h("p", { id: "alert-message", role: "status", "aria-live": "polite" });
      function say(text, bad) {
        message.textContent = text;
        message.className = bad ? "message error" : "message ok";
        S.app.keepMessage(text, bad);
      }
      return Promise.all([S.api.get("/v1/alerts" + S.api.q(q)), S.api.get("/v1/status")]).then(function (res) {
        var list = res[0], clock = res[1].watermark;
        var firing = list.alerts.filter(function (a) { return a.status === "firing"; }).length;
        main.replaceChildren(
          h("h1", { tabindex: "-1" }, "Alerts"),
          filters(q),
          S.app.lastMessage(message),
          h("p", { class: "summary", role: "status", id: "alert-count" }, list.total + " alerts, " + firing +
            " firing; “firing for” counts from detection to the daemon's clock of data (" +
            S.fmt.time(clock) + ")"),
          statusLegend(),
          h("div", { class: "alerts-list" }, table(list.alerts, clock, say)));
      }, function (err) {
        /* A filter naming an unknown office: say so beside the filters, not instead of them. */
        if (!(err.status === 404 && q.office)) throw err;
        main.replaceChildren(
          h("h1", { tabindex: "-1" }, "Alerts"),
          filters(q),
          h("div", { class: "message error", id: "filter-error", role: "alert" }, h("p", null, err.message)));
      });
    });
  }

  return { title: "Alerts", render: render };
})();
