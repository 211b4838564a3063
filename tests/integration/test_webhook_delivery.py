#!/usr/bin/env python3
"""Alerts reach a real local webhook receiver: signed (HMAC over the
timestamp and the body), each alert state once, through a receiver that
answers 500 at first; and a notification queued while the receiver is
down survives a kill -9 of the daemon and is delivered after the restart."""

import datetime
import hashlib
import hmac
import http.server
import json
import os
import signal
import threading
import time

import harness
from harness import WRITE_TOKEN, check

SECRET = "webhook-secret-for-tests-0123456789"


class Sink:
    """A webhook receiver on a free loopback port."""

    def __init__(self, fail_first=0):
        self.port = harness.free_port()
        self.fail_left = fail_first
        self.ok = {}          # Idempotency-Key -> body, for 2xx answers
        self.failed = 0
        self.bad = []
        self.lock = threading.Lock()
        self.server = None

    def start(self):
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ts = self.headers.get("X-Stabild-Timestamp", "")
                sig = self.headers.get("X-Stabild-Signature", "")
                want = "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + body,
                                            hashlib.sha256).hexdigest()
                key = self.headers.get("Idempotency-Key", "")
                with sink.lock:
                    if not hmac.compare_digest(sig, want) or not key or \
                            self.headers.get("Content-Type") != "application/json":
                        sink.bad.append((key, sig, self.headers.get("Content-Type")))
                    if sink.fail_left > 0:
                        sink.fail_left -= 1
                        sink.failed += 1
                        code = 500
                    else:
                        check(key not in sink.ok, "state delivered twice: %s" % key)
                        sink.ok[key] = json.loads(body)
                        code = 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def expected_keys(d):
    """Idempotency keys of every alert state: ALERT_ID.SEQ.RECEIVER."""
    s, body = d.get("/v1/alerts")
    check(s == 200, "GET /v1/alerts: %s" % s)
    keys = set()
    for a in body["alerts"]:
        for seq in range(1, a["seq"] + 1):
            keys.add("%s.%d.ops" % (a["alert_id"], seq))
    return keys, body["alerts"]


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    sink = Sink(fail_first=2).start()
    w.add(sink.stop)
    secret_path = os.path.join(w.path, "ops.secret")
    with open(secret_path, "w") as f:
        f.write(SECRET + "\n")
    truth = harness.run_sim(redis, w.path, "--seed", 5, "--weeks", 64, "--per-week", 20000,
                            "--start", "2019-01-07", "--drift", "K024:sjukpenning:*:56:2.5")
    d = harness.Daemon(w.path, redis, conf_extra={"alerts": {"historical_age": "50y"}})
    with open(d.conf_path, "a") as f:
        f.write('\n[receiver "ops"]\ntype = webhook\nurl = http://127.0.0.1:%d/hook\n'
                'secret_file = %s\n' % (sink.port, secret_path))
    d.start()
    w.add(d.stop)
    d.wait_counted(truth.totals["written"], timeout=120)

    keys, alerts = expected_keys(d)
    check(alerts, "no alerts were raised")
    harness.wait_for(lambda: set(sink.ok) >= keys, 30, "every alert state at the receiver")
    check(sink.failed == 2, "the receiver failed %d times" % sink.failed)
    check(not sink.bad, "bad signatures or headers: %s" % sink.bad[:3])
    check(set(sink.ok) == keys, "unexpected notifications: %s" % (set(sink.ok) - keys))
    one = sink.ok[sorted(keys)[0]]
    for field in ("version", "alert_id", "status", "classification", "scope", "direction",
                  "series", "detected_at", "onset", "baseline_rate", "current_rate",
                  "expected_rate", "odds_ratio", "method", "explanations", "status_url"):
        check(field in one, "payload lacks %s" % field)
    s, dl = d.get("/v1/deliveries")
    check(s == 200 and dl["deliveries"] == [], "outbox not empty: %r" % dl)

    # The receiver goes away; a new alert state waits in the outbox, the
    # daemon is killed, the receiver comes back, the daemon delivers it.
    sink.stop()
    target = alerts[0]
    year, wk = target["onset"].split("-W")
    monday = datetime.date.fromisocalendar(int(year), int(wk), 1)
    expl = {"id": "note-1", "kind": "legislation", "effective_from": monday.isoformat(),
            "benefits": [target["series"]["benefit"]], "kinds": [target["series"]["kind"]],
            "offices": [], "reference": "", "description": "test"}
    s, _, raw = d.request("POST", "/v1/explanations", token=WRITE_TOKEN, body=expl)
    check(s == 201, "POST explanation: %s %s" % (s, raw))
    new_key = "%s.%d.ops" % (target["alert_id"], target["seq"] + 1)

    def waiting():
        s, dl = d.get("/v1/deliveries")
        return any(x["id"] == new_key and x["attempts"] >= 1 for x in dl["deliveries"])
    harness.wait_for(waiting, 15, "a failed attempt of %s in /v1/deliveries" % new_key)
    time.sleep(0.6)   # a checkpoint of the re-classification
    d.stop(signal.SIGKILL)
    sink.fail_left = 0
    sink.start()          # the same port: the configuration stays
    d.start()
    harness.wait_for(lambda: new_key in sink.ok, 30, "%s delivered after the restart" % new_key)
    check(sink.ok[new_key]["classification"] == "explained", "state %r" % sink.ok[new_key])


if __name__ == "__main__":
    harness.main(test, "webhook_delivery")
