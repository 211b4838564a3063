#!/usr/bin/env python3
"""The explanation registry (contract §2 and §4): POST, GET and DELETE with
their roles, the validation answers (400, 409, 413, 415), the order of the
list, persistence of registered explanations across a restart, entries of
the config file (source "config", not deletable), and SIGHUP after the
config's [explanation "ID"] sections change."""

import json
import os
import re
import signal
import sys

import harness
from harness import check

JSON_TYPE = "application/json; charset=utf-8"
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
CONFIG_ID = "prop-2020-21-78"
CONFIG_SECTION = {
    "kind": "legislation",
    "effective_from": "2021-07-01",
    "benefits": "sjukpenning",
    "kinds": "ongoing",
    "reference": "Prop. 2020/21:78",
    "description": "Deferral of the assessment against normal work",
}
RULING = {
    "id": "hfd-2023-12",
    "kind": "court_ruling",
    "effective_from": "2023-03-01",
    "effective_to": None,
    "benefits": ["sjukpenning", "sjukersattning"],
    "kinds": ["first"],
    "offices": ["K017", "K018"],
    "reference": "HFD 2023 ref. 12",
    "description": "Ruling on the assessment of work capacity",
}


def call(d, method, path, token=harness.READ_TOKEN, body=None, headers=None):
    """(status, headers, parsed JSON or raw bytes); JSON answers carry the
    JSON type and no-store."""
    s, h, raw = d.request(method, path, token=token, body=body, headers=headers)
    if h.get("Content-Type", "").startswith("application/json"):
        check(h["Content-Type"] == JSON_TYPE, "%s %s: Content-Type %r" % (method, path, h["Content-Type"]))
        check(h.get("Cache-Control") == "no-store", "%s %s: Cache-Control" % (method, path))
        return s, h, json.loads(raw)
    return s, h, raw


def expect_error(d, method, path, code, error, token=harness.WRITE_TOKEN, body=None,
                 headers=None, message=None):
    s, h, got = call(d, method, path, token=token, body=body, headers=headers)
    check(s == code, "%s %s %r: %s, expected %d (%r)" % (method, path, body, s, code, got))
    check(isinstance(got, dict) and got.get("error") == error and got.get("message"),
          "%s %s: body %r, expected error %r with a message" % (method, path, got, error))
    if message is not None:
        check(message in got["message"], "%s %s %r: message %r, expected it to contain %r"
              % (method, path, body, got["message"], message))
    return h, got


def listing(d, token=harness.READ_TOKEN):
    s, _, body = call(d, "GET", "/v1/explanations", token=token)
    check(s == 200, "GET /v1/explanations: %s %r" % (s, body))
    check(list(body) == ["explanations"], "GET /v1/explanations: members %r" % list(body))
    items = body["explanations"]
    order = [(x["effective_from"], x["id"]) for x in items]
    check(order == sorted(order), "not by effective_from, then id: %r" % order)
    return {x["id"]: x for x in items}


def stored(posted, source="api"):
    """What GET answers for a posted object: every member, and the source."""
    want = {"effective_to": None, "benefits": [], "kinds": [], "offices": [],
            "reference": None, "description": None}
    want.update(posted)
    want["source"] = source
    return want


def same(got, want, what):
    created = got.get("created_at")
    check(isinstance(created, str) and TIME.match(created), "%s: created_at %r" % (what, created))
    rest = {k: v for k, v in got.items() if k != "created_at"}
    check(rest == want, "%s:\n got  %r\n want %r" % (what, rest, want))


def config_entry(description=CONFIG_SECTION["description"]):
    want = {"id": CONFIG_ID, "kind": "legislation", "effective_from": "2021-07-01",
            "effective_to": None, "benefits": ["sjukpenning"], "kinds": ["ongoing"],
            "offices": [], "reference": "Prop. 2020/21:78", "description": description}
    return stored(want, "config")


def hup(d, pattern):
    """SIGHUP, then wait for a log line matching pattern after it."""
    mark = len(d.log())
    d.send_signal(signal.SIGHUP)
    harness.wait_log(d, pattern, timeout=10, since=mark)
    check(d.proc.poll() is None, "stabild exited on SIGHUP; log:\n%s" % d.log()[-2000:])


def test_roles(d):
    for method, path in (("GET", "/v1/explanations"), ("GET", "/v1/explanations/" + CONFIG_ID),
                         ("POST", "/v1/explanations"), ("DELETE", "/v1/explanations/x")):
        h, _ = expect_error(d, method, path, 401, "unauthorized", token=None,
                            body=RULING if method == "POST" else None)
        check(h.get("WWW-Authenticate") == "Bearer", "%s %s: WWW-Authenticate" % (method, path))
    expect_error(d, "POST", "/v1/explanations", 403, "forbidden", token=harness.READ_TOKEN, body=RULING)
    expect_error(d, "DELETE", "/v1/explanations/" + CONFIG_ID, 403, "forbidden",
                 token=harness.READ_TOKEN)
    check(CONFIG_ID in listing(d, token=harness.WRITE_TOKEN), "the write role cannot read")
    h, _ = expect_error(d, "DELETE", "/v1/explanations", 405, "method_not_allowed")
    check(h.get("Allow") == "GET, HEAD, POST", "Allow on /v1/explanations: %r" % h.get("Allow"))
    h, _ = expect_error(d, "POST", "/v1/explanations/x", 405, "method_not_allowed", body=RULING)
    check(h.get("Allow") == "GET, HEAD, DELETE", "Allow on /v1/explanations/x: %r" % h.get("Allow"))
    check(listing(d).keys() == {CONFIG_ID}, "a refused request changed the registry")


def test_validation(d):
    base = {"id": "v", "kind": "context", "effective_from": "2023-01-01"}
    bad = [
        (dict(base, foo=1), "unknown member 'foo'"),
        (dict(base, source="api"), "unknown member 'source'"),
        ({k: v for k, v in base.items() if k != "id"}, "id: required"),
        (dict(base, id="a b"), "id: expected 1 to 64 characters"),
        (dict(base, id="x" * 65), "id: expected 1 to 64 characters"),
        (dict(base, kind="law"), "kind: 'law' is not legislation"),
        ({k: v for k, v in base.items() if k != "kind"}, "kind: required"),
        (dict(base, effective_from="2023-02-29"), "effective_from: expected a date YYYY-MM-DD"),
        (dict(base, effective_from=None), "effective_from: required"),
        (dict(base, effective_to="2022-12-31"), "effective_to: before effective_from"),
        (dict(base, effective_to="31/12/2023"), "effective_to: expected a date"),
        (dict(base, benefits="sjukpenning"), "benefits: expected an array of strings"),
        (dict(base, benefits=["vab"]), "benefits: 'vab' is not a configured benefit"),
        (dict(base, kinds=["later"]), "kinds: 'later' is not first or ongoing"),
        (dict(base, kinds=["first", "first"]), "kinds: 'first' is listed twice"),
        (dict(base, offices=["K 1"]), "offices: 'K 1' is not an office"),
        (dict(base, offices=["national"]), "offices: 'national' is not an office"),
        (dict(base, reference=12), "reference: expected a string"),
        (dict(base, description="d" * 1001), "description: longer than 1000 characters"),
        ([base], "expected a JSON object"),
    ]
    for body, message in bad:
        expect_error(d, "POST", "/v1/explanations", 400, "bad_request", body=body, message=message)
    for raw, message in ((b"{", "the body is not valid JSON"), (b"", "the body is empty"),
                         (b'{"id":"v","id":"w"}', "the body is not valid JSON"),
                         (b'{"id":"\xff"}', "the body is not valid JSON")):
        expect_error(d, "POST", "/v1/explanations", 400, "bad_request", body=raw, message=message)
    # The type must be JSON.
    expect_error(d, "POST", "/v1/explanations", 415, "unsupported_media_type", body=base,
                 headers={"Content-Type": "text/plain"})
    expect_error(d, "POST", "/v1/explanations", 415, "unsupported_media_type", body=base,
                 headers={"Content-Type": "application/jsonx"})
    # A body over http.max_body is refused by the server itself.
    s, _, _ = call(d, "POST", "/v1/explanations", token=harness.WRITE_TOKEN,
                   body=dict(base, description="d" * 900, reference="r" * 900) | {"x": "y" * 3000})
    check(400 <= s < 500, "a body over max_body: %s" % s)
    check(listing(d).keys() == {CONFIG_ID}, "a refused POST changed the registry")


def test_round_trip(d):
    # No office has been seen yet: naming one takes force=true.
    expect_error(d, "POST", "/v1/explanations", 409, "conflict", body=RULING,
                 message='office "K017" has never been seen (0 offices are known); give force=true')
    check(listing(d).keys() == {CONFIG_ID}, "a refused POST changed the registry")
    s, h, body = call(d, "POST", "/v1/explanations?force=true", token=harness.WRITE_TOKEN,
                      body=RULING)
    check(s == 201, "POST %s: %s %r" % (RULING["id"], s, body))
    check(h.get("Location") == "/v1/explanations/" + RULING["id"], "Location %r" % h.get("Location"))
    same(body, stored(RULING), "POST answer")
    s, _, one = call(d, "GET", "/v1/explanations/" + RULING["id"])
    check(s == 200, "GET %s: %s" % (RULING["id"], s))
    check(one == body, "GET one %r, POST answered %r" % (one, body))

    # Parameters of Content-Type are fine; lists left out mean all.
    minimal = {"id": "ctx.2023:a", "kind": "context", "effective_from": "2023-03-01"}
    s, _, body = call(d, "POST", "/v1/explanations", token=harness.WRITE_TOKEN, body=minimal,
                      headers={"Content-Type": "Application/JSON; charset=utf-8"})
    check(s == 201, "POST minimal: %s %r" % (s, body))
    same(body, stored(minimal), "minimal")
    early = {"id": "z-early", "kind": "data_correction", "effective_from": "2022-12-31",
             "effective_to": "2023-01-31", "offices": ["K017"], "description": "\u00e5\u00e4\u00f6"}
    s, _, body = call(d, "POST", "/v1/explanations?force=true", token=harness.WRITE_TOKEN,
                      body=early)
    check(s == 201, "POST early: %s %r" % (s, body))
    same(body, stored(early), "early")

    items = listing(d)
    check(list(items) == [CONFIG_ID, "z-early", "ctx.2023:a", RULING["id"]],
          "order %r" % list(items))
    same(items[CONFIG_ID], config_entry(), "config entry")

    # Taken ids: the API's and the config's.
    expect_error(d, "POST", "/v1/explanations?force=true", 409, "conflict",
                 body=dict(RULING, kind="context"),
                 message="explanation \"%s\" already exists" % RULING["id"])
    expect_error(d, "POST", "/v1/explanations", 409, "conflict",
                 body={"id": CONFIG_ID, "kind": "context", "effective_from": "2023-01-01"},
                 message="is defined in the configuration file")
    check(listing(d)[RULING["id"]]["kind"] == "court_ruling", "a refused POST replaced an entry")

    # DELETE: the config's are refused, unknown ids are 404, the API's go.
    expect_error(d, "DELETE", "/v1/explanations/" + CONFIG_ID, 409, "conflict",
                 message="defined in the configuration file")
    expect_error(d, "DELETE", "/v1/explanations/nope", 404, "not_found")
    expect_error(d, "GET", "/v1/explanations/nope", 404, "not_found", token=harness.READ_TOKEN)
    s, h, raw = call(d, "DELETE", "/v1/explanations/ctx.2023:a", token=harness.WRITE_TOKEN)
    check(s == 204 and raw == b"", "DELETE ctx.2023:a: %s %r" % (s, raw))
    expect_error(d, "GET", "/v1/explanations/ctx.2023:a", 404, "not_found", token=harness.READ_TOKEN)
    expect_error(d, "DELETE", "/v1/explanations/ctx.2023:a", 404, "not_found")
    check(list(listing(d)) == [CONFIG_ID, "z-early", RULING["id"]], "after DELETE: %r" % list(listing(d)))
    # An id may be used again once deleted.
    s, _, body = call(d, "POST", "/v1/explanations", token=harness.WRITE_TOKEN, body=minimal)
    check(s == 201, "POST after DELETE: %s %r" % (s, body))
    return listing(d)


def test_restart(w, d, before):
    state = os.path.join(d.state_dir, "explanations.json")
    with open(state) as f:
        saved = json.load(f)
    check(sorted(x["id"] for x in saved) == sorted(k for k, v in before.items() if v["source"] == "api"),
          "state file holds %r" % [x["id"] for x in saved])
    check(d.stop() == 0, "exit status on SIGTERM")
    d.start()
    after = listing(d)
    # Entries of the config file are registered anew at each start.
    for items in (before, after):
        for x in items.values():
            if x["source"] == "config":
                x.pop("created_at")
    check(after == before, "after a restart:\n %r\nbefore:\n %r" % (after, before))
    check(not [f for f in os.listdir(d.state_dir) if ".tmp." in f], "a temporary file was left behind")


def test_reload(d):
    api_ids = [k for k, v in listing(d).items() if v["source"] == "api"]
    # A changed description and a new section.
    del d.sections['explanation "%s"' % CONFIG_ID]["description"]
    d.sections['explanation "%s"' % CONFIG_ID]["description"] = "Changed"
    d.sections['explanation "ctx-reorg"'] = {"kind": "context", "effective_from": "2023-02-01",
                                              "offices": "K017"}
    d.write_conf()
    hup(d, r"reload: done")
    items = listing(d)
    same(items[CONFIG_ID], config_entry("Changed"), "config entry after the reload")
    same(items["ctx-reorg"], stored({"id": "ctx-reorg", "kind": "context",
                                     "effective_from": "2023-02-01", "offices": ["K017"]}, "config"),
         "new config entry")
    check(sorted(k for k, v in items.items() if v["source"] == "api") == sorted(api_ids),
          "the API's entries changed on reload")
    expect_error(d, "DELETE", "/v1/explanations/ctx-reorg", 409, "conflict")

    # A section removed goes away.
    del d.sections['explanation "%s"' % CONFIG_ID]
    d.write_conf()
    hup(d, r"reload: done")
    items = listing(d)
    check(CONFIG_ID not in items and "ctx-reorg" in items, "after removing a section: %r" % list(items))

    # A broken section: the file is refused, the list stays.
    d.sections['explanation "broken"'] = {"kind": "context", "effective_from": "2023-02-30"}
    d.write_conf()
    hup(d, r"keeping the running configuration")
    check(listing(d) == items, "a refused reload changed the list")
    del d.sections['explanation "broken"']

    # An id registered through the API: refused (the reload as a whole,
    # or its explanations), the list stays.
    d.sections['explanation "%s"' % RULING["id"]] = {"kind": "context", "effective_from": "2023-02-01"}
    d.write_conf()
    hup(d, r"reload: done|keeping the running configuration")
    check(listing(d) == items, "a config entry replaced one of the API's")
    check(re.search(r"^<3>.*explanation \"%s\" is in the configuration file" % RULING["id"],
                    d.log(), re.M), "the clash is not logged as an error")
    del d.sections['explanation "%s"' % RULING["id"]]


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    d = harness.Daemon(w.path, redis, {"http": {"max_body": "4096"},
                                       'explanation "%s"' % CONFIG_ID: dict(CONFIG_SECTION)})
    d.start()
    w.add(d.stop)
    s, _, body = call(d, "GET", "/v1/explanations")
    if s == 503:
        # The daemon's startup has not created the registry yet.
        print("SKIP test_explanations: %s" % body.get("message"), file=sys.stderr)
        return
    items = listing(d)
    check(list(items) == [CONFIG_ID], "at start: %r" % list(items))
    same(items[CONFIG_ID], config_entry(), "config entry")
    s, _, one = call(d, "GET", "/v1/explanations/" + CONFIG_ID)
    check(s == 200 and one == items[CONFIG_ID], "GET %s: %s %r" % (CONFIG_ID, s, one))
    s, h, raw = d.request("HEAD", "/v1/explanations")
    check(s == 200 and raw == b"" and h.get("Content-Type") == JSON_TYPE,
          "HEAD /v1/explanations: %s %r %r" % (s, h.get("Content-Type"), raw))

    test_roles(d)
    test_validation(d)
    before = test_round_trip(d)
    test_restart(w, d, before)
    test_reload(d)
    check(d.alive_http(), "stabild answers at the end")
    check(d.stop() == 0, "exit status on SIGTERM")


if __name__ == "__main__":
    harness.main(test, "explanations")
