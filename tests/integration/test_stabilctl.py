#!/usr/bin/env python3
"""stabilctl against a private daemon: every command, in tables and with
--json, its values checked against the API (and the series against the
simulator's truth); status --check before and after unexplained alerts, and
after an explanation covers them; the explanation and silence round trips;
and the error paths: daemon down, a daemon that does not answer, no token,
a wrong token, the read token for a write, a token on the command line,
bad usage, and the API's own errors. Human output is rounded (rates in
per cent, odds ratios to two places), the alerts table fits 100 columns
unless --wide (a cut id is still taken), `alerts ID` links to the
dashboard, and `status --check` says only its verdict unless --verbose."""

import datetime
import json
import os
import re
import socket
import subprocess
import time

import harness
from harness import check

CTL = os.path.join(harness.BUILD, "stabilctl")
START = "2019-01-07"
WEEKS = 30
BAD_TOKEN = "not-a-valid-token-0123456789"
# The daemon's http.public_url: alerts link to the dashboard under it.
PUBLIC_URL = "https://desk.example.se/stabild"


class Ctl:
    """Runs stabilctl with a clean environment: no STABILD_TOKEN or
    STABILCTL_URL unless a call passes them."""

    def __init__(self, workdir):
        # Nothing listens here: a usage error that sent a request would
        # exit 3, not 1.
        self.url = "http://127.0.0.1:%d" % harness.free_port()
        self.tokens = {}
        for name, token in (("read", harness.READ_TOKEN), ("write", harness.WRITE_TOKEN),
                            ("bad", BAD_TOKEN)):
            path = os.path.join(workdir, name + ".token")
            with open(path, "w") as f:
                f.write(token + "\n")
            os.chmod(path, 0o600)
            self.tokens[name] = path

    def run(self, *args, token="read", url=True, env=None, timeout=30):
        """(exit code, stdout, stderr). token: a name of tokens, or None."""
        e = {k: v for k, v in os.environ.items() if k not in ("STABILD_TOKEN", "STABILCTL_URL")}
        e.update(env or {})
        cmd = [CTL]
        if url:
            cmd += ["--url", self.url]
        if token is not None:
            cmd += ["--token-file", self.tokens[token]]
        r = subprocess.run(cmd + [str(a) for a in args], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=timeout, env=e)
        return r.returncode, r.stdout, r.stderr

    def ok(self, *args, **kw):
        rc, out, err = self.run(*args, **kw)
        check(rc == 0, "stabilctl %s: exit %d, stderr %r" % (" ".join(map(str, args)), rc, err))
        check(err == "", "stabilctl %s: stderr %r" % (" ".join(map(str, args)), err))
        return out

    def json(self, *args, **kw):
        out = self.ok("--json", *args, **kw)
        check(out.startswith("{\n  \""), "--json %s is not indented: %r" % (args, out[:40]))
        return json.loads(out)

    def fails(self, code, *args, message=None, **kw):
        """Expect exit code and one line on stderr (containing message)."""
        rc, out, err = self.run(*args, **kw)
        what = "stabilctl %s" % " ".join(map(str, args))
        check(rc == code, "%s: exit %d, expected %d (stderr %r)" % (what, rc, code, err))
        check(out == "", "%s: printed %r on stdout" % (what, out))
        check(err.startswith("stabilctl: ") and err.endswith("\n") and err.count("\n") == 1,
              "%s: stderr is not one line: %r" % (what, err))
        if message is not None:
            check(message in err, "%s: stderr %r lacks %r" % (what, err, message))
        return err


def table(text):
    """Header and rows of an aligned table (columns are two blanks apart,
    a cell holds at most single blanks, as in "11.7 %"); the lines after
    the table (a blank line or a footer) are returned apart."""
    lines = text.rstrip("\n").split("\n")
    head = lines[0].split()
    rows, rest = [], []
    for line in lines[1:]:
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) == len(head) and not rest:
            rows.append(dict(zip(head, cells)))
        else:
            rest.append(line)
    return head, rows, rest


def pairs(text):
    """"key  value" lines up to the first blank line, as a dict."""
    out = {}
    for line in text.split("\n"):
        if not line:
            break
        key, value = re.split(r"\s{2,}", line, maxsplit=1)
        out[key] = value
    return out


def num(v, decimals):
    return "-" if v is None else "%.*f" % (decimals, v)


def pct(v):
    """A rate as stabilctl prints it: per cent, one decimal."""
    return "-" if v is None else "%.1f %%" % (v * 100)


# A figure with three decimals or more: no rate, odds ratio, interval or
# CUSUM value in the human output has one.
LONG_FIGURE = re.compile(r"\d\.\d{3,}")
PCT = re.compile(r"^\d{1,3}\.\d %$")


def rounded(what, out):
    """No line of a human output carries an unrounded figure."""
    for line in out.split("\n"):
        check(not LONG_FIGURE.search(line), "%s: unrounded figure in %r" % (what, line))


def later(hours):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def api(d, path):
    s, body = d.get(path)
    check(s == 200, "GET %s: %s %r" % (path, s, body))
    return body


def usage_errors(c):
    """Exit 1 for bad usage, before any request."""
    rc, out, err = c.run(token=None)
    check(rc == 1 and "usage: stabilctl" in err and out == "", "no command: %d %r" % (rc, err))
    c.fails(1, "frobnicate", message="unknown command 'frobnicate'")
    c.fails(1, "explain", message="explain needs one of: list show add rm")
    c.fails(1, "explain", "purge", message="explain needs one of")
    c.fails(1, "status", "--nope", message="unknown option --nope")
    c.fails(1, "status", "-x", message="unknown option -x")
    c.fails(1, "status", "--json=yes", message="option --json=yes takes no value")
    c.fails(1, "status", "extra", message="unexpected argument 'extra'")
    c.fails(1, "series", "K001", message="give OFFICE BENEFIT KIND")
    c.fails(1, "series", "K001", "sjukpenning", "first", "--office", "K001",
            message="filters do not go with")
    c.fails(1, "series", "--period", "month", message="need OFFICE BENEFIT KIND")
    c.fails(1, "alerts", "some.id", "--status", "firing", message="filters do not go")
    c.fails(1, "explain", "show", message="missing ID")
    c.fails(1, "explain", "add", "x", "--kind", "legislation",
            message="--kind and --effective-from are required")
    c.fails(1, "silence", "add", "--duration", "1h", "--comment", "c",
            message="at least one matcher")
    c.fails(1, "silence", "add", "--office", "K001", "--comment", "c",
            message="one of --ends and --duration")
    c.fails(1, "silence", "add", "--office", "K001", "--ends", later(1), "--duration", "1h",
            "--comment", "c", message="one of --ends and --duration")
    c.fails(1, "silence", "add", "--office", "K001", "--duration", "2 days", "--comment", "c",
            message="--duration: expected")
    c.fails(1, "silence", "add", "--office", "K001", "--duration", "1h",
            message="--comment is required")
    c.fails(1, "model", "show", "sjukpenning", message="give BENEFIT and KIND")
    c.fails(1, "status", "--timeout", "soon", message="--timeout: expected seconds")
    c.fails(1, "status", "--timeout", "0", message="--timeout")
    c.fails(1, "--url", "ftp://127.0.0.1:1", "status", url=False, message="--url: expected")
    c.fails(1, "status", url=False, env={"STABILCTL_URL": "ftp://127.0.0.1:1"},
            message="STABILCTL_URL: expected")
    c.fails(1, "status", "--url", message="option --url needs a value")

    # The token is never taken from the command line.
    for args in (["--token", harness.READ_TOKEN, "status"],
                 ["--token=" + harness.READ_TOKEN, "status"],
                 ["status", "--token", harness.READ_TOKEN]):
        err = c.fails(1, *args, token=None, message="not taken on the command line")
        check(harness.READ_TOKEN not in err, "the token is echoed: %r" % err)
    missing = os.path.join(os.path.dirname(c.tokens["read"]), "missing.token")
    c.fails(1, "--token-file", missing, "status", token=None,
            message="cannot read the token file %s: No such file or directory" % missing)
    empty = os.path.join(os.path.dirname(c.tokens["read"]), "empty.token")
    with open(empty, "w") as f:
        f.write("\n")
    os.chmod(empty, 0o600)
    c.fails(1, "--token-file", empty, "status", token=None, message="no token in " + empty)

    # Help is no error; every command is listed.
    out = c.ok("--help", token=None, url=False)
    for cmd in ("status", "series", "alerts", "explain list", "explain add ID", "explain rm ID",
                "silence list", "silence add", "silence rm ID", "model show"):
        check("  " + cmd in out, "--help lacks %r" % cmd)
    out = c.ok("explain", "add", "--help", token=None, url=False)
    for opt in ("--kind", "--effective-from", "--effective-to", "--benefits", "--kinds",
                "--offices", "--reference", "--description"):
        check(opt in out, "explain add --help lacks %s" % opt)
    check(c.ok("--version", token=None, url=False).startswith("stabilctl "), "--version")


def unreachable(c, w):
    """Exit 3 with one clear line: nothing listening, or no answer in time."""
    port = harness.free_port()
    url = "http://127.0.0.1:%d" % port
    err = c.fails(3, "status", url=False, token=None, env={"STABILCTL_URL": url})
    check(err == "stabilctl: cannot reach stabild at %s: Connection refused\n" % url,
          "daemon down: %r" % err)
    c.fails(3, "status", "--check", url=False, env={"STABILCTL_URL": url + "/"},
            message="cannot reach stabild at %s: Connection refused" % url)

    # A listener that never answers: the timeout ends the wait.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        hung = "http://127.0.0.1:%d" % s.getsockname()[1]
        t0 = time.monotonic()
        c.fails(3, "--url", hung, "--timeout", "0.5", "alerts", url=False,
                message="cannot reach stabild at %s: " % hung)
        check(time.monotonic() - t0 < 5, "--timeout 0.5 took %.1fs" % (time.monotonic() - t0))


def auth_errors(c, d):
    err = c.fails(4, "status", token=None, message="stabild needs a token (401)")
    check("--token-file" in err, "no hint at --token-file: %r" % err)
    c.fails(4, "alerts", token="bad", message="stabild refused the token (401): the token is "
            "not valid")
    c.fails(4, "explain", "add", "x-1", "--kind", "context", "--effective-from", "2019-01-01",
            message="stabild refused the token (403): the write role is needed")
    c.fails(4, "silence", "rm", "s-0000000000000000", message="(403)")
    # The environment variable is the other way in; --url wins over
    # STABILCTL_URL, and STABILCTL_URL over the default.
    c.ok("status", token=None, env={"STABILD_TOKEN": harness.READ_TOKEN})
    c.ok("--url", c.url, "status", url=False, env={"STABILCTL_URL": "http://127.0.0.1:1"})
    c.ok("status", url=False, env={"STABILCTL_URL": c.url})
    c.fails(4, "status", token=None, env={"STABILD_TOKEN": BAD_TOKEN}, message="(401)")
    # A file others can read still works, with a warning.
    loose = os.path.join(os.path.dirname(c.tokens["read"]), "loose.token")
    with open(loose, "w") as f:
        f.write("  %s  \n" % harness.READ_TOKEN)
    os.chmod(loose, 0o644)
    rc, out, err = c.run("--token-file", loose, "status", token=None)
    check(rc == 0 and "should be mode 0600" in err and harness.READ_TOKEN not in err,
          "loose token file: %d %r" % (rc, err))


def status_check(c, d, firing_unexplained):
    """status and status --check against the API: the check says only its
    verdict and the alerts behind it, --verbose adds the whole status."""
    st = api(d, "/v1/status")
    code = 2 if firing_unexplained else 0
    rc, out, err = c.run("status", "--check")
    check(rc == code and err == "", "status --check: exit %d (expected %d), %r" % (rc, code, err))
    if firing_unexplained:
        want = "check: %d unexplained firing alert%s:\n" % (
            len(firing_unexplained), "" if len(firing_unexplained) == 1 else "s")
        check(out.startswith(want), "status --check: %r" % out[:200])
        listed = re.findall(r"^  (\S+)$", out, re.M)
        check(sorted(listed) == sorted(firing_unexplained), "check lists %s" % listed[:5])
        check(out.count("\n") == 1 + len(firing_unexplained), "status --check: more than the "
              "verdict and its alerts: %r" % out[-300:])
    else:
        check(out == "check: no unexplained firing alerts\n", "status --check: %r" % out)

    # --verbose: the status table as status prints it, then the same verdict.
    rc, vout, err = c.run("status", "--check", "--verbose")
    check(rc == code and err == "", "status --check --verbose: exit %d, %r" % (rc, err))
    table_part, _, verdict = vout.partition("\n\n")
    check(verdict == out, "--verbose verdict %r, without %r" % (verdict[:200], out[:200]))
    check(set(pairs(table_part)) == set(pairs(c.ok("status"))), "--verbose table differs from "
          "status: %r" % table_part)
    kv = pairs(vout)
    check(kv["counted"] == str(st["events"]["counted"]) and kv["version"] == st["version"]
          and kv["series"] == str(st["series"]) and kv["firing alerts"] == str(st["firing_alerts"])
          and kv["closed through"] == (st["closed_through"] or "-"), "status table %r" % kv)
    check(kv["unexplained firing"] == str(len(firing_unexplained)) ==
          str(st["firing_unexplained"]), "unexplained %r, status %r" % (kv, st["firing_unexplained"]))
    rounded("status --check --verbose", vout)
    c.fails(1, "status", "--verbose", message="--verbose goes with --check")
    # Without --check: 0 whatever fires; --json is the status object.
    c.ok("status")
    j = c.json("status", "--check") if not firing_unexplained else None
    if j is not None:
        check(set(j) == set(st) and j["events"] == st["events"], "status --json %r" % j)
    rc, out, _ = c.run("--json", "status", "--check")
    check(rc == code and json.loads(out)["version"] == st["version"], "--json status --check")


def silenced_alerts(c, d):
    """One alert silenced by its id: marked in the API and the alerts
    table, left out of status --check (said so), counted again with
    --count-silenced."""
    firing = unexplained_firing(d)
    check(firing, "no unexplained firing alert to silence")
    target = firing[0]
    out = c.ok("silence", "add", "--alert", target, "--duration", "1h", "--comment", "known, in review",
               token="write")
    m = re.fullmatch(r"silence (s-[0-9a-f]{16}) created, until (\S+)\n", out)
    check(m is not None, "silence add --alert printed %r" % out)
    sid = m.group(1)
    check(api(d, "/v1/silences/" + sid)["matchers"] == {"alert_id": target}, "stored matcher")
    marks = {a["alert_id"]: a["silenced_by"] for a in api(d, "/v1/alerts")["alerts"]}
    check(marks[target] == sid and all(v is None for k, v in marks.items() if k != target),
          "silenced_by in /v1/alerts: %r" % marks)
    check(api(d, "/v1/alerts/" + target)["silenced_by"] == sid, "silenced_by in /v1/alerts/ID")
    _, rows, _ = table(c.ok("alerts", "--status", "firing", "--wide"))
    got = {r["ALERT"]: r["SILENCED_BY"] for r in rows}
    check(got[target] == sid and all(v == "-" for k, v in got.items() if k != target),
          "SILENCED_BY column %r" % got)
    # The narrow table marks it in STATUS.
    _, rows, _ = table(c.ok("alerts", "--status", "firing"))
    got = {r["ALERT"]: r["STATUS"] for r in rows}
    states = sorted(got.values())
    check(len(states) == len(api(d, "/v1/alerts?status=firing")["alerts"]) and
          states.count("silenced") == 1 and states.count("firing") == len(states) - 1,
          "STATUS column %r" % got)
    rc, out, _ = c.run("status", "--check")
    rest = len(firing) - 1
    check(rc == (2 if rest else 0), "status --check with one silenced: exit %d" % rc)
    rc, vout, _ = c.run("status", "--check", "--verbose")
    kv = pairs(vout)
    check(kv["unexplained firing"] == str(len(firing)) and kv["of them silenced"] == "1",
          "status rows %r" % kv)
    check("check: 1 more silenced, not counted (--count-silenced counts them)" in out and
          ("  %s\n" % target) not in out, "status --check output %r" % out[-400:])
    rc, out, _ = c.run("status", "--check", "--count-silenced")
    check(rc == 2 and "check: %d unexplained firing alert" % len(firing) in out and
          "  %s (silenced by %s)\n" % (target, sid) in out, "--count-silenced: %d %r" % (rc, out[-400:]))
    c.fails(1, "status", "--count-silenced", message="--count-silenced goes with --check")
    c.ok("silence", "rm", sid, token="write")
    check(api(d, "/v1/alerts/" + target)["silenced_by"] is None, "silenced_by after rm")

    # An id cut short, as the alerts table may print it, names the alert;
    # an id no alert has is refused unless --force.
    short = cut_id(d, target)
    out = c.ok("silence", "add", "--alert", short, "--duration", "1h", "--comment", "cut id",
               token="write")
    sid = re.fullmatch(r"silence (s-[0-9a-f]{16}) created, until \S+\n", out).group(1)
    check(api(d, "/v1/silences/" + sid)["matchers"] == {"alert_id": target},
          "silence for %s: %r" % (short, api(d, "/v1/silences/" + sid)))
    c.ok("silence", "rm", sid, token="write")
    nope = "K001.sjukpenning.first.2001-W01.up"
    c.fails(5, "silence", "add", "--alert", nope, "--duration", "1h", "--comment", "c",
            token="write", message="silence add: no alert %s" % nope)
    out = c.ok("silence", "add", "--alert", nope, "--duration", "1h", "--comment", "c",
               "--force", token="write")
    sid = re.fullmatch(r"silence (s-[0-9a-f]{16}) created, until \S+\n", out).group(1)
    check(api(d, "/v1/silences/" + sid)["matchers"] == {"alert_id": nope}, "--force silence")
    c.ok("silence", "rm", sid, token="write")


def cut_id(d, alert_id):
    """alert_id with its benefit cut to the fewest letters (at least 5) that
    no other configured benefit starts with, as the alerts table cuts it."""
    office_etc, benefit, rest = re.fullmatch(r"(.+?)\.([a-z0-9_]+)(\.[a-z]+\.\d{4}-W\d\d\.\w+)",
                                              alert_id).groups()
    others = {m["benefit"] for m in api(d, "/v1/model")["models"]} - {benefit}
    n = 5
    while n < len(benefit) and any(o.startswith(benefit[:n]) for o in others):
        n += 1
    check(n < len(benefit), "%s cannot be cut" % alert_id)
    return "%s.%s%s" % (office_etc, benefit[:n], rest)


def unknown_names(c, d):
    """An office stabild has never seen is an error, not "0 alerts": a
    read answers 404 (with the likely name when only the case differs), a
    write is refused unless --force."""
    offices = {s["office"] for s in api(d, "/v1/series?limit=10000")["series"]}
    check("K001" in offices and "K999" not in offices, "offices %s" % sorted(offices))
    c.fails(5, "series", "--office", "K999", message='404: no office "K999" has been seen')
    c.fails(5, "alerts", "--office", "k001",
            message='404: no office "k001": office names are case-sensitive; did you mean "K001"?')
    c.fails(5, "alerts", "--office", "K999", message='no office "K999"')
    c.ok("series", "--office", "national")
    c.fails(5, "explain", "add", "reorg-k999", "--kind", "context", "--effective-from", "2020-01-01",
            "--offices", "K999", token="write",
            message='409: office "K999" has never been seen (12 offices are known); give force=true')
    c.fails(5, "silence", "add", "--office", "K999", "--duration", "1h", "--comment", "new office",
            token="write", message='office "K999" has never been seen')
    out = c.ok("explain", "add", "reorg-k999", "--kind", "context", "--effective-from", "2020-01-01",
               "--offices", "K999", "--force", token="write")
    check(out == "explanation reorg-k999 registered\n", "explain add --force: %r" % out)
    c.ok("explain", "rm", "reorg-k999", token="write")
    out = c.ok("silence", "add", "--office", "K999", "--duration", "1h", "--comment", "new office",
               "--force", token="write")
    m = re.fullmatch(r"silence (s-[0-9a-f]{16}) created, until (\S+)\n", out)
    check(m is not None, "silence add --force printed %r" % out)
    c.ok("silence", "rm", m.group(1), token="write")


def stale_stream(c, d, redis, firing):
    """Redis stops: status says since when and why, lag and pending are
    unknown, and status --check fails with its own exit code once the
    stream has been down longer than --stale; all clears when Redis
    returns."""
    c.fails(1, "status", "--stale", "5m", message="--stale goes with --check")
    c.fails(1, "status", "--check", "--stale", "soon", message="--stale: expected a duration")
    redis.stop()
    harness.wait_for(lambda: not api(d, "/v1/status")["stream"]["connected"], 20,
                     "the daemon to see Redis gone")
    st = api(d, "/v1/status")["stream"]
    check(st["lag"] is None and st["pending"] is None and st["down_since"] and st["last_error"],
          "status while down: %r" % st)
    out = c.ok("status")
    kv = pairs(out)
    check(re.match(r"^(disconnected|connecting) since \S+Z \(\d+s\)$", kv["stream"])
          and kv["lag"] == "unknown" and kv["pending"] == "unknown" and kv["stream error"] != "-",
          "status while down: %r" % kv)
    rc, out, err = c.run("status", "--check", "--stale", "1h")
    check(rc == (2 if firing else 0) and "stream has been down" not in out,
          "--stale 1h while down briefly: %d %r" % (rc, out[-300:]))
    harness.wait_for(lambda: api(d, "/v1/status")["stream"]["down_s"] >= 2, 10, "2 s down")
    since = api(d, "/v1/status")["stream"]["down_since"]
    rc, out, err = c.run("status", "--check", "--stale", "1s")
    check(rc == 6 and re.match(r"check: the stream has been down for \d+ s \(more than 1 s\), "
                               r"since %s: the figures are stale\n" % since, out),
          "--stale 1s while down: %d %r %r" % (rc, out[-300:], err))
    check("\nlag " not in out and out.count("\n") == 1 + (
        1 + len(firing) if firing else 1), "--stale 1s says more than its verdict: %r" % out)
    rc, out, err = c.run("status", "--check", "--stale", "1s", "--verbose")
    kv = pairs(out)
    check(rc == 6 and kv["lag"] == "unknown" and "\n\ncheck: the stream has been down" in out,
          "--stale 1s --verbose: %d %r" % (rc, out[-400:]))
    m = harness.get_metrics(d)
    check(m["stabild_stream_down_seconds"] >= 2 and m["stabild_stream_connected"] == 0,
          "metrics while down: %r" % m["stabild_stream_down_seconds"])
    redis.start()
    harness.wait_for(lambda: api(d, "/v1/status")["stream"]["connected"], 30,
                     "the daemon to reconnect")
    st = api(d, "/v1/status")["stream"]
    check(st["down_since"] is None and st["down_s"] is None and st["last_error"] is None
          and st["lag"] is not None, "status after the return: %r" % st)
    rc, out, err = c.run("status", "--check", "--stale", "1s")
    check(rc == (2 if firing else 0) and "stream has been down" not in out,
          "--stale 1s after the return: %d %r" % (rc, out[-300:]))


def unexplained_firing(d):
    return [a["alert_id"] for a in
            api(d, "/v1/alerts?status=firing&classification=unexplained")["alerts"]]


def series_commands(c, d, truth):
    want = api(d, "/v1/series?limit=10000")
    out = c.ok("series")
    rounded("series", out)
    head, rows, rest = table(out)
    check(head[:6] == ["OFFICE", "BENEFIT", "KIND", "STATE", "LAST_WEEK", "DECISIONS"], head)
    check(len(rows) == want["total"] == len(truth.weeks), "series rows %d, API %d, truth %d"
          % (len(rows), want["total"], len(truth.weeks)))
    check(rest == ["%d of %d series" % (want["total"], want["total"])], "footer %r" % rest)
    for row, s in zip(rows, want["series"]):
        check((row["OFFICE"], row["BENEFIT"], row["KIND"], row["STATE"], row["LAST_WEEK"])
              == (s["office"], s["benefit"], s["kind"], s["state"], s["last_week"]) and
              row["DECISIONS"] == str(s["total"]["decisions"]) and
              row["RATE"] == pct(s["total"]["rejection_rate"]) and
              row["RATE_13W"] == pct(s["rolling"]["13w"]["rejection_rate"]) and
              row["EXPECTED_13W"] == pct(s["rolling"]["13w"].get("expected_rate")) and
              row["DECISIONS_13W"] == str(s["rolling"]["13w"]["decisions"]) and
              row["CUSUM_UP"] == num(s["detector"].get("cusum_up"), 2),
              "series row %r against %r" % (row, s))
        n = sum(v[0] for v in truth.weeks[(s["office"], s["benefit"], s["kind"])].values())
        check(int(row["DECISIONS"]) == n, "%s: %s decisions, truth %d" % (row["OFFICE"],
              row["DECISIONS"], n))
    check(c.json("series") == want, "series --json differs from the API")

    # The API's filters and paging.
    for args, query in ((["--office", "K001", "--kind", "first"], "office=K001&kind=first"),
                        (["--benefit", "sjukersattning"], "benefit=sjukersattning"),
                        (["--state", "drifting"], "state=drifting"),
                        (["--office", "national"], "office=national"),
                        (["--limit", "5", "--offset", "3"], "limit=5&offset=3")):
        want = api(d, "/v1/series?" + query)
        _, rows, rest = table(c.ok("series", *args))
        check([(r["OFFICE"], r["BENEFIT"], r["KIND"]) for r in rows] ==
              [(s["office"], s["benefit"], s["kind"]) for s in want["series"]],
              "series %s: %s" % (args, rows[:3]))
        check(rest == ["%d of %d series" % (len(want["series"]), want["total"])],
              "series %s footer %r" % (args, rest))
    check(len(api(d, "/v1/series?state=drifting")["series"]) > 0, "nothing drifting")

    # One series: the weeks as the API and the truth have them.
    one = api(d, "/v1/series/national/sjukpenning/first")
    out = c.ok("series", "national", "sjukpenning", "first")
    header, _, hist = out.partition("\n\n")
    kv = pairs(header)
    det = one["detector"]
    check(kv["series"] == "national/sjukpenning/first" and kv["state"] == one["state"] and
          kv["cusum up"] == num(det["cusum_up"], 2) and
          kv["cusum down"] == num(det["cusum_down"], 2) and
          kv["threshold"] == num(det["threshold"], 2), "series header %r, detector %r" % (kv, det))
    rounded("series national sjukpenning first", out)
    if "alert" in det:
        check(kv["alert"] == det["alert"] and kv["onset"] == det["change"]["onset"], kv)
    head, rows, rest = table(hist)
    check(head == ["WEEK", "DECISIONS", "REJECTED", "PARTIAL", "DISMISSED", "RATE", "EXPECTED",
                   "EXPECTED_RATE", "CLOSED"] and not rest, "history table %r %r" % (head, rest))
    check(len(rows) == len(one["history"]) == WEEKS, "%d weeks, API %d" %
          (len(rows), len(one["history"])))
    tw = truth.weeks[("national", "sjukpenning", "first")]
    for row, h in zip(rows, one["history"]):
        got = (row["WEEK"], int(row["DECISIONS"]), int(row["REJECTED"]), int(row["PARTIAL"]),
               int(row["DISMISSED"]))
        check(got == (h["period"], h["decisions"], h["rejected"], h["partial"], h["dismissed"]),
              "week %r against the API %r" % (row, h))
        check(got[1:] == tw[h["period"]], "week %r against the truth %r" % (got, tw[h["period"]]))
        check(row["RATE"] == pct(h["rejection_rate"]) and
              row["EXPECTED_RATE"] == pct(h["expected_rate"]) and
              row["EXPECTED"] == num(h["expected"], 1) and
              row["CLOSED"] == ("yes" if h["closed"] else "no"), "week %r %r" % (row, h))
    check(c.json("series", "national", "sjukpenning", "first") == one, "series one --json")

    # Months, and a window of weeks.
    months = api(d, "/v1/series/K002/sjukersattning/ongoing?period=month")
    _, rows, _ = table(c.ok("series", "K002", "sjukersattning", "ongoing", "--period",
                            "month").partition("\n\n")[2])
    check([(r["MONTH"], int(r["DECISIONS"])) for r in rows] ==
          [(h["period"], h["decisions"]) for h in months["history"]], "months %s" % rows[:2])
    _, rows, _ = table(c.ok("series", "K002", "sjukersattning", "ongoing", "--from", "2019-W10",
                            "--to", "2019-W12").partition("\n\n")[2])
    check([r["WEEK"] for r in rows] == ["2019-W10", "2019-W11", "2019-W12"], "window %s" % rows)

    c.fails(5, "series", "K001", "nope", "first",
            message="stabild answered 400: unknown benefit 'nope'")
    c.fails(5, "series", "K999", "sjukpenning", "first",
            message="stabild answered 404: no series K999/sjukpenning/first")
    c.fails(5, "series", "--state", "drifting", "--limit", "x",
            message="stabild answered 400: limit: expected 0 to 10000")


WIDE = ["ALERT", "STATUS", "CLASSIFICATION", "SCOPE", "DIRECTION", "ONSET", "DETECTED_AT",
        "ODDS_RATIO", "INTERVAL", "BASELINE", "AT_DETECTION", "EXPECTED", "NOW_13W",
        "EXPLANATIONS", "SILENCED_BY"]


def interval(ci):
    return "[%s, %s]" % (num(ci[0], 2), num(ci[1], 2))


def alert_commands(c, d):
    every = api(d, "/v1/alerts")
    ids = [a["alert_id"] for a in every["alerts"]]

    # The table that fits 100 columns: an id too long for it has its
    # benefit cut, and stabilctl takes the cut id as it is.
    out = c.ok("alerts")
    for line in out.split("\n"):
        check(len(line) <= 100, "alerts: a line of %d columns: %r" % (len(line), line))
    rounded("alerts", out)
    head, rows, rest = table(out)
    check(head == ["ALERT", "STATUS", "CLASS", "ODDS", "RATE", "NOW_13W", "DETECTED"], head)
    check(rest[0] == "%d alerts" % every["total"] and
          "ODDS (the odds ratio) and RATE are as at detection" in out, "footer %r" % rest)
    cut = 0
    for r, a in zip(rows, every["alerts"]):
        status = "silenced" if a["status"] == "firing" and a["silenced_by"] else a["status"]
        check((r["STATUS"], r["CLASS"], r["ODDS"], r["RATE"], r["NOW_13W"], r["DETECTED"]) ==
              (status, a["classification"], num(a["odds_ratio"], 2), pct(a["current_rate"]),
               pct(a["series_now"]["rejection_rate"]), a["detected_at"][:10]),
              "alert row %r against %r" % (r, a))
        check(PCT.match(r["RATE"]) and PCT.match(r["NOW_13W"]) and
              re.fullmatch(r"\d+\.\d\d", r["ODDS"]), "figures of %r" % r)
        if r["ALERT"] != a["alert_id"]:
            cut += 1
            check(len(r["ALERT"]) < len(a["alert_id"]), "%s for %s" % (r["ALERT"], a["alert_id"]))
            check(pairs(c.ok("alerts", r["ALERT"]))["alert_id"] == a["alert_id"],
                  "alerts %s does not show %s" % (r["ALERT"], a["alert_id"]))
            check(c.json("alerts", r["ALERT"]) == api(d, "/v1/alerts/" + a["alert_id"]),
                  "alerts %s --json" % r["ALERT"])
    check(("Ids with a benefit cut short are taken" in out) == (cut > 0), "cut note, %d cut" % cut)

    # --wide: every column, the ids whole.
    out = c.ok("alerts", "--wide")
    rounded("alerts --wide", out)
    head, rows, rest = table(out)
    check(head == WIDE, "--wide head %r" % head)
    check([r["ALERT"] for r in rows] == ids, "alert ids differ")
    check(rest == ["%d alerts" % every["total"]], "footer %r" % rest)
    for r, a in zip(rows, every["alerts"]):
        check((r["STATUS"], r["CLASSIFICATION"], r["SCOPE"], r["DIRECTION"], r["ONSET"],
               r["DETECTED_AT"], r["ODDS_RATIO"], r["INTERVAL"], r["BASELINE"],
               r["AT_DETECTION"], r["EXPECTED"]) ==
              (a["status"], a["classification"], a["scope"], a["direction"], a["onset"],
               a["detected_at"], num(a["odds_ratio"], 2), interval(a["odds_ratio_ci"]),
               pct(a["baseline_rate"]), pct(a["current_rate"]), pct(a["expected_rate"])),
              "alert row %r against %r" % (r, a))
        check(r["NOW_13W"] == pct(a["series_now"]["rejection_rate"]) and
              a["series_now"]["weeks"] == 13 and a["series_now"]["through"], "now %r %r" % (r, a))
    check(max(len(l) for l in out.split("\n")) > 100, "--wide fits 100 columns: nothing to show")
    check(c.json("alerts") == every and c.json("alerts", "--wide") == every, "alerts --json")
    for args, query in ((["--status", "firing", "--scope", "national"],
                         "status=firing&scope=national"),
                        (["--classification", "unexplained", "--direction", "down"],
                         "classification=unexplained&direction=down"),
                        (["--office", "K001"], "office=K001")):
        want = api(d, "/v1/alerts?" + query)["alerts"]
        _, rows, _ = table(c.ok("alerts", "--wide", *args))
        check([r["ALERT"] for r in rows] == [a["alert_id"] for a in want], "alerts %s" % args)
        _, rows, _ = table(c.ok("alerts", *args))
        check(len(rows) == len(want), "alerts %s: %d rows" % (args, len(rows)))
    c.fails(5, "alerts", "--status", "open", message="stabild answered 400: status: expected "
            "firing or resolved")
    c.fails(1, "alerts", ids[0], "--wide", message="--wide is for the list")

    # One alert: figures rounded, a link to its dashboard page made from
    # http.public_url, the strata's shares explained.
    for a in every["alerts"]:
        out = c.ok("alerts", a["alert_id"])
        rounded("alerts %s" % a["alert_id"], out)
        kv = pairs(out)
        check(kv["alert_id"] == a["alert_id"] and kv["series.office"] == a["series"]["office"] and
              kv["onset"] == a["onset"] and kv["detected_at"] == a["detected_at"], "alert %r" % kv)
        check((kv["baseline_rate"], kv["current_rate"], kv["expected_rate"], kv["odds_ratio"],
               kv["odds_ratio_ci"], kv["series_now.rejection_rate"], kv["series_now.through"]) ==
              (pct(a["baseline_rate"]), pct(a["current_rate"]), pct(a["expected_rate"]),
               num(a["odds_ratio"], 2), interval(a["odds_ratio_ci"]),
               pct(a["series_now"]["rejection_rate"]), a["series_now"]["through"]),
              "figures %r against %r" % (kv, a))
        check(re.fullmatch(r"[+-]\d+\.\d pp", kv["decomposition.practice"]), kv)
        s = a["series"]
        check(kv["dashboard"] == "%s/ui/#/series/%s/%s/%s?alert=%s" % (
            PUBLIC_URL, s["office"], s["benefit"], s["kind"], a["alert_id"]),
              "dashboard link %r" % kv["dashboard"])
        check(out.endswith("The rates, odds ratio and strata are as at detection; series_now is "
                           "the\nseries' last 13 closed weeks as they are now.\n"),
              "alert note: %r" % out[-200:])
        if a["strata"]:
            _, rows, rest = table(out.split("\n\n", 1)[1])
            check([(r["STRATUM"], r["SHARE"], r["ODDS_RATIO"]) for r in rows] ==
                  [(x["stratum"], pct(x["share"]), num(x["odds_ratio"], 2))
                   for x in a["strata"]], rows)
            check("The strata overlap: a decision is in one stratum of each characteristic" in
                  " ".join(rest) and "do not add up to 100 %" in " ".join(rest),
                  "no strata note: %r" % rest)
        else:
            check("strata overlap" not in out, "a strata note without strata")
    check(any(a["strata"] for a in every["alerts"]), "no alert with strata")
    a = every["alerts"][0]
    check(c.json("alerts", a["alert_id"]) == api(d, "/v1/alerts/" + a["alert_id"]), "one --json")
    short = cut_id(d, a["alert_id"])
    check(pairs(c.ok("alerts", short))["alert_id"] == a["alert_id"], "alerts %s" % short)
    c.fails(5, "alerts", "no.such.alert", message="stabild answered 404: no alert no.such.alert")
    c.fails(5, "alerts", "K001.s.first.2001-W01.up",
            message="stabild answered 404: no alert K001.s.first.2001-W01.up")


def explain_commands(c, d, firing):
    check(c.ok("explain", "list") .endswith("0 explanations\n"), "explanations at start")
    check(c.json("explain", "list") == {"explanations": []}, "explain list --json")

    # One explanation covering every alarm: no scope, effective_from at the
    # first onset, and every onset within detector.explain_after of it.
    onsets = sorted({a["onset"] for a in api(d, "/v1/alerts?status=firing")["alerts"]})
    y, w = onsets[0].split("-W")
    monday = datetime.date.fromisocalendar(int(y), int(w), 1)
    y, w = onsets[-1].split("-W")
    check(datetime.date.fromisocalendar(int(y), int(w), 1) - monday <= datetime.timedelta(weeks=8),
          "onsets spread too far for one explanation: %s" % onsets)
    out = c.ok("explain", "add", "all-2019", "--kind", "legislation", "--effective-from",
               monday.isoformat(), token="write")
    check(out == "explanation all-2019 registered\n", out)
    status_check(c, d, [])
    check(unexplained_firing(d) == [], "still unexplained: %s" % unexplained_firing(d)[:3])
    _, rows, _ = table(c.ok("alerts", "--wide", "--classification", "explained", "--status",
                            "firing"))
    check(len(rows) == len(firing) and all(r["EXPLANATIONS"] == "all-2019" for r in rows),
          "explained rows %s" % rows[:2])

    # Every option maps to its contract §2 member.
    out = c.ok("explain", "add", "hfd-2019-7", "--kind", "court_ruling",
               "--effective-from", "2019-03-01", "--effective-to", "2019-12-31",
               "--benefits", "sjukpenning,sjukersattning", "--benefits", "aktivitetsersattning",
               "--kinds", "first", "--offices", "K001", "--offices", "K002",
               "--reference", "HFD 2019 ref. 7", "--description", "Arbetsförmåga bedöms om",
               token="write")
    check(out == "explanation hfd-2019-7 registered\n", out)
    got = api(d, "/v1/explanations/hfd-2019-7")
    check({k: got[k] for k in ("id", "kind", "effective_from", "effective_to", "benefits",
                               "kinds", "offices", "reference", "description", "source")} ==
          {"id": "hfd-2019-7", "kind": "court_ruling", "effective_from": "2019-03-01",
           "effective_to": "2019-12-31",
           "benefits": ["sjukpenning", "sjukersattning", "aktivitetsersattning"],
           "kinds": ["first"], "offices": ["K001", "K002"], "reference": "HFD 2019 ref. 7",
           "description": "Arbetsförmåga bedöms om", "source": "api"}, "stored %r" % got)
    kv = pairs(c.ok("explain", "show", "hfd-2019-7"))
    check(kv["benefits"] == "sjukpenning,sjukersattning,aktivitetsersattning" and
          kv["description"] == "Arbetsförmåga bedöms om" and kv["effective_to"] == "2019-12-31",
          "explain show %r" % kv)
    check(c.json("explain", "show", "hfd-2019-7") == got, "explain show --json")

    want = api(d, "/v1/explanations")
    out = c.ok("explain", "list")
    check(out.endswith("\n2 explanations\n"), out)
    lines = out.split("\n")
    check(lines[0].split()[:8] == ["ID", "KIND", "EFFECTIVE_FROM", "EFFECTIVE_TO", "BENEFITS",
                                   "KINDS", "OFFICES", "SOURCE"], lines[0])
    cells = [l.split()[:8] for l in lines[1:3]]
    check(cells == [["hfd-2019-7", "court_ruling", "2019-03-01", "2019-12-31",
                     "sjukpenning,sjukersattning,aktivitetsersattning", "first", "K001,K002",
                     "api"],
                    ["all-2019", "legislation", monday.isoformat(), "-", "all", "all", "all",
                     "api"]], "explain list %r" % cells)
    check([e["id"] for e in want["explanations"]] == ["hfd-2019-7", "all-2019"], want)
    check(c.json("explain", "list") == want, "explain list --json")

    # The API's refusals, one clean line each.
    c.fails(5, "explain", "add", "all-2019", "--kind", "legislation", "--effective-from",
            "2019-01-01", token="write",
            message='stabild answered 409: explanation "all-2019" already exists')
    c.fails(5, "explain", "add", "x-2", "--kind", "rumour", "--effective-from", "2019-01-01",
            token="write", message="stabild answered 400: ")
    c.fails(5, "explain", "add", "x-3", "--kind", "context", "--effective-from", "2019-01-01",
            "--benefits", "nope", token="write", message="stabild answered 400: ")

    # Removing the covering explanation brings the alarms back.
    out = c.ok("explain", "rm", "all-2019", token="write")
    check(out == "explanation all-2019 deleted\n", out)
    check([e["id"] for e in api(d, "/v1/explanations")["explanations"]] == ["hfd-2019-7"],
          "after rm")
    status_check(c, d, unexplained_firing(d))
    check(sorted(unexplained_firing(d)) == sorted(firing), "re-classified back")
    c.fails(5, "explain", "rm", "all-2019", token="write",
            message='stabild answered 404: no explanation "all-2019"')
    c.ok("explain", "rm", "hfd-2019-7", token="write")
    check(api(d, "/v1/explanations") == {"explanations": []}, "registry not empty")


def silence_commands(c, d):
    check(c.ok("silence", "list").endswith("0 silences\n"), "silences at start")
    t0 = datetime.datetime.now(datetime.timezone.utc)
    out = c.ok("silence", "add", "--office", "K001", "--direction", "up", "--duration", "2h",
               "--comment", "office reorganisation", "--created-by", "tester", token="write")
    m = re.fullmatch(r"silence (s-[0-9a-f]{16}) created, until (\S+)\n", out)
    check(m is not None, "silence add printed %r" % out)
    sid = m.group(1)
    got = api(d, "/v1/silences/" + sid)
    ends = datetime.datetime.strptime(got["ends_at"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)
    check(got["matchers"] == {"office": "K001", "direction": "up"} and
          got["comment"] == "office reorganisation" and got["created_by"] == "tester" and
          got["active"] is True and m.group(2) == got["ends_at"] and
          abs((ends - t0).total_seconds() - 7200) < 60, "stored silence %r" % got)

    until = later(24 * 30)
    body = c.json("silence", "add", "--scope", "national", "--classification", "unexplained",
                  "--benefit", "sjukpenning", "--kind", "first", "--ends", until,
                  "--comment", "national review", token="write")
    check(body["ends_at"] == until and body["matchers"] == {
        "benefit": "sjukpenning", "kind": "first", "scope": "national",
        "classification": "unexplained"} and body["created_by"], "silence --json %r" % body)
    sid2 = body["id"]

    want = api(d, "/v1/silences")
    out = c.ok("silence", "list")
    check(out.endswith("\n2 silences\n"), out)
    rows = [l.split()[:5] for l in out.split("\n")[1:3]]
    check(rows == [[sid, "yes", got["ends_at"], "office=K001,direction=up", "tester"],
                   [sid2, "yes", until, "benefit=sjukpenning,kind=first,scope=national,"
                    "classification=unexplained", body["created_by"]]], "silence list %r" % rows)
    check(c.json("silence", "list") == want, "silence list --json")
    kv = pairs(c.ok("silence", "show", sid))
    check(kv["matchers.office"] == "K001" and kv["comment"] == "office reorganisation" and
          kv["active"] == "yes", "silence show %r" % kv)

    c.fails(5, "silence", "add", "--office", "K001", "--ends", "2001-01-01T00:00:00Z",
            "--comment", "late", token="write",
            message="stabild answered 400: ends_at: must be in the future")
    c.fails(4, "silence", "add", "--office", "K001", "--duration", "1h", "--comment", "c",
            message="(403)")
    out = c.ok("silence", "rm", sid, token="write")
    check(out == "silence %s deleted\n" % sid, out)
    check([s["id"] for s in api(d, "/v1/silences")["silences"]] == [sid2], "after rm")
    c.fails(5, "silence", "rm", sid, token="write",
            message='stabild answered 404: no silence "%s"' % sid)
    c.ok("silence", "rm", sid2, token="write")


def model_commands(c, d):
    want = api(d, "/v1/model")
    head, rows, _ = table(c.ok("model", "show"))
    check(head[:4] == ["BENEFIT", "KIND", "FITTED", "VERSION"], head)
    check([(r["BENEFIT"], r["KIND"], r["FITTED"], r["VERSION"]) for r in rows] ==
          [(m["benefit"], m["kind"], "yes" if m["fitted"] else "no", str(m.get("version", "-")))
           for m in want["models"]], "models %r" % rows)
    check(any(m["fitted"] for m in want["models"]), "no model fitted")
    check(c.json("model", "show") == want, "model show --json")
    m = [m for m in want["models"] if (m["benefit"], m["kind"]) == ("sjukpenning", "first")][0]
    out = c.ok("model", "show", "sjukpenning", "first")
    kv = pairs(out)
    check(kv["benefit"] == "sjukpenning" and kv["kind"] == "first" and
          kv["fit.decisions"] == str(m["fit"]["decisions"]) and
          kv["reference_window.from"] == m["reference_window"]["from"], "model %r" % kv)
    _, rows, _ = table(out.split("\n\n", 1)[1])
    check([(r["COEFFICIENT"], r["VALUE"]) for r in rows] ==
          [(x["name"], num(x["value"], 4)) for x in m["coefficients"]], "coefficients")
    check(c.json("model", "show", "sjukpenning", "first") == m, "one model --json")
    c.fails(5, "model", "show", "nope", "first", message="no model for nope/first")


def test(w):
    check(os.access(CTL, os.X_OK), "%s not built" % CTL)
    c = Ctl(w.path)
    usage_errors(c)
    unreachable(c, w)

    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    d = harness.Daemon(w.path, redis, conf_extra={"detector": {"min_reference_weeks": "13"},
                                                    "alerts": {"historical_age": "50y"},
                                                    "http": {"public_url": PUBLIC_URL + "/"}})
    d.start()
    w.add(d.stop)
    c.url = "http://127.0.0.1:%d" % d.http_port

    # An empty daemon: nothing fires.
    status_check(c, d, [])
    auth_errors(c, d)

    # 30 weeks with a short reference: models are fitted and alarms raised.
    truth = harness.run_sim(redis, w.path, "--seed", 5, "--weeks", WEEKS, "--per-week", 10000,
                            "--offices", 12, "--start", START,
                            "--drift", "K001:sjukpenning:*:20:3.0")
    d.wait_counted(truth.totals["written"], timeout=120)
    firing = harness.wait_for(lambda: unexplained_firing(d), 30, "unexplained firing alerts")
    status_check(c, d, firing)

    series_commands(c, d, truth)
    alert_commands(c, d)
    model_commands(c, d)
    explain_commands(c, d, firing)
    silence_commands(c, d)
    silenced_alerts(c, d)
    unknown_names(c, d)
    stale_stream(c, d, redis, unexplained_firing(d))

    # The daemon goes away: exit 3, not a check failure.
    check(d.stop() == 0, "SIGTERM")
    c.fails(3, "status", "--check", message="cannot reach stabild at %s: Connection refused"
            % c.url)


if __name__ == "__main__":
    harness.main(test, "stabilctl")
