"""Alert delivery, measured in the same run as its baselines:

- latency from the XADD of the batch of events that makes the detector
  raise an alert to that alert's arrival at a local webhook receiver;
- ingest throughput while a receiver hangs (accepts connections and never
  answers), against the same daemon with no receiver, and a check that
  nothing was dropped: every event counted, every notification waiting.
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402
from webhook_sink import Sink  # noqa: E402

PER_WEEK = 5000
HISTORY_WEEKS = 56
DRIFT_WEEKS = 12
DRIFTS = ["K%03d:sjukpenning:*:%d:2.5" % (o, HISTORY_WEEKS) for o in range(1, 21)]
CHUNK = 250


def sim_events(work):
    """Events of the whole run as XADD field lists, in stream order."""
    args = [os.path.join(harness.BUILD, "stabild-sim"), "--dry-run", "--seed", "21",
            "--weeks", str(HISTORY_WEEKS + DRIFT_WEEKS), "--per-week", str(PER_WEEK),
            "--start", "2020-01-06", "--timestamps", "unix"]
    for d in DRIFTS:
        args += ["--drift", d]
    out = subprocess.run(args, stdout=subprocess.PIPE, check=True).stdout.decode()
    return [json.loads(line) for line in out.splitlines() if line]


def resp(args):
    return b"*%d\r\n" % len(args) + b"".join(
        b"$%d\r\n%s\r\n" % (len(a), a) for a in (x.encode() if isinstance(x, str) else x
                                                 for x in args))


def xadd_many(sock, reader, events):
    """Pipelined XADDs; returns once Redis answered every one."""
    buf = b"".join(resp(["XADD", "stabild:decisions", "*"] +
                        [x for kv in ev.items() for x in kv]) for ev in events)
    sock.sendall(buf)
    for _ in events:
        reader.readline()


def latency(work):
    events = sim_events(work)
    start = 1578265200 + HISTORY_WEEKS * 7 * 86400   # Monday of the first drift week
    history = [e for e in events if int(e["decided_at"]) < start]
    live = [e for e in events if int(e["decided_at"]) >= start]
    redis = harness.Redis(work).start()
    sink = Sink().start()
    d = harness.Daemon(work, redis, name="latency", conf_extra={
        "alerts": {"historical_age": "50y"}, "log": {"level": "notice"},
        "redis": {"block": "1s"}})
    with open(d.conf_path, "a") as f:
        f.write('\n[receiver "hook"]\ntype = webhook\nurl = http://127.0.0.1:%d/\n' % sink.port)
    try:
        sock = socket.create_connection(("127.0.0.1", redis.port))
        reader = sock.makefile("rb")
        for i in range(0, len(history), 5000):
            xadd_many(sock, reader, history[i:i + 5000])
        d.start()
        d.wait_counted(len(history), timeout=300)
        before = set(sink.ok)
        sent_at = []          # (monotonic time of the XADDs, events so far)
        n = len(history)
        for i in range(0, len(live), CHUNK):
            chunk = live[i:i + CHUNK]
            t = time.monotonic()
            xadd_many(sock, reader, chunk)
            n += len(chunk)
            sent_at.append(t)
            d.wait_counted(n, timeout=60)
        harness.wait_for(lambda: d.get("/v1/deliveries")[1]["deliveries"] == [], 30,
                         "the outbox drained")
        lat = []
        for key, t1 in sink.arrived.items():
            if key in before:
                continue
            # The batch that was sent last before the alert arrived holds
            # the event that raised it: chunks go one at a time.
            t0 = max(t for t in sent_at if t <= t1)
            lat.append((t1 - t0) * 1000.0)
        sock.close()
    finally:
        d.stop()
        sink.stop()
        redis.stop()
    return sorted(lat)


class Hang:
    """A receiver that accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1000)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def ingest_with_receiver_down(work, total, rounds, run_stabild):
    """Throughput with a hanging receiver against none, rounds alternating."""
    hang = Hang()
    ratios, down_rates, none_rates = [], [], []
    pending = None
    try:
        for i in range(rounds):
            _, none_rate, _ = run_stabild(work, total, "plain-%d" % i, None)
            _, down_rate, _ = run_stabild(work, total, "down-%d" % i, hang.port)
            none_rates.append(none_rate)
            down_rates.append(down_rate)
            ratios.append(down_rate / none_rate)
            if pending is None:
                pending = outbox(os.path.join(work, "down-%d" % i))
    finally:
        hang.close()
    return none_rates, down_rates, ratios, pending


def outbox(state_dir):
    d = os.path.join(state_dir, "outbox")
    return len([n for n in os.listdir(d) if n.endswith(".json")]) if os.path.isdir(d) else 0


def report(work, total, rounds, run_stabild, alerts_in_stream):
    lat = latency(work)
    if lat:
        print("bench: event-to-webhook latency over loopback: %d alerts, p50 %.1f ms, "
              "p99 %.1f ms, max %.1f ms" % (len(lat), statistics.median(lat),
                                             lat[min(len(lat) - 1, int(len(lat) * 0.99))],
                                             lat[-1]))
    else:
        print("bench: event-to-webhook latency: no alert was raised")
    none_rates, down_rates, ratios, pending = ingest_with_receiver_down(work, total, rounds,
                                                                        run_stabild)
    print("bench: ingest with a hanging receiver: %.0f events/s against %.0f with none, "
          "ratio median %.2f (min %.2f)" % (statistics.median(down_rates),
                                           statistics.median(none_rates),
                                           statistics.median(ratios), min(ratios)))
    print("bench: with the receiver hanging every event was counted and %d notifications "
          "wait in the outbox (%d alert states raised)" % (pending, alerts_in_stream))
    return pending == alerts_in_stream and pending > 0
