/*
 * Charts on Chart.js (served from the system's libjs-chart.js), each with
 * a data table beside it for screen readers, print and a missing Chart.js.
 * Two small plugins: vertical markers for events on a category axis, and
 * names beside chosen points.
 */
"use strict";

S.charts = (function () {
  var COLORS = {
    observed: "#1f3a5f",
    baseline: "#2f7d32",
    casemix: "#7a7a7a",
    band: "rgba(47, 125, 50, 0.14)",
    up: "#b3261e",
    down: "#1c5fb4",
    threshold: "#444444",
    onset: "#b3261e",
    detected: "#6d1b7b",
    resolved: "#2f7d32",
    explanation: "#1c4e9c",
    context: "#8a6d00",
    inside: "rgba(31, 58, 95, 0.55)",
    outside: "#b3261e",
    limit95: "#8a8a8a",
    limit998: "#444444"
  };

  function available() {
    return typeof window.Chart === "function";
  }

  /*
   * Vertical lines at category indexes with a short label each:
   * options.plugins.markers = {items: [{index, label, color, dash}]}.
   */
  var markers = {
    id: "markers",
    afterDatasetsDraw: function (chart, args, opts) {
      var items = (opts && opts.items) || [];
      var x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      var row = {};
      chart.$markers = [];
      items.forEach(function (m) {
        if (m.index === null || m.index === undefined || m.index < 0) return;
        var px = x.getPixelForValue(m.index);
        if (px < area.left - 1 || px > area.right + 1) return;
        var level = row[m.index] = (row[m.index] || 0) + 1;
        ctx.save();
        ctx.strokeStyle = m.color || "#000";
        ctx.lineWidth = 1.5;
        ctx.setLineDash(m.dash || []);
        ctx.beginPath();
        ctx.moveTo(px, area.top);
        ctx.lineTo(px, area.bottom);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = m.color || "#000";
        ctx.font = "11px sans-serif";
        ctx.textBaseline = "top";
        /* Labels near the right edge go to the left of their line. */
        var left = px + ctx.measureText(m.label).width + 4 > area.right;
        ctx.textAlign = left ? "right" : "left";
        ctx.fillText(m.label, left ? px - 3 : px + 3, area.top + 2 + 13 * (level - 1));
        ctx.restore();
        chart.$markers.push(m.label);
      });
    }
  };

  /* Names beside the points of datasets with `labelled: true`. */
  var pointLabels = {
    id: "pointLabels",
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      chart.$labels = [];
      chart.data.datasets.forEach(function (ds, i) {
        if (!ds.labelled || !chart.isDatasetVisible(i)) return;
        var meta = chart.getDatasetMeta(i);
        meta.data.forEach(function (pt, j) {
          var name = ds.data[j] && ds.data[j].name;
          if (!name) return;
          ctx.save();
          ctx.fillStyle = ds.borderColor || "#000";
          ctx.font = "bold 11px sans-serif";
          ctx.textBaseline = "middle";
          ctx.fillText(name, pt.x + 6, pt.y);
          ctx.restore();
          chart.$labels.push(name);
        });
      });
    }
  };

  var instances = {};

  /* A chart on canvas id (the previous one there is destroyed). */
  function make(id, config) {
    var canvas = document.getElementById(id);
    if (!available() || !canvas) return null;
    if (instances[id]) instances[id].destroy();
    config.plugins = (config.plugins || []).concat([markers, pointLabels]);
    config.options = config.options || {};
    config.options.animation = false;
    config.options.maintainAspectRatio = false;
    config.options.responsive = true;
    instances[id] = new window.Chart(canvas, config);
    return instances[id];
  }

  function destroyAll() {
    Object.keys(instances).forEach(function (id) {
      instances[id].destroy();
      delete instances[id];
    });
  }

  /*
   * A figure: the canvas (an image for assistive technology, described by
   * label) and the same data as a table in a disclosure, open when charts
   * cannot be drawn.
   */
  function figure(id, label, table, height) {
    var h = S.h;
    var canvasBox = available() ?
      h("div", { class: "chart-box", style: null },
        h("canvas", { id: id, role: "img", "aria-label": label })) :
      h("p", { class: "muted" }, "Charts are not available (Chart.js could not be loaded); the data follows as a table.");
    if (available() && height) canvasBox.classList.add("chart-" + height);
    return h("figure", { class: "chart" },
      h("figcaption", null, label),
      canvasBox,
      h("details", { class: "table-fallback", open: !available() || null },
        h("summary", null, "Data table: " + label),
        table));
  }

  /* A plain table: columns [{title, value(row) -> text|Node, num}]. */
  function table(caption, columns, rows) {
    var h = S.h;
    return h("div", { class: "table-wrap" },
      h("table", { class: "data" },
        h("caption", { class: "sr-only" }, caption),
        h("thead", null, h("tr", null, columns.map(function (c) {
          return h("th", { scope: "col", class: c.num ? "num" : null }, c.title);
        }))),
        h("tbody", null, rows.map(function (r) {
          return h("tr", null, columns.map(function (c) {
            return h("td", { class: c.num ? "num" : null }, c.value(r));
          }));
        }))));
  }

  return {
    COLORS: COLORS,
    available: available,
    make: make,
    destroyAll: destroyAll,
    figure: figure,
    table: table,
    instances: instances
  };
})();
