"""A webhook receiver on a free loopback port, for the delivery tests: it
checks the signature and headers of every request, can answer 500 or hang
for the first requests, can take delay_s over every answer, and keeps
each accepted body by Idempotency-Key, and every request in order."""

import hashlib
import hmac
import http.server
import json
import threading
import time

import harness


class Sink:
    def __init__(self, secret=None, fail_first=0, hang_first=0, hang_s=0.0, port=None,
                 delay_s=0.0, on_request=None):
        self.port = port or harness.free_port()
        self.secret = secret
        self.fail_left = fail_first
        self.hang_left = hang_first
        self.hang_s = hang_s
        self._ok = {}         # Idempotency-Key -> body, for 2xx answers
        self.arrived = {}     # Idempotency-Key -> monotonic time of the 2xx
        self.headers = {}     # Idempotency-Key -> request headers
        self.failed = 0
        self.hung = 0
        self.bad = []
        self.dups = []        # keys accepted a second time
        self.delay_s = delay_s
        # Every request as it arrived: {"key", "body", "stabild"} (its
        # X-Stabild-* headers); on_request(n, instance) runs as the n-th
        # arrives, instance from its X-Stabild-Instance.
        self.requests = []
        self.on_request = on_request
        self.lock = threading.RLock()   # ok takes it, also under a caller holding it
        self.server = None

    @property
    def ok(self):
        """Idempotency-Key -> body of every 2xx answer: a copy, so that a
        test may walk it while repeats still arrive."""
        with self.lock:
            return dict(self._ok)

    def start(self):
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                key = self.headers.get("Idempotency-Key", "")
                with sink.lock:
                    sink.requests.append({
                        "key": key, "body": body,
                        "stabild": {k: v for k, v in self.headers.items()
                                    if k.lower().startswith("x-stabild-")}})
                    nreq = len(sink.requests)
                if sink.on_request is not None:
                    sink.on_request(nreq, self.headers.get("X-Stabild-Instance"))
                if sink.delay_s > 0:
                    time.sleep(sink.delay_s)
                with sink.lock:
                    if sink.secret is not None:
                        ts = self.headers.get("X-Stabild-Timestamp", "")
                        sig = self.headers.get("X-Stabild-Signature", "")
                        want = "sha256=" + hmac.new(sink.secret.encode(),
                                                    ts.encode() + b"." + body,
                                                    hashlib.sha256).hexdigest()
                        if not hmac.compare_digest(sig, want):
                            sink.bad.append((key, "signature"))
                    if not key or self.headers.get("Content-Type") != "application/json":
                        sink.bad.append((key, self.headers.get("Content-Type")))
                    hang = sink.hang_left > 0
                    if hang:
                        sink.hang_left -= 1
                        sink.hung += 1
                if hang:
                    # Longer than the receiver's timeout: the daemon gives
                    # up first, so this request must not count.
                    time.sleep(sink.hang_s)
                    self.close_connection = True
                    return
                with sink.lock:
                    if sink.fail_left > 0:
                        sink.fail_left -= 1
                        sink.failed += 1
                        code = 500
                    else:
                        if key in sink._ok:
                            sink.dups.append(key)
                        sink._ok[key] = json.loads(body)
                        sink.arrived[key] = time.monotonic()
                        sink.headers[key] = dict(self.headers)
                        code = 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
