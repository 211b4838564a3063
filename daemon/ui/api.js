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
          return m.models.map(function (x) { return { benefit: x.benefit, kind: x.kind }; });
        }, function (e) {
          cache.groups = null;
          throw e;
        });
      }
      return cache.groups;
    },
    forget: function () { cache = {}; whoami = null; },
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
