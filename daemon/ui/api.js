/*
 * The dashboard's client of the stabild API: same origin, with the bearer
 * token the user entered, kept for this browser tab in sessionStorage.
 */
"use strict";

S.api = (function () {
  var KEY = "stabild.token";

  function ApiError(status, code, message) {
    this.status = status;
    this.code = code;
    this.message = message;
  }
  ApiError.prototype.toString = function () {
    return (this.status ? this.status + " " : "") + this.code + ": " + this.message;
  };

  function token() {
    try {
      return window.sessionStorage.getItem(KEY) || "";
    } catch (e) {
      return "";
    }
  }

  function setToken(t) {
    whoami = null;
    try {
      if (t) window.sessionStorage.setItem(KEY, t);
      else window.sessionStorage.removeItem(KEY);
    } catch (e) {
      /* storage refused: the token lasts until the page is left */
    }
  }

  /* One request; resolves to the JSON body (null for 204), rejects with ApiError. */
  function request(method, path, body, quiet) {
    var headers = { "Accept": "application/json" };
    var t = token();
    var init = { method: method, headers: headers, cache: "no-store", credentials: "omit" };
    if (t) headers["Authorization"] = "Bearer " + t;
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (r) {
      if (r.status === 204) return null;
      return r.json().catch(function () {
        return { error: "bad_response", message: "the answer is not JSON" };
      }).then(function (j) {
        if (r.ok) return j;
        var e = new ApiError(r.status, j.error || "error", j.message || r.statusText);
        if ((r.status === 401 || r.status === 403) && !quiet)
          document.dispatchEvent(new CustomEvent("stabild:refused", { detail: e }));
        throw e;
      });
    }, function (err) {
      throw new ApiError(0, "network", "the daemon cannot be reached (" + err.message + ")");
    });
  }

  var cache = {};
  var whoami = null;
  /* The indicator the pages show (the hash's indicator=), rejection unless said. */
  var REJECTION = "rejection";
  var current = REJECTION;
  var BUILTIN = { name: REJECTION, builtin: true, event: "decision", field: "outcome",
    yes: ["rejected"], no: ["granted", "partial"], label: "rejection rate", national: [] };
  var EVENTS = { decision: "decisions", reconsideration: "reconsiderations", appeal: "court rulings",
    assessment: "assessments" };

  /* The configured indicators (GET /v1/indicators), rejection first; asked once per token. */
  function indicators() {
    if (!cache.indicators) {
      cache.indicators = request("GET", "/v1/indicators", undefined, true).then(function (j) {
        return j.indicators && j.indicators.length ? j.indicators : [BUILTIN];
      }, function () {
        cache.indicators = null;
        return [BUILTIN];
      });
    }
    return cache.indicators;
  }
  var known = [BUILTIN];

  function cap(t) { return t ? t.charAt(0).toUpperCase() + t.slice(1) : t; }

  /*
   * The words the pages use for an indicator: rejection's as they always
   * were ("rejected", "more rejections"), the others' from its definition.
   */
  function words(name) {
    var i = info(name), ev = EVENTS[i.event] || "events", yes, yeses;
    if (i.name === REJECTION)
      return { rate: "rejection rate", Rate: "Rejection rate", yes: "rejected", Yes: "Rejected",
        events: "decisions", Events: "Decisions", yeses: "rejections", more: "more rejections",
        fewer: "fewer rejections" };
    if (i.field && i.field !== "outcome") {
      yes = i.field.replace(/_/g, " ") + (i.yes.join(",") === "yes" ? "" : ": " + i.yes.join(" or "));
      yeses = ev + " with " + yes;
    } else {
      yes = (i.yes || []).join(" or ");
      yeses = yes + " " + ev;
    }
    return { rate: i.label, Rate: cap(i.label), yes: i.label, Yes: cap(yes), events: ev, Events: cap(ev),
      yeses: yeses, more: "higher " + i.label, fewer: "lower " + i.label };
  }

  /* One indicator's definition, by name; the current one by default. */
  function info(name) {
    name = name || current;
    return known.filter(function (x) { return x.name === name; })[0] ||
      (name === REJECTION ? BUILTIN : { name: name, label: name + " rate", event: "", yes: [], no: [] });
  }

  /*
   * The role of the token in this tab ("none", "read", "write") and
   * whether reads need one; asked once per token.
   */
  function role() {
    if (!whoami) {
      whoami = request("GET", "/v1/whoami", undefined, true).catch(function () {
        whoami = null;
        return { role: "none", token_given: !!token(), token_known: false, read_needs_token: true };
      });
    }
    return whoami;
  }

  return {
    ApiError: ApiError,
    token: token,
    setToken: setToken,
    get: function (path) { return request("GET", path); },
    /* A background read: a refused token is not announced. */
    peek: function (path) { return request("GET", path, undefined, true); },
    post: function (path, body) { return request("POST", path, body); },
    del: function (path) { return request("DELETE", path); },
    /* The configured benefits and kinds, in order (from the models). */
    groups: function () {
      if (!cache.groups) {
        cache.groups = request("GET", "/v1/model").then(function (m) {
          /* Rejection's models: every indicator has the same benefits and kinds. */
          return m.models.filter(function (x) { return !x.indicator; })
            .map(function (x) { return { benefit: x.benefit, kind: x.kind }; });
        }, function (e) {
          cache.groups = null;
          throw e;
        });
      }
      return cache.groups;
    },
    forget: function () { cache = {}; whoami = null; },
    REJECTION: REJECTION,
    indicators: function () {
      return indicators().then(function (list) { known = list; return list; });
    },
    /* The indicator of the pages, as the hash says it (set by the router). */
    indicator: function () { return current; },
    setIndicator: function (name) { current = name || REJECTION; },
    /* Several indicators configured: the pages name them. */
    manyIndicators: function () { return known.length > 1; },
    indicatorInfo: info,
    /* What its rate is called: "rejection rate", "change rate at reconsideration". */
    rateName: function (name) { return info(name).label; },
    /* What its events are called: decisions, reconsiderations, ... */
    eventsName: function (name) { return EVENTS[info(name).event] || "events"; },
    words: words,
    /*
     * path with the current indicator as its indicator= (or the one
     * given); rejection's paths stay as they were, so a rejection-only
     * daemon is asked exactly what it was asked before.
     */
    withIndicator: function (path, name) {
      name = name || current;
      if (name === REJECTION) return path;
      return path + (path.indexOf("?") >= 0 ? "&" : "?") + "indicator=" + encodeURIComponent(name);
    },
    role: role,
    q: function (params) {
      var parts = [];
      Object.keys(params).forEach(function (k) {
        if (params[k] !== null && params[k] !== undefined && params[k] !== "")
          parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(params[k]));
      });
      return parts.length ? "?" + parts.join("&") : "";
    }
  };
})();
