#!/usr/bin/env python3
"""The API's answers at its edges: a method a path does not take is 405
with Allow; a body over http.max_body is 413 in JSON (a small one, 900 KB
and chunked) and the connection stays usable; broken escapes and bytes
that are not UTF-8 in the path or query are 400 (404 for a valid unknown
name), never 500, and the daemon answers afterwards; an answer over 16 KB
on a kept-alive connection comes at once, not after a delayed ACK; and
the links in webhooks come from http.public_url, or from the address
actually bound (port 0) once it is unset."""

import http.client
import json
import re
import signal
import socket
import statistics
import time

import harness
from harness import READ_TOKEN, WRITE_TOKEN, check
from webhook_sink import Sink

MAX_BODY = 8192
PUBLIC = "https://stabild.example.se/base/"


def conn(d):
    return http.client.HTTPConnection("127.0.0.1", d.http_port, timeout=10)


def answer(c, method, path, body=None, token=WRITE_TOKEN, headers=None, chunked=False):
    """(status, headers, parsed JSON or raw bytes) on connection c."""
    h = {"Authorization": "Bearer " + token}
    if body is not None:
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    c.request(method, path, body=body, headers=h, encode_chunked=chunked)
    r = c.getresponse()
    raw = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    if raw and hdrs.get("content-type", "").startswith("application/json"):
        return r.status, hdrs, json.loads(raw)
    return r.status, hdrs, raw


def raw_request(d, target):
    """Send a request line as bytes (no client-side checks); the status and
    the JSON body."""
    with socket.create_connection(("127.0.0.1", d.http_port), timeout=10) as s:
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                  b"Authorization: Bearer " + READ_TOKEN.encode() + b"\r\n\r\n")
        data = b""
        while True:
            part = s.recv(65536)
            if not part:
                break
            data += part
    head, _, body = data.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 "), "%r: no answer (%r)" % (target, data[:80]))
    status = int(head.split()[1])
    check(b"content-type: application/json" in head.lower(),
          "%r: %d is not JSON: %r" % (target, status, data[:200]))
    return status, json.loads(body)


def methods(d):
    c = conn(d)
    for method, path, allow in (("PUT", "/v1/status", "GET, HEAD"),
                                ("POST", "/v1/status", "GET, HEAD"),
                                ("DELETE", "/v1/series", "GET, HEAD"),
                                ("PATCH", "/v1/explanations", "GET, HEAD, POST"),
                                ("OPTIONS", "/v1/alerts", "GET, HEAD"),
                                ("HEAD", "/v1/checkpoint", "POST"),
                                ("PUT", "/v1/silences/x", "GET, HEAD, DELETE"),
                                ("TRACE", "/healthz", "GET, HEAD")):
        s, h, body = answer(c, method, path)
        check(s == 405, "%s %s: %s %r" % (method, path, s, body))
        check(h.get("allow") == allow, "%s %s: Allow %r" % (method, path, h.get("allow")))
        if method != "HEAD":
            check(body["error"] == "method_not_allowed" and method in body["message"],
                  "%s %s: %r" % (method, path, body))
    for method in ("PUT", "GET", "DELETE"):
        s, _, body = answer(c, method, "/v1/nothing")
        check(s == 404 and body["error"] == "not_found", "%s /v1/nothing: %s %r" % (
            method, s, body))
    c.close()


def bodies(d):
    c = conn(d)
    # At the limit: read and judged (not JSON, so 400), not refused.
    s, _, body = answer(c, "POST", "/v1/explanations", b"{" + b" " * (MAX_BODY - 1))
    check(s == 400 and "JSON" in body["message"], "a body at the limit: %s %r" % (s, body))
    for what, size in (("just over", MAX_BODY + 1), ("900 KB", 900 * 1024)):
        big = b"[" + b" " * (size - 2) + b"]"
        s, _, body = answer(c, "POST", "/v1/silences", big)
        check(s == 413 and body["error"] == "too_large" and str(MAX_BODY) in body["message"],
              "%s: %s %r" % (what, s, body))
        s, _, body = answer(c, "GET", "/healthz")
        check(s == 200, "the connection after a %s body: %s" % (what, s))
    # Chunked, 128 KB in 16 KB chunks; a write on a GET route too.
    chunks = [b" " * 16384 for _ in range(8)]
    s, h, body = answer(c, "POST", "/v1/explanations", iter(chunks), chunked=True)
    check(s == 413 and body["error"] == "too_large", "chunked: %s %r" % (s, body))
    s, _, body = answer(c, "GET", "/v1/status", iter([b"x" * (MAX_BODY + 10)]), chunked=True)
    check(s == 413, "a GET with a chunked body: %s %r" % (s, body))
    s, _, _ = answer(c, "GET", "/healthz")
    check(s == 200, "the connection after a chunked body: %s" % s)
    c.close()
    # Far over (beyond what stabild reads for a JSON answer): still an
    # answer, once the body has been read, not a reset.
    c = conn(d)
    s, _, _ = answer(c, "POST", "/v1/silences", b" " * (3 * 1024 * 1024))
    check(s == 413, "3 MB: %s" % s)
    c.close()


def bad_paths(d):
    long_name = ("K" * 63 + "\u00e5").encode()
    cases = (
        (b"/v1/series/%ff%fe/sjukpenning/first", 400),
        (b"/v1/series/%zz/sjukpenning/first", 400),
        (b"/v1/series/%f/sjukpenning/first", 400),
        (b"/v1/series/K001/sjukpenning/first%", 400),
        (b"/v1/series/\xff/sjukpenning/first", 400),
        (b"/v1/series/K001/%c0%af/first", 400),          # overlong '/'
        (b"/v1/series/K001/sjukpenning/%ed%a0%80", 400),  # a surrogate
        (b"/v1/alerts/%e2%82", 400),                      # cut short
        (b"/v1/explanations/\xfe\xff", 400),
        (b"/v1/silences/%FF", 400),
        (b"/ui/%ff.js", 400),
        (b"/v1/series?office=%ff", 400),
        (b"/v1/series?%ff=1", 400),
        (b"/v1/series?office=%zz", 400),
        (b"/v1/series?benefit=\xff", 400),
        (b"/v1/series/%C3%A5/sjukpenning/first", 404),   # a valid unknown name
        (b"/v1/series/" + long_name.replace(b"\xc3\xa5", b"%C3%A5") +
         b"/sjukpenning/first", 404),                     # quoted, cut at 64 bytes
        (b"/v1/explanations/%E2%82%AC", 404),
        (b"/v1/nothing/%ff", 400),
    )
    for target, want in cases:
        s, body = raw_request(d, target)
        check(s == want, "%r: %d %r, want %d" % (target, s, body, want))
        check(body["error"] in ("bad_request", "not_found") and body["message"],
              "%r: %r" % (target, body))
    check(d.proc.poll() is None, "stabild died")
    s, body = d.get("/v1/status")
    check(s == 200 and body["version"], "GET /v1/status afterwards: %s" % s)
    check(not harness.log_lines(d, "<3>"), "errors logged: %s" % harness.log_lines(d, "<3>")[:3])


def keepalive(d):
    """Sequential GETs of an answer over 16 KB on one connection: without
    TCP_NODELAY each waited about 40 ms for the client's delayed ACK. Each
    is paired with the same GET on a new connection (where the client
    acknowledges at once), so that the time spent building the answer,
    long under ASan, cancels out."""
    path = "/v1/series?limit=20"
    c = conn(d)
    s, _, raw = answer(c, "GET", path, token=READ_TOKEN)
    check(s == 200, "GET %s: %s" % (path, s))
    size = len(json.dumps(raw))
    check(size > 20 * 1024, "the answer is only %d bytes" % size)
    kept, fresh = [], []
    for _ in range(20):
        t0 = time.perf_counter()
        s, _, _ = answer(c, "GET", path, token=READ_TOKEN)
        kept.append((time.perf_counter() - t0) * 1000)
        check(s == 200, "keep-alive GET: %s" % s)
        one = conn(d)
        t0 = time.perf_counter()
        s, _, _ = answer(one, "GET", path, token=READ_TOKEN)
        fresh.append((time.perf_counter() - t0) * 1000)
        one.close()
        check(s == 200, "GET on a new connection: %s" % s)
    c.close()
    mk, mf = statistics.median(kept), statistics.median(fresh)
    print("http_answers: %d-byte answer, median on a kept-alive connection %.1f ms, "
          "on a new one %.1f ms" % (size, mk, mf))
    check(mk < mf + 20, "keep-alive median %.1f ms against %.1f ms on new connections "
          "(%s)" % (mk, mf, ["%.1f" % t for t in kept]))


def links(d, redis, sink, truth):
    d.wait_counted(truth.totals["written"], timeout=120)
    harness.wait_for(lambda: sink.ok, 30, "a webhook")
    for key, body in sink.ok.items():
        url = body["status_url"]
        check(re.fullmatch(r"https://stabild\.example\.se/base/v1/series/K001/\w+/\w+", url),
              "%s: status_url %r" % (key, url))
    s, body = d.get("/v1/alerts")
    check(s == 200 and body["alerts"], "GET /v1/alerts: %s" % s)
    check(all(a["status_url"].startswith(PUBLIC + "v1/series/") for a in body["alerts"]),
          "alert links %r" % [a["status_url"] for a in body["alerts"]][:3])

    # Unset: the bound address with the port picked for port 0.
    del d.sections["http"]["public_url"]
    d.write_conf()
    with open(d.conf_path, "a") as f:
        f.write(sink.conf)
    d.send_signal(signal.SIGHUP)
    want = "http://127.0.0.1:%d/v1/series/" % d.http_port

    def relinked():
        s, body = d.get("/v1/alerts")
        return s == 200 and all(a["status_url"].startswith(want) for a in body["alerts"])
    harness.wait_for(relinked, 15, "links to %s after the reload" % want)


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    sink = Sink().start()
    w.add(sink.stop)
    sink.conf = '\n[receiver "ops"]\ntype = webhook\nurl = http://127.0.0.1:%d/hook\n' % sink.port
    # A small country whose office K001 rejects more from week 16.
    truth = harness.run_sim(redis, w.path, "--seed", 5, "--offices", 5, "--weeks", 24,
                            "--per-week", 5000, "--start", "2019-01-07",
                            "--drift", "K001:*:*:16:3.0")
    d = harness.Daemon(w.path, redis, conf_extra={
        "http": {"port": "0", "max_body": str(MAX_BODY), "public_url": PUBLIC},
        "detector": {"min_reference_weeks": "13"},
        "alerts": {"historical_age": "50y"}})
    with open(d.conf_path, "a") as f:
        f.write(sink.conf)
    d.start(wait=False)
    w.add(d.stop)
    port = harness.wait_for(lambda: re.search(r"http: listening on 127\.0\.0\.1:(\d+)",
                                              d.log()), 15, "the port stabild bound")
    d.http_port = int(port.group(1))
    harness.wait_for(d.alive_http, 15, "stabild /healthz")

    methods(d)
    bodies(d)
    bad_paths(d)
    links(d, redis, sink, truth)
    keepalive(d)


if __name__ == "__main__":
    harness.main(test, "http_answers")
