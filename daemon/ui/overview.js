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
  var view = { sort: "attention", dir: 1, office: "", state: "", benefit: "", kind: "", cards: "attention" };
  var CARD_SORTS = [
    { value: "attention", label: "needs attention first" },
    { value: "size", label: "largest change first" },
    { value: "time", label: "longest firing first" },
    { value: "name", label: "name" }
  ];

  function groupKey(g) { return g.benefit + "/" + g.kind; }

  /* The indicator's words: "rejected", "more rejections", "rejection rates" for rejection. */
  function rejection() { return S.api.indicator() === S.api.REJECTION; }
  function yesWord() { return S.api.words().yes; }
  function moreOrFewer(up) { return up ? S.api.words().more : S.api.words().fewer; }
  function rates() { return rejection() ? "rejection rates" : S.api.rateName(); }

  /* A national state of one indicator, in the strip: its state, 13-week rate, and alert. */
  function stripCell(ind, n) {
    if (!n || !n.state)
      return h("td", { class: "cell-empty", "data-indicator": ind.name, "data-benefit": n && n.benefit,
        "data-kind": n && n.kind, "data-state": "none" }, h("span", { class: "muted" }, "no data"));
    return h("td", { "data-indicator": ind.name, "data-benefit": n.benefit, "data-kind": n.kind,
      "data-state": n.state },
      h("span", { class: "nat" }, S.stateBadge(n.state), " ",
        h("span", { title: S.fmt.int(n.n_13w) + " " + S.api.eventsName(ind.name) + " in 13 weeks" },
          S.fmt.pct(n.rate_13w))),
      n.alert ? h("a", { class: "nat", title: n.alert, "data-alert": n.alert,
        href: S.seriesHref("national", n.benefit, n.kind, { indicator: ind.name, alert: n.alert }) }, "alert") : null);
  }

  /*
   * Every indicator's national state, one row each: its label, the state
   * and 13-week rate of each benefit and kind, its firing alerts. Choosing
   * one shows the overview of that indicator.
   */
  function indicatorStrip(list, groups) {
    var here = S.api.indicator();
    return h("section", { "aria-labelledby": "h-indicators", id: "indicator-strip-box" },
      h("h2", { id: "h-indicators" }, "Every indicator's national state"),
      h("div", { class: "table-wrap" }, h("table", { class: "grid indicator-strip", id: "indicator-strip" },
        h("caption", { class: "sr-only" }, "National state of every indicator by benefit and decision kind, " +
          "with the rate over the last 13 weeks; choose an indicator to show it"),
        h("thead", null, h("tr", null,
          h("th", { scope: "col" }, "Indicator"),
          groups.map(function (g) {
            return h("th", { scope: "col", class: "col-group" },
              h("span", { class: "col-benefit" }, S.breakable(g.benefit)), " ", h("span", { class: "col-kind" }, g.kind));
          }),
          h("th", { scope: "col" }, "Firing alerts"))),
        h("tbody", null, list.map(function (ind) {
          var byGroup = {};
          (ind.national || []).forEach(function (n) { byGroup[n.benefit + "/" + n.kind] = n; });
          return h("tr", { "data-indicator": ind.name, "aria-current": ind.name === here ? "true" : null },
            h("th", { scope: "row" }, h("button", { type: "button", class: "pick", "data-pick": ind.name,
              "aria-pressed": ind.name === here ? "true" : "false",
              onclick: function () { location.hash = "#/overview" + S.withIndicator({ indicator: ind.name }); } },
              S.cap(ind.label)), h("br"), h("span", { class: "muted" }, ind.name)),
            groups.map(function (g) { return stripCell(ind, byGroup[groupKey(g)]); }),
            h("td", { class: "num", "data-firing": String(ind.firing) },
              String(ind.firing) + (ind.firing ? " (" + ind.firing_unexplained + " unexplained)" : "")));
        })))));
  }

  /*
   * How urgently a series asks for a reader, lower first: a firing,
   * unexplained alert (0), the same silenced (1), a lasting difference
   * from the nation (2), an explained alert (3), then the other states.
   */
  function rankOf(item, alert) {
    if (alert && alert.classification !== "explained") return alert.silenced_by ? 1 : 0;
    var st = S.displayState(item);
    if (st === "outlier") return 2;
    if (alert) return 3;
    return 4 + S.stateRank(st);
  }

  /* What a card or a grid row is sorted by. */
  function attention(item, alerts) {
    var d = item.detector || {};
    var alert = d.alert ? alerts[d.alert] || null : null;
    var or = alert ? alert.odds_ratio : d.change ? d.change.odds_ratio : null;
    return {
      rank: rankOf(item, alert),
      size: or > 0 ? Math.abs(Math.log(or)) : 0,
      since: alert ? new Date(alert.detected_at).getTime() : Infinity,
      alert: alert,
      or: or
    };
  }

  function byName(a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : 0; }

  function cardOrder(how) {
    var cmp = {
      attention: function (a, b) { return a.at.rank - b.at.rank || b.at.size - a.at.size || a.at.since - b.at.since; },
      size: function (a, b) { return b.at.size - a.at.size || a.at.rank - b.at.rank; },
      time: function (a, b) {
        return (a.at.since === b.at.since ? 0 : a.at.since < b.at.since ? -1 : 1) || a.at.rank - b.at.rank;
      },
      name: function (a, b) { return a.order - b.order; }
    }[how] || function () { return 0; };
    return function (a, b) { return cmp(a, b) || a.order - b.order; };
  }

  /* "up, odds ratio 2.00 since 2024-W19": the direction and size of a change under way. */
  function changeLine(item, at) {
    var ch = (item.detector || {}).change;
    if (!at.or || !(at.alert || ch)) return null;
    var onset = at.alert ? at.alert.onset : ch.onset;
    return h("p", { class: "change", "data-odds-ratio": String(at.or) },
      (at.or >= 1 ? "↑ up" : "↓ down") + ", odds ratio " + S.fmt.num(at.or) + (onset ? " since " : ""),
      onset ? h("span", { class: "week" }, onset) : null);
  }

  /* A firing alert says its status (firing, silenced, explained); otherwise the state. */
  function badges(item, at) {
    return h("p", null, at.alert ? S.statusBadge(at.alert) : S.stateBadge(S.displayState(item)));
  }

  function nationalCard(c) {
    var item = c.item;
    var r13 = (item.rolling || {})["13w"] || {};
    var id = "spark-" + item.benefit + "-" + item.kind;
    return h("li", { class: "card", "data-rank": String(c.at.rank), "data-series": c.name },
      h("h3", null, h("a", { href: S.seriesHref("national", item.benefit, item.kind) },
        item.benefit + " · " + item.kind)),
      badges(item, c.at),
      changeLine(item, c.at),
      h("p", { class: "figures" },
        "13 weeks: ", h("strong", null, S.fmt.pct(r13.rejection_rate)), " " + yesWord() + "; case mix alone ",
        S.fmt.pct(r13.expected_rate)),
      h("div", { class: "spark" },
        S.charts.available() ? h("canvas", { id: id, role: "img",
          "aria-label": "Weekly " + S.api.rateName() + " of " + item.benefit + " " + item.kind +
            ", last " + SPARK_WEEKS + " weeks (loading)" }) : null));
  }

  /* A series with a firing alert or a lasting difference, anywhere. */
  function attentionCard(c, clock) {
    var item = c.item, a = c.at.alert;
    var r13 = (item.rolling || {})["13w"] || {};
    var href = S.seriesHref(item.office, item.benefit, item.kind, a ? { alert: a.alert_id } : {});
    var firing = a && clock ? (new Date(clock).getTime() - c.at.since) / 1000 : null;
    return h("li", { class: "card", "data-rank": String(c.at.rank), "data-series": c.name },
      h("h3", null, h("a", { href: href }, S.seriesName(item.office, item.benefit, item.kind))),
      badges(item, c.at),
      changeLine(item, c.at),
      h("p", { class: "figures" },
        a ? ["firing for ", h("span", { class: "nowrap" }, S.fmt.span(firing)), " · "] : null,
        "13 weeks: ", h("strong", null, S.fmt.pct(r13.rejection_rate)), " " + yesWord() + ", expected ",
        S.fmt.pct(r13.expected_rate)));
  }

  /*
   * Cards: {item, at, name, order, el}. Sorting moves the drawn cards
   * (and their sparklines) instead of drawing them again.
   */
  function placeCards(ul, cards) {
    cards.slice().sort(cardOrder(view.cards)).forEach(function (c) { ul.append(c.el); });
  }

  function cardSort(lists) {
    return h("form", { class: "sort-line", "aria-label": "Sort the cards", onsubmit: function (e) { e.preventDefault(); } },
      h("label", { for: "card-sort" }, "Cards sorted by"),
      h("select", { id: "card-sort", onchange: function (e) {
        view.cards = e.target.value;
        lists.forEach(function (l) { placeCards(l.ul, l.cards); });
      } }, CARD_SORTS.map(function (o) {
        return h("option", { value: o.value, selected: o.value === view.cards || null }, o.label);
      })),
      h("span", { class: "hint" }, "needs attention: firing and unexplained first, then silenced, " +
        "outside the funnel, explained; within each the largest change, then the longest firing"));
  }

  /* The sparkline of one national series, with its lowest and highest week as its scale. */
  function drawSpark(item, control) {
    var weeks = control.weeks.slice(-SPARK_WEEKS);
    var id = "spark-" + item.benefit + "-" + item.kind;
    var canvas = document.getElementById(id);
    var rates = weeks.map(function (w) { return w.rejection_rate; });
    var expected = weeks.map(function (w) { return w.baseline_rate; });
    var all = rates.concat(expected).filter(function (v) { return !S.fmt.missing(v); });
    var lo = all.length ? Math.min.apply(null, all) : 0, hi = all.length ? Math.max.apply(null, all) : 1;
    if (hi - lo < 0.002) { lo -= 0.001; hi += 0.001; }
    if (canvas && weeks.length) {
      canvas.setAttribute("aria-label", "Weekly " + S.api.rateName() + " of " + item.benefit + " " +
        item.kind + " from " + weeks[0].week + " to " + weeks[weeks.length - 1].week +
        ": " + S.fmt.pct(rates[0]) + " to " + S.fmt.pct(rates[rates.length - 1]) +
        "; expected " + S.fmt.pct(weeks[weeks.length - 1].baseline_rate) +
        "; lowest " + S.fmt.pct(lo) + ", highest " + S.fmt.pct(hi));
    }
    S.charts.make(id, {
      type: "line",
      data: {
        labels: weeks.map(function (w) { return w.week; }),
        datasets: [
          { label: "Observed", data: rates, borderColor: S.charts.COLORS.observed,
            borderWidth: 1.5, pointRadius: 0 },
          { label: "Expected", data: expected,
            borderColor: S.charts.COLORS.baseline, borderDash: [4, 3], borderWidth: 1,
            pointRadius: 0 }
        ]
      },
      options: {
        events: [],
        layout: { padding: { top: 4, bottom: 4 } },
        plugins: { legend: { display: false }, tooltip: { enabled: false } },
        scales: {
          x: { display: false },
          y: { display: true, min: lo, max: hi,
            afterBuildTicks: function (axis) { axis.ticks = [{ value: lo }, { value: hi }]; },
            ticks: { autoSkip: false, font: { size: 10 }, color: "#5b6570", padding: 2,
              callback: function (v) { return S.fmt.pct(v); } },
            grid: { drawTicks: false, drawBorder: false, color: "rgba(0, 0, 0, 0.10)" } }
        }
      }
    });
    return weeks;
  }

  function sortRows(rows) {
    var key = view.sort;
    rows.sort(function (a, b) {
      var d = 0;
      /* Most urgent first, then the most cells to look at, then the largest change. */
      if (key === "attention") d = a.rank - b.rank || b.attention - a.attention || b.size - a.size;
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

  function gridRows(series, alerts) {
    var byOffice = {};
    series.forEach(function (it) {
      if (it.office === "national") return;
      var row = byOffice[it.office] = byOffice[it.office] ||
        { office: it.office, cells: {}, attention: 0, rank: Infinity, size: 0 };
      var st = S.displayState(it);
      var at = attention(it, alerts);
      row.cells[it.benefit + "/" + it.kind] = { state: st, item: it };
      if (st === "drifting" || st === "outlier") row.attention++;
      if (at.rank < row.rank) { row.rank = at.rank; row.size = at.size; }
      else if (at.rank === row.rank) row.size = Math.max(row.size, at.size);
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
          (arrow ? ", " + moreOrFewer(arrow === " ↑") : "") },
        c.state + arrow));
  }

  function header(label, key, groups, rerender) {
    var sorted = view.sort === key;
    /* Needs attention counts down: most first is its natural order. */
    var up = key === "attention" ? view.dir < 0 : view.dir > 0;
    return h("th", { scope: "col", class: key === "office" || key === "attention" ? null : "col-group",
      "aria-sort": sorted ? (up ? "ascending" : "descending") : "none" },
      h("button", { type: "button", class: "sort", onclick: function () {
        if (view.sort === key) view.dir = -view.dir;
        else { view.sort = key; view.dir = 1; }
        rerender();
      } }, label, h("span", { "aria-hidden": "true" }, sorted ? (up ? " ▲" : " ▼") : "")));
  }

  function sortLabel(groups) {
    if (view.sort === "attention") return view.dir > 0 ? "needs attention, most first" : "needs attention, least first";
    if (view.sort === "office") return view.dir > 0 ? "office, A to Z" : "office, Z to A";
    var g = groups.filter(function (x) { return groupKey(x) === view.sort; })[0];
    return "state of " + (g ? g.benefit + " · " + g.kind : view.sort) + (view.dir > 0 ? ", worst first" : ", best first");
  }

  function renderGrid(box, series, groups, alerts) {
    function rerender() { renderGrid(box, series, groups, alerts); }
    var shown = visibleGroups(groups);
    var rows = sortRows(gridRows(series, alerts)).filter(function (r) {
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
    var sel = document.getElementById("f-sort");
    if (sel) sel.value = view.sort;
    box.replaceChildren(
      h("p", { id: "grid-count", class: "muted", role: "status" },
        rows.length + " offices shown, " + shown.length + " of " + groups.length + " benefit and kind columns; " +
        "sorted by ", h("span", { id: "grid-sorted" }, sortLabel(groups)), " (column headers sort too)"),
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

  function controls(gridBox, series, groups, alerts) {
    function redo() { renderGrid(gridBox, series, groups, alerts); }
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
      })), view.kind, function (v) { view.kind = v; redo(); }),
      select("f-sort", "Sort", [{ value: "attention", label: "Needs attention first" },
        { value: "office", label: "Office" }].concat(groups.map(function (g) {
        return { value: groupKey(g), label: "State of " + g.benefit + " · " + g.kind };
      })), view.sort, function (v) { view.sort = v; view.dir = 1; redo(); }));
  }

  function legend() {
    return h("dl", { class: "legend", id: "grid-legend" }, S.STATES.map(function (s) {
      return [h("dt", null, S.stateBadge(s.name)), h("dd", null, s.help)];
    }));
  }

  function render(main) {
    var many = S.api.manyIndicators();
    return Promise.all([S.api.groups(), S.api.get(S.api.withIndicator("/v1/series?limit=10000")),
      S.api.get("/v1/status"), S.api.get("/v1/alerts?status=firing"),
      many ? S.api.get("/v1/indicators") : Promise.resolve(null)]).then(function (res) {
      var groups = res[0], series = res[1].series, status = res[2], alerts = {};
      res[3].alerts.forEach(function (a) { alerts[a.alert_id] = a; });
      var national = groups.map(function (g) {
        return series.filter(function (it) {
          return it.office === "national" && it.benefit === g.benefit && it.kind === g.kind;
        })[0];
      }).filter(Boolean);
      function card(it, i) {
        return { item: it, at: attention(it, alerts), order: i,
          name: S.seriesName(it.office, it.benefit, it.kind) };
      }
      var nationalCards = national.map(card);
      nationalCards.forEach(function (c) { c.el = nationalCard(c); });
      var firing = series.filter(function (it) {
        return it.detector && it.detector.alert && alerts[it.detector.alert];
      }).map(card);
      firing.forEach(function (c) { c.el = attentionCard(c, status.watermark); });
      var nationalUl = h("ul", { class: "cards", id: "national-cards" });
      var firingUl = h("ul", { class: "cards", id: "attention-cards" });
      placeCards(nationalUl, nationalCards);
      placeCards(firingUl, firing);
      var gridBox = h("div", { id: "grid-box" });
      var trendBox = h("div", { id: "trend-table" });
      main.replaceChildren(
        h("h1", { tabindex: "-1" }, "Overview" + (rejection() ? "" : ": " + S.api.rateName())),
        h("p", { class: "summary" },
          "Weeks closed through ", h("strong", null, status.closed_through || "–"), " · ",
          String(status.offices), " offices · ",
          h("a", { href: "#/alerts?status=firing", id: "firing-count" }, status.firing_alerts + " firing alerts"),
          " (", h("a", { href: "#/alerts?status=firing&classification=unexplained", id: "unexplained-count" },
            status.firing_unexplained + " unexplained"), ")",
          " · latest decision ", S.fmt.time(status.latest_decided_at)),
        res[4] ? indicatorStrip(res[4].indicators, groups) : null,
        cardSort([{ ul: firingUl, cards: firing }, { ul: nationalUl, cards: nationalCards }]),
        h("section", { "aria-labelledby": "h-attention" },
          h("h2", { id: "h-attention" }, "Firing alerts"),
          firing.length ? firingUl : h("p", { id: "attention-none" }, "No alert is firing.")),
        h("section", { "aria-labelledby": "h-national" },
          h("h2", { id: "h-national" }, "National series"),
          national.length ? nationalUl : h("p", null, "No " + S.api.eventsName() + " have been counted yet."),
          trendBox),
        h("section", { "aria-labelledby": "h-offices" },
          h("h2", { id: "h-offices" }, "Offices"),
          controls(gridBox, series, groups, alerts),
          legend(),
          gridBox));
      renderGrid(gridBox, series, groups, alerts);
      return Promise.all(national.map(function (it) {
        return S.api.get(S.api.withIndicator("/v1/series/national/" + encodeURIComponent(it.benefit) + "/" +
          encodeURIComponent(it.kind) + "/control?weeks=" + SPARK_WEEKS)).then(function (c) {
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
          h("summary", null, "Data table: national weekly " + rates()),
          S.charts.table("National weekly " + rates(), cols, weeks)));
      });
    });
  }

  return { title: "Overview", render: render };
})();
