/*
 * Charts on Chart.js (served from the system's libjs-chart.js), each with
 * a data table beside it for screen readers, print and a missing Chart.js.
 * Two small plugins: vertical markers and shaded stretches for events on a
 * category axis, and names beside chosen points.
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
    regime: "#00695c",
    learning: "rgba(255, 167, 38, 0.16)",
    learningText: "#8a4b00",
    restart: "#555555",
    inside: "rgba(31, 58, 95, 0.55)",
    outside: "#b3261e",
    limit95: "#8a8a8a",
    limit998: "#444444"
  };

  function available() {
    return typeof window.Chart === "function";
  }

  /*
   * Vertical lines at category indexes with a short label each, and shaded
   * stretches of indexes with a label:
   * options.plugins.markers = {items: [{index, label, color, dash}],
   * spans: [{from, to, label, color, fill}]}. Each label goes into the
   * first row at the top of the plot where it meets no label already
   * placed, so that none prints over another; the boxes are kept in
   * chart.$markerBoxes (canvas pixels), the labels in chart.$markers.
   */
  var ROW = 13, MAX_ROWS = 6;

  function overlaps(a, b) {
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  }

  function place(boxes, area, x, width, right) {
    var row, box;
    for (row = 0; row < MAX_ROWS; row++) {
      box = { x: right ? x - width : x, y: area.top + 2 + ROW * row, w: width, h: ROW - 2 };
      if (!boxes.some(function (b) { return overlaps(b, box); })) return box;
    }
    return null;
  }

  function slot(x, index) {
    var a = x.getPixelForValue(index - 1), b = x.getPixelForValue(index);
    return isFinite(a) && isFinite(b) ? Math.abs(b - a) : 0;
  }

  var markers = {
    id: "markers",
    beforeDatasetsDraw: function (chart, args, opts) {
      var x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      ((opts && opts.spans) || []).forEach(function (s) {
        if (s.from === null || s.from === undefined || s.from < 0) return;
        var half = slot(x, Math.max(1, s.from)) / 2;
        var x0 = Math.max(area.left, x.getPixelForValue(s.from) - half);
        var x1 = Math.min(area.right, x.getPixelForValue(s.to) + half);
        if (x1 <= x0) return;
        ctx.save();
        ctx.fillStyle = s.fill || "rgba(0, 0, 0, 0.06)";
        ctx.fillRect(x0, area.top, x1 - x0, area.bottom - area.top);
        ctx.restore();
      });
    },
    afterDatasetsDraw: function (chart, args, opts) {
      var items = (opts && opts.items) || [], spans = (opts && opts.spans) || [];
      var x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      var boxes = [];
      chart.$markers = [];
      chart.$markerBoxes = [];
      ctx.save();
      ctx.font = "11px sans-serif";
      ctx.textBaseline = "top";

      function label(text, px, color) {
        var width = ctx.measureText(text).width + 4;
        /* Labels near the right edge go to the left of their line. */
        var right = px + width > area.right;
        var box = place(boxes, area, right ? px - 1 : px + 1, width, right);
        if (!box) return;
        boxes.push(box);
        ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
        ctx.fillRect(box.x, box.y, box.w, box.h);
        ctx.fillStyle = color || "#000";
        ctx.textAlign = "left";
        ctx.fillText(text, box.x + 2, box.y);
        chart.$markers.push(text);
        chart.$markerBoxes.push({ label: text, x: box.x, y: box.y, w: box.w, h: box.h });
      }

      items.forEach(function (m) {
        if (m.index === null || m.index === undefined || m.index < 0) return;
        var px = x.getPixelForValue(m.index);
        if (px < area.left - 1 || px > area.right + 1) return;
        ctx.strokeStyle = m.color || "#000";
        ctx.lineWidth = 1.5;
        ctx.setLineDash(m.dash || []);
        ctx.beginPath();
        ctx.moveTo(px, area.top);
        ctx.lineTo(px, area.bottom);
        ctx.stroke();
        ctx.setLineDash([]);
      });
      /* Lines first, then every label above them. */
      items.forEach(function (m) {
        if (m.index === null || m.index === undefined || m.index < 0) return;
        var px = x.getPixelForValue(m.index);
        if (px < area.left - 1 || px > area.right + 1) return;
        label(m.label, px, m.color);
      });
      spans.forEach(function (s) {
        if (s.from === null || s.from === undefined || s.from < 0 || !s.label) return;
        label(s.label, Math.max(area.left, x.getPixelForValue(s.from) - slot(x, Math.max(1, s.from)) / 2),
          s.color);
      });
      ctx.restore();
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
