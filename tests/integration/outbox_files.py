"""Notification files written straight into a daemon's outbox, in the
format alerts/spool.c reads: for tests and the catch-up benchmark that
need a backlog (or old, expired notifications) without waiting for them."""

import json
import os


def fnv1a64(s):
    h = 0xcbf29ce484222325
    for b in s.encode():
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def file_name(nid):
    """spool_file_name: a readable prefix and the id's FNV-1a hash."""
    prefix = "".join(c if (c.isascii() and (c.isalnum() or c in "-_" or (c == "." and i > 0)))
                     else "_" for i, c in enumerate(nid[:64]))
    return "%s-%016x.json" % (prefix, fnv1a64(nid))


def write(state_dir, nid, receiver, created_ms, next_ms, state="queued", attempts=0,
          last_error="", payload=None, group=""):
    """One notification file; payload is the body to send (a string)."""
    outbox = os.path.join(state_dir, "outbox")
    os.makedirs(outbox, exist_ok=True)
    if payload is None:
        payload = json.dumps({"version": 1, "seeded": nid})
    doc = {"version": 1, "id": nid, "receiver": receiver, "group": group,
           "content_type": "application/json", "created_at": created_ms, "next_at": next_ms,
           "attempts": attempts, "last_error": last_error, "state": state, "payload": payload}
    with open(os.path.join(outbox, file_name(nid)), "w") as f:
        json.dump(doc, f, separators=(",", ":"))


def count(state_dir):
    outbox = os.path.join(state_dir, "outbox")
    return sum(1 for n in os.listdir(outbox) if n.endswith(".json"))
