#!/usr/bin/env python3
"""Print what a person wants to see after the demo: counts against the
simulator's ground truth, the national series, the offices furthest from
the national rate, dead-lettered entries, and alerts when there are any."""

import argparse
import json
import socket
import sys
import time
import urllib.error
import urllib.request


def get(args, path):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (args.port, path))
    req.add_header("Authorization", "Bearer " + args.token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
            return r.status, json.loads(body) if r.headers.get_content_type() == "application/json" else body.decode()
    except urllib.error.HTTPError as e:
        return e.code, None


def truth_totals(path):
    totals = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#total"):
                for kv in line.split()[1:]:
                    k, v = kv.split("=")
                    totals[k] = int(v)
    return totals


def redis_xrange(port, key, count):
    s = socket.create_connection(("127.0.0.1", port))
    args = [b"XREVRANGE", key.encode(), b"+", b"-", b"COUNT", str(count).encode()]
    s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
    data = b""
    s.settimeout(2)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            if len(chunk) < 65536:
                break
    except socket.timeout:
        pass
    s.close()
    # Pull out the "reason" values: good enough for a demo listing.
    parts = data.split(b"\r\n")
    return [parts[i + 2].decode(errors="replace") for i in range(len(parts) - 2) if parts[i] == b"reason"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--redis-port", type=int, required=True)
    ap.add_argument("--received", help="JSON lines the local receivers wrote")
    args = ap.parse_args()

    totals = truth_totals(args.truth)
    want = totals["valid"] + totals["malformed"] + totals["duplicates"]
    start = time.monotonic()
    while True:
        s, st = get(args, "/v1/status")
        ev = st["events"] if s == 200 else {}
        done = ev.get("counted", 0) + ev.get("deadlettered", 0) + ev.get("duplicates", 0)
        if done >= want or time.monotonic() - start > 300:
            break
        time.sleep(0.5)
    took = time.monotonic() - start

    print()
    print("== stabild status (GET /v1/status)")
    print("  stream %-10s lag %s, pending %s, closed through %s, watermark %s" % (
        st["stream"]["state"], st["stream"]["lag"], st["stream"]["pending"],
        st["closed_through"], st["watermark"]))
    print("  counted %d (simulator: %d valid)   dead-lettered %d (simulator: %d malformed)   "
          "duplicates %d (simulator: %d)" % (ev["counted"], totals["valid"], ev["deadlettered"],
                                           totals["malformed"], ev["duplicates"], totals["duplicates"]))
    by_event = ev.get("by_event", {})
    if by_event:
        print("  by event kind: " + ", ".join("%s %d" % kv for kv in by_event.items()))
    print("  %d series in %d offices; %d late events; caught up %.1fs after the simulator finished" % (
        st["series"], st["offices"], ev["late"], took))
    ok = (ev["counted"], ev["deadlettered"], ev["duplicates"]) == (
        totals["valid"], totals["malformed"], totals["duplicates"])
    print("  counts agree with the ground truth: %s" % ("yes" if ok else "NO"))

    s, body = get(args, "/v1/series?office=national")
    print()
    print("== national series, rejection rate (GET /v1/series?office=national)")
    print("  %-26s %-8s %9s %8s %8s %8s" % ("benefit", "kind", "decisions", "4w", "13w", "52w"))
    for x in body["series"]:
        r = x["rolling"]
        fmt = lambda w: "%.1f%%" % (100 * w["rejection_rate"]) if w["rejection_rate"] is not None else "-"
        print("  %-26s %-8s %9d %8s %8s %8s" % (x["benefit"], x["kind"], x["total"]["decisions"],
                                               fmt(r["4w"]), fmt(r["13w"]), fmt(r["52w"])))

    s, body = get(args, "/v1/series?benefit=sjukpenning&kind=first")
    nat = [x for x in body["series"] if x["office"] == "national"][0]["rolling"]["13w"]["rejection_rate"]
    offices = [x for x in body["series"] if x["office"] != "national" and x["rolling"]["13w"]["decisions"] > 0]

    def z(x):
        # Standardised distance from the national rate: fair to small offices.
        w = x["rolling"]["13w"]
        n = w["decisions"]
        return (w["rejected"] - n * nat) / max(1e-9, (n * nat * (1 - nat)) ** 0.5)
    offices.sort(key=lambda x: -abs(z(x)))
    print()
    print("== sjukpenning/first, last 13 weeks: offices furthest from the national rate (%.1f%%)" % (100 * nat))
    for x in offices[:5]:
        w = x["rolling"]["13w"]
        print("  %-6s %6d decisions  %5.1f%% rejected  z = %+5.1f  state %s" % (
            x["office"], w["decisions"], 100 * w["rejection_rate"], z(x), x["state"]))

    s, body = get(args, "/v1/indicators")
    if s == 200:
        print()
        print("== indicators, national state (GET /v1/indicators)")
        for ind in body["indicators"]:
            firing = ind.get("firing", 0)
            print("  %-16s %-32s %5d series, %d alerts firing" % (
                ind["name"], ind["label"], ind.get("series", 0), firing))
            for nat in ind.get("national", []):
                rate = nat.get("rate_13w")
                print("    %-24s %-8s %-12s 13w %s of %d" % (
                    nat["benefit"], nat["kind"], nat.get("state") or "-",
                    "%.1f%%" % (100 * rate) if rate is not None else "-", nat.get("n_13w") or 0))

    print()
    print("== dead-lettered entries (newest 3 reasons in stabild:deadletter)")
    for reason in redis_xrange(args.redis_port, "stabild:deadletter", 3):
        print("  " + reason)

    s, body = get(args, "/v1/alerts")
    print()
    if s == 200:
        alerts = body.get("alerts", [])
        print("== alerts (GET /v1/alerts): %d; the simulated changes started 2024-W18" % len(alerts))
        alerts.sort(key=lambda a: (a.get("indicator", "rejection") != "rejection",
                                   a.get("indicator", ""), a["alert_id"]))
        for a in alerts:
            print("  %-15s %-8s %-11s %s/%s/%s %s since %s, odds ratio %.2f; rate %.1f%% (expected "
                  "%.1f%%, before %.1f%%)%s" % (
                      a.get("indicator", "rejection"),
                      a["status"], a["classification"], a["series"]["office"], a["series"]["benefit"],
                      a["series"]["kind"], a["direction"], a["onset"], a["odds_ratio"],
                      100 * a["current_rate"], 100 * a["expected_rate"], 100 * a["baseline_rate"],
                      "; top stratum " + a["strata"][0]["stratum"] if a.get("strata") else ""))
        # The injected reconsideration drift (demo.sh) must be among them.
        found = [a for a in alerts if a.get("indicator") == "reconsideration"
                 and a["series"]["office"] == "K057" and a["direction"] == "up"]
        print("  K057's reconsideration drift: %s" % (
            "found, " + found[0]["alert_id"] if found else "NOT FOUND"))
        ok = ok and bool(found)
    else:
        print("== alerts: GET /v1/alerts answered %s" % s)
    if args.received:
        ok = report_received(args) and ok
    return 0 if ok else 1


def report_received(args):
    """Wait for the outbox to drain, then show what the receivers got."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        s, body = get(args, "/v1/deliveries")
        if s == 200 and not body["deliveries"]:
            break
        time.sleep(0.2)
    time.sleep(0.5)    # the receivers write what arrived every 0.2 s
    lines = []
    with open(args.received) as f:
        lines = [json.loads(x) for x in f if x.strip()]
    hooks = [x for x in lines if x["via"] == "webhook"]
    mails = [x for x in lines if x["via"] == "email"]
    print()
    print("== at the local webhook receiver: %d notifications, %s" % (
        len(hooks), "every signature valid" if all(x["signed"] for x in hooks) else
        "BAD SIGNATURES"))
    for x in hooks:
        for a in x["alerts"]:
            seq = x["key"].rsplit(".", 2)[-2] if len(x["alerts"]) == 1 else "?"
            print("  %s%s/%s/%s %s since %s, odds ratio %.2f: state %s, %s, %s" % (
                a["indicator"] + " " if a.get("indicator") else "",
                a["series"]["office"], a["series"]["benefit"], a["series"]["kind"],
                a["direction"], a["onset"], a["odds_ratio"], seq, a["status"],
                a["classification"]))
    print("== at the local SMTP server: %d messages (alerts arriving within 3 s are grouped)"
          % len(mails))
    for x in mails:
        print("  to %s: %s (%d alerts)" % (", ".join(x["to"]), x["subject"], x["alerts"]))
    return bool(hooks) and bool(mails) and all(x["signed"] for x in hooks)


if __name__ == "__main__":
    sys.exit(main())
