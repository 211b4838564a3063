/*
 * The registry of legitimate explanations: each with the alerts it covers
 * (and those it stands beside as context), a form to register one and a
 * delete button; both need a token with the write role.
 */
"use strict";

S.pages.explanations = (function () {
  var h = S.h;
  var KINDS = ["legislation", "legal_position", "court_ruling", "case_mix", "data_correction", "context"];
  var ISO_DATE = "[0-9]{4}-[0-9]{2}-[0-9]{2}";

  /* Dates are typed as ISO dates, whatever the browser's locale would show. */
  function isoDate(v) {
    return new RegExp("^" + ISO_DATE + "$").test(v) && S.fmt.date(v) === v;
  }

  function scope(list) {
    return list && list.length ? list.join(", ") : "all";
  }

  function alertLinks(alerts) {
    if (!alerts.length) return "none";
    return h("ul", { class: "plain" }, alerts.map(function (a) {
      var s = a.series;
      return h("li", null, h("a", { href: S.seriesHref(s.office, s.benefit, s.kind,
        { indicator: a.indicator || S.api.REJECTION, alert: a.alert_id }), "data-alert": a.alert_id }, a.alert_id),
        " (" + a.status + ", " + a.classification + ")");
    }));
  }

  function deleteButton(e, say) {
    if (e.source !== "api") return h("span", { class: "muted write-only" }, "in the configuration file");
    var armed = false;
    var b = h("button", { type: "button", class: "danger write-only", "data-delete": e.id,
      "aria-label": "Delete explanation " + e.id, onclick: function () {
        if (!armed) {
          armed = true;
          b.textContent = "Confirm delete";
          b.setAttribute("aria-label", "Confirm: delete explanation " + e.id);
          return;
        }
        b.disabled = true;
        S.api.del("/v1/explanations/" + encodeURIComponent(e.id)).then(function () {
          say("Explanation " + e.id + " deleted; open alerts are classified again.", false);
          S.app.reload();
        }, function (err) {
          b.disabled = false;
          say("Cannot delete " + e.id + ": " + err.toString(), true);
        });
      } }, "Delete");
    return b;
  }

  function field(id, label, input, hint) {
    return h("div", { class: "field" }, h("label", { for: id }, label), input,
      hint ? h("span", { class: "hint", id: id + "-hint" }, hint) : null);
  }

  function checks(name, legend, values) {
    return h("fieldset", { class: "checks" }, h("legend", null, legend + " (none ticked: all)"),
      values.map(function (v) {
        var id = "x-" + name + "-" + v;
        return h("span", { class: "check" }, h("input", { type: "checkbox", id: id, name: name, value: v }),
          h("label", { for: id }, v));
      }));
  }

  function form(groups, names, say) {
    var benefits = [], kinds = [];
    groups.forEach(function (g) {
      if (benefits.indexOf(g.benefit) < 0) benefits.push(g.benefit);
      if (kinds.indexOf(g.kind) < 0) kinds.push(g.kind);
    });
    var f = h("form", { id: "explanation-form", "aria-labelledby": "h-add", novalidate: true },
      field("x-id", "Id", h("input", { id: "x-id", name: "id", required: true, maxlength: "64",
        pattern: "[A-Za-z0-9._:-]+", "aria-describedby": "x-id-hint" }), "letters, digits and . _ : -"),
      field("x-kind", "Kind", h("select", { id: "x-kind", name: "kind" }, KINDS.map(function (k) {
        return h("option", { value: k }, k);
      }))),
      field("x-from", "Effective from", h("input", { id: "x-from", name: "effective_from", required: true,
        pattern: ISO_DATE, placeholder: "YYYY-MM-DD", inputmode: "numeric", size: "10", maxlength: "10",
        "aria-describedby": "x-from-hint" }), "a date, YYYY-MM-DD"),
      field("x-to", "Effective to", h("input", { id: "x-to", name: "effective_to", pattern: ISO_DATE,
        placeholder: "YYYY-MM-DD", inputmode: "numeric", size: "10", maxlength: "10",
        "aria-describedby": "x-to-hint" }), "YYYY-MM-DD; empty while it still applies"),
      checks("benefits", "Benefits", benefits),
      checks("kinds", "Kinds", kinds),
      names.length > 1 ? checks("indicators", "Indicators", names) : null,
      field("x-offices", "Offices", h("input", { id: "x-offices", name: "offices", "aria-describedby": "x-offices-hint" }),
        "comma-separated; empty for all (then the national series too)"),
      field("x-reference", "Reference", h("input", { id: "x-reference", name: "reference", maxlength: "1000" })),
      field("x-description", "Description", h("textarea", { id: "x-description", name: "description", rows: "2",
        maxlength: "1000" })),
      h("button", { type: "submit" }, "Register explanation"));
    f.addEventListener("submit", function (ev) {
      ev.preventDefault();
      function ticked(name) {
        return Array.prototype.map.call(f.querySelectorAll('input[name="' + name + '"]:checked'),
          function (c) { return c.value; });
      }
      var body = {
        id: f.elements.id.value.trim(),
        kind: f.elements.kind.value,
        effective_from: f.elements.effective_from.value,
        effective_to: f.elements.effective_to.value || null,
        benefits: ticked("benefits"),
        kinds: ticked("kinds"),
        offices: f.elements.offices.value.split(",").map(function (s) { return s.trim(); })
          .filter(function (s) { return s; }),
        reference: f.elements.reference.value.trim() || null,
        description: f.elements.description.value.trim() || null
      };
      /* Sent only when ticked: none ticked is every indicator, as before indicators. */
      if (ticked("indicators").length) body.indicators = ticked("indicators");
      register(body).then(function (text) {
        say(text, false);
        S.app.reload();
      }, function (text) {
        say(text, true);
      });
    });
    return f;
  }

  /*
   * Register one explanation (a contract §2 object); resolves to the
   * message to show, or rejects with it. The series page uses it too.
   */
  function register(body) {
    if (!body.id || !body.effective_from)
      return Promise.reject("Id and effective from are required.");
    if (!isoDate(body.effective_from) || (body.effective_to && !isoDate(body.effective_to)))
      return Promise.reject("Dates are written YYYY-MM-DD, e.g. 2024-05-13.");
    return S.api.post("/v1/explanations", body).then(function (stored) {
      return "Explanation " + stored.id + " registered; open alerts are classified again.";
    }, function (err) {
      throw "Cannot register " + body.id + ": " + err.toString();
    });
  }

  function render(main) {
    return Promise.all([S.api.get("/v1/explanations"), S.api.get("/v1/alerts"), S.api.groups(),
      S.api.indicators()]).then(function (res) {
      var list = res[0].explanations, alerts = res[1].alerts, groups = res[2];
      var names = res[3].map(function (x) { return x.name; });
      var message = h("p", { id: "form-message", role: "status", "aria-live": "polite" });
      function say(text, bad) {
        message.textContent = text;
        message.className = bad ? "message error" : "message ok";
        S.app.keepMessage(text, bad);
      }
      var rows = list.map(function (e) {
        return {
          e: e,
          covers: alerts.filter(function (a) { return (a.explanations || []).indexOf(e.id) >= 0; }),
          beside: alerts.filter(function (a) { return (a.context || []).indexOf(e.id) >= 0; })
        };
      });
      main.replaceChildren(
        h("h1", { tabindex: "-1" }, "Explanations"),
        S.app.lastMessage(message),
        list.length ? S.charts.table("Registered explanations", [
          { title: "Id", value: function (r) { return h("span", { class: "nowrap", "data-explanation": r.e.id }, r.e.id); } },
          { title: "Kind", value: function (r) { return r.e.kind; } },
          { title: "Effective", value: function (r) {
            return [h("span", { class: "when" }, S.fmt.date(r.e.effective_from)), " – ",
              r.e.effective_to ? h("span", { class: "when" }, S.fmt.date(r.e.effective_to)) : ""];
          } },
          { title: "Scope", value: function (r) {
            return "benefits: " + scope(r.e.benefits) + "; kinds: " + scope(r.e.kinds) + "; offices: " + scope(r.e.offices) +
              (names.length > 1 || (r.e.indicators || []).length ? "; indicators: " + scope(r.e.indicators) : "");
          } },
          { title: "Reference", value: function (r) { return r.e.reference || "–"; } },
          { title: "Description", value: function (r) { return r.e.description || "–"; } },
          { title: "Registered", value: function (r) {
            return r.e.source === "config" ? "configuration" : h("span", { class: "when" }, S.fmt.time(r.e.created_at));
          } },
          { title: "Alerts covered", value: function (r) {
            return r.e.kind === "context" ? h("span", null, "context beside: ", alertLinks(r.beside)) :
              alertLinks(r.covers);
          } },
          { title: h("span", { class: "write-only" }, "Action"), value: function (r) { return deleteButton(r.e, say); } }
        ], rows) : h("p", null, "No explanations are registered."),
        h("p", { class: "muted unless-write", id: "explanations-read-only" },
          "Registering or deleting an explanation needs a token with the write role."),
        h("section", { "aria-labelledby": "h-add", class: "write-only", id: "explanation-add" },
          h("h2", { id: "h-add" }, "Register an explanation"),
          h("p", { class: "muted" }, "An explanation covers an alert of its scope whose onset lies near " +
            "its effective date; kind context is shown beside alerts and explains nothing. " +
            "Shown to a token with the write role only."),
          form(groups, names, say)));
    });
  }

  return { title: "Explanations", render: render, KINDS: KINDS, field: field, register: register };
})();
