#!/usr/bin/env python3
"""Alerts reach real local SMTP servers: over STARTTLS with AUTH, over
implicit TLS, and in plain text to a server that first refuses the
recipient. Checked: the envelope, the headers (UTF-8 names encoded, Date,
Message-ID, MIME), the body from the template, grouping of several alerts
into one message, every alert state exactly once per receiver, and the
refused recipient logged, retried, visible in /v1/deliveries and finally
delivered once the server accepts it. A webhook receiver on the same
grouping route gets signed POSTs with an alerts array instead."""

import email
import email.policy
import email.utils
import re

import harness
from harness import check
from smtp_sink import SmtpSink, make_self_signed
from webhook_sink import Sink

USER, PASSWORD = "stabild", "smtp-password-for-tests"
SECRET = "group-hook-secret-0123456789"
ALERT_LINE = re.compile(r"\(alert (\S+), change (\d+)\)")


def states(d):
    """Every alert state so far as (alert id, seq)."""
    s, body = d.get("/v1/alerts")
    check(s == 200, "GET /v1/alerts: %s" % s)
    return {(a["alert_id"], seq) for a in body["alerts"] for seq in range(1, a["seq"] + 1)}


def in_messages(messages):
    """(alert id, seq) of each alert listed in each message, in order."""
    out = []
    for m in messages:
        text = email.message_from_bytes(m["data"], policy=email.policy.default)
        out.extend((a, int(s)) for a, s in ALERT_LINE.findall(text.get_content()))
    return out


def check_message(m, d, tls, auth_user):
    raw = m["data"]
    check(m["mail_from"] == "larm@fk.example", "envelope from %r" % m["mail_from"])
    check(m["tls"] == tls and m["auth_user"] == auth_user,
          "tls %s, auth %s" % (m["tls"], m["auth_user"]))
    head = raw.split(b"\r\n\r\n", 1)[0]
    check(all(b < 0x80 for b in head), "non-ASCII bytes in the headers")
    check(b"\n" not in raw.replace(b"\r\n", b""), "a bare LF in the message")
    check(max(len(x) for x in raw.split(b"\r\n")) <= 998, "a line over 998 bytes")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    check(msg["MIME-Version"] == "1.0", "MIME-Version %r" % msg["MIME-Version"])
    check(msg.get_content_type() == "text/plain" and
          msg.get_content_charset() == "utf-8", "content type %r" % msg["Content-Type"])
    check(email.utils.parsedate_to_datetime(msg["Date"]) is not None, "Date %r" % msg["Date"])
    check(re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", msg["Message-ID"] or ""),
          "Message-ID %r" % msg["Message-ID"])
    check(msg["Subject"] and "stabild" in msg["Subject"].lower(), "Subject %r" % msg["Subject"])
    body = msg.get_content()
    check("http://127.0.0.1:%d/v1/series/" % d.http_port in body, "no series link in the body")
    check("At detection: rejection rate" in body and "case mix explains" in body, "body:\n" + body)
    return msg


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    cert, key = make_self_signed(w.path)
    ops = SmtpSink(starttls_cert=cert, starttls_key=key, require_starttls=True,
                   auth={USER: PASSWORD}).start()
    w.add(ops.stop)
    secure = SmtpSink(starttls_cert=cert, starttls_key=key, implicit_tls=True).start()
    w.add(secure.stop)
    tillsyn = SmtpSink(reject_rcpt={"tillsyn@fk.example"}).start()
    w.add(tillsyn.stop)
    plain = SmtpSink().start()          # offers no STARTTLS
    w.add(plain.stop)
    hook = Sink(secret=SECRET).start()
    w.add(hook.stop)
    secret_path = harness.secret_file(w.path, "hook.secret", SECRET + "\n")
    auth_path = harness.secret_file(w.path, "smtp.auth", "%s\n%s\n" % (USER, PASSWORD))

    truth = harness.run_two_drifts(redis, w.path)
    d = harness.Daemon(w.path, redis, conf_extra={
        "alerts": {"historical_age": "50y", "retry_max": "2s"}})
    with open(d.conf_path, "a") as f:
        f.write("""
[receiver "ops-mail"]
type = email
url = smtp://127.0.0.1:%d
starttls = required
ca_file = %s
auth_file = %s
from = Stabild Larm <larm@fk.example>
to = Öster Åsa <ops@fk.example>, second@fk.example
cc = chef@fk.example

[receiver "secure-mail"]
type = email
url = smtps://127.0.0.1:%d
ca_file = %s
from = larm@fk.example
to = secure@fk.example

[receiver "tillsyn"]
type = email
url = smtp://127.0.0.1:%d
starttls = off
from = larm@fk.example
to = tillsyn@fk.example

[receiver "opt-mail"]
type = email
url = smtp://127.0.0.1:%d
starttls = optional
from = larm@fk.example
to = optional@fk.example

[receiver "must-tls"]
type = email
url = smtp://127.0.0.1:%d
starttls = required
from = larm@fk.example
to = required@fk.example

[receiver "group-hook"]
type = webhook
url = http://127.0.0.1:%d/hook
secret_file = %s

[route "all"]
receivers = ops-mail, secure-mail, tillsyn, opt-mail, must-tls, group-hook
group_wait = 3s
""" % (ops.port, cert, auth_path, secure.port, cert, tillsyn.port, plain.port, plain.port,
       hook.port, secret_path))
    d.start()
    w.add(d.stop)
    d.wait_counted(truth.totals["written"], timeout=120)
    want = states(d)
    check(len(want) >= 2, "too few alert states to test grouping: %s" % want)

    # The refusing server: the attempt fails, is logged and retried.
    def refused_and_waiting():
        s, dl = d.get("/v1/deliveries")
        return [x for x in dl["deliveries"] if x["receiver"] == "tillsyn" and
                x["attempts"] >= 2 and "550" in (x["last_error"] or "")]
    waiting = harness.wait_for(refused_and_waiting, 30, "retries of the refused recipient")
    check(waiting[0]["state"] in ("retry", "inflight"), "state %r" % waiting[0])
    check(waiting[0]["group"] == "all", "group %r" % waiting[0])
    check(tillsyn.messages == [] and tillsyn.rcpt_rejections, "the refusing server took mail")
    check(re.search(r"<4>.*deliver: .* to tillsyn failed .*RCPT", d.log()),
          "no warning about the refused recipient in the log")

    # starttls = required against a server without it: nothing is sent.
    def tls_refused():
        s, dl = d.get("/v1/deliveries")
        return [x for x in dl["deliveries"] if x["receiver"] == "must-tls" and
                x["attempts"] >= 1 and x["last_error"]]
    harness.wait_for(tls_refused, 30, "the refused STARTTLS in /v1/deliveries")

    for sink, tls, auth_user, rcpt in (
            (ops, True, USER, ["ops@fk.example", "second@fk.example", "chef@fk.example"]),
            (secure, True, None, ["secure@fk.example"]),
            (plain, False, None, ["optional@fk.example"])):
        harness.wait_for(lambda: set(in_messages(sink.messages)) >= want, 40,
                         "every alert state by mail")
        listed = in_messages(sink.messages)
        check(len(listed) == len(set(listed)), "an alert state sent twice: %s" % listed)
        check(set(listed) == want, "unexpected states: %s" % (set(listed) - want))
        check(any(len(ALERT_LINE.findall(email.message_from_bytes(
            m["data"], policy=email.policy.default).get_content())) >= 2
            for m in sink.messages), "no message grouped several alerts")
        for m in sink.messages:
            check(m["rcpt_to"] == rcpt, "envelope recipients %r" % m["rcpt_to"])
            msg = check_message(m, d, tls, auth_user)
        if sink is ops:
            check(msg["From"].addresses[0].display_name == "Stabild Larm", "From %r" % msg["From"])
            check(msg["To"].addresses[0].display_name == "Öster Åsa", "To %r" % msg["To"])
            check(msg["Cc"].addresses[0].addr_spec == "chef@fk.example", "Cc %r" % msg["Cc"])

    # The webhook on the grouping route: one POST per group, signed, with
    # the members in an alerts array, each state once.
    def hook_states():
        return [(a["alert_id"], a["seq"]) for b in hook.ok.values() for a in b["alerts"]]
    harness.wait_for(lambda: set(hook_states()) >= want, 40, "every alert state by webhook")
    check(not hook.bad and not hook.dups, "webhook: bad %s, twice %s" % (hook.bad, hook.dups))
    check(len(hook_states()) == len(set(hook_states())), "a state in two groups")
    for key, body in hook.ok.items():
        check(re.fullmatch(r"g-[0-9a-f]{32}", key), "group key %r" % key)
        check(body["version"] == 1 and body["group"]["route"] == "all" and
              body["group"]["receiver"] == "group-hook" and
              body["group"]["count"] == len(body["alerts"]), "group %r" % body["group"])
    check(any(len(b["alerts"]) >= 2 for b in hook.ok.values()), "no webhook grouped alerts")

    # The server accepts again: what waited arrives, once.
    tillsyn.set_reject_rcpt(None)
    harness.wait_for(lambda: set(in_messages(tillsyn.messages)) >= want, 40,
                     "the refused notifications after the server recovered")
    listed = in_messages(tillsyn.messages)
    check(len(listed) == len(set(listed)), "an alert state sent twice: %s" % listed)
    harness.wait_for(lambda: {x["receiver"] for x in d.get("/v1/deliveries")[1]["deliveries"]}
                     == {"must-tls"}, 10, "an outbox holding only the STARTTLS failures")
    check(all(m["rcpt_to"] != ["required@fk.example"] for m in plain.messages),
          "mail went out without the required STARTTLS")
    m = harness.get_metrics(d)
    check(m["stabild_notification_retries_total"] >= 2, "retries %r" %
          m["stabild_notification_retries_total"])
    check(m["stabild_outbox_pending"] >= 1, "pending %r" % m["stabild_outbox_pending"])
    check(PASSWORD not in d.log(), "the SMTP password reached the log")


if __name__ == "__main__":
    harness.main(test, "email_delivery")
