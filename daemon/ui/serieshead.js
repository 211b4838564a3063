/*
 * The head of the series page: what the series is doing, in one plain
 * line; the detector's figures below it, each explained for a reader who
 * is not a statistician; and the actions on its alert (explain it,
 * silence it, accept the new level), for a write token only.
 */
"use strict";

S.seriesHead = (function () {
  var h = S.h;

  /* Two significant places: 2.0, 0.62, 11; an odds ratio as people read it. */
  function sig2(x) {
    if (S.fmt.missing(x)) return "–";
    if (Math.abs(x) >= 99.5) return String(Math.round(x));
    return Number(x).toPrecision(2);
  }

  /*
   * What a series finds within the horizon: an odds ratio, none up to 100
   * (the daemon's DETECT_OR_MAX) when it has a threshold, or nothing yet
   * without one (no data in its reference window).
   */
  function detectable(det) {
    if (!S.fmt.missing(det.detectable_odds_ratio)) return "ratio";
    return S.fmt.missing(det.threshold) ? "nodata" : "none";
  }

  function detectableText(det) {
    return {
      ratio: "it finds changes of " + oddsRatio(det.detectable_odds_ratio) + " or more",
      nodata: "it has no reference data to find a change against yet",
      none: "it finds no change up to an odds ratio of 100; a lasting change is found later"
    }[detectable(det)];
  }

  function oddsRatio(or, ci) {
    return "odds ratio " + sig2(or) + (ci && ci.length === 2 ? " [" + sig2(ci[0]) + "–" + sig2(ci[1]) + "]" : "");
  }

  function explanationText(e) {
    var ref = [e.kind, e.reference].filter(function (x) { return x; }).join(", ");
    return e.id + (ref ? " (" + ref + ")" : "") + (e.description ? ": " + e.description : "");
  }

  /* The explanations named by an alert, as text, from the registry where known. */
  function named(ids, registry) {
    return (ids || []).map(function (id) {
      var e = registry.filter(function (x) { return x.id === id; })[0];
      return e ? explanationText(e) : id;
    }).join("; ");
  }

  function silenceText(a, silence) {
    if (!a.silenced_by) return null;
    if (!silence) return "Silenced by " + a.silenced_by + ": no notifications are sent for it.";
    return "Silenced until " + S.fmt.time(silence.ends_at) + " (" + silence.id + ", “" + silence.comment + "”" +
      (silence.created_by ? " by " + silence.created_by : "") + "): no notifications are sent for it.";
  }

  /*
   * The plain line (the state and the change in one sentence) and the
   * sentences that follow it. c: {det, control, alert, alertBrief,
   * silence, registry, rolling, gaps}.
   */
  function plain(c) {
    var det = c.det, a = c.alert, brief = c.alertBrief || {};
    var state = det.state || c.control.state || "learning";
    var flags = det.flags || [];
    var line, more = [];

    if (state === "drifting" && a) {
      line = "Drifting " + a.direction + " since " + a.onset + ", " + oddsRatio(a.odds_ratio, a.odds_ratio_ci) +
        ", " + a.classification + (a.classification === "explained" ? " by " + (a.explanations || []).join(", ") : "") + ".";
      more.push(S.cap(a.direction === "up" ? S.api.words().more : S.api.words().fewer) +
        " than the case mix and the usual level " +
        "predict; detected in " + (brief.detected_week || S.fmt.time(a.detected_at)) +
        ", when the odds ratio and its 95% interval were estimated.");
    } else if (state === "drifting") {
      line = "Drifting " + (det.change ? "since " + det.change.onset + ", " + oddsRatio(det.change.odds_ratio) : "") + ".";
    } else if (state === "explained") {
      line = "Explained" + (a ? ": the change " + a.direction + " since " + a.onset + ", " +
        oddsRatio(a.odds_ratio, a.odds_ratio_ci) + ", is covered by " + named(a.explanations, c.registry) : "") + ".";
      more.push("The detector's new level is being learnt from the weeks since " +
        (c.control.regime_from || "the change") +
        (c.control.learning_until ? " until " + c.control.learning_until : "") +
        "; it raises no alarm for this series meanwhile.");
    } else if (state === "learning") {
      line = "Learning: the detector has no reference level for this series yet, so it raises no alarms.";
      more.push("It starts watching once the series has enough weeks of history (detector.min_reference_weeks).");
    } else {
      line = "Stable: no change found" + (c.control.regime_from ? " in the current regime (from " +
        c.control.regime_from + ")" : "") + ".";
      if (a && a.status === "resolved")
        line = "Stable since " + (brief.resolved_week || S.fmt.time(a.resolved_at)) + ", when alert " + a.alert_id +
          " (" + a.direction + " since " + a.onset + ") was resolved" + (a.note ? " (" + a.note + ")" : "") + ".";
      ["up", "down"].forEach(function (dir) {
        var v = det["cusum_" + dir], hh = dir === "up" ? det.threshold : det.threshold_down;
        if (!S.fmt.missing(v) && hh > 0 && v >= hh / 2 && det["excursion_" + dir + "_since"])
          more.push("A " + (dir === "up" ? "rise" : "fall") + " since " + det["excursion_" + dir + "_since"] +
            " is being watched: its CUSUM is at " + Math.round(100 * v / hh) + "% of the threshold.");
      });
    }
    if (a && a.status === "firing" && a.silenced_by) more.push(silenceText(a, c.silence));
    if (a && a.historical) more.push("The alert is recorded only: it was detected too long ago to be sent.");
    if (c.rolling && c.rolling.decisions > 0)
      more.push("Now " + S.fmt.pct(c.rolling.rejection_rate) + " " + S.api.words().yes + " over the 13 weeks through " +
        c.control.closed_through + (S.fmt.missing(c.rolling.expected_rate) ? "" :
          ", against " + S.fmt.pct(c.rolling.expected_rate) + " that the case mix alone predicts") + ".");
    if (flags.indexOf("outlier") >= 0)
      more.push("Outlier: over the last 13 weeks its level lies outside the funnel's 99.8% limits against " +
        "the nation" + (S.fmt.missing(det.funnel_z13) ? "" : " (z " + S.fmt.num(det.funnel_z13, 1) + ")") + ".");
    if (flags.indexOf("underpowered") >= 0)
      more.push("Underpowered: too few " + S.api.words().events + " to find a change of " + oddsRatio(c.control.design_odds_ratio) +
        " quickly (about " + S.fmt.num(det.expected_delay_weeks, 0) + " weeks); within the detector's horizon " +
        detectableText(det) + ". It is watched like any other.");
    if (c.gaps.missing.length)
      more.push(c.gaps.missing.length + (c.gaps.missing.length === 1 ? " week" : " weeks") +
        " of the window without data, marked in the charts and the weekly table: " +
        c.gaps.missing.slice(0, 3).map(function (w) { return w.week + " (" + w.missing.text + ")"; }).join("; ") +
        (c.gaps.missing.length > 3 ? "; …" : "") + ".");
    if (c.gaps.before) more.push(c.gaps.before);
    more.push("Data through " + (c.control.closed_through || "–") + (c.gaps.open ? "; " + c.gaps.open.week +
      " is still open (" + S.fmt.int(c.gaps.open.decisions) + " " + S.api.words().events + " so far) and is added when it closes" : "") + ".");

    return h("div", { class: "headline", id: "series-headline" },
      h("p", { class: "plain", id: "series-plain", "data-state": state },
        S.stateBadge(S.displayState({ detector: det })), " ", line),
      h("ul", { class: "plain-more" }, more.map(function (t) { return h("li", null, t); })));
  }

  /* The detector's terms: the word, what it is, in plain words. */
  var TERMS = {
    tau2: ["τ²", "ordinary wobble", "How much weekly rates vary beyond chance (staffing, holidays, batch work), " +
      "estimated from the reference window. It widens the band of ordinary variation, so that one unusual week " +
      "does not count as a change."],
    design: ["design odds ratio", "the change it is tuned for", "The size of change the detector finds fastest: " +
      "the odds of a rejection multiplied by this factor (1.5: from 10% rejected to about 14%)."],
    h: ["threshold h", "alarm level", "How far a CUSUM must climb before an alarm is raised; set so that all " +
      "series together raise no more false alarms a year than detector.false_alarms_per_year. Small series have " +
      "a separate one for each direction."],
    cusum: ["CUSUM", "running evidence", "Running sums of the evidence for more (up) or fewer (down) rejections " +
      "than expected. An ordinary week adds little or takes away; a run of unusual weeks adds up. Crossing h is " +
      "an alarm; they restart at zero after it and at a new regime."],
    statistic: ["statistic", "how weeks are scored", "binomial: exact counts, for small series, looked at each " +
      "week; normal: large series, also looked at daily while data are live."],
    weight: ["weekly information", "what a week tells", "How much one ordinary week of this series tells the " +
      "detector (about the variance of its rejection count); small series have little and need more weeks."],
    delay: ["expected delay", "time to find it", "Weeks the detector needs on average to find a change of the " +
      "design odds ratio."],
    detectable: ["detectable odds ratio", "smallest change found in time", "The smallest change it finds within " +
      "the detector's horizon (none when not even an odds ratio of 100 would be); a series that cannot find the " +
      "design change in time is flagged underpowered (still watched, and alarms like any other)."],
    level: ["office level", "usual level", "The office's usual level against the nation, in log odds, from the " +
      "reference window (0: as the nation; 0.10: about 10% higher odds). The office is watched against it."],
    regime: ["regime", "since the last accepted change", "The current regime starts at the last explained or " +
      "accepted change: the baseline was moved there and the CUSUMs restarted."],
    or: ["odds ratio", "size of a change", "How much the odds of a rejection changed: 2.0 is twice the odds " +
      "(10% rejected becomes about 18%); 0.5 half. In brackets the 95% interval."]
  };

  function term(key, value) {
    var t = TERMS[key];
    return h("span", { class: "term" }, h("abbr", { title: t[1] + ": " + t[2] }, t[0]), " ", value);
  }

  /* The technical line, and a glossary of its terms. */
  function technical(c) {
    var det = c.det, ctl = c.control, flags = det.flags || [];
    var parts = [
      term("tau2", S.fmt.num(ctl.tau2, 4)),
      term("design", S.fmt.num(ctl.design_odds_ratio)),
      term("h", S.fmt.num(ctl.threshold) + (!S.fmt.missing(ctl.threshold_down) && ctl.threshold_down !== ctl.threshold ?
        " up, " + S.fmt.num(ctl.threshold_down) + " down" : "")),
      term("cusum", "up " + S.fmt.num(det.cusum_up) + ", down " + S.fmt.num(det.cusum_down)),
      det.statistic ? term("statistic", det.statistic) : null,
      term("weight", S.fmt.num(det.weekly_weight, 1)),
      term("delay", S.fmt.num(det.expected_delay_weeks, 1) + " weeks"),
      term("detectable", { ratio: S.fmt.num(det.detectable_odds_ratio), nodata: "–",
        none: "none up to 100" }[detectable(det)] +
        (flags.indexOf("underpowered") >= 0 ? " (underpowered)" : "")),
      c.office !== "national" && !S.fmt.missing(det.office_level) ? term("level", S.fmt.num(det.office_level)) : null,
      ctl.regime_from ? term("regime", "from " + ctl.regime_from) : null
    ].filter(function (x) { return x; });
    var sep = [];
    parts.forEach(function (p, i) { if (i) sep.push(" · "); sep.push(p); });
    return h("div", { class: "technical" },
      h("p", { class: "summary", id: "series-technical" }, sep),
      h("details", { class: "glossary" }, h("summary", null, "What these figures mean"),
        h("dl", null, Object.keys(TERMS).map(function (k) {
          return [h("dt", null, TERMS[k][0]), h("dd", null, TERMS[k][2])];
        }))));
  }

  function say(text, bad) {
    S.app.keepMessage(text, bad);
    S.app.reload();
  }

  function sayHere(box, text) {
    box.replaceChildren(h("p", { class: "message error", role: "alert" }, text));
  }

  /* "Explain this alert": an explanation for this series from the onset's Monday. */
  function explainForm(c, a) {
    var X = S.pages.explanations, out = h("div", { class: "action-out" });
    var from = S.gaps.monday(a.onset) || "";
    var scope = c.office === "national" ? "every office (national series)" : c.office;
    var f = h("form", { id: "series-explain-form", class: "action-form", novalidate: true },
      h("p", { class: "muted" }, "Registers an explanation for " + scope + " · " + c.benefit + " · " + c.kind +
        (S.api.manyIndicators() ? " (" + S.api.rateName() + " only)" : "") + ", effective from the Monday of the onset week; the alert becomes explained when its onset lies within " +
        "the detector's window around that date."),
      X.field("e-id", "Id", h("input", { id: "e-id", name: "id", required: true, maxlength: "64",
        pattern: "[A-Za-z0-9._:-]+", value: (c.office + "-" + c.benefit + "-" + a.onset).toLowerCase(),
        "aria-describedby": "e-id-hint" }), "letters, digits and . _ : -"),
      X.field("e-kind", "Type", h("select", { id: "e-kind", name: "kind" }, X.KINDS.filter(function (k) {
        return k !== "context";
      }).map(function (k) { return h("option", { value: k }, k); }))),
      X.field("e-from", "Effective from", h("input", { id: "e-from", name: "effective_from", required: true,
        value: from, pattern: "\\d{4}-\\d{2}-\\d{2}", inputmode: "numeric", "aria-describedby": "e-from-hint" }),
        "YYYY-MM-DD; " + from + " is the Monday of the onset week " + a.onset),
      X.field("e-reference", "Reference", h("input", { id: "e-reference", name: "reference", maxlength: "1000" })),
      X.field("e-description", "Description", h("textarea", { id: "e-description", name: "description", rows: "2",
        maxlength: "1000" })),
      h("button", { type: "submit" }, "Register explanation"), out);
    f.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = {
        id: f.elements.id.value.trim(),
        kind: f.elements.kind.value,
        effective_from: f.elements.effective_from.value,
        effective_to: null,
        benefits: [c.benefit],
        kinds: [c.kind],
        offices: c.office === "national" ? [] : [c.office],
        reference: f.elements.reference.value.trim() || null,
        description: f.elements.description.value.trim() || null
      };
      /* With several indicators, an explanation of one alert is of its indicator. */
      if (S.api.manyIndicators()) body.indicators = [S.api.indicator()];
      X.register(body).then(function (text) {
        say(text, false);
      }, function (text) {
        sayHere(out, text);
      });
    });
    return f;
  }

  var DURATIONS = [[1, "1 day"], [7, "1 week"], [28, "4 weeks"], [91, "13 weeks"]];

  /* "Silence it": a silence for this one alert; or end the one that holds it. */
  function silenceForm(c, a) {
    var out = h("div", { class: "action-out" });
    if (a.silenced_by) {
      var b = h("button", { type: "button", id: "series-unsilence", onclick: function () {
        b.disabled = true;
        S.api.del("/v1/silences/" + encodeURIComponent(a.silenced_by)).then(function () {
          say("Silence " + a.silenced_by + " ended: notifications for " + a.alert_id + " are sent again.", false);
        }, function (err) {
          b.disabled = false;
          sayHere(out, "Cannot end silence " + a.silenced_by + ": " + err.toString());
        });
      } }, "End the silence");
      return h("div", { class: "action-form" }, h("p", null, silenceText(a, c.silence)), b, out);
    }
    var f = h("form", { id: "series-silence-form", class: "action-form", novalidate: true },
      h("p", { class: "muted" }, "Stops notifications for alert " + a.alert_id + " only; it is still recorded " +
        "and shown, marked as silenced."),
      S.pages.explanations.field("s-for", "For", h("select", { id: "s-for", name: "for" }, DURATIONS.map(function (d) {
        return h("option", { value: String(d[0]), selected: d[0] === 7 || null }, d[1]);
      }))),
      S.pages.explanations.field("s-comment", "Comment", h("textarea", { id: "s-comment", name: "comment", rows: "2",
        maxlength: "1000", required: true, "aria-describedby": "s-comment-hint" }), "required: why, and what happens next"),
      S.pages.explanations.field("s-by", "Your name", h("input", { id: "s-by", name: "created_by", maxlength: "100" })),
      h("button", { type: "submit" }, "Silence this alert"), out);
    f.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var comment = f.elements.comment.value.trim();
      if (!comment) {
        sayHere(out, "A comment is required.");
        return;
      }
      var ends = new Date(Date.now() + parseInt(f.elements["for"].value, 10) * 86400000);
      var body = { matchers: { alert_id: a.alert_id }, ends_at: ends.toISOString().replace(/\.\d+Z$/, "Z"),
        comment: comment };
      if (f.elements.created_by.value.trim()) body.created_by = f.elements.created_by.value.trim();
      S.api.post("/v1/silences", body).then(function (s) {
        say("Alert " + a.alert_id + " silenced until " + S.fmt.time(s.ends_at) + " (" + s.id + ").", false);
      }, function (err) {
        sayHere(out, "Cannot silence " + a.alert_id + ": " + err.toString());
      });
    });
    return f;
  }

  /* "Accept the new level": a rebaseline, confirmed by a second press. */
  function rebaselineForm(c, a) {
    var out = h("div", { class: "action-out" }), armed = false;
    var path = S.api.withIndicator("/v1/series/" + encodeURIComponent(c.office) + "/" +
      encodeURIComponent(c.benefit) + "/" + encodeURIComponent(c.kind) + "/rebaseline");
    var b = h("button", { type: "button", class: "danger", id: "series-rebaseline", onclick: function () {
      if (!armed) {
        armed = true;
        b.textContent = "Confirm: accept the new level";
        return;
      }
      b.disabled = true;
      S.api.post(path).then(function () {
        say("New level accepted: alert " + a.alert_id + " is resolved and the detector watches the series " +
          "from its current level.", false);
      }, function (err) {
        b.disabled = false;
        sayHere(out, "Cannot accept the new level: " + err.toString());
      });
    } }, "Accept the new level");
    return h("div", { class: "action-form" },
      h("p", { class: "muted" }, "The detector takes the series' current level (" +
        oddsRatio(a.odds_ratio) + " against the old one) as its new baseline: the alert resolves with a note and " +
        "the CUSUMs restart. For a lasting change that has been reviewed, not to hide one."), b, out);
  }

  /* The actions on the series' firing alert, if any; only a write token sees them. */
  function actions(c) {
    var a = c.alert;
    if (!a || a.status !== "firing") return "";
    var list = [];
    if (a.classification === "unexplained")
      list.push(["act-explain", "Explain this alert", explainForm(c, a)]);
    list.push(["act-silence", a.silenced_by ? "Silenced: end the silence" : "Silence it", silenceForm(c, a)]);
    if ((c.det.state || c.control.state) === "drifting")
      list.push(["act-rebaseline", "Accept the new level", rebaselineForm(c, a)]);
    return h("section", { class: "actions write-only", id: "series-actions", "aria-labelledby": "h-actions" },
      h("h2", { id: "h-actions" }, "Act on alert ", h("code", null, a.alert_id)),
      list.map(function (x) {
        return h("details", { id: x[0], class: "action" }, h("summary", null, x[1]), x[2]);
      }));
  }

  return { plain: plain, technical: technical, actions: actions, sig2: sig2 };
})();
