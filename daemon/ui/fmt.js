/*
 * Formatting and DOM building for the dashboard. Times are shown in
 * Europe/Stockholm whatever the browser's zone; text is always set as
 * text, never parsed as HTML.
 */
"use strict";

var S = window.S || {};
window.S = S;

S.TIME_ZONE = "Europe/Stockholm";

S.fmt = (function () {
  /* Parts, not a locale's pattern: every date reads YYYY-MM-DD whatever the browser. */
  var timeFormat = new Intl.DateTimeFormat("en-GB", {
    timeZone: S.TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23"
  });

  function missing(v) {
    return v === null || v === undefined || (typeof v === "number" && !isFinite(v));
  }

  function parts(f, d) {
    var p = {};
    f.formatToParts(d).forEach(function (x) { p[x.type] = x.value; });
    return p;
  }

  return {
    missing: missing,
    /* An RFC 3339 instant in Stockholm time (the footer says so): "2024-05-13 14:05". */
    time: function (iso) {
      if (missing(iso)) return "–";
      var d = new Date(iso);
      if (isNaN(d.getTime())) return String(iso);
      var p = parts(timeFormat, d);
      return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute;
    },
    /* The Stockholm day of an RFC 3339 instant: "2024-05-13". */
    day: function (iso) {
      if (missing(iso)) return "–";
      var d = new Date(iso);
      if (isNaN(d.getTime())) return String(iso);
      var p = parts(timeFormat, d);
      return p.year + "-" + p.month + "-" + p.day;
    },
    /* A calendar date "YYYY-MM-DD" as written, not moved by a zone. */
    date: function (ymd) {
      if (missing(ymd)) return "–";
      var d = new Date(ymd + "T00:00:00Z");
      return isNaN(d.getTime()) ? String(ymd) : d.toISOString().slice(0, 10);
    },
    /* A duration in seconds, in its largest unit and the next: "3 w 2 d", "5 h 10 min". */
    span: function (secs) {
      if (missing(secs) || secs < 0) return "–";
      var units = [["w", 604800], ["d", 86400], ["h", 3600], ["min", 60]];
      var i = 0, n, rest;
      secs = Math.floor(secs);
      while (i < units.length - 1 && secs < units[i][1]) i++;
      n = Math.floor(secs / units[i][1]);
      if (n === 0) return "under 1 min";
      rest = i + 1 < units.length ? Math.floor(secs % units[i][1] / units[i + 1][1]) : 0;
      return n + " " + units[i][0] + (rest ? " " + rest + " " + units[i + 1][0] : "");
    },
    pct: function (x, digits) {
      if (missing(x)) return "–";
      return (100 * x).toFixed(digits === undefined ? 1 : digits) + "%";
    },
    /* Percentage points, signed. */
    pp: function (x) {
      if (missing(x)) return "–";
      return (x >= 0 ? "+" : "−") + Math.abs(100 * x).toFixed(1) + " pp";
    },
    num: function (x, digits) {
      if (missing(x)) return "–";
      return Number(x).toFixed(digits === undefined ? 2 : digits);
    },
    int: function (x) {
      if (missing(x)) return "–";
      return Math.round(x).toLocaleString("en-GB");
    },
    /* The ISO week label of a calendar date: "2021-07-01" -> "2021-W26". */
    isoWeek: function (ymd) {
      var d = new Date(ymd + "T00:00:00Z");
      if (isNaN(d.getTime())) return null;
      var day = (d.getUTCDay() + 6) % 7;
      d.setUTCDate(d.getUTCDate() - day + 3);
      var year = d.getUTCFullYear();
      var jan4 = new Date(Date.UTC(year, 0, 4));
      var week = 1 + Math.round(((d - jan4) / 86400000 - 3 + ((jan4.getUTCDay() + 6) % 7)) / 7);
      return year + "-W" + (week < 10 ? "0" : "") + week;
    },
    direction: function (d) {
      return d === "up" ? "↑ up" : d === "down" ? "↓ down" : "–";
    }
  };
})();

/*
 * h("a", {href: "#/x", class: "c"}, "text", child...): an element. Attributes
 * starting with "on" become listeners; null children are skipped.
 */
S.h = function (tag, attrs) {
  var el = document.createElement(tag);
  var k, i;
  attrs = attrs || {};
  for (k in attrs) {
    if (!Object.prototype.hasOwnProperty.call(attrs, k) || attrs[k] === null ||
        attrs[k] === undefined || attrs[k] === false)
      continue;
    if (k.slice(0, 2) === "on" && typeof attrs[k] === "function")
      el.addEventListener(k.slice(2), attrs[k]);
    else if (k === "text")
      el.textContent = attrs[k];
    else
      el.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
  }
  function add(c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) c.forEach(add);
    else el.append(c);
  }
  for (i = 2; i < arguments.length; i++) add(arguments[i]);
  return el;
};

/* The states a series cell can show, worst first, with their wording. */
S.STATES = [
  { name: "drifting", label: "drifting", help: "an unexplained change is under way" },
  { name: "outlier", label: "outlier", help: "lasting difference from the nation (funnel)" },
  { name: "explained", label: "explained", help: "a change covered by an explanation; new level being learnt" },
  { name: "underpowered", label: "underpowered", help: "too few decisions to detect the relevant change in time" },
  { name: "learning", label: "learning", help: "no reference window yet; no alarms" },
  { name: "stable", label: "stable", help: "no change found" }
];

/* What one series item of GET /v1/series shows: its state or its flag. */
S.displayState = function (item) {
  var d = item.detector || {};
  var st = d.state || item.state || "learning";
  var flags = d.flags || [];
  if (st === "drifting" || st === "explained" || st === "learning") return st;
  if (flags.indexOf("outlier") >= 0) return "outlier";
  if (flags.indexOf("underpowered") >= 0) return "underpowered";
  return st;
};

S.stateRank = function (name) {
  for (var i = 0; i < S.STATES.length; i++)
    if (S.STATES[i].name === name) return i;
  return S.STATES.length;
};

/*
 * The status of an alert as a reader acts on it, one word: resolved (over,
 * grey), silenced (someone holds its notifications back), explained (a
 * legitimate change), firing (unexplained: needs attention).
 */
S.ALERT_STATUSES = [
  { name: "firing", mark: "●", help: "firing and unexplained: needs attention" },
  { name: "silenced", mark: "◌", help: "firing; notifications held back by a silence" },
  { name: "explained", mark: "◆", help: "firing, covered by an explanation" },
  { name: "resolved", mark: "✓", help: "over: the series returned or its new level was accepted" }
];

S.alertStatus = function (a) {
  if (a.status === "resolved") return "resolved";
  if (a.silenced_by) return "silenced";
  if (a.classification === "explained") return "explained";
  return "firing";
};

/* An alert's status as a pill: its own shape and colours, and always the word. */
S.statusBadge = function (a) {
  var name = S.alertStatus(a);
  var st = S.ALERT_STATUSES.filter(function (x) { return x.name === name; })[0];
  return S.h("span", { class: "alert-status alert-status-" + name, "data-status": name,
    "data-alert-status": a.alert_id || null, title: st.help },
    S.h("span", { "aria-hidden": "true" }, st.mark + " "), name);
};

/* A state as a badge: colour and its word, never colour alone. */
S.stateBadge = function (name, extra) {
  return S.h("span", { class: "state state-" + name }, name + (extra ? " " + extra : ""));
};

/*
 * The link to a series of the current indicator (or query.indicator), with
 * query (e.g. {alert: id}); rejection's links carry no indicator.
 */
S.seriesHref = function (office, benefit, kind, query) {
  return "#/series/" + encodeURIComponent(office) + "/" + encodeURIComponent(benefit) +
    "/" + encodeURIComponent(kind) + S.withIndicator(query);
};

/*
 * A hash query string from params, with the indicator first: the current
 * one unless params say which ("all" or rejection: none).
 */
S.withIndicator = function (params) {
  var q = {}, ind = params && params.indicator !== undefined ? params.indicator : S.api.indicator();
  q.indicator = ind === S.api.REJECTION || ind === "all" ? null : ind;
  Object.keys(params || {}).forEach(function (k) { if (k !== "indicator") q[k] = params[k]; });
  return S.api.q(q);
};

/* Capitalised: "Rejection rate". */
S.cap = function (text) {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : text;
};

S.seriesName = function (office, benefit, kind) {
  return office + " · " + benefit + " · " + kind;
};

/* Long Swedish compounds may break before their last part, with a hyphen. */
S.breakable = function (name) {
  return name.replace(/(.)(ersattning|ersättning|penning)$/, "$1\u00ad$2");
};
