/*
 * The dashboard's frame: hash routes to pages, the token form, errors, and
 * a marker (body data-ready, a performance mark) when a page has drawn.
 */
"use strict";

S.app = (function () {
  var h = S.h;
  var ROUTES = {
    overview: S.pages.overview,
    series: S.pages.series,
    funnel: S.pages.funnel,
    alerts: S.pages.alerts,
    explanations: S.pages.explanations
  };
  var kept = null, generation = 0, focusId = null, focusH1 = false;
  /* Script errors and refused loads, for the tests to read. */
  var errors = [];
  window.addEventListener("error", function (e) { errors.push(String(e.message)); });
  document.addEventListener("securitypolicyviolation", function (e) {
    errors.push("blocked " + e.violatedDirective + " " + e.blockedURI);
  });

  /* "#/series/K017/sjukpenning/first?weeks=52" -> {page, path, query}. */
  function parse(hash) {
    var m = /^#\/([^?]*)(?:\?(.*))?$/.exec(hash || "");
    var parts = m ? m[1].split("/").filter(function (x) { return x !== ""; }).map(decodeURIComponent) : [];
    var query = {};
    if (m && m[2]) {
      m[2].split("&").forEach(function (kv) {
        var i = kv.indexOf("=");
        if (i > 0) query[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1));
      });
    }
    /* An alert of another indicator names it in its id ("reconsideration:K017..."). */
    if (!query.indicator && query.alert && query.alert.indexOf(":") > 0)
      query.indicator = query.alert.slice(0, query.alert.indexOf(":"));
    return { page: parts[0] || "overview", path: parts.slice(1), query: query, routed: !!m };
  }

  function notice(text) {
    var n = document.getElementById("notice");
    n.replaceChildren();
    if (text) n.append(h("p", { class: "message error" }, text));
  }

  function showError(main, err) {
    var what = err && err.toString ? err.toString() : String(err);
    var hint = "";
    if (err && err.status === 401)
      hint = S.api.token() ? "Enter a valid API token above: the daemon refused this one." :
        "Enter an API token above: reading needs one.";
    else if (err && err.status === 403)
      hint = "The token's role does not allow this.";
    main.replaceChildren(
      h("h1", { tabindex: "-1" }, "Cannot show this page"),
      h("div", { class: "message error", id: "page-error", role: "alert", "data-status": err && err.status },
        h("p", null, what), hint ? h("p", null, hint) : null));
  }

  function setCurrent(page) {
    Array.prototype.forEach.call(document.querySelectorAll("nav.pages a"), function (a) {
      if (a.dataset.page === page) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
      /* The pages' links keep the indicator shown. */
      a.setAttribute("href", "#/" + a.dataset.page + S.withIndicator({}));
    });
  }

  /* The address of r with the indicator chosen; an alert of another indicator is dropped. */
  function hashWith(r, name) {
    var q = {};
    Object.keys(r.query).forEach(function (k) { if (k !== "alert") q[k] = r.query[k]; });
    q.indicator = name === "all" || (name === S.api.REJECTION && r.page !== "alerts") ? null : name;
    return "#/" + [r.page].concat(r.path).map(encodeURIComponent).join("/") + S.api.q(q);
  }

  /*
   * The indicator selector in the header, shown when several indicators
   * are configured; the alerts page may show every indicator's alerts.
   */
  function setupIndicator(r, list) {
    var form = document.getElementById("indicator-form");
    var sel = document.getElementById("indicator");
    var all = r.page === "alerts";
    var value = r.query.indicator || (all ? "all" : S.api.REJECTION);
    sel.replaceChildren.apply(sel, (all ? [{ name: "all", label: "every indicator" }] : []).concat(list)
      .map(function (x) {
        return h("option", { value: x.name, selected: x.name === value || null },
          x.name === "all" ? x.label : x.name + " (" + x.label + ")");
      }));
    sel.value = value;
    sel.onchange = function () { location.hash = hashWith(r, sel.value); };
    form.hidden = list.length < 2;
  }

  /* The hash's indicator, if it names one that is not configured: the error to show. */
  function unknownIndicator(r, list) {
    var name = r.query.indicator;
    if (!name || (name === "all" && r.page === "alerts") ||
        list.some(function (x) { return x.name === name; }))
      return null;
    return new S.api.ApiError(404, "not_found", "there is no indicator " + name + " (" +
      list.map(function (x) { return x.name; }).join(", ") + ")");
  }

  function route() {
    var r = parse(location.hash);
    if (!r.routed && location.hash && location.hash !== "#") return; /* an in-page anchor */
    var page = ROUTES[r.page];
    var main = document.getElementById("main");
    var mine = ++generation;
    var active = document.activeElement;
    focusId = active && active !== document.body && main.contains(active) ? active.id : null;
    focusH1 = active && active !== document.body && !main.contains(active) &&
      !document.getElementById("token-form").contains(active);
    document.body.removeAttribute("data-ready");
    notice("");
    tokenStatus();
    S.charts.destroyAll();
    S.api.setIndicator(r.query.indicator === "all" ? null : r.query.indicator);
    setCurrent(page ? r.page : "");
    if (!page) {
      showError(main, new S.api.ApiError(404, "not_found", "there is no page " + r.page));
      finish(r.page, mine, main, true);
      return;
    }
    document.title = page.title + " – stabild";
    main.setAttribute("aria-busy", "true");
    main.replaceChildren(h("p", { class: "muted" }, "Loading…"));
    S.api.role().then(function (w) {
      if (mine !== generation) return;
      /* Nothing to refuse yet: ask for a token instead of showing a 401. */
      if (w.role === "none" && !w.token_given && !S.api.token() && w.read_needs_token) {
        askToken(main);
        finish(r.page, mine, main, "token");
        return;
      }
      S.api.indicators().then(function (list) {
        if (mine !== generation) return null;
        setupIndicator(r, list);
        var bad = unknownIndicator(r, list);
        if (bad) throw bad;
        return page.render(main, r);
      }).then(function () {
        finish(r.page, mine, main, false);
      }, function (err) {
        if (mine !== generation) return;
        showError(main, err);
        finish(r.page, mine, main, true);
      });
    });
  }

  function askToken(main) {
    main.replaceChildren(
      h("h1", { tabindex: "-1" }, "Enter a token to read"),
      h("div", { class: "message info", id: "token-needed" },
        h("p", null, "This daemon shows its data to holders of an API token. Enter a read or " +
          "write token in the field \u201cAPI token\u201d above; it is kept for this browser tab only."),
        h("p", null, h("button", { type: "button", onclick: function () {
          document.getElementById("token").focus();
        } }, "Enter a token"))));
  }

  function finish(page, mine, main, failed) {
    if (mine !== generation) return;
    main.removeAttribute("aria-busy");
    /* Focus stays on the control that re-rendered the page, or moves to its heading. */
    var again = focusId ? document.getElementById(focusId) : null;
    var h1 = main.querySelector("h1");
    if (again) again.focus();
    else if (focusH1 && h1) h1.focus();
    document.body.setAttribute("data-page", page);
    document.body.setAttribute("data-ready", failed === "token" ? "token" : failed ? "error" : "ok");
    if (window.performance && performance.mark) performance.mark("stabild:ready:" + page);
  }

  /*
   * The token's role, on the body: elements of class "write-only" are
   * shown only while data-role is "write" (style.css), so a read token
   * never sees a form it cannot send.
   */
  function tokenStatus() {
    var s = document.getElementById("token-status");
    s.textContent = S.api.token() ? "A token is set for this tab." : "No token set.";
    return S.api.role().then(function (w) {
      document.body.setAttribute("data-role", w.role);
      if (w.role !== "none")
        s.textContent = S.api.token() ? "A " + w.role + " token is set for this tab." :
          "No token set: reading needs none here.";
      else if (w.token_given)
        s.textContent = "The daemon does not know the token set for this tab.";
      return w;
    });
  }

  function setupToken() {
    var form = document.getElementById("token-form");
    var input = document.getElementById("token");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      S.api.setToken(input.value.trim());
      input.value = "";
      S.api.forget();
      notice("");
      tokenStatus();
      route();
    });
    document.getElementById("token-forget").addEventListener("click", function () {
      S.api.setToken("");
      S.api.forget();
      tokenStatus();
      route();
    });
    document.addEventListener("stabild:refused", function (e) {
      var err = e.detail;
      /* A refusal is news only for a token that was given. */
      if (!S.api.token()) return;
      notice(err.status === 401 ? "The API refused the token (" + err.message + "). Enter a valid token." :
        "The token's role is too low for this (" + err.message + ").");
    });
    tokenStatus();
  }

  /*
   * The stale-data banner on every page: while the link to Redis is down,
   * everything shown stops at the last entry applied. Checked every few
   * seconds; gone as soon as the daemon reads again.
   */
  var STALE_EVERY_MS = 5000;

  function staleBanner(st) {
    var el = document.getElementById("stale");
    var s = st && st.stream;
    if (!s || s.connected) {
      el.replaceChildren();
      document.body.removeAttribute("data-stale");
      return;
    }
    var doing = s.retry_at ? "stabild is reconnecting; next attempt " + S.fmt.time(s.retry_at) + "." :
      "stabild is connecting now.";
    el.replaceChildren(h("div", { class: "message error", id: "stale-banner" },
      h("p", null, h("strong", null, "Data are stale. "),
        "The link to Redis has been down since " + S.fmt.time(s.down_since) +
        " (" + S.fmt.span(s.down_s || 0) + "): nothing decided since then is counted, and every figure " +
        "on this page stops there."),
      h("p", null, "Last entry applied: " + (s.last_entry_at ? S.fmt.time(s.last_entry_at) : "none since start") +
        (s.last_applied ? " (stream id " + s.last_applied + ")" : "") + ". " + doing +
        (s.last_error ? " Last error: " + s.last_error + "." : ""))));
    document.body.setAttribute("data-stale", "true");
  }

  function checkStale() {
    if (document.hidden) return;
    S.api.peek("/v1/status").then(staleBanner, function () {
      /* Refused or unreachable: the page itself says so. */
    });
  }

  /* Printouts show every data table, open or not. */
  function setupPrint() {
    var opened = [];
    window.addEventListener("beforeprint", function () {
      opened = Array.prototype.filter.call(document.querySelectorAll("details"), function (d) {
        return !d.open;
      });
      opened.forEach(function (d) { d.open = true; });
    });
    window.addEventListener("afterprint", function () {
      opened.forEach(function (d) { d.open = false; });
      opened = [];
    });
  }

  function start() {
    setupToken();
    setupPrint();
    window.addEventListener("hashchange", route);
    if (!location.hash || location.hash === "#" || location.hash === "#/")
      history.replaceState(null, "", "#/overview");
    route();
    checkStale();
    window.setInterval(checkStale, STALE_EVERY_MS);
    document.addEventListener("visibilitychange", checkStale);
  }

  document.addEventListener("DOMContentLoaded", start);

  return {
    errors: errors,
    reload: route,
    /* A message that survives the next render of the page. */
    keepMessage: function (text, bad) { kept = { text: text, bad: bad }; },
    lastMessage: function (el) {
      if (kept) {
        el.textContent = kept.text;
        el.className = kept.bad ? "message error" : "message ok";
        kept = null;
      }
      return el;
    }
  };
})();
