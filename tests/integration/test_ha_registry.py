#!/usr/bin/env python3
"""Shared registries (issue 14): writes on two instances go through one
Redis script. An explanation POSTed on A is in the shared hash and in the
control log with its `at`; the same id POSTed on B is refused with 409,
and of two concurrent POSTs of one id exactly one wins; deleting an
absent id is 404 on either; with Redis stopped a write is 503 and nothing
changes locally."""

import json
import threading

import harness
import ha
from harness import check, WRITE_TOKEN

EXPL = {"id": "law-2023", "kind": "legislation", "effective_from": "2023-01-01",
        "description": "a new law"}


def post(d, path, body):
    s, h, raw = d.request("POST", path, token=WRITE_TOKEN, body=body)
    return s, h, json.loads(raw) if raw else None


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    a, b = ha.ha_pair(w, redis)
    w.add(a.stop)
    w.add(b.stop)
    a.start()
    b.start()
    r = redis.client()

    # A write waits for the link: retry until the script has answered.
    harness.wait_for(lambda: post(a, "/v1/explanations", EXPL)[0] != 503, 10,
                     "the shared registry on a")
    stored = r.hget("stabild:ha:explanations", "law-2023")
    check(stored is not None, "the explanation is not in the shared hash")
    stored = json.loads(stored)
    check(stored["by"] == "a" and stored["description"] == "a new law",
          "the stored explanation: %r" % stored)
    entries = r.xrange("stabild:ha:log")
    check(len(entries) == 1, "the log holds %d entries" % len(entries))
    lid, fields = entries[0]
    fields = {k.decode() if isinstance(k, bytes) else k:
              v.decode() if isinstance(v, bytes) else v for k, v in fields.items()}
    lid = lid.decode() if isinstance(lid, bytes) else lid
    check(fields["kind"] == "explanation" and fields["op"] == "put" and
          fields["id"] == "law-2023" and fields["by"] == "a" and fields["at"] == "0-0",
          "the log entry: %r" % fields)
    check(stored["log_id"] == lid, "log_id %s, the log has %s" % (stored["log_id"], lid))

    # The same id on B: the shared registry refuses it.
    s, h, body = post(b, "/v1/explanations", EXPL)
    check(s == 409 and "already exists" in body["message"], "b: %s %r" % (s, body))

    # Two concurrent POSTs of one new id: one 201 (or applied-pending), one 409.
    other = dict(EXPL, id="court-1", kind="court_ruling")
    results = []

    def one(d):
        results.append(post(d, "/v1/explanations", other)[0])
    ts = [threading.Thread(target=one, args=(d,)) for d in (a, b)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(sorted(results) == [201, 409], "concurrent POSTs: %s" % results)

    # Deleting an absent id: 404 from the script, on either instance.
    for d in (a, b):
        s, h, raw = d.request("DELETE", "/v1/explanations/nothing", token=WRITE_TOKEN)
        check(s == 404, "DELETE absent: %s %r" % (s, raw))
        s, h, raw = d.request("DELETE", "/v1/silences/s-0000000000000000", token=WRITE_TOKEN)
        check(s == 404, "DELETE absent silence: %s %r" % (s, raw))

    # A silence: stored with its id, in the hash.
    s, h, body = post(b, "/v1/silences", {"matchers": {"benefit": "sjukpenning"},
                                          "ends_at": "2099-01-01T00:00:00Z",
                                          "comment": "maintenance"})
    check(s == 201 and body["id"].startswith("s-"), "silence: %s %r" % (s, body))
    check(h.get("Location") == "/v1/silences/" + body["id"], "Location: %r" % h)
    check(h.get("X-Stabild-Applied") in ("yes", "no"), "X-Stabild-Applied: %r" % h)
    check(r.hexists("stabild:ha:silences", body["id"]), "the silence is not in the hash")
    check(r.xlen("stabild:ha:log") == 3, "the log: %d entries" % r.xlen("stabild:ha:log"))

    # Redis stopped: 503, and nothing written locally.
    before = a.get("/v1/explanations")[1]
    redis.stop()
    s, h, body = post(a, "/v1/explanations", dict(EXPL, id="while-down"))
    check(s == 503 and "unreachable" in body["message"], "redis down: %s %r" % (s, body))
    check(a.get("/v1/explanations")[1] == before, "a write changed the local registry")
