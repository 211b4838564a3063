/*
 * Weeks without a row in a series' control chart, each with the reason
 * the API gives for it, so that a gap on the page is never silent. The
 * control chart has a row for every closed week with decisions on the
 * merits; the series' history says what else a week held.
 */
"use strict";

S.gaps = (function () {
  var DAY = 86400000;

  /* The Monday of an ISO week "2020-W06", as UTC milliseconds (NaN if not a week). */
  function monday(label) {
    var m = /^(\d{4})-W(\d{2})$/.exec(label || "");
    if (!m) return NaN;
    var jan4 = Date.UTC(+m[1], 0, 4);
    var dow = (new Date(jan4).getUTCDay() + 6) % 7;
    return jan4 - dow * DAY + (+m[2] - 1) * 7 * DAY;
  }

  function ymd(ms) {
    return new Date(ms).toISOString().slice(0, 10);
  }

  function week(ms) {
    return S.fmt.isoWeek(ymd(ms));
  }

  function add(label, n) {
    return week(monday(label) + n * 7 * DAY);
  }

  /* Why a closed week inside the chart has no row. */
  function reason(label, bucket, stream) {
    if (bucket && bucket.decisions === 0 && bucket.dismissed > 0)
      return { code: "dismissed", text: "only dismissed decisions (" + S.fmt.int(bucket.dismissed) +
        "), which rates leave out" };
    if (bucket && bucket.decisions > 0)
      return { code: "detector", text: "the detector holds no figures for this week (" +
        S.fmt.int(bucket.decisions) + " decisions counted)" };
    /* A week that closed by the clock while nothing could be read. */
    if (stream && stream.connected === false && stream.down_since &&
        monday(label) + 7 * DAY > Date.parse(stream.down_since))
      return { code: "link", text: "no decisions read: the link to Redis has been down since " +
        S.fmt.time(stream.down_since) };
    return { code: "none", text: "no decisions were recorded in this week" };
  }

  /* Why a week that has a row lacks its expected figures, or null. */
  function partial(w, i, rows) {
    if (w.missing || w.decisions === 0 || !S.fmt.missing(w.baseline_rate)) return null;
    function has(r) { return !r.missing && !S.fmt.missing(r.baseline_rate); }
    if (rows.slice(0, i).some(has) && rows.slice(i + 1).some(has))
      return { code: "fit", text: "no expected rate: the case-mix model was fitted while this week " +
        "was open, so its expected sums cover part of its decisions only" };
    if (!rows.slice(0, i).some(has) && !rows.slice(i + 1).some(has))
      return { code: "model", text: "no expected rate: no case-mix model yet" };
    return null;
  }

  /*
   * The control chart's weeks with a row for every week missing between
   * its first row and its last closed week (every figure null, `missing`
   * the reason), and what to say about the window's ends.
   * control: GET …/control; history: the weeks of GET /v1/series/…;
   * status: GET /v1/status or null; weeks: the window asked for.
   */
  function fill(control, history, status, weeks) {
    var rows = control.weeks, out = [], missing = [], have = {}, bucket = {};
    var stream = status && status.stream;
    var last = control.closed_through;
    (history || []).forEach(function (p) { bucket[p.period] = p; });
    rows.forEach(function (w) { have[w.week] = w; });
    if (rows.length && last) {
      for (var wk = rows[0].week, guard = 0; wk <= last && guard < 200; wk = add(wk, 1), guard++) {
        if (have[wk]) {
          out.push(have[wk]);
          continue;
        }
        var why = reason(wk, bucket[wk], stream);
        var b = bucket[wk] || {};
        var row = { week: wk, missing: why, decisions: b.decisions || 0, rejected: b.rejected || 0,
          rejection_rate: null, expected_rate: null, baseline_rate: null, band_low: null,
          band_high: null, monitored: false, cusum_up: null, cusum_down: null };
        out.push(row);
        missing.push(row);
      }
    } else {
      out = rows.slice();
    }
    out.forEach(function (w, i) {
      var p = partial(w, i, out);
      if (p) w.note = p;
    });

    /* Before the first row: a young series, or older than the detector keeps. */
    var before = null;
    if (last) {
      var start = add(last, 1 - weeks), first = rows.length ? rows[0].week : null;
      var firstHeld = (history || []).filter(function (p) { return p.decisions > 0; })[0];
      if (!first)
        before = "No closed week with decisions in the last " + weeks + " weeks.";
      else if (first > start)
        before = firstHeld && firstHeld.period >= first ?
          "The series starts in " + first + " (its first decisions on the merits): the " +
          "window's earlier weeks have no data." :
          "The detector's weekly figures start in " + first + "; earlier weeks lie beyond what it keeps.";
    }
    /* After the last closed week: the open week, counted but not yet shown. */
    var open = (history || []).filter(function (p) { return !p.closed; })[0] || null;
    return { weeks: out, missing: missing, before: before,
      open: open ? { week: open.period, decisions: open.decisions } : null };
  }

  /* One marker per run of missing weeks, for the charts' markers plugin. */
  function markers(weeks) {
    var items = [];
    for (var i = 0; i < weeks.length; i++) {
      if (!weeks[i].missing) continue;
      var j = i;
      while (j + 1 < weeks.length && weeks[j + 1].missing) j++;
      items.push({ index: i, label: "no data" + (j > i ? " (" + (j - i + 1) + " weeks)" : ""),
        color: "#8a8a8a", dash: [2, 3], missing: true });
      i = j;
    }
    return items;
  }

  return { fill: fill, markers: markers, monday: function (label) {
    var ms = monday(label);
    return isNaN(ms) ? null : ymd(ms);
  } };
})();
