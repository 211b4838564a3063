#!/usr/bin/env python3
"""Silences: a silence on the drifting office, created before any event
arrives, keeps every alert of that office away from the webhook receiver
(each state is logged as silenced) while other offices' alerts are sent;
the API lists, validates, guards and deletes silences."""

import datetime
import json
import os

import harness
from harness import READ_TOKEN, WRITE_TOKEN, check
from test_webhook_delivery import SECRET
from webhook_sink import Sink

OFFICE = "K024"


def later(hours):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    sink = Sink(secret=SECRET).start()
    w.add(sink.stop)
    secret_path = harness.secret_file(w.path, "ops.secret", SECRET + "\n")
    d = harness.Daemon(w.path, redis, conf_extra={"alerts": {"historical_age": "50y"}})
    with open(d.conf_path, "a") as f:
        f.write('\n[receiver "ops"]\ntype = webhook\nurl = http://127.0.0.1:%d/hook\n'
                'secret_file = %s\n' % (sink.port, secret_path))
    d.start()
    w.add(d.stop)

    # Guards and validation, before anything is stored.
    good = {"matchers": {"office": OFFICE}, "ends_at": later(2),
            "comment": "office reorganisation, known", "created_by": "ops"}
    s, _, _ = d.request("POST", "/v1/silences", token=None, body=good)
    check(s == 401, "POST without a token: %s" % s)
    s, _, _ = d.request("POST", "/v1/silences", token=READ_TOKEN, body=good)
    check(s == 403, "POST with the read token: %s" % s)
    s, _, _ = d.request("POST", "/v1/silences", token=WRITE_TOKEN, body=good,
                        headers={"Content-Type": "text/plain"})
    check(s == 415, "POST as text/plain: %s" % s)
    for bad in ({"matchers": {"region": "x"}, "ends_at": later(2), "comment": ""},
                {"matchers": {}, "ends_at": later(2), "comment": ""},
                {"matchers": {"scope": "regional"}, "ends_at": later(2), "comment": ""},
                {"matchers": {"office": 24}, "ends_at": later(2), "comment": ""},
                {"matchers": {"office": OFFICE}, "ends_at": later(-1), "comment": ""},
                {"matchers": {"office": OFFICE}, "comment": ""},
                {"matchers": {"office": OFFICE}, "ends_at": later(2), "comment": "x" * 1001}):
        s, _, raw = d.request("POST", "/v1/silences", token=WRITE_TOKEN, body=bad)
        check(s == 400, "POST %r: %s %s" % (bad, s, raw))
        check(json.loads(raw)["error"], "no error code in %s" % raw)
    # An alert id no alert has would silence nothing: 409 unless forced.
    ghost = {"matchers": {"alert_id": "K999.sjukpenning.first.2019-W01.up"}, "ends_at": later(2),
             "comment": "not yet seen"}
    s, _, raw = d.request("POST", "/v1/silences", token=WRITE_TOKEN, body=ghost)
    check(s == 409 and b"force=true" in raw, "POST a silence for no alert: %s %s" % (s, raw))
    s, _, raw = d.request("POST", "/v1/silences?force=true", token=WRITE_TOKEN, body=ghost)
    check(s == 201, "POST a silence for no alert, forced: %s %s" % (s, raw))
    s, _, raw = d.request("DELETE", "/v1/silences/" + json.loads(raw)["id"], token=WRITE_TOKEN)
    check(s in (200, 204), "DELETE the forced silence: %s %s" % (s, raw))
    s, body = d.get("/v1/silences")
    check(s == 200 and body == {"silences": []}, "silences after bad input: %s %r" % (s, body))

    # The silence, before ingest starts: the office is not known yet, so
    # it takes force=true.
    s, _, raw = d.request("POST", "/v1/silences", token=WRITE_TOKEN, body=good)
    check(s == 409 and b"has never been seen" in raw, "POST for an unseen office: %s %s" % (s, raw))
    s, headers, raw = d.request("POST", "/v1/silences?force=true", token=WRITE_TOKEN, body=good)
    check(s == 201, "POST silence: %s %s" % (s, raw))
    made = json.loads(raw)
    sid = made["id"]
    check(sid.startswith("s-") and len(sid) == 18, "id %r" % sid)
    check(made["matchers"] == {"office": OFFICE} and made["active"] is True, "made %r" % made)
    check(made["ends_at"] == good["ends_at"] and made["created_by"] == "ops", "made %r" % made)
    check(headers.get("Location") == "/v1/silences/" + sid, "Location %r" % headers)
    with open(os.path.join(d.state_dir, "silences.json")) as f:
        check(sid in f.read(), "silence not saved")

    truth = harness.run_sim(redis, w.path, "--seed", 5, "--weeks", 64, "--per-week", harness.SCENARIO_PER_WEEK,
                            "--start", "2019-01-07", "--drift", OFFICE + ":sjukpenning:*:56:2.5")
    d.wait_counted(truth.totals["written"], timeout=120)

    s, body = d.get("/v1/alerts")
    check(s == 200, "GET /v1/alerts: %s" % s)
    silenced = [a for a in body["alerts"] if a["series"]["office"] == OFFICE]
    others = [a for a in body["alerts"] if a["series"]["office"] != OFFICE]
    check(silenced, "no alert for %s was raised" % OFFICE)
    other_keys = set("%s.%d.ops" % (a["alert_id"], seq)
                     for a in others for seq in range(1, a["seq"] + 1))
    harness.wait_for(lambda: set(sink.ok) >= other_keys, 30, "other offices' alerts")
    harness.wait_for(lambda: "silenced by " + sid in d.log(), 10, "the silenced log line")
    for a in silenced:
        check("%s (state %d, " % (a["alert_id"], a["seq"]) in d.log(),
              "%s not logged as silenced" % a["alert_id"])
    at_sink = [k for k, v in sink.ok.items() if v["series"]["office"] == OFFICE]
    check(not at_sink, "silenced alerts reached the receiver: %s" % at_sink)
    check(not sink.bad, "bad signatures or headers: %s" % sink.bad[:3])
    s, dl = d.get("/v1/deliveries")
    check(s == 200 and not [x for x in dl["deliveries"] if x["id"].startswith(OFFICE + ".")],
          "silenced alerts in the outbox: %r" % dl)

    # Listed, then deleted.
    s, body = d.get("/v1/silences")
    check(s == 200 and [x["id"] for x in body["silences"]] == [sid], "GET %s %r" % (s, body))
    check(body["silences"][0]["active"] is True, "listed %r" % body)
    s, one = d.get("/v1/silences/" + sid)
    check(s == 200 and one["id"] == sid, "GET one: %s %r" % (s, one))
    s, _, _ = d.request("DELETE", "/v1/silences/" + sid, token=READ_TOKEN)
    check(s == 403, "DELETE with the read token: %s" % s)
    s, _, raw = d.request("DELETE", "/v1/silences/" + sid, token=WRITE_TOKEN)
    check(s == 204 and raw == b"", "DELETE: %s %r" % (s, raw))
    s, _, _ = d.request("DELETE", "/v1/silences/" + sid, token=WRITE_TOKEN)
    check(s == 404, "DELETE again: %s" % s)
    s, body = d.get("/v1/silences")
    check(s == 200 and body == {"silences": []}, "after DELETE: %r" % body)
    with open(os.path.join(d.state_dir, "silences.json")) as f:
        check(sid not in f.read(), "deletion not saved")


if __name__ == "__main__":
    harness.main(test, "silences")
