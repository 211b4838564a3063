#!/usr/bin/env python3
"""The local receivers of `make demo`: a webhook receiver that checks the
signature, and an SMTP server. Each notification that arrives is written
as one JSON line to --out; runs until it is terminated."""

import argparse
import email
import email.policy
import json
import os
import re
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "integration"))
from smtp_sink import SmtpSink  # noqa: E402
from webhook_sink import Sink  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--webhook-port", type=int, required=True)
    p.add_argument("--smtp-port", type=int, required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()

    hook = Sink(secret=args.secret, port=args.webhook_port).start()
    smtp = SmtpSink(port=args.smtp_port).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    seen_hook, seen_mail = set(), 0
    with open(args.out, "a") as out:
        while not stop.is_set():
            with hook.lock:
                new = [(k, v, time.time()) for k, v in hook.ok.items() if k not in seen_hook]
                bad = list(hook.bad)
            for key, body, t in new:
                seen_hook.add(key)
                alerts = body.get("alerts", [body])
                out.write(json.dumps({"via": "webhook", "key": key, "signed": not bad,
                                      "alerts": [{k: a[k] for k in ("alert_id", "status",
                                                                    "classification",
                                                                    "direction", "series",
                                                                    "onset", "odds_ratio",
                                                                    "indicator") if k in a}
                                                 for a in alerts]}) + "\n")
            for m in smtp.messages[seen_mail:]:
                seen_mail += 1
                msg = email.message_from_bytes(m["data"], policy=email.policy.default)
                out.write(json.dumps({"via": "email", "to": m["rcpt_to"],
                                      "subject": msg["Subject"],
                                      "alerts": len(re.findall(r"\(alert \S+, change \d+\)",
                                                               msg.get_content()))}) + "\n")
            out.flush()
            stop.wait(0.2)
    hook.stop()
    smtp.stop()


if __name__ == "__main__":
    main()
