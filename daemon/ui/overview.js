/*
 * Overview: the national series with their state and recent trend, and
 * the grid of offices by benefit and kind, coloured and labelled by state,
 * sortable and filterable, each cell a link to its series.
 */
"use strict";

S.pages = S.pages || {};

S.pages.overview = (function () {
  var h = S.h;
  var SPARK_WEEKS = 26;
  var view = { sort: "office", dir: 1, office: "", state: "", benefit: "", kind: "" };

  function groupKey(g) { return g.benefit + "/" + g.kind; }

  function nationalCard(item) {
    var r13 = (item.rolling || {})["13w"] || {};
    var id = "spark-" + item.benefit + "-" + item.kind;
    return h("li", { class: "card" },
      h("h3", null, h("a", { href: S.seriesHref("national", item.benefit, item.kind) },
        item.benefit + " · " + item.kind)),
      h("p", null, S.stateBadge(S.displayState(item))),
      h("p", { class: "figures" },
        "13 weeks: ", h("strong", null, S.fmt.pct(r13.rejection_rate)), " rejected; case mix alone ",
        S.fmt.pct(r13.expected_rate)),
      h("div", { class: "spark" },
        S.charts.available() ? h("canvas", { id: id, role: "img",
          "aria-label": "Weekly rejection rate of " + item.benefit + " " + item.kind +
            ", last " + SPARK_WEEKS + " weeks (loading)" }) : null));
  }

  /* The sparkline of one national series and its rows for the table. */
  function drawSpark(item, control) {
    var weeks = control.weeks.slice(-SPARK_WEEKS);
    var id = "spark-" + item.benefit + "-" + item.kind;
    var canvas = document.getElementById(id);
    var rates = weeks.map(function (w) { return w.rejection_rate; });
    if (canvas && weeks.length) {
      canvas.setAttribute("aria-label", "Weekly rejection rate of " + item.benefit + " " +
        item.kind + " from " + weeks[0].week + " to " + weeks[weeks.length - 1].week +
        ": " + S.fmt.pct(rates[0]) + " to " + S.fmt.pct(rates[rates.length - 1]) +
        "; expected " + S.fmt.pct(weeks[weeks.length - 1].baseline_rate));
    }
    S.charts.make(id, {
      type: "line",
      data: {
        labels: weeks.map(function (w) { return w.week; }),
        datasets: [
          { label: "Observed", data: rates, borderColor: S.charts.COLORS.observed,
            borderWidth: 1.5, pointRadius: 0 },
          { label: "Expected", data: weeks.map(function (w) { return w.baseline_rate; }),
            borderColor: S.charts.COLORS.baseline, borderDash: [4, 3], borderWidth: 1,
            pointRadius: 0 }
        ]
      },
      options: {
        events: [],
        plugins: { legend: { display: false }, tooltip: { enabled: false } },
        scales: { x: { display: false }, y: { display: false } }
      }
    });
    return weeks;
  }

  function sortRows(rows, groups) {
    var key = view.sort;
    rows.sort(function (a, b) {
      var d = 0;
      if (key === "attention") d = b.attention - a.attention;
      else if (key !== "office") {
        d = S.stateRank(a.cells[key] ? a.cells[key].state : "none") -
          S.stateRank(b.cells[key] ? b.cells[key].state : "none");
      }
      if (d === 0) d = a.office < b.office ? -1 : a.office > b.office ? 1 : 0;
      return d * view.dir;
    });
    return rows;
  }

  function visibleGroups(groups) {
    return groups.filter(function (g) {
      return (!view.benefit || g.benefit === view.benefit) && (!view.kind || g.kind === view.kind);
    });
  }

  function gridRows(series, groups) {
    var byOffice = {};
    series.forEach(function (it) {
      if (it.office === "national") return;
      var row = byOffice[it.office] = byOffice[it.office] ||
        { office: it.office, cells: {}, attention: 0 };
      var st = S.displayState(it);
      row.cells[it.benefit + "/" + it.kind] = { state: st, item: it };
      if (st === "drifting" || st === "outlier") row.attention++;
    });
    return Object.keys(byOffice).map(function (k) { return byOffice[k]; });
  }

  function cell(row, g) {
    var c = row.cells[groupKey(g)];
    if (!c) return h("td", { class: "cell-empty" }, h("span", { class: "sr-only" }, "no data"));
    var ch = c.item.detector && c.item.detector.change;
    var arrow = c.state === "drifting" && ch ? (ch.odds_ratio >= 1 ? " ↑" : " ↓") : "";
    return h("td", { class: "cell", "data-office": row.office, "data-benefit": g.benefit,
      "data-kind": g.kind, "data-state": c.state },
      h("a", { href: S.seriesHref(row.office, g.benefit, g.kind), class: "state state-" + c.state,
        "aria-label": row.office + ", " + g.benefit + " " + g.kind + ": " + c.state +
          (arrow ? (arrow === " ↑" ? ", more rejections" : ", fewer rejections") : "") },
        c.state + arrow));
  }

  function header(label, key, groups, rerender) {
    var sorted = view.sort === key;
    return h("th", { scope: "col", class: key === "office" || key === "attention" ? null : "col-group",
      "aria-sort": sorted ? (view.dir > 0 ? "ascending" : "descending") : "none" },
      h("button", { type: "button", class: "sort", onclick: function () {
        if (view.sort === key) view.dir = -view.dir;
        else { view.sort = key; view.dir = 1; }
        rerender();
      } }, label, h("span", { "aria-hidden": "true" }, sorted ? (view.dir > 0 ? " ▲" : " ▼") : "")));
  }

  function renderGrid(box, series, groups) {
    function rerender() { renderGrid(box, series, groups); }
    var shown = visibleGroups(groups);
    var rows = sortRows(gridRows(series, groups), groups).filter(function (r) {
      if (view.office && r.office.toLowerCase().indexOf(view.office.toLowerCase()) < 0) return false;
      if (view.state) {
        return shown.some(function (g) {
          var c = r.cells[groupKey(g)];
          return c && c.state === view.state;
        });
      }
      return true;
    });
    var focusKey = document.activeElement && document.activeElement.dataset ?
      document.activeElement.dataset.sortKey : null;
    var headRow = h("tr", null,
      header("Office", "office", groups, rerender),
      shown.map(function (g) {
        return header([h("span", { class: "col-benefit" }, S.breakable(g.benefit)), " ",
          h("span", { class: "col-kind" }, g.kind)], groupKey(g), groups, rerender);
      }),
      header("Needs attention", "attention", groups, rerender));
    Array.prototype.forEach.call(headRow.querySelectorAll("button.sort"), function (b, i) {
      b.dataset.sortKey = String(i);
    });
    var tbl = h("table", { class: "grid", id: "office-grid", "aria-describedby": "grid-legend grid-count" },
      h("caption", { class: "sr-only" }, "State of every office by benefit and decision kind; " +
        "column headers sort the table"),
      h("thead", null, headRow),
      h("tbody", null, rows.map(function (r) {
        return h("tr", { "data-office": r.office },
          h("th", { scope: "row" }, r.office),
          shown.map(function (g) { return cell(r, g); }),
          h("td", { class: "num" }, String(r.attention)));
      })));
    box.replaceChildren(
      h("p", { id: "grid-count", class: "muted", role: "status" },
        rows.length + " offices shown, " + shown.length + " of " + groups.length + " benefit and kind columns"),
      h("div", { class: "table-wrap" }, tbl));
    if (focusKey !== null && focusKey !== undefined) {
      var again = box.querySelector('button.sort[data-sort-key="' + focusKey + '"]');
      if (again) again.focus();
    }
  }

  function select(id, label, options, value, onchange) {
    return h("div", { class: "field" },
      h("label", { for: id }, label),
      h("select", { id: id, onchange: function (e) { onchange(e.target.value); } },
        options.map(function (o) {
          return h("option", { value: o.value, selected: o.value === value || null }, o.label);
        })));
  }

  function controls(gridBox, series, groups) {
    function redo() { renderGrid(gridBox, series, groups); }
    var benefits = [], kinds = [];
    groups.forEach(function (g) {
      if (benefits.indexOf(g.benefit) < 0) benefits.push(g.benefit);
      if (kinds.indexOf(g.kind) < 0) kinds.push(g.kind);
    });
    var all = [{ value: "", label: "All" }];
    return h("form", { class: "filters", role: "search", "aria-label": "Filter the office grid",
      onsubmit: function (e) { e.preventDefault(); } },
      h("div", { class: "field" },
        h("label", { for: "f-office" }, "Office"),
        h("input", { id: "f-office", type: "search", value: view.office, placeholder: "e.g. K017",
          oninput: function (e) { view.office = e.target.value; redo(); } })),
      select("f-state", "State", all.concat(S.STATES.map(function (s) {
        return { value: s.name, label: s.label };
      })), view.state, function (v) { view.state = v; redo(); }),
      select("f-benefit", "Benefit", all.concat(benefits.map(function (b) {
        return { value: b, label: b };
      })), view.benefit, function (v) { view.benefit = v; redo(); }),
      select("f-kind", "Kind", all.concat(kinds.map(function (k) {
        return { value: k, label: k };
      })), view.kind, function (v) { view.kind = v; redo(); }));
  }

  function legend() {
    return h("dl", { class: "legend", id: "grid-legend" }, S.STATES.map(function (s) {
      return [h("dt", null, S.stateBadge(s.name)), h("dd", null, s.help)];
    }));
  }

  function render(main) {
    return Promise.all([S.api.groups(), S.api.get("/v1/series?limit=10000"),
      S.api.get("/v1/status")]).then(function (res) {
      var groups = res[0], series = res[1].series, status = res[2];
      var national = groups.map(function (g) {
        return series.filter(function (it) {
          return it.office === "national" && it.benefit === g.benefit && it.kind === g.kind;
        })[0];
      }).filter(Boolean);
      var gridBox = h("div", { id: "grid-box" });
      var trendBox = h("div", { id: "trend-table" });
      main.replaceChildren(
        h("h1", { tabindex: "-1" }, "Overview"),
        h("p", { class: "summary" },
          "Weeks closed through ", h("strong", null, status.closed_through || "–"), " · ",
          String(status.offices), " offices · ",
          h("a", { href: "#/alerts?status=firing", id: "firing-count" }, status.firing_alerts + " firing alerts"),
          " (", h("a", { href: "#/alerts?status=firing&classification=unexplained", id: "unexplained-count" },
            status.firing_unexplained + " unexplained"), ")",
          " · latest decision ", S.fmt.time(status.latest_decided_at)),
        h("section", { "aria-labelledby": "h-national" },
          h("h2", { id: "h-national" }, "National series"),
          national.length ? h("ul", { class: "cards" }, national.map(nationalCard)) :
            h("p", null, "No decisions have been counted yet."),
          trendBox),
        h("section", { "aria-labelledby": "h-offices" },
          h("h2", { id: "h-offices" }, "Offices"),
          controls(gridBox, series, groups),
          legend(),
          gridBox));
      renderGrid(gridBox, series, groups);
      return Promise.all(national.map(function (it) {
        return S.api.get("/v1/series/national/" + encodeURIComponent(it.benefit) + "/" +
          encodeURIComponent(it.kind) + "/control?weeks=" + SPARK_WEEKS).then(function (c) {
          return { item: it, weeks: drawSpark(it, c) };
        });
      })).then(function (trends) {
        if (!trends.length) return;
        var weeks = trends[0].weeks.map(function (w) { return w.week; });
        var cols = [{ title: "Week", value: function (r) { return r; } }].concat(trends.map(function (t) {
          return { title: t.item.benefit + " · " + t.item.kind, num: true, value: function (wk) {
            var w = t.weeks.filter(function (x) { return x.week === wk; })[0];
            return w ? S.fmt.pct(w.rejection_rate) : "–";
          } };
        }));
        trendBox.replaceChildren(h("details", { class: "table-fallback", open: !S.charts.available() || null },
          h("summary", null, "Data table: national weekly rejection rates"),
          S.charts.table("National weekly rejection rates", cols, weeks)));
      });
    });
  }

  return { title: "Overview", render: render };
})();
